/* SPDX-License-Identifier: MIT */
/*
 * ops - one host's part of a cluster as library calls: what the control
 * machine asks of each host. Each takes a request and answers with a JSON
 * document (the same document `slurmbox agent VERB` prints for a host
 * reached over ssh, so the two ways cannot drift). They read no stdin,
 * parse no argv, touch no process globals of their own, and release the
 * host lock they take before they return: the control machine calls them
 * in-process for localhost, on a thread of its fan-out, and remote/agent.c
 * calls them for a host reached over ssh.
 */
#ifndef SLURMBOX_HOST_OPS_H
#define SLURMBOX_HOST_OPS_H

#include "../util/ctx.h"

#include <signal.h>
#include <stdint.h>

struct json_object;
struct spec_doc;

/* ---- facts: what this host is (host_facts.c) ---- */

struct host_facts_req {
	const char *cluster;
	const char *parent;        /* the LAN's parent interface; NULL: the default route's */
	const char *home;          /* --home as the user gave it (absolute), or NULL */
	const char *const *images; /* tags whose presence is reported */
	size_t n_images;
};
/*
 * {"version","self","arch","hostname","euid","net_admin","time",
 *  "docker":{…},"uplink":{…},"home":{…},"cluster":{…}}. Problems the
 * control machine reports all at once (no Docker, no uplink) are inside.
 */
int host_facts(const struct host_facts_req *r, struct json_object **out, struct sb_err *err);

/* ---- probe: which addresses answer on the LAN (host_ops.c) ---- */

struct host_probe_req {
	const char *parent;
	int timeout_ms;
	const uint32_t *addrs;
	size_t n;
};
/* [{"ip","in_use","mac"}], one per address in order. */
int host_probe(const struct host_probe_req *r, struct json_object **out, struct sb_err *err);

/* ---- apply and undo: create this host's part, and take it back (host_apply.c) ---- */

struct host_apply_req {
	const struct spec_doc *doc;
	const unsigned char *key; /* the cluster's munge key */
	size_t key_len;
	unsigned host; /* this host's index in doc's hosts */
	unsigned timeout_sec;
	bool keep_on_failure;
	bool wait_master;
	bool recreate;     /* first remove this host's containers that differ */
	const char *fault; /* test-only fault point (apply_fault.c), or NULL */
	/* non-zero: stop and roll back (the control machine's Ctrl-C, its stdin gone) */
	volatile sig_atomic_t *abort;
};
/*
 * *report is set whether it succeeds or not:
 *   {"ok","created":[…],"started","shim","key","dir","rolled_back","kept"}
 * naming exactly what this call created here. On a failure it removes all
 * of that itself ("rolled_back") unless keep_on_failure.
 */
int host_apply(const struct sb_ctx *ctx, const struct host_apply_req *r,
               struct json_object **report, struct sb_err *err);
/* Remove what an apply reported ({"removed","failed"} in *out). */
int host_undo(const char *cluster, struct json_object *report, struct json_object **out,
              struct sb_err *err);

/* ---- wait, down, check (host_ops.c) ---- */

/* Until every node of doc's plan is idle (on the master's host). */
int host_wait(const struct sb_ctx *ctx, const struct spec_doc *doc, unsigned timeout_sec,
              struct sb_err *err);
/*
 * This host's part gone, the shim too; its copy of the key goes with it
 * unless purge (then the volumes go too) or keep_key.
 * {"containers","networks","volumes","links"} in *out.
 */
int host_down(const struct sb_ctx *ctx, const char *cluster, bool purge, bool keep_key,
              struct json_object **out, struct sb_err *err);
/*
 * Each running node's slurm.conf, host name and an unmunge of cred (the
 * master's credential, or NULL), and the host's Docker:
 * {"nodes":[…],"docker":{"server","api"}} (health.c).
 */
int host_check(const char *cluster, const char *cred, struct json_object **out, struct sb_err *err);

#endif

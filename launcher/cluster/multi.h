/* SPDX-License-Identifier: MIT */
/*
 * multi - a cluster across several hosts (`up --hosts h1,h2`), driven from
 * the control machine. Each host runs `slurmbox agent ...` (over ssh, or
 * locally for localhost) and does its own part; this side gathers facts,
 * checks everything, plans once, and tells every host what to do.
 *
 * The control machine remembers the cluster in
 * $XDG_STATE_HOME/slurmbox/<cluster>.json (the spec: hosts, nodes, IPs), so
 * exec, status, logs and down work without --hosts.
 */
#ifndef SLURMBOX_MULTI_H
#define SLURMBOX_MULTI_H

#include "../util/ctx.h"

struct multi_up_opts {
	char **hosts; /* --hosts, split */
	size_t n_hosts;
	unsigned workers_per_host;
	bool workers_set;
	bool no_master_worker;
	const char *network; /* "macvlan", "ipvlan", "bridge" or NULL (auto) */
	const char *parent;
	const char *subnet;
	const char *gateway;
	const char *ip_range;
	const char *home;
	const char *user; /* --user as given */
	const char *image_base;
	unsigned timeout;
	bool dry_run;
	bool keep_on_failure;
	bool recreate; /* re-create the containers whose settings differ */
	bool force;    /* workers taken away: end the jobs still running after timeout */
	bool no_shim;  /* hosts without CAP_NET_ADMIN go on without their shim */
	int argc;      /* the `up` command line, for the --recreate hint */
	char **argv;
};

/* Split "h1,h2,h3" and check every entry (exit 2, before any ssh). */
int multi_hosts_parse(const char *text, char ***hosts, size_t *n, struct sb_err *err);

bool multi_state_exists(const char *cluster);
int multi_up(struct sb_ctx *ctx, const struct multi_up_opts *o, struct sb_err *err);
int multi_down(struct sb_ctx *ctx, bool purge, struct sb_err *err);
/*
 * Run a slurmbox command line on the node's host: exec, shell and logs. A
 * node of this machine ("localhost") is not run: *here is set, and the
 * caller runs it in this process.
 */
int multi_node_run(struct sb_ctx *ctx, const char *node, char *const *argv, bool tty, bool *here,
                   struct sb_err *err);
int multi_status(struct sb_ctx *ctx, bool json, struct sb_err *err);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * health - the per-node checks behind `status`, beyond "the container runs
 * and Slurm sees the node":
 *
 *   conf      the master's /etc/slurm/slurm.conf is the plan's, byte for byte,
 *             and every worker's copy (slurmd fetched it from slurmctld into
 *             /run/slurm/conf) is the master's (anything else is drift: an
 *             edit by hand, a copy from before a change)
 *   munge     a credential made on the master (`munge -n`) is accepted by
 *             the node's munged (`unmunge`): both hold the same key
 *   hostname  the container's host name is its NodeName
 *
 * Single-host status runs them against the local engine; each host's
 * `slurmbox agent check` runs them on its own nodes and prints JSON, and the
 * control machine compares the slurm.conf texts with its plan. The
 * credential travels on stdin only (exec stdin, ssh stdin), never in argv.
 */
#ifndef SLURMBOX_HEALTH_H
#define SLURMBOX_HEALTH_H

#include "../docker/docker.h"
#include "../util/ctx.h"

#define HEALTH_CONF_MASTER "/etc/slurm/slurm.conf"
#define HEALTH_CONF_WORKER "/run/slurm/conf/slurm.conf" /* slurmd's copy (configless) */

enum health_state {
	HEALTH_UNKNOWN, /* not checked (node not running, or no credential) */
	HEALTH_OK,
	HEALTH_FAILED,
};

/* What one node's container holds; filled by health_nodes_check or from agent JSON. */
struct health_node {
	char *node;      /* NodeName */
	char *container; /* container name (or id) */
	char *hostname;  /* what the container calls itself; NULL: not read */
	char *conf_path; /* the slurm.conf it reads: HEALTH_CONF_MASTER or HEALTH_CONF_WORKER */
	char *conf;      /* its text; NULL: not read (see conf_error) */
	char *conf_error;
	enum health_state munge;
	char *munge_error; /* why unmunge failed */
};

void health_node_release(struct health_node *h);

/*
 * `munge -n` in the master container: a credential (no payload) for every
 * node's munged to decode once. *cred (caller frees) is its text.
 */
int health_cred_make(struct docker *d, const char *container, char **cred, struct sb_err *err);

/*
 * Read every node's host name and slurm.conf, and hand it `cred` to decode
 * (NULL: munge stays HEALTH_UNKNOWN): one exec per node, up to 16 at once,
 * each thread on its own connection. A node whose exec fails gets the
 * reason in conf_error; nodes with no container (NULL) are skipped.
 */
void health_nodes_check(struct docker *d, struct health_node *nodes, size_t n, const char *cred);

/* ---- the verdict: pure ---- */

/* One node's verdict next to the plan, for status's table and JSON. */
struct health_verdict {
	enum health_state conf, munge, hostname;
	struct sb_buf problems; /* "drift: ...\n", "munge: ...\n", "hostname: ...\n" */
};

/*
 * Judge h against the slurm.conf `want` is, `whose` naming it ("the plan",
 * "the master's"); want NULL: nothing to compare with, conf stays unknown.
 * Release with health_verdict_release.
 */
void health_judge(const struct health_node *h, const char *want, const char *whose,
                  struct health_verdict *v);
void health_verdict_release(struct health_verdict *v);
/* Every check that ran passed. */
bool health_verdict_ok(const struct health_verdict *v);
/* "ok", "drift"/"failed"/"mismatch" or "unknown". */
const char *health_conf_name(enum health_state s);
const char *health_munge_name(enum health_state s);
const char *health_hostname_name(enum health_state s);
/* The CHECKS column: "ok", "-" (nothing checked) or e.g. "drift,munge". */
void health_summary(const struct health_verdict *v, char *out, size_t len);

/*
 * Pure: are two slurm.conf texts the same? If not, where they first differ,
 * e.g. `line 41: "# by hand", the plan: end of file` (whose: "the plan"),
 * into where[len].
 */
bool health_conf_same(const char *have, const char *want, const char *whose, char *where,
                      size_t len);

/* Pure: unmunge's exit code and stderr as a reason ("credential rejected; ..."). Caller frees. */
char *health_munge_reason(int exit_code, const char *stderr_text);

/*
 * Pure: the output of the one exec that checks a node: unmunge's status ("-"
 * when not run) and its last error line, the host name, then slurm.conf.
 * `status` is the exec's exit code, err_text its stderr.
 */
void health_output_parse(const char *out, int status, const char *err_text, struct health_node *h);

/* ---- the agent's JSON, one object per node ---- */

struct json_object *health_node_to_json(const struct health_node *h);
/* Fills h (release it) from one object; missing members stay NULL/unknown. */
void health_node_from_json(struct json_object *o, struct health_node *h);

/* Add the verdict's members to a node's status JSON: conf, munge, hostname, problems. */
void health_verdict_json_add(const struct health_verdict *v, struct json_object *node);
/* Print "Problems:" lines under the table for every node with one; nothing if none. */
void health_problems_print(const char *node, const struct health_verdict *v, bool *header_done);

/* The longest credential host_check (ops.h) takes. */
#define HEALTH_CRED_MAX 4096

#endif

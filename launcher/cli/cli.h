/* SPDX-License-Identifier: MIT */
/*
 * cli - what every subcommand shares: the global context, the command
 * table's handler type, option helpers, progress output and the
 * cluster-wide look-ups (containers by label, the state directory).
 */
#ifndef SLURMBOX_CLI_H
#define SLURMBOX_CLI_H

#include "../../compose/base.h"
#include "../docker/docker.h"
#include <json-c/json.h>

struct cli_ctx {
	const char *cluster; /* --name, $SLURMBOX_CLUSTER, or "slurmbox" */
	bool name_given;     /* --name seen (or env) */
	bool stderr_tty;     /* progress with ✓ lines when true */
	const char *argv0;
	bool local; /* --local: this engine only, never routed to the hosts of a record */
};

/*
 * Does this command go to the hosts of a multi-host cluster? Yes when the
 * control machine has a record of it, unless --local: what the control
 * machine itself runs on a host, which may share its home (localhost).
 */
bool cli_routed(const struct cli_ctx *ctx);

/* A subcommand: argv[0] is its name. Returns 0 or negative with *err set. */
typedef int (*cli_cmd_fn)(struct cli_ctx *ctx, int argc, char **argv, struct sb_err *err);

int cmd_up(struct cli_ctx *ctx, int argc, char **argv, struct sb_err *err);
int cmd_down(struct cli_ctx *ctx, int argc, char **argv, struct sb_err *err);
int cmd_exec(struct cli_ctx *ctx, int argc, char **argv, struct sb_err *err);
int cmd_shell(struct cli_ctx *ctx, int argc, char **argv, struct sb_err *err);
int cmd_status(struct cli_ctx *ctx, int argc, char **argv, struct sb_err *err);
int cmd_logs(struct cli_ctx *ctx, int argc, char **argv, struct sb_err *err);
int cmd_images(struct cli_ctx *ctx, int argc, char **argv, struct sb_err *err);
int cmd_version(struct cli_ctx *ctx, int argc, char **argv, struct sb_err *err);

/*
 * A subcommand's exit status when it is not 0/1/2/3 from an error: exec
 * passes its command's exit code up through this.
 */
extern int cli_exit_status;

/*
 * SIGINT and SIGTERM set cli_interrupted (the signal) instead of killing us,
 * so `up` can roll back what it created; Docker requests then fail with
 * -EINTR (docker_abort_watch), and ssh children are stopped (or, for an
 * agent holding its stdin, told to stop: ssh_abort_watch). main exits 128 +
 * the signal.
 */
extern volatile sig_atomic_t cli_interrupted;
void cli_interrupt_catch(void);

/* --name NAME inside a subcommand: validate and set ctx->cluster. */
int cli_set_cluster(struct cli_ctx *ctx, const char *name, struct sb_err *err);
/* Exit-2 error for an unknown option or missing argument, pointing at --help. */
int cli_usage_error(const char *cmd, const char *what, struct sb_err *err);
/* Parse an unsigned within [min,max] for option `opt`. */
int cli_parse_uint(const char *opt, const char *text, unsigned min, unsigned max, unsigned *out,
                   struct sb_err *err);

/* --user NAME[:UID[:GID]] (a NAME known here without UID takes its local ids). */
struct compose_user;
int cli_user_parse(const char *text, struct compose_user *u, struct sb_err *err);
/* The invoking user (sudo-aware); root becomes slurmbox:1000:1000. */
void cli_user_default(struct compose_user *u);

/* ---- progress: one ✓ line per step with its time on a TTY, plain lines when piped ---- */
struct cli_step {
	const struct cli_ctx *ctx;
	char text[256];
	double t0;
};
double cli_now(void);
void cli_step_begin(struct cli_step *s, const struct cli_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cli_step_end(struct cli_step *s, const char *detail_fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cli_step_fail(struct cli_step *s);
void cli_info(const struct cli_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- Slurm's view, read with `sinfo` in the master ---- */

/* The command line whose output cli_sinfo_state reads: one "NODE STATE" line per node. */
#define CLI_SINFO_ARGV "sinfo", "-h", "-N", "-o", "%N %t"
/* The state of `node` in that output, into st[len]; "" if it is not listed. */
void cli_sinfo_state(const char *sinfo, const char *node, char *st, size_t len);
/* A worker state `status` counts as healthy: listed, responding, not down, drained, failed or unknown. */
bool cli_slurm_state_ok(const char *st);

/* A string member of a JSON object; NULL when absent or not a string. */
const char *cli_json_str(struct json_object *o, const char *key);

/* ---- the cluster's objects on one engine, found by label ---- */

struct cli_node {
	char *id;
	char *container; /* name without '/' */
	char *node;      /* io.slurmbox.node */
	char *role;      /* io.slurmbox.role */
	char *user;      /* io.slurmbox.user */
	char *state;     /* "running", "exited", ... */
	char *ip;        /* on the cluster network; may be "" */
	char *hash;      /* io.slurmbox.config-hash */
	char *spec;      /* io.slurmbox.spec (master only) */
};

struct cli_cluster {
	struct cli_node *nodes; /* master first, then workers by number */
	size_t n_nodes;
};

int cli_cluster_load(struct docker *d, const char *cluster, struct cli_cluster *out,
                     struct sb_err *err);
void cli_cluster_free(struct cli_cluster *c);
const struct cli_node *cli_cluster_node(const struct cli_cluster *c, const char *node);
/*
 * One node by its container name "<cluster>-<node>", checked against its
 * labels (a same-named container of someone else is not found). One
 * inspect instead of a list: the fast path of exec and logs.
 */
int cli_node_find(struct docker *d, const char *cluster, const char *node, struct cli_node *out,
                  bool *found, struct sb_err *err);
void cli_node_free(struct cli_node *n);
/* "Unknown node 'x' in cluster 'y'; its nodes are: master, worker-1, ..." exit 2. */
int cli_node_unknown(const struct cli_cluster *c, const char *cluster, const char *node,
                     struct sb_err *err);

/* ---- down on one engine (the CLI's, and each host's agent) ---- */

struct down_counts {
	size_t containers;
	size_t networks;
	size_t volumes;
	size_t links; /* shim interfaces (LAN modes) */
};
int down_local(struct docker *d, const struct cli_ctx *ctx, const char *cluster, bool purge,
               struct down_counts *counts, struct sb_err *err);
void down_report(const char *where, const char *cluster, bool purge, const struct down_counts *c);

/*
 * ---- state directory: /var/lib/slurmbox/<cluster> as root, else
 * $XDG_STATE_HOME/slurmbox/hosts/<host name>/<cluster> (one home shared by many hosts) ----
 */

/* munge's limits on a key's size, in bytes; slurmbox makes CLI_KEY_MAX. */
#define CLI_KEY_MIN 32
#define CLI_KEY_MAX 1024

/*
 * *dir: the path (caller frees). $SLURMBOX_STATE_DIR overrides the parent
 * directory. With no HOME (and no XDG_STATE_HOME) a user has none: bad input.
 * Every directory on the way is checked (owned by the user or root, writable
 * by no one else but a sticky one's own entries) before the key is touched.
 */
int cli_state_dir(const char *cluster, char **dir, struct sb_err *err);
/*
 * The directory under which both live: $SLURMBOX_STATE_DIR, /var/lib/slurmbox
 * as root, else $XDG_STATE_HOME/slurmbox or ~/.local/state/slurmbox, where
 * each host keeps its part under hosts/<host name>/ (*per_host). The control
 * machine's record of a cluster is <base>/<cluster>.json.
 */
int cli_state_base(char **base, bool *per_host, struct sb_err *err);
/*
 * The cluster's munge key: created once (1024 bytes from getrandom, 0400,
 * owned by the image's munge uid when root, in a 0700 directory), reused
 * afterwards. *path is set (caller frees); *created tells whether it is new.
 */
int cli_key_ensure(const char *cluster, char **path, bool *created, struct sb_err *err);
/*
 * Write a key received from the control machine (same checks and modes).
 * *replaced: another key was there (a node started since still holds it).
 */
int cli_key_write(const char *cluster, const unsigned char *key, size_t len, bool *replaced,
                  struct sb_err *err);
/* Replace path with text atomically: a 0600 temporary file, fsync, rename. */
int cli_file_replace(const char *path, const char *text, const char *what, struct sb_err *err);
int cli_key_read(const char *path, unsigned char *key, size_t cap, size_t *len, struct sb_err *err);
/*
 * Only one slurmbox changes a cluster at a time: an exclusive, non-blocking
 * lock ("control" on the control machine, "host" for an agent), held until
 * the process exits. -EBUSY with a clear message when another holds it.
 */
int cli_lock_take(const char *cluster, const char *what, int *fd, struct sb_err *err);
/* With no state directory left (nothing kept), the cluster's lock files go too. */
void cli_lock_drop_unused(const char *cluster);
/* Remove the state directory (key and all). Absent is fine. */
int cli_state_remove(const char *cluster, struct sb_err *err);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * remote - how the control machine reaches one host, the one interface
 * cluster/ uses. A host is named as in --hosts; "localhost" is this very
 * process: its operations are host/ops.h's calls, in-process (nothing is
 * serialised, copied or spawned). Any other host runs `slurmbox agent VERB`
 * over ssh (remote_ssh.c): the request is encoded as argv and a JSON line
 * on stdin, the answer decoded from stdout. Both answer with the same JSON
 * documents (host/ops.h), so cluster/ never asks which kind it has.
 *
 * Every call is thread-safe for distinct hosts (the fan-out runs one per
 * host at once) and returns < 0 with err naming the host when the host
 * could not be asked or failed.
 */
#ifndef SLURMBOX_REMOTE_H
#define SLURMBOX_REMOTE_H

#include "../host/ops.h"
#include "../util/ctx.h"

#include <signal.h>

struct json_object;
struct sb_buf;

/* The control machine itself: its state directory is the record's. */
bool remote_is_self(const char *dest);

/* Get the host ready to be asked (over ssh: connect, check the binary); no-op here. */
int remote_prepare(const char *dest, struct sb_err *err);

/*
 * What the host is (host_facts). Over ssh the slurmbox there is checked and
 * copied if it is missing or another version; *path (caller frees) names
 * it, for the record. *unreachable: ssh itself failed (the message says how
 * to fix it), not the host's engine.
 */
int remote_facts(const char *dest, const struct host_facts_req *r, struct json_object **out,
                 char **path, struct sb_err *err);
int remote_probe(const char *dest, const struct host_probe_req *r, struct json_object **out,
                 struct sb_err *err);

/*
 * This host's part of `up` (host_apply). *report is what it created (NULL:
 * no answer, e.g. the connection was lost). r->abort set by another thread
 * stops it: it rolls back and answers. ctx's progress is not shown (the
 * caller prints one line per host).
 */
int remote_apply(const char *dest, const struct sb_ctx *ctx, const struct host_apply_req *r,
                 struct json_object **report, struct sb_err *err);
int remote_undo(const char *dest, const char *cluster, struct json_object *report,
                struct sb_err *err);
/* Until every node is idle; a Ctrl-C here stops it there too. */
int remote_wait(const char *dest, const struct sb_ctx *ctx, const struct spec_doc *doc,
                unsigned timeout_sec, struct sb_err *err);
int remote_down(const char *dest, const struct sb_ctx *ctx, const char *cluster, bool purge,
                bool keep_key, struct json_object **out, struct sb_err *err);
int remote_check(const char *dest, const char *cluster, const char *cred, struct json_object **out,
                 struct sb_err *err);

/* Build the node images there (progress on stderr). */
int remote_images_build(const char *dest, const struct sb_ctx *ctx, const char *image_base,
                        struct sb_err *err);
/* Stream the tags from src's engine into dst's, without holding them in memory. */
int remote_images_copy(const char *src, const char *dst, const char *const *tags,
                       struct sb_err *err);

/*
 * Run argv (NULL-terminated) as `slurmbox exec` would in the cluster's node
 * there: with this process's stdin, stdout and stderr (tty: interactive),
 * *status its exit status. Only for hosts other than this machine (its
 * nodes are run by cli/ itself).
 */
int remote_node_run(const char *dest, const char *cluster, char *const *argv, bool tty, int *status,
                    struct sb_err *err);
/* argv as root in node's container there, its stdout in *out; *status its exit status. */
int remote_node_capture(const char *dest, const char *cluster, const char *node,
                        const char *const *argv, int timeout_ms, struct sb_buf *out, int *status,
                        struct sb_err *err);

/* A small file on the host (the shared-home marker): write, read back, remove. */
int remote_file_put(const char *dest, const char *path, const char *text, struct sb_err *err);
int remote_file_get(const char *dest, const char *path, struct sb_buf *out, struct sb_err *err);
void remote_file_remove(const char *dest, const char *path);

/*
 * From now on the calls under way stop when *flag becomes non-zero
 * (SIGINT/SIGTERM); NULL stops watching (a rollback must go through).
 */
void remote_abort_watch(volatile sig_atomic_t *flag);

#endif

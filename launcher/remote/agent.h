/* SPDX-License-Identifier: MIT */
/*
 * agent - `slurmbox agent VERB`: what the control machine runs on each host
 * (over ssh, or locally for localhost) to do that host's part with its own
 * Docker socket and its own netlink. Output for the control machine is JSON
 * on stdout; progress and errors go to stderr. Secrets come on stdin only.
 */
#ifndef SLURMBOX_AGENT_H
#define SLURMBOX_AGENT_H

#include "../util/ctx.h"

int cmd_agent(struct cli_ctx *ctx, int argc, char **argv, struct sb_err *err);

/* agent apply / agent undo (agent_apply.c). */
int agent_apply(const struct cli_ctx *ctx, int argc, char **argv, struct sb_err *err);
int agent_undo(const struct cli_ctx *ctx, int argc, char **argv, struct sb_err *err);

/*
 * stdin: {"spec": {...}, "key": "hex"} → the spec (and the key, if asked).
 * line: read one line only and leave stdin open (agent apply watches it).
 */
struct spec_doc;
int agent_stdin_spec(struct spec_doc *doc, unsigned char *key, size_t *key_len, bool line,
                     struct sb_err *err);
/*
 * SIGINT, SIGTERM and the end of stdin (the control machine stopped us, or
 * is gone) set cli_interrupted: Docker requests then fail with -EINTR.
 */
void agent_stdin_watch_start(void);
/* Print one JSON document on stdout and put it. */
struct json_object;
void agent_json_print(struct json_object *o);

/* agent image-save TAG...: `docker save` of the tags, as a tar on stdout. */
int agent_image_save(int argc, char **argv, struct sb_err *err);
/* agent image-load: a tar on stdin into POST /images/load. */
int agent_image_load(int argc, char **argv, struct sb_err *err);

#endif

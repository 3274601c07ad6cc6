/* SPDX-License-Identifier: MIT */
/*
 * agent - `slurmbox agent VERB`: what the control machine runs on each host
 * it reaches over ssh: a codec around that host's operations (host/ops.h).
 * Output for the control machine is JSON on stdout; progress and errors go
 * to stderr. Secrets come on stdin only.
 */
#ifndef SLURMBOX_AGENT_H
#define SLURMBOX_AGENT_H

#include "../util/ctx.h"

int cmd_agent(struct sb_ctx *ctx, int argc, char **argv, struct sb_err *err);

/*
 * stdin: {"spec": {...}, "key": "hex"} → the spec (and the key, if asked).
 * line: read one line only and leave stdin open (apply and wait watch it).
 * No copy of the key's text is left behind.
 */
struct spec_doc;
int agent_stdin_spec(struct spec_doc *doc, unsigned char *key, size_t *key_len, bool line,
                     struct sb_err *err);

/* agent image-save TAG...: `docker save` of the tags, as a tar on stdout. */
int agent_image_save(int argc, char **argv, struct sb_err *err);
/* agent image-load: a tar on stdin into POST /images/load. */
int agent_image_load(int argc, char **argv, struct sb_err *err);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * cli - the verbs: the command table's handler type and what only the verbs
 * share. What lower rooms need too lives there (util/ctx.h, progress.h,
 * opt.h, json.h; remote/interrupt.h; host/objects.h, state.h, user.h,
 * down.h, sinfo.h); this header brings it to every verb.
 */
#ifndef SLURMBOX_CLI_H
#define SLURMBOX_CLI_H

#include "../../compose/base.h"
#include "../docker/docker.h"
#include "../host/down.h"
#include "../host/objects.h"
#include "../host/sinfo.h"
#include "../host/state.h"
#include "../host/user.h"
#include "../remote/interrupt.h"
#include "../util/ctx.h"
#include "../util/json.h"
#include "../util/opt.h"
#include "../util/progress.h"
#include <json-c/json.h>

/*
 * Does this command go to the hosts of a multi-host cluster? Yes when the
 * control machine has a record of it, unless --local: what the control
 * machine itself runs on a host, which may share its home (localhost).
 */
bool cli_routed(const struct sb_ctx *ctx);

/* A subcommand: argv[0] is its name. Returns 0 or negative with *err set. */
typedef int (*cli_cmd_fn)(struct sb_ctx *ctx, int argc, char **argv, struct sb_err *err);

int cmd_up(struct sb_ctx *ctx, int argc, char **argv, struct sb_err *err);
int cmd_down(struct sb_ctx *ctx, int argc, char **argv, struct sb_err *err);
int cmd_exec(struct sb_ctx *ctx, int argc, char **argv, struct sb_err *err);
int cmd_shell(struct sb_ctx *ctx, int argc, char **argv, struct sb_err *err);
int cmd_status(struct sb_ctx *ctx, int argc, char **argv, struct sb_err *err);
int cmd_logs(struct sb_ctx *ctx, int argc, char **argv, struct sb_err *err);
int cmd_images(struct sb_ctx *ctx, int argc, char **argv, struct sb_err *err);
int cmd_version(struct sb_ctx *ctx, int argc, char **argv, struct sb_err *err);

/* --name NAME inside a subcommand: validate and set ctx->cluster. */
int cli_set_cluster(struct sb_ctx *ctx, const char *name, struct sb_err *err);

#endif

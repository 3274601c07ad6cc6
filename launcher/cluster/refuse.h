/* SPDX-License-Identifier: MIT */
/* refuse - the text of a refused `up`: what differs, and the commands that would go on. */
#ifndef SLURMBOX_CLUSTER_REFUSE_H
#define SLURMBOX_CLUSTER_REFUSE_H

#include "../util/ctx.h"

/*
 * Exit 2: "Cluster 'x' exists with other settings:" then the diff lines
 * (or, when the settings are the same, the config-hash change, i.e. another
 * slurmbox version), then note (what the change drops: an upgrade of Slurm
 * past what it can read; NULL or "" for none), then the fix: the same
 * command with --recreate, or `down`. argv is the `up` command line as
 * given (argv[0] "up").
 */
int reconcile_refuse(const struct sb_ctx *ctx, const char *diff_text, const char *note,
                     const char *old_hash, const char *new_hash, int argc, char **argv,
                     struct sb_err *err);

#endif

/* SPDX-License-Identifier: MIT */
#ifndef SLURMBOX_HOST_SINFO_H
#define SLURMBOX_HOST_SINFO_H

#include <stdbool.h>
#include <stddef.h>

/* ---- Slurm's view, read with `sinfo` in the master ---- */

/* The command line whose output cli_sinfo_state reads: one "NODE STATE" line per node. */
#define CLI_SINFO_ARGV "sinfo", "-h", "-N", "-o", "%N %t"
/* The state of `node` in that output, into st[len]; "" if it is not listed. */
void cli_sinfo_state(const char *sinfo, const char *node, char *st, size_t len);
/* A worker state `status` counts as healthy: listed, responding, not down, drained, failed or unknown. */
bool cli_slurm_state_ok(const char *st);

#endif

/* SPDX-License-Identifier: MIT */
#ifndef SLURMBOX_HOST_SINFO_H
#define SLURMBOX_HOST_SINFO_H

#include <stdbool.h>
#include <stddef.h>

/* ---- Slurm's view, read with `sinfo` in the master ---- */

/* The command line whose output sinfo_node_state reads: one "NODE STATE" line per node. */
#define SINFO_ARGV "sinfo", "-h", "-N", "-o", "%N %t"
/* The state of `node` in that output, into st[len]; "" if it is not listed. */
void sinfo_node_state(const char *sinfo, const char *node, char *st, size_t len);
/* A worker state `status` counts as healthy: listed, responding, not down, drained, failed or unknown. */
bool sinfo_state_ok(const char *st);

#endif

/* SPDX-License-Identifier: MIT */
#ifndef SLURMBOX_HOST_DOWN_H
#define SLURMBOX_HOST_DOWN_H

#include "../docker/docker.h"
#include "../util/ctx.h"

/* ---- down on one engine (the CLI's, and each host's agent) ---- */

struct down_counts {
	size_t containers;
	size_t networks;
	size_t volumes;
	size_t links; /* shim interfaces (LAN modes) */
};
int down_local(struct docker *d, const struct sb_ctx *ctx, const char *cluster, bool purge,
               struct down_counts *counts, struct sb_err *err);
void down_report(const char *where, const char *cluster, bool purge, const struct down_counts *c);

#endif

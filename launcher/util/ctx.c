/* SPDX-License-Identifier: MIT */
/* ctx.c - the exit status a verb passes up, and the cluster's name in hints (see ctx.h). */
#include "ctx.h"

#include <stdio.h>

int util_exit_status = -1;

const char *sb_ctx_name_arg(const struct sb_ctx *ctx)
{
	static __thread char buf[128];

	if (!ctx->name_given)
		return "";
	snprintf(buf, sizeof(buf), " --name %s", ctx->cluster);
	return buf;
}

/* SPDX-License-Identifier: MIT */
/* cli.c - which path a verb takes, and --name inside a verb. */
#include "cli.h"
#include "../cluster/multi.h"
#include "../../compose/compose.h"

bool cli_routed(const struct sb_ctx *ctx)
{
	return !ctx->local && multi_state_exists(ctx->cluster);
}

int cli_set_cluster(struct sb_ctx *ctx, const char *name, struct sb_err *err)
{
	int ret = compose_cluster_name_check(name, err);

	if (ret < 0)
		return ret;
	ctx->cluster = name;
	ctx->name_given = true;
	return 0;
}

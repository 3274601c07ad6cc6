/* SPDX-License-Identifier: MIT */
/*
 * cmd_down.c - `slurmbox down [--purge]`: remove the cluster's containers,
 * network and Slurm state, found by label only (never by name). /home and
 * the munge key stay unless --purge. A cluster that does not exist is a
 * no-op.
 */
#include "cli.h"
#include "../cluster/multi.h"
#include "../docker/docker_api.h"
#include "../../compose/compose.h"

#include <getopt.h>

static const char down_usage[] =
    "Usage: slurmbox down [--purge] [--name NAME]\n"
    "\n"
    "Remove the cluster's containers, network and Slurm state. The /home volume and the\n"
    "munge key are kept, so the next `up` finds your files.\n"
    "\n"
    "  -n, --name NAME  The cluster (default \"slurmbox\")\n"
    "      --purge      Also remove the /home volume and the munge key: nothing is left\n"
    "  -h, --help       This help\n";

int cmd_down(struct sb_ctx *ctx, int argc, char **argv, struct sb_err *err)
{
	enum { OPT_PURGE = 256 };
	static const struct option opts[] = {
	    {"name", required_argument, NULL, 'n'},
	    {"purge", no_argument, NULL, OPT_PURGE},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	_cleanup_docker_ struct docker *d = NULL;
	struct down_counts counts;
	bool purge = false;
	int c, ret;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			ret = cli_set_cluster(ctx, optarg, err);
			if (ret < 0)
				return ret;
			break;
		case OPT_PURGE:
			purge = true;
			break;
		case 'h':
			fputs(down_usage, stdout);
			return 0;
		default:
			return util_usage_error("down", argv[optind - 1], err);
		}
	}
	if (optind < argc)
		return sb_err_input(err,
		                    "down: unexpected argument '%s'; see `slurmbox down --help`",
		                    argv[optind]);

	{
		int lock_fd = -1; /* held until we exit */
		ret = state_lock_take(ctx->cluster, "control", &lock_fd, err);
		if (ret < 0)
			return ret;
	}
	if (cli_routed(ctx))
		return multi_down(ctx, purge, err);
	ret = docker_open(NULL, &d, err);
	if (ret < 0)
		return ret;
	ret = down_local(d, ctx, ctx->cluster, purge, &counts, err);
	if (ret < 0)
		return ret;
	down_report("on this engine", ctx->cluster, purge, &counts);
	state_lock_drop_unused(ctx->cluster);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * cmd_status.c - `slurmbox status [--json]` and `slurmbox logs [-f] NODE`.
 *
 * status exits 0 when every node's container runs, Slurm has every worker
 * up and responding, and every node passes the checks of health.h (its
 * slurm.conf is the plan's, it decodes the master's munge credential, its
 * host name is its NodeName); 1 otherwise (or when the cluster is missing).
 */
#include "cli.h"
#include "../docker/docker_api.h"
#include "../cluster/multi.h"

#include <getopt.h>

static const char status_usage[] =
    "Usage: slurmbox status [--json] [--name NAME]\n"
    "\n"
    "Every node: role, container, container state, IP, Slurm state and checks: the\n"
    "master's slurm.conf is the plan's and each worker's copy the master's (else \"drift\"),\n"
    "it decodes a munge credential made on the master (else \"munge\": another key), its\n"
    "host name is its node name. Exit status 0\n"
    "when all nodes run, Slurm sees every worker up and every check passes, 1 otherwise.\n"
    "\n"
    "  -n, --name NAME  The cluster (default \"slurmbox\")\n"
    "      --json       Machine-readable output\n"
    "  -h, --help       This help\n";

static const char logs_usage[] = "Usage: slurmbox logs [-f] [--tail N] NODE\n"
                                 "\n"
                                 "The logs of NODE's daemons (munged, slurmctld or slurmd).\n"
                                 "\n"
                                 "  -n, --name NAME  The cluster (default \"slurmbox\")\n"
                                 "  -f, --follow     Keep following new lines\n"
                                 "      --tail N     Only the last N lines\n"
                                 "  -h, --help       This help\n";

/*
 * A cluster this machine has no record of: it does not exist, or its
 * containers here were made by an older slurmbox (or the record was
 * removed), and `up` adopts them. Exit 1 either way.
 */
static int status_unrecorded(struct sb_ctx *ctx, bool json, struct sb_err *err)
{
	_cleanup_docker_ struct docker *d = NULL;
	struct host_cluster have = {0};
	int ret;

	ret = docker_open(NULL, &d, err);
	if (ret == 0)
		ret = host_cluster_load(d, ctx->cluster, &have, err);
	if (ret < 0)
		return ret;
	if (json) {
		struct json_object *root = json_object_new_object();

		json_object_object_add(root, "cluster", json_object_new_string(ctx->cluster));
		json_object_object_add(root, "exists", json_object_new_boolean(false));
		json_object_object_add(root, "containers_here",
		                       json_object_new_int((int)have.n_nodes));
		json_object_object_add(root, "nodes", json_object_new_array());
		json_object_object_add(root, "healthy", json_object_new_boolean(false));
		puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
		                                              JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(root);
	} else if (have.n_nodes) {
		printf(
		    "Cluster '%s' has %zu container%s on this engine but no record on this "
		    "machine (made by an older slurmbox, or the record was removed): `slurmbox%s "
		    "up` adopts %s.\n",
		    ctx->cluster, have.n_nodes, have.n_nodes == 1 ? "" : "s", sb_ctx_name_arg(ctx),
		    have.n_nodes == 1 ? "it" : "them");
	} else {
		printf("Cluster '%s' does not exist (`slurmbox%s up` creates it).\n", ctx->cluster,
		       sb_ctx_name_arg(ctx));
	}
	util_exit_status = 1;
	host_cluster_free(&have);
	return 0;
}

int cmd_status(struct sb_ctx *ctx, int argc, char **argv, struct sb_err *err)
{
	enum { OPT_JSON = 256 };
	static const struct option opts[] = {
	    {"name", required_argument, NULL, 'n'},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	bool json = false;
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
		case OPT_JSON:
			json = true;
			break;
		case 'h':
			fputs(status_usage, stdout);
			return 0;
		default:
			return util_usage_error("status", argv[optind - 1], err);
		}
	}
	if (optind < argc)
		return sb_err_input(err, "status: unexpected argument '%s'", argv[optind]);
	if (cli_routed(ctx))
		return multi_status(ctx, json, err);
	return status_unrecorded(ctx, json, err);
}

int cmd_logs(struct sb_ctx *ctx, int argc, char **argv, struct sb_err *err)
{
	enum { OPT_TAIL = 256 };
	static const struct option opts[] = {
	    {"name", required_argument, NULL, 'n'},
	    {"follow", no_argument, NULL, 'f'},
	    {"tail", required_argument, NULL, OPT_TAIL},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	_cleanup_docker_ struct docker *d = NULL;
	struct host_cluster have = {0};
	struct host_node node = {0};
	bool follow = false, found;
	unsigned tail = 0;
	bool tail_set = false;
	int c, ret;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+n:fh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			ret = cli_set_cluster(ctx, optarg, err);
			if (ret < 0)
				return ret;
			break;
		case 'f':
			follow = true;
			break;
		case OPT_TAIL:
			ret = util_uint_parse("--tail", optarg, 0, 1000000, &tail, err);
			if (ret < 0)
				return ret;
			tail_set = true;
			break;
		case 'h':
			fputs(logs_usage, stdout);
			return 0;
		default:
			return util_usage_error("logs", argv[optind - 1], err);
		}
	}
	if (argc - optind != 1)
		return sb_err_input(err, "logs: give one node, e.g. `slurmbox logs master`");

	if (cli_routed(ctx)) {
		char tail_s[16];
		const char *v[] = {"logs", follow ? "-f" : "--tail", follow ? argv[optind] : tail_s,
		                   follow ? NULL : argv[optind], NULL};
		bool here = false;

		snprintf(tail_s, sizeof(tail_s), "%u", tail_set ? tail : 1000000u);
		ret = multi_node_run(ctx, argv[optind], (char *const *)v, false, &here, err);
		if (ret < 0 || !here)
			return ret;
	}
	ret = docker_open(NULL, &d, err);
	if (ret < 0)
		return ret;
	ret = host_node_find(d, ctx->cluster, argv[optind], &node, &found, err);
	if (ret < 0)
		return ret;
	if (!found) {
		ret = host_cluster_load(d, ctx->cluster, &have, err);
		if (ret == 0)
			ret = host_node_unknown(&have, ctx->cluster, argv[optind], err);
	} else {
		ret = docker_container_logs(d, node.id, follow, tail_set ? (int)tail : -1,
		                            STDOUT_FILENO, STDERR_FILENO, err);
	}
	host_node_free(&node);
	host_cluster_free(&have);
	return ret;
}

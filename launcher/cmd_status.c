/* SPDX-License-Identifier: MIT */
/*
 * cmd_status.c - `slurmbox status [--json]` and `slurmbox logs [-f] NODE`.
 *
 * status exits 0 when every node's container runs, Slurm has every worker
 * up and responding, and every node passes the checks of health.h (its
 * slurm.conf is the plan's, it decodes the master's munge credential, its
 * host name is its NodeName); 1 otherwise (or when the cluster is missing).
 */
#include "apply.h"
#include "docker_api.h"
#include "health.h"
#include "multi.h"
#include "reconcile.h"
#include "spec_json.h"

#include <getopt.h>
#include <pthread.h>

static const char status_usage[] =
    "Usage: slurmbox status [--json] [--name NAME]\n"
    "\n"
    "Every node: role, container, container state, IP, Slurm state and checks: its\n"
    "slurm.conf is the plan's (else \"drift\"), it decodes a munge credential made on the\n"
    "master (else \"munge\": another key), its host name is its NodeName. Exit status 0\n"
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
 * The plan's slurm.conf, rebuilt from the cluster's current settings (the
 * newest spec: labels or the state dir's record, as `up` keeps them); NULL if
 * there is none.
 */
static char *status_plan_conf(const char *cluster, const struct cli_cluster *have)
{
	struct sb_err ignored = SB_ERR_INIT;
	_cleanup_plan_ struct compose_plan *plan = NULL;
	_cleanup_free_ char *dir = NULL, *file = NULL;
	struct spec_doc doc = {0};
	char *conf = NULL;

	if (cli_state_dir(cluster, &dir, &ignored) < 0)
		return NULL;
	file = xasprintf("%s/spec.json", dir);
	if (!reconcile_prev_load(have, file, &doc))
		return NULL;
	if (compose_plan_build(&doc.spec, &plan, &ignored) == 0)
		conf = compose_render_slurm_conf(plan);
	spec_doc_free(&doc);
	return conf;
}

/* sinfo in the master, beside the per-node checks. */
struct sinfo_job {
	struct docker *d;
	const char *container;
	struct sb_buf out;
	bool ok;
	pthread_t th;
};

static void *sinfo_run(void *arg)
{
	struct sinfo_job *j = arg;
	const char *argv_sinfo[] = {CLI_SINFO_ARGV, NULL};
	struct sb_err ignored = SB_ERR_INIT;
	int st = -1;

	j->ok =
	    apply_master_run(j->d, j->container, argv_sinfo, &j->out, &st, 10000, &ignored) == 0 &&
	    st == 0;
	return NULL;
}

/*
 * The per-node checks of every running node (health.h): the master makes a
 * credential, then every node reads its files and decodes it, all at once.
 */
static void status_checks(struct docker *d, const struct cli_cluster *have, struct health_node *hn)
{
	const struct cli_node *master = cli_cluster_node(have, "master");
	_cleanup_free_ char *cred = NULL;
	struct sb_err cerr = SB_ERR_INIT;
	int ret = -1;

	for (size_t i = 0; i < have->n_nodes; i++) {
		hn[i].node = xstrdup(have->nodes[i].node);
		if (strcmp(have->nodes[i].state, "running") == 0)
			hn[i].container = xstrdup(have->nodes[i].container);
	}
	if (master && strcmp(master->state, "running") == 0)
		ret = health_cred_make(d, master->container, &cred, &cerr);
	health_nodes_check(d, hn, have->n_nodes, cred);
	if (ret < 0 && master && strcmp(master->state, "running") == 0) {
		/* the master's munged is the one at fault */
		struct health_node *m = &hn[master - have->nodes];

		m->munge = HEALTH_FAILED;
		free(m->munge_error);
		m->munge_error = xstrdup(cerr.msg);
	}
}

static void status_hints(const struct cli_cluster *have, const struct health_verdict *v,
                         const char *cluster_opt)
{
	_cleanup_buf_ struct sb_buf drift = SB_BUF_INIT, munge = SB_BUF_INIT;

	for (size_t i = 0; i < have->n_nodes; i++) {
		if (v[i].conf == HEALTH_FAILED || v[i].hostname == HEALTH_FAILED)
			sb_buf_printf(&drift, " %s", have->nodes[i].container);
		if (v[i].munge == HEALTH_FAILED)
			sb_buf_printf(&munge, " %s", have->nodes[i].container);
	}
	if (drift.len)
		printf("Fix drift: undo the edit, or re-create the node from the plan: "
		       "docker rm -f%s && slurmbox%s up\n",
		       drift.data, cluster_opt);
	if (munge.len)
		printf("Fix munge: restart the node so its munged reads the cluster's key "
		       "again: docker restart%s\n",
		       munge.data);
}

int cmd_status(struct cli_ctx *ctx, int argc, char **argv, struct sb_err *err)
{
	enum { OPT_JSON = 256 };
	static const struct option opts[] = {
	    {"name", required_argument, NULL, 'n'},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	_cleanup_docker_ struct docker *d = NULL;
	_cleanup_free_ char *want = NULL, *cluster_opt = NULL;
	struct sinfo_job sj = {.out = SB_BUF_INIT};
	struct cli_cluster have = {0};
	struct health_node *hn;
	struct health_verdict *hv;
	char(
	    *slurm)[64]; /* each node's Slurm state: sinfo's for a worker, up/down for the master */
	const struct cli_node *master;
	const char *sinfo;
	bool json = false, healthy, ctld_up = false, problems = false;
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
			return cli_usage_error("status", argv[optind - 1], err);
		}
	}
	if (optind < argc)
		return sb_err_input(err, "status: unexpected argument '%s'", argv[optind]);
	if (cli_routed(ctx))
		return multi_status(ctx, json, err);

	ret = docker_open(NULL, &d, err);
	if (ret < 0)
		return ret;
	ret = cli_cluster_load(d, ctx->cluster, &have, err);
	if (ret < 0)
		return ret;

	master = cli_cluster_node(&have, "master");
	if (master && strcmp(master->state, "running") == 0) {
		sj.d = docker_dup(d);
		sj.container = master->container;
		if (pthread_create(&sj.th, NULL, sinfo_run, &sj) != 0) {
			sj.th = 0;
			sinfo_run(&sj);
		}
	}
	want = status_plan_conf(ctx->cluster, &have);
	hn = xcalloc(have.n_nodes + 1, sizeof(*hn));
	hv = xcalloc(have.n_nodes + 1, sizeof(*hv));
	slurm = xcalloc(have.n_nodes + 1, sizeof(*slurm));
	status_checks(d, &have, hn);
	if (sj.th)
		pthread_join(sj.th, NULL);
	docker_free(sj.d);
	ctld_up = sj.ok;
	sinfo = sj.out.data ? sj.out.data : "";
	cluster_opt = ctx->name_given ? xasprintf(" --name %s", ctx->cluster) : xstrdup("");

	/* each node once: its Slurm state and its checks */
	healthy = have.n_nodes > 0 && ctld_up;
	for (size_t i = 0; i < have.n_nodes; i++) {
		const struct cli_node *n = &have.nodes[i];

		cli_sinfo_state(sinfo, n->node, slurm[i], sizeof(slurm[i]));
		if (strcmp(n->role, "worker") != 0)
			snprintf(slurm[i], sizeof(slurm[i]), "%s", ctld_up ? "up" : "down");
		else if (!cli_slurm_state_ok(slurm[i]))
			healthy = false;
		if (strcmp(n->state, "running") != 0)
			healthy = false;
		health_judge(&hn[i], want, &hv[i]);
		if (!health_verdict_ok(&hv[i]))
			healthy = false;
	}
	if (json) {
		struct json_object *root = json_object_new_object();
		struct json_object *arr = json_object_new_array();

		json_object_object_add(root, "cluster", json_object_new_string(ctx->cluster));
		json_object_object_add(root, "exists", json_object_new_boolean(have.n_nodes > 0));
		json_object_object_add(root, "slurmctld", json_object_new_boolean(ctld_up));
		for (size_t i = 0; i < have.n_nodes; i++) {
			const struct cli_node *n = &have.nodes[i];
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "node", json_object_new_string(n->node));
			json_object_object_add(o, "role", json_object_new_string(n->role));
			json_object_object_add(o, "host", json_object_new_string("localhost"));
			json_object_object_add(o, "container",
			                       json_object_new_string(n->container));
			json_object_object_add(o, "state", json_object_new_string(n->state));
			json_object_object_add(o, "ip", json_object_new_string(n->ip));
			json_object_object_add(o, "slurm", json_object_new_string(slurm[i]));
			health_verdict_json_add(&hv[i], o);
			json_object_array_add(arr, o);
		}
		json_object_object_add(root, "nodes", arr);
		json_object_object_add(root, "healthy", json_object_new_boolean(healthy));
		puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
		                                              JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(root);
	} else if (have.n_nodes == 0) {
		printf("Cluster '%s' does not exist on this engine (`slurmbox up` creates it).\n",
		       ctx->cluster);
	} else {
		printf("Cluster '%s'\n", ctx->cluster);
		printf("%-12s %-7s %-10s %-24s %-10s %-16s %-14s %s\n", "NODE", "ROLE", "HOST",
		       "CONTAINER", "STATE", "IP", "SLURM", "CHECKS");
		for (size_t i = 0; i < have.n_nodes; i++) {
			const struct cli_node *n = &have.nodes[i];
			char checks[64], shown[80];

			if (strcmp(n->role, "worker") == 0)
				snprintf(shown, sizeof(shown), "%s", *slurm[i] ? slurm[i] : "-");
			else
				snprintf(shown, sizeof(shown), "slurmctld %s", slurm[i]);
			health_summary(&hv[i], checks, sizeof(checks));
			printf("%-12s %-7s %-10s %-24s %-10s %-16s %-14s %s\n", n->node, n->role,
			       "localhost", n->container, n->state, *n->ip ? n->ip : "-", shown,
			       checks);
		}
		for (size_t i = 0; i < have.n_nodes; i++)
			health_problems_print(have.nodes[i].node, &hv[i], &problems);
		if (problems)
			status_hints(&have, hv, cluster_opt);
	}
	cli_exit_status = healthy ? 0 : 1;
	for (size_t i = 0; i < have.n_nodes; i++) {
		health_node_release(&hn[i]);
		health_verdict_release(&hv[i]);
	}
	free(hn);
	free(hv);
	free(slurm);
	sb_buf_free(&sj.out);
	cli_cluster_free(&have);
	return 0;
}

int cmd_logs(struct cli_ctx *ctx, int argc, char **argv, struct sb_err *err)
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
	struct cli_cluster have = {0};
	struct cli_node node = {0};
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
			ret = cli_parse_uint("--tail", optarg, 0, 1000000, &tail, err);
			if (ret < 0)
				return ret;
			tail_set = true;
			break;
		case 'h':
			fputs(logs_usage, stdout);
			return 0;
		default:
			return cli_usage_error("logs", argv[optind - 1], err);
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
	ret = cli_node_find(d, ctx->cluster, argv[optind], &node, &found, err);
	if (ret < 0)
		return ret;
	if (!found) {
		ret = cli_cluster_load(d, ctx->cluster, &have, err);
		if (ret == 0)
			ret = cli_node_unknown(&have, ctx->cluster, argv[optind], err);
	} else {
		ret = docker_container_logs(d, node.id, follow, tail_set ? (int)tail : -1,
		                            STDOUT_FILENO, STDERR_FILENO, err);
	}
	cli_node_free(&node);
	cli_cluster_free(&have);
	return ret;
}

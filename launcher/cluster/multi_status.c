/* SPDX-License-Identifier: MIT */
/*
 * multi_status.c - `slurmbox status` of a cluster that spans hosts: every
 * node of the recorded plan with its host, container state, Slurm state and
 * the checks of health.h. The master's host makes one munge credential;
 * every host's check (remote_check: the credential on ssh's stdin, or
 * in-process for this machine) checks its own nodes and sends back their slurm.conf, which is compared here with
 * the plan. Hosts are asked all at once; one that cannot be reached marks
 * its nodes "unreachable".
 */
#include "../host/health.h"
#include "multi.h"
#include "multi_int.h"
#include "../remote/remote.h"
#include "../../compose/compose.h"
#include "../host/sinfo.h"
#include "../util/json.h"
#include "../util/fanout.h"

#include <pthread.h>

#define STATUS_SSH_MS 30000

/* The credential, once the master's host has made it (or failed to). */
struct cred_gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	char *cred; /* NULL: none (the master could not make one) */
};

struct check_host {
	const char *dest;
	const char *cluster;
	struct cred_gate *gate;
	struct json_object *nodes; /* the agent's "nodes", owned; NULL: see below */
	char *docker, *api;        /* the host's Docker version and the API spoken, or NULL */
	bool unreachable;          /* ssh failed; else a failed agent leaves nodes NULL */
	char *error;
};

static void *check_host_run(void *arg)
{
	struct check_host *h = arg;
	struct sb_err err = SB_ERR_INIT, ignored = SB_ERR_INIT;
	struct json_object *r = NULL, *nodes, *dk;
	const char *v;

	/* the connection (and the binary's check) goes on while the master makes the credential */
	remote_prepare(h->dest, &ignored);
	pthread_mutex_lock(&h->gate->lock);
	while (!h->gate->done)
		pthread_cond_wait(&h->gate->cond, &h->gate->lock);
	pthread_mutex_unlock(&h->gate->lock);
	if (remote_check(h->dest, h->cluster, h->gate->cred, &r, &err) < 0) {
		h->unreachable = err.code != EIO; /* not the check there that failed */
		h->error = xstrdup(err.msg);
		return NULL;
	}
	if (json_object_object_get_ex(r, "nodes", &nodes) &&
	    json_object_is_type(nodes, json_type_array))
		h->nodes = json_object_get(nodes);
	else
		h->error = xstrdup("agent check gave no nodes");
	dk = util_json_get(r, "docker");
	if ((v = util_json_str(dk, "server")))
		h->docker = xstrdup(v);
	if ((v = util_json_str(dk, "api")))
		h->api = xstrdup(v);
	json_object_put(r);
	return NULL;
}

struct host_sinfo {
	const char *dest, *cluster;
	struct sb_buf out;
};

static void *sinfo_run(void *arg)
{
	struct host_sinfo *s = arg;
	const char *argv[] = {SINFO_ARGV, NULL};
	struct sb_err ignored = SB_ERR_INIT;
	int st = -1;

	if (remote_node_capture(s->dest, s->cluster, "master", argv, STATUS_SSH_MS, &s->out, &st,
	                        &ignored) < 0 ||
	    st != 0)
		sb_buf_reset(&s->out);
	return NULL;
}

/* `munge -n` in the master, on its host; the credential comes back on stdout. */
static char *cred_make(const char *dest, const char *cluster, char **why)
{
	_cleanup_buf_ struct sb_buf out = SB_BUF_INIT;
	const char *argv[] = {"munge", "-n", NULL};
	struct sb_err err = SB_ERR_INIT;
	int st = -1;

	*why = NULL;
	if (remote_node_capture(dest, cluster, "master", argv, STATUS_SSH_MS, &out, &st, &err) <
	        0 ||
	    st != 0 || !out.data || strncmp(out.data, "MUNGE:", 6) != 0) {
		*why = xasprintf("cannot make a credential on the master (munge -n, status %d: %s)",
		                 st, err.msg[0] ? err.msg : "no answer");
		return NULL;
	}
	while (out.len && (out.data[out.len - 1] == '\n' || out.data[out.len - 1] == '\r'))
		out.data[--out.len] = '\0';
	return sb_buf_steal(&out);
}

/* The agent's object for a node, or NULL. */
static struct json_object *checked_node(const struct check_host *h, const char *node)
{
	for (size_t k = 0; h->nodes && k < json_object_array_length(h->nodes); k++) {
		struct json_object *x = json_object_array_get_idx(h->nodes, k);
		const char *name = util_json_str(x, "node");
		if (name && strcmp(name, node) == 0)
			return x;
	}
	return NULL;
}

/* " && " between commands; a node of another host is reached over ssh. */
static void hint_cmd(struct sb_buf *b, const char *sep, const char *host, const char *cmd,
                     const char *container)
{
	bool self = remote_is_self(host);

	sb_buf_printf(b, "%s%s%s%s%s %s", b->len ? sep : "", self ? "" : "ssh ", self ? "" : host,
	              self ? "" : " ", cmd, container);
}

static void status_hints(const struct sb_ctx *ctx, const struct compose_plan *plan,
                         const struct health_verdict *v)
{
	_cleanup_buf_ struct sb_buf drift = SB_BUF_INIT, munge = SB_BUF_INIT;

	for (size_t i = 0; i < plan->n_nodes; i++) {
		const struct compose_node *nd = &plan->nodes[i];
		const char *host = plan->hosts[nd->host].name;

		if (v[i].conf == HEALTH_FAILED || v[i].hostname == HEALTH_FAILED)
			hint_cmd(&drift, " && ", host, "docker rm -f", nd->container);
		if (v[i].munge == HEALTH_FAILED)
			hint_cmd(&munge, "\n  ", host, "docker restart", nd->container);
	}
	if (drift.len)
		printf("Fix drift: undo the edit, or re-create the node from the plan: %s && "
		       "slurmbox%s up\n",
		       drift.data, sb_ctx_name_arg(ctx));
	if (munge.len)
		printf("Fix munge: `slurmbox up` puts the cluster's key back on every host and "
		       "restarts the nodes of a host whose copy it replaced; where the copy was "
		       "right, restart the node so its munged reads it again:\n  %s\n",
		       munge.data);
}

int multi_status(struct sb_ctx *ctx, bool json, struct sb_err *err)
{
	struct spec_doc doc = {0};
	_cleanup_plan_ struct compose_plan *plan = NULL;
	_cleanup_free_ char *want = NULL, *cred_why = NULL;
	const char *master_conf = NULL; /* in hosts' answers, which outlive its use */
	struct cred_gate gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, NULL};
	char **paths = NULL;
	struct check_host *hosts = NULL;
	struct host_sinfo si = {.out = SB_BUF_INIT};
	struct util_fanout *si_run, *host_checks;
	struct health_verdict *hv = NULL;
	struct json_object *root = NULL, *arr = NULL;
	bool healthy = true, problems = false;
	size_t n;
	int ret;

	ret = multi_state_load(ctx->cluster, &doc, &paths, err);
	if (ret == 0)
		ret = compose_plan_build(&doc.spec, &plan, err);
	if (ret < 0)
		goto out;
	n = doc.spec.n_hosts;
	want = compose_render_slurm_conf(plan);

	/* the master's host first; then every host's checks once the credential is there */
	si = (struct host_sinfo){.dest = doc.spec.hosts[0].name, .cluster = ctx->cluster};
	si_run = util_fanout_start(1, sinfo_run, &si, sizeof(si));
	hosts = xcalloc(n, sizeof(*hosts));
	for (size_t i = 0; i < n; i++) {
		hosts[i] = (struct check_host){
		    .dest = doc.spec.hosts[i].name, .cluster = ctx->cluster, .gate = &gate};
	}
	/* a host whose thread cannot start runs at the join, once the credential is there */
	host_checks = util_fanout_start(n, check_host_run, hosts, sizeof(*hosts));
	{
		char *cred = cred_make(si.dest, ctx->cluster, &cred_why);
		pthread_mutex_lock(&gate.lock);
		gate.cred = cred;
		gate.done = true;
		pthread_cond_broadcast(&gate.cond);
		pthread_mutex_unlock(&gate.lock);
	}
	util_fanout_join(host_checks);
	util_fanout_join(si_run);

	if (json) {
		root = json_object_new_object();
		arr = json_object_new_array();
		json_object_object_add(root, "cluster", json_object_new_string(ctx->cluster));
	} else {
		printf("Cluster '%s'\n%-12s %-7s %-14s %-10s %-16s %-14s %s\n", ctx->cluster,
		       "NODE", "ROLE", "HOST", "STATE", "IP", "SLURM", "CHECKS");
	}
	hv = xcalloc(plan->n_nodes, sizeof(*hv));
	/*
	 * The master's slurm.conf is compared with the plan, and every
	 * worker's copy with the master's (with the plan when the master's
	 * could not be read: the master's own problem is named then).
	 */
	{
		struct json_object *x =
		    checked_node(&hosts[plan->nodes[0].host], plan->nodes[0].name);

		master_conf = x ? util_json_str(x, "conf") : NULL;
	}
	for (size_t i = 0; i < plan->n_nodes; i++) {
		const struct compose_node *nd = &plan->nodes[i];
		const struct check_host *h = &hosts[nd->host];
		struct json_object *x = checked_node(h, nd->name);
		const char *state = h->unreachable ? "unreachable" : "missing";
		struct health_node hn = {0};
		char ip[16], st[64] = "", checks[64];

		if (x && util_json_str(x, "state"))
			state = util_json_str(x, "state");
		if (x)
			health_node_from_json(x, &hn);
		if (!hn.node)
			hn.node = xstrdup(nd->name);
		if (nd->role == COMPOSE_ROLE_MASTER && !gate.cred &&
		    strcmp(state, "running") == 0) {
			hn.munge = HEALTH_FAILED;
			free(hn.munge_error);
			hn.munge_error = xstrdup(cred_why ? cred_why : "no credential");
		}
		if (nd->role == COMPOSE_ROLE_MASTER || !master_conf)
			health_judge(&hn, want, "the plan", &hv[i]);
		else
			health_judge(&hn, master_conf, "the master's", &hv[i]);
		health_node_release(&hn);
		health_summary(&hv[i], checks, sizeof(checks));

		sinfo_node_state(si.out.data, nd->name, st, sizeof(st));
		if (nd->role == COMPOSE_ROLE_MASTER)
			snprintf(st, sizeof(st), "%s",
			         si.out.len ? "slurmctld up" : "slurmctld down");
		if (strcmp(state, "running") != 0 ||
		    (nd->role == COMPOSE_ROLE_WORKER && !sinfo_state_ok(st)) ||
		    !health_verdict_ok(&hv[i]))
			healthy = false;
		if (json) {
			struct json_object *o = json_object_new_object();
			json_object_object_add(o, "node", json_object_new_string(nd->name));
			json_object_object_add(o, "role",
			                       json_object_new_string(compose_role_name(nd->role)));
			json_object_object_add(
			    o, "host", json_object_new_string(doc.spec.hosts[nd->host].name));
			json_object_object_add(o, "container",
			                       json_object_new_string(nd->container));
			json_object_object_add(o, "state", json_object_new_string(state));
			json_object_object_add(
			    o, "ip", json_object_new_string(compose_ipv4_format(nd->ip, ip)));
			json_object_object_add(o, "slurm", json_object_new_string(st));
			health_verdict_json_add(&hv[i], o);
			json_object_array_add(arr, o);
		} else {
			printf("%-12s %-7s %-14s %-10s %-16s %-14s %s\n", nd->name,
			       compose_role_name(nd->role), doc.spec.hosts[nd->host].name, state,
			       compose_ipv4_format(nd->ip, ip), *st ? st : "-", checks);
		}
	}
	if (json) {
		struct json_object *harr = json_object_new_array();

		for (size_t i = 0; i < n; i++) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "host", json_object_new_string(hosts[i].dest));
			json_object_object_add(
			    o, "docker",
			    hosts[i].docker ? json_object_new_string(hosts[i].docker) : NULL);
			json_object_object_add(
			    o, "api", hosts[i].api ? json_object_new_string(hosts[i].api) : NULL);
			json_object_array_add(harr, o);
		}
		json_object_object_add(root, "hosts", harr);
		json_object_object_add(root, "exists", json_object_new_boolean(true));
		json_object_object_add(root, "slurmctld", json_object_new_boolean(si.out.len > 0));
		json_object_object_add(root, "nodes", arr);
		json_object_object_add(root, "healthy", json_object_new_boolean(healthy));
		puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
		                                              JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(root);
	} else {
		/* each host's Docker, and the API slurmbox speaks to it */
		printf("Docker: ");
		for (size_t i = 0; i < n; i++)
			printf("%s%s %s (API %s)", i ? ", " : "", hosts[i].dest,
			       hosts[i].docker && *hosts[i].docker ? hosts[i].docker : "?",
			       hosts[i].api ? hosts[i].api : "?");
		putchar('\n');
		for (size_t i = 0; i < plan->n_nodes; i++)
			health_problems_print(plan->nodes[i].name, &hv[i], &problems);
		for (size_t i = 0; i < n; i++) {
			if (!hosts[i].error || hosts[i].unreachable)
				continue;
			if (!problems)
				printf("\nProblems:\n");
			problems = true;
			printf("  %-12s %s\n", hosts[i].dest, hosts[i].error);
		}
		if (problems)
			status_hints(ctx, plan, hv);
	}
	util_exit_status = healthy ? 0 : 1;
out:
	for (size_t i = 0; hosts && i < n; i++) {
		json_object_put(hosts[i].nodes);
		free(hosts[i].error);
		free(hosts[i].docker);
		free(hosts[i].api);
	}
	free(gate.cred);
	for (size_t i = 0; hv && i < plan->n_nodes; i++)
		health_verdict_release(&hv[i]);
	free(hv);
	free(hosts);
	sb_buf_free(&si.out);
	multi_paths_free(paths, doc.spec.n_hosts);
	spec_doc_free(&doc);
	return ret;
}

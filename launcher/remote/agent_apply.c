/* SPDX-License-Identifier: MIT */
/*
 * agent_apply.c - one host's part of a multi-host `up`, and its undo:
 *
 *   apply --host N [--recreate[-all]] [--fault P] < {"spec":…,"key":hex}\n
 *                                                     (stdin held open)
 *   undo                       < the report of an apply
 *
 * apply prints a report on stdout, whether it succeeded or not:
 *   {"ok":…, "created":[{"kind":"container","id":…},…], "started":N,
 *    "shim":bool, "key":bool, "dir":bool, "rolled_back":bool, "kept":bool}
 * naming exactly what this run created here (the shim link, the key file
 * and its state directory only when they did not exist before). On a
 * failure it removes all of that itself ("rolled_back"), unless
 * --keep-on-failure ("kept"). The control machine hands the report
 * of a host that succeeded back to `agent undo` when another host failed.
 *
 * The control machine keeps apply's stdin open after the input line; when
 * it closes (an abort, Ctrl-C there, the ssh connection lost), apply
 * stops and rolls back as on SIGINT/SIGTERM.
 */
#include "agent.h"
#include "../host/apply.h"
#include "../docker/docker_api.h"
#include "../host/members.h"
#include "../host/shim.h"
#include "../host/reconcile.h"
#include "../host/spec_json.h"
#include "../../compose/compose.h"
#include "../../netconf/netconf.h"
#include "../host/state.h"
#include "interrupt.h"
#include "../util/opt.h"
#include "../util/progress.h"

#include <getopt.h>
#include <pthread.h>
#include <signal.h>

#define AGENT_STDIN_MAX (1u << 20)

/*
 * Standard input to EOF, or (line) up to and without the first newline.
 * It may hold the munge key: every copy is wiped (sb_buf_add_secret).
 */
static int read_input(int fd, struct sb_buf *b, bool line, struct sb_err *err)
{
	char buf[16384];
	int ret = 0;

	for (;;) {
		ssize_t n = read(fd, buf, line ? 1 : sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = sb_err_set(err, errno, "Reading standard input: %s", strerror(errno));
			break;
		}
		if (n == 0 || (line && buf[0] == '\n'))
			break;
		sb_buf_add_secret(b, buf, (size_t)n);
		if (b->len > AGENT_STDIN_MAX) {
			ret = sb_err_set(err, E2BIG, "Standard input is larger than %u bytes",
			                 AGENT_STDIN_MAX);
			break;
		}
	}
	explicit_bzero(buf, sizeof(buf));
	return ret;
}

int agent_stdin_spec(struct spec_doc *doc, unsigned char *key, size_t *key_len, bool line,
                     struct sb_err *err)
{
	_cleanup_buf_secret_ struct sb_buf in = SB_BUF_INIT;
	int ret;

	ret = read_input(STDIN_FILENO, &in, line, err);
	if (ret < 0)
		return ret;
	return spec_json_input_decode(in.data ? in.data : "", in.len, doc, key, CLI_KEY_MAX,
	                              key_len, err);
}

/* The rest of stdin: its end means the control machine wants us to stop. */
static void *stdin_watch(void *arg)
{
	char buf[256];

	(void)arg;
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
	}
	cli_interrupted = SIGHUP;
	return NULL;
}

void agent_stdin_watch_start(void)
{
	pthread_t th;

	cli_interrupt_catch();
	if (pthread_create(&th, NULL, stdin_watch, NULL) == 0)
		pthread_detach(th);
}

/* What this run made on this host besides the undo list. */
struct made {
	bool shim, key, dir;
};

static int key_paths(const char *cluster, char **dir, char **key, struct sb_err *err)
{
	int ret = cli_state_dir(cluster, dir, err);

	if (ret == 0)
		*key = xasprintf("%s/munge.key", *dir);
	return ret;
}

/* The shim, the key and its directory, if this run made them. */
static void made_undo(const char *cluster, const struct made *m)
{
	_cleanup_free_ char *dir = NULL, *key = NULL;
	struct sb_err e = SB_ERR_INIT;
	char name[16];

	if (m->shim) {
		host_shim_name(cluster, name);
		if (netconf_link_del(name, &e) < 0)
			cli_warn("Rolling back: %s", e.msg);
	}
	if ((m->dir || m->key) && key_paths(cluster, &dir, &key, &e) < 0)
		cli_warn("Rolling back: %s", e.msg);
	else if (m->dir) {
		if (cli_state_remove(cluster, &e) < 0)
			cli_warn("Rolling back: %s", e.msg);
	} else if (m->key && unlink(key) < 0 && errno != ENOENT) {
		cli_warn("Rolling back: removing '%s': %s", key, strerror(errno));
	}
}

static void report_print(bool ok, const struct apply_undo *u, const struct made *m,
                         bool rolled_back)
{
	struct json_object *r = json_object_new_object();

	json_object_object_add(r, "ok", json_object_new_boolean(ok));
	json_object_object_add(r, "created", apply_undo_to_json(u));
	json_object_object_add(r, "started", json_object_new_int((int)u->n_started));
	json_object_object_add(r, "shim", json_object_new_boolean(m->shim));
	json_object_object_add(r, "key", json_object_new_boolean(m->key));
	json_object_object_add(r, "dir", json_object_new_boolean(m->dir));
	json_object_object_add(r, "rolled_back", json_object_new_boolean(rolled_back));
	json_object_object_add(r, "kept", json_object_new_boolean(!ok && !rolled_back));
	agent_json_print(r);
}

static int shim_ensure(const struct spec_doc *doc, const struct compose_plan *plan, unsigned host,
                       struct made *m, struct sb_err *err)
{
	char name[16];
	uint32_t *routes = xcalloc(plan->n_nodes, sizeof(*routes));
	size_t n = 0;
	struct sb_err serr = SB_ERR_INIT;
	bool exists = true;
	int ret = 0;

	for (size_t i = 0; i < plan->n_nodes; i++)
		if (plan->nodes[i].host == host)
			routes[n++] = plan->nodes[i].ip;
	host_shim_name(doc->spec.cluster, name);
	if (netconf_link_exists(name, &exists, &serr) == 0 && !exists)
		m->shim = true; /* made now, even if only in part: undone by deleting it */
	if (netconf_shim_ensure(name, doc->lan[host].parent,
	                        doc->spec.net_mode == COMPOSE_NET_IPVLAN ? NETCONF_SHIM_IPVLAN
	                                                                 : NETCONF_SHIM_MACVLAN,
	                        doc->lan[host].shim, routes, n, &serr) < 0) {
		if (serr.code == EPERM) {
			m->shim = false;
			cli_warn("%s; this host will not reach its own containers", serr.msg);
		} else {
			ret = sb_err_set(err, serr.code, "%s", serr.msg);
		}
	}
	free(routes);
	return ret;
}

/*
 * This host's copy of the key was another key (changed behind slurmbox's
 * back): its running nodes' munged hold a copy of that one, made at their
 * start. Restart them, so each makes its copy from the cluster's key again
 * (Slurm's state is on the master's volume; ReturnToService brings the
 * workers back).
 */
static int key_restart_nodes(struct docker *d, const struct compose_plan *plan,
                             const struct apply_opts *o, const struct cli_cluster *have,
                             struct sb_err *err)
{
	size_t n = 0;
	int ret;

	for (size_t i = 0; i < have->n_nodes; i++) {
		const struct compose_node *p = compose_plan_node(plan, have->nodes[i].node);

		if (!p || !apply_node_here(o, p) || strcmp(have->nodes[i].state, "running") != 0)
			continue;
		ret = docker_container_stop(d, have->nodes[i].id, APPLY_STOP_SEC, err);
		if (ret == 0)
			ret = docker_container_start(d, have->nodes[i].id, err);
		if (ret < 0)
			return sb_err_wrap(err, "Restarting '%s' with the cluster's munge key",
			                   have->nodes[i].container);
		n++;
	}
	if (n)
		cli_info(o->cli, "  This host's munge key was another: restarted %zu node%s", n,
		         n == 1 ? "" : "s");
	return 0;
}

int agent_apply(const struct cli_ctx *ctx, int argc, char **argv, struct sb_err *err)
{
	static const struct option opts[] = {
	    {"host", required_argument, NULL, 'H'},      {"timeout", required_argument, NULL, 't'},
	    {"keep-on-failure", no_argument, NULL, 'k'}, {"wait-master", no_argument, NULL, 'w'},
	    {"fault", required_argument, NULL, 'f'},     {"recreate", no_argument, NULL, 'r'},
	    {"recreate-all", no_argument, NULL, 'R'},    {NULL, 0, NULL, 0},
	};
	struct spec_doc doc = {0};
	_cleanup_plan_ struct compose_plan *plan = NULL;
	_cleanup_docker_ struct docker *d = NULL;
	_cleanup_free_ char *key_path = NULL, *spec_label = NULL, *user_label = NULL;
	_cleanup_free_ char *dir = NULL, *key_file = NULL;
	struct cli_cluster have = {0};
	struct apply_undo undo = {0};
	struct apply_opts ao = {.cli = ctx, .host_filter = true, .timeout_sec = 180, .undo = &undo};
	struct made made = {0};
	unsigned char key[CLI_KEY_MAX];
	size_t key_len = 0;
	unsigned host = 0;
	int lock_fd = -1; /* held until we exit */
	bool created, key_replaced = false, rolled_back = false, recreate = false,
	              recreate_all = false;
	size_t n_synced = 0;
	int c, ret;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'H')
			ret = cli_parse_uint("--host", optarg, 0, 255, &host, err);
		else if (c == 't')
			ret = cli_parse_uint("--timeout", optarg, 1, 86400, &ao.timeout_sec, err);
		else if (c == 'w')
			ao.wait_master = true, ret = 0;
		else if (c == 'k')
			ao.keep_on_failure = true, ret = 0;
		else if (c == 'f')
			ao.fault = optarg, ret = 0;
		else if (c == 'r')
			recreate = true, ret = 0;
		else if (c == 'R')
			recreate = recreate_all = true, ret = 0;
		else
			return cli_usage_error("agent apply", argv[optind - 1], err);
		if (ret < 0)
			return ret;
	}
	ret = agent_stdin_spec(&doc, key, &key_len, true, err);
	if (ret < 0)
		goto out;
	/* from here on, the end of stdin or SIGINT/SIGTERM rolls back */
	agent_stdin_watch_start();
	ret = cli_lock_take(doc.spec.cluster, "host", &lock_fd, err);
	if (ret < 0)
		goto out;
	if (host >= doc.spec.n_hosts) {
		ret = sb_err_set(err, EINVAL, "Host index %u is not in the spec", host);
		goto out;
	}
	ret = key_paths(doc.spec.cluster, &dir, &key_file, err);
	if (ret < 0)
		goto out;
	made.dir = access(dir, F_OK) < 0;
	made.key = access(key_file, F_OK) < 0;
	ret = cli_key_write(doc.spec.cluster, key, key_len, &key_replaced, err);
	explicit_bzero(key, sizeof(key));
	if (ret < 0)
		goto out;
	/* the key lives in this host's own state directory */
	ret = cli_key_ensure(doc.spec.cluster, &key_path, &created, err);
	if (ret < 0)
		goto out;
	free(doc.spec.key_path);
	doc.spec.key_path = xstrdup(key_path);
	ret = compose_plan_build(&doc.spec, &plan, err);
	if (ret == 0)
		ret = docker_open(NULL, &d, err);
	if (ret == 0)
		ret = cli_cluster_load(d, doc.spec.cluster, &have, err);
	if (ret < 0)
		goto out;

	ao.host = host;
	if (doc.lan) {
		ao.parent = doc.lan[host].parent;
		ao.ip_range = doc.ip_range;
		ao.aux[0] = doc.lan[host].shim;
		ao.aux[1] = doc.lan[host].addr;
	}
	{
		struct json_object *sj = spec_json_from(&doc);
		spec_label = xasprintf("io.slurmbox.spec=%s",
		                       json_object_to_json_string_ext(sj, JSON_C_TO_STRING_PLAIN));
		json_object_put(sj);
	}
	user_label = xasprintf("io.slurmbox.user=%s", doc.spec.user.name);
	ao.extra_labels[ao.n_extra_labels++] = user_label;
	ao.extra_labels[ao.n_extra_labels++] = spec_label;
	ret = key_replaced ? key_restart_nodes(d, plan, &ao, &have, err) : 0;
	if (ret == 0 && recreate) {
		size_t n_removed = 0;

		/* this host's containers that differ (not this run's: not undone); volumes and key stay */
		ret = reconcile_remove_changed(d, plan, &ao, recreate_all, &have, &n_removed, err);
		/* another subnet: the network goes too (its containers are gone), before any is made */
		if (ret == 0)
			ret = reconcile_network_drop(d, plan, err);
	}
	if (ret == 0) /* containers kept learn of new nodes before those start */
		ret = members_sync(d, plan, &doc, &ao, &have, &n_synced, err);
	if (ret == 0)
		ret = apply_plan(d, plan, &have, &ao, err);
	/* the host reaches its own containers only through a shim on the same parent */
	if (ret == 0 && doc.lan && doc.lan[host].shim)
		ret = shim_ensure(&doc, plan, host, &made, err);
	if (ret == 0 && cli_interrupted)
		ret = sb_err_set(err, EINTR, "Interrupted once this host's part was made");
out:
	explicit_bzero(key, sizeof(key));
	if (ret < 0 && !ao.keep_on_failure) {
		/* what could not be removed stays in the report: the control machine tries again */
		rolled_back = (d ? apply_undo_run(d, &undo) : 0) == 0;
		made_undo(doc.spec.cluster ? doc.spec.cluster : ctx->cluster, &made);
	}
	report_print(ret == 0, &undo, &made, rolled_back);
	apply_undo_free(&undo);
	cli_cluster_free(&have);
	spec_doc_free(&doc);
	return ret;
}

int agent_undo(const struct cli_ctx *ctx, int argc, char **argv, struct sb_err *err)
{
	_cleanup_buf_secret_ struct sb_buf in = SB_BUF_INIT;
	_cleanup_docker_ struct docker *d = NULL;
	struct apply_undo undo = {0};
	struct json_object *r = NULL, *v;
	struct made made = {0};
	int lock_fd = -1; /* held until we exit */
	size_t failed = 0;
	int ret;

	if (argc > 1)
		return cli_usage_error("agent undo", argv[1], err);
	ret = read_input(STDIN_FILENO, &in, false, err);
	if (ret < 0)
		return ret;
	r = json_tokener_parse(in.data ? in.data : "");
	if (!r || !json_object_object_get_ex(r, "created", &v)) {
		json_object_put(r);
		return sb_err_set(err, EINVAL, "agent undo: no report of an apply on stdin");
	}
	ret = apply_undo_from_json(v, &undo, err);
	undo.cluster = xstrdup(ctx->cluster); /* for what a create may have made */
	made.shim = json_object_get_boolean(json_object_object_get(r, "shim"));
	made.key = json_object_get_boolean(json_object_object_get(r, "key"));
	made.dir = json_object_get_boolean(json_object_object_get(r, "dir"));
	json_object_put(r);
	if (ret == 0)
		ret = cli_lock_take(ctx->cluster, "host", &lock_fd, err);
	if (ret == 0 && undo.n)
		ret = docker_open(NULL, &d, err);
	if (ret == 0) {
		failed = undo.n ? apply_undo_run(d, &undo) : 0;
		made_undo(ctx->cluster, &made);
		r = json_object_new_object();
		json_object_object_add(r, "removed", json_object_new_int((int)(undo.n - failed)));
		json_object_object_add(r, "failed", json_object_new_int((int)failed));
		agent_json_print(r);
		if (failed)
			ret = sb_err_set(err, EIO, "%zu of %zu objects could not be removed",
			                 failed, undo.n);
	}
	apply_undo_free(&undo);
	return ret;
}

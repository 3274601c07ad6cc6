/* SPDX-License-Identifier: MIT */
/*
 * host_apply.c - one host's part of `up`, and its undo (ops.h). An apply
 * answers with a report of exactly what it created here (the shim link,
 * the key file and its state directory only when they did not exist
 * before); on a failure it removes all of that itself ("rolled_back"),
 * unless keep_on_failure ("kept"). The control machine hands the report of
 * a host that succeeded back to host_undo when another host failed.
 */
#include "ops.h"
#include "apply.h"
#include "members.h"
#include "reconcile.h"
#include "shim.h"
#include "spec_json.h"
#include "state.h"
#include "../docker/docker_api.h"
#include "../util/progress.h"
#include "../../compose/compose.h"
#include "../../netconf/netconf.h"

#include <json-c/json.h>
#include <unistd.h>

/* What this run made on this host besides the undo list. */
struct made {
	bool shim, key, dir;
	size_t removed; /* containers removed: taken away, or to be made again */
};

static int key_paths(const char *cluster, char **dir, char **key, struct sb_err *err)
{
	int ret = state_dir(cluster, dir, err);

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
			util_warn("Rolling back: %s", e.msg);
	}
	if ((m->dir || m->key) && key_paths(cluster, &dir, &key, &e) < 0)
		util_warn("Rolling back: %s", e.msg);
	else if (m->dir) {
		if (state_remove(cluster, &e) < 0)
			util_warn("Rolling back: %s", e.msg);
	} else if (m->key && unlink(key) < 0 && errno != ENOENT) {
		util_warn("Rolling back: removing '%s': %s", key, strerror(errno));
	}
}

static struct json_object *report_make(bool ok, const struct apply_undo *u, const struct made *m,
                                       bool rolled_back)
{
	struct json_object *r = json_object_new_object();

	json_object_object_add(r, "ok", json_object_new_boolean(ok));
	json_object_object_add(r, "created", apply_undo_to_json(u));
	json_object_object_add(r, "started", json_object_new_int((int)u->n_started));
	json_object_object_add(r, "removed", json_object_new_int((int)m->removed));
	json_object_object_add(r, "shim", json_object_new_boolean(m->shim));
	json_object_object_add(r, "key", json_object_new_boolean(m->key));
	json_object_object_add(r, "dir", json_object_new_boolean(m->dir));
	json_object_object_add(r, "rolled_back", json_object_new_boolean(rolled_back));
	json_object_object_add(r, "kept", json_object_new_boolean(!ok && !rolled_back));
	return r;
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
			util_warn("%s; this host will not reach its own containers", serr.msg);
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
                             const struct apply_opts *o, const struct host_cluster *have,
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
		util_info(o->cli, "  This host's munge key was another: restarted %zu node%s", n,
		          n == 1 ? "" : "s");
	return 0;
}

int host_apply(const struct sb_ctx *ctx, const struct host_apply_req *r,
               struct json_object **report, struct sb_err *err)
{
	struct spec_doc doc = {0};
	_cleanup_plan_ struct compose_plan *plan = NULL;
	_cleanup_docker_ struct docker *d = NULL;
	_cleanup_free_ char *key_path = NULL, *spec_label = NULL, *user_label = NULL;
	_cleanup_free_ char *dir = NULL, *key_file = NULL;
	_cleanup_close_ int lock_fd = -1;
	struct host_cluster have = {0};
	struct apply_undo undo = {0};
	struct apply_opts ao = {.cli = ctx,
	                        .host_filter = true,
	                        .timeout_sec = r->timeout_sec ? r->timeout_sec : 180,
	                        .undo = &undo,
	                        .keep_on_failure = r->keep_on_failure,
	                        .wait_master = r->wait_master,
	                        .fault = r->fault};
	struct made made = {0};
	const unsigned host = r->host;
	bool created, key_replaced = false, rolled_back = false;
	size_t n_synced = 0;
	int ret;

	/* its own copy: the plan's key path is this host's */
	ret = spec_doc_copy(&doc, r->doc, err);
	if (ret == 0)
		ret = state_lock_take(doc.spec.cluster, "host", &lock_fd, err);
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
	ret = state_key_write(doc.spec.cluster, r->key, r->key_len, &key_replaced, err);
	if (ret < 0)
		goto out;
	/* the key lives in this host's own state directory */
	ret = state_key_ensure(doc.spec.cluster, &key_path, &created, err);
	if (ret < 0)
		goto out;
	free(doc.spec.key_path);
	doc.spec.key_path = xstrdup(key_path);
	ret = compose_plan_build(&doc.spec, &plan, err);
	if (ret == 0)
		ret = docker_open(NULL, &d, err);
	if (ret == 0)
		ret = host_cluster_load(d, doc.spec.cluster, &have, err);
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
	if (ret == 0 && r->recreate) {
		size_t n_removed = 0;

		/* this host's containers that differ (not this run's: not undone); volumes and key stay */
		ret = reconcile_remove_changed(d, plan, &ao, &have, &n_removed, err);
		made.removed = n_removed;
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
	if (ret == 0 && r->abort && *r->abort)
		ret = sb_err_set(err, EINTR, "Interrupted once this host's part was made");
out:
	if (ret < 0 && !ao.keep_on_failure) {
		/* what could not be removed stays in the report: the control machine tries again */
		rolled_back = (d ? apply_undo_run(d, &undo) : 0) == 0;
		made_undo(doc.spec.cluster ? doc.spec.cluster : r->doc->spec.cluster, &made);
	}
	*report = report_make(ret == 0, &undo, &made, rolled_back);
	apply_undo_free(&undo);
	host_cluster_free(&have);
	spec_doc_free(&doc);
	return ret;
}

int host_undo(const char *cluster, struct json_object *report, struct json_object **out,
              struct sb_err *err)
{
	_cleanup_docker_ struct docker *d = NULL;
	_cleanup_close_ int lock_fd = -1;
	struct apply_undo undo = {0};
	struct json_object *v, *r;
	struct made made = {0};
	size_t failed = 0;
	int ret;

	*out = NULL;
	if (!json_object_is_type(report, json_type_object) ||
	    !json_object_object_get_ex(report, "created", &v))
		return sb_err_set(err, EINVAL, "undo: not the report of an apply");
	ret = apply_undo_from_json(v, &undo, err);
	undo.cluster = xstrdup(cluster); /* for what a create may have made */
	made.shim = json_object_get_boolean(json_object_object_get(report, "shim"));
	made.key = json_object_get_boolean(json_object_object_get(report, "key"));
	made.dir = json_object_get_boolean(json_object_object_get(report, "dir"));
	if (ret == 0)
		ret = state_lock_take(cluster, "host", &lock_fd, err);
	if (ret == 0 && undo.n)
		ret = docker_open(NULL, &d, err);
	if (ret == 0) {
		failed = undo.n ? apply_undo_run(d, &undo) : 0;
		made_undo(cluster, &made);
		r = json_object_new_object();
		json_object_object_add(r, "removed", json_object_new_int((int)(undo.n - failed)));
		json_object_object_add(r, "failed", json_object_new_int((int)failed));
		*out = r;
		if (failed)
			ret = sb_err_set(err, EIO, "%zu of %zu objects could not be removed",
			                 failed, undo.n);
	}
	apply_undo_free(&undo);
	return ret;
}

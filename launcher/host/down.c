/* SPDX-License-Identifier: MIT */
/*
 * down.c - remove a cluster's containers, network and Slurm state on one
 * engine, found by label only (never by name): the CLI's `down` and each
 * host's agent. /home and the munge key stay unless purge.
 */
#include "down.h"
#include "objects.h"
#include "state.h"
#include "../docker/docker_api.h"
#include "../util/progress.h"
#include "../../compose/compose.h"
#include "../util/fanout.h"

struct rm_job {
	struct docker *d;
	const char *id;
	const char *name;
	struct sb_err err;
	int ret;
};

static void *rm_container(void *arg)
{
	struct rm_job *j = arg;

	j->ret = docker_container_remove(j->d, j->id, &j->err);
	if (j->ret < 0)
		sb_err_wrap(&j->err, "Removing container '%s'", j->name);
	return NULL;
}

/* Remove every labelled object of kind `what` whose name passes keep(). */
static int remove_volumes(struct docker *d, const char *label, bool purge, size_t *n_removed,
                          struct sb_err *err)
{
	const char *labels[] = {label};
	struct json_object *vols = NULL;
	int ret, first = 0;

	ret = docker_volume_list(d, labels, 1, &vols, err);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < json_object_array_length(vols); i++) {
		struct json_object *v = json_object_array_get_idx(vols, i), *name, *lab, *kind;
		const char *k = "";

		if (!json_object_object_get_ex(v, "Name", &name))
			continue;
		if (json_object_object_get_ex(v, "Labels", &lab) &&
		    json_object_object_get_ex(lab, COMPOSE_LABEL_KIND, &kind))
			k = json_object_get_string(kind);
		if (!purge && strcmp(k, "home") == 0)
			continue;
		ret = docker_volume_remove(d, json_object_get_string(name), err);
		if (ret < 0 && first == 0)
			first =
			    sb_err_wrap(err, "Removing volume '%s'", json_object_get_string(name));
		if (ret == 0)
			(*n_removed)++;
	}
	json_object_put(vols);
	return first;
}

int down_local(struct docker *d, const struct sb_ctx *ctx, const char *cluster, bool purge,
               struct down_counts *counts, struct sb_err *err)
{
	_cleanup_free_ char *label = xasprintf("%s=%s", COMPOSE_LABEL_CLUSTER, cluster);
	struct host_cluster have = {0};
	struct json_object *nets = NULL;
	struct rm_job *jobs = NULL;
	struct util_step step;
	int ret;

	memset(counts, 0, sizeof(*counts));
	ret = host_cluster_load(d, cluster, &have, err);
	if (ret < 0)
		return ret;
	if (have.n_nodes) {
		util_step_begin(&step, ctx, "Removing %zu container%s", have.n_nodes,
		                have.n_nodes == 1 ? "" : "s");
		jobs = xcalloc(have.n_nodes, sizeof(*jobs));
		for (size_t i = 0; i < have.n_nodes; i++) {
			jobs[i].d = docker_dup(d);
			jobs[i].id = have.nodes[i].id;
			jobs[i].name = have.nodes[i].container;
		}
		util_fanout(have.n_nodes, rm_container, jobs, sizeof(*jobs));
		for (size_t i = 0; i < have.n_nodes; i++) {
			docker_free(jobs[i].d);
			if (jobs[i].ret < 0 && ret == 0) {
				*err = jobs[i].err;
				ret = jobs[i].ret;
			} else if (jobs[i].ret == 0) {
				counts->containers++;
			}
		}
		free(jobs);
		if (ret < 0) {
			util_step_fail(&step);
			goto out;
		}
		util_step_end(&step, NULL);
	}

	{
		const char *labels[] = {label};
		ret = docker_network_list(d, labels, 1, &nets, err);
		if (ret < 0)
			goto out;
		for (size_t i = 0; i < json_object_array_length(nets); i++) {
			struct json_object *id;
			if (!json_object_object_get_ex(json_object_array_get_idx(nets, i), "Id",
			                               &id))
				continue;
			ret = docker_network_remove(d, json_object_get_string(id), err);
			if (ret < 0)
				goto out;
			counts->networks++;
		}
	}
	ret = remove_volumes(d, label, purge, &counts->volumes, err);
	if (ret < 0)
		goto out;
	if (purge) {
		ret = state_remove(cluster, err);
		if (ret < 0)
			goto out;
	}
out:
	json_object_put(nets);
	host_cluster_free(&have);
	return ret;
}

void down_report(const char *where, const char *cluster, bool purge, const struct down_counts *c)
{
	if (c->containers == 0 && c->networks == 0 && c->volumes == 0 && !c->links)
		fprintf(stderr, "Cluster '%s' has nothing %s; nothing to do.\n", cluster, where);
	else
		fprintf(
		    stderr,
		    "Cluster '%s' removed %s: %zu container%s, %zu network%s, %zu volume%s%s%s\n",
		    cluster, where, c->containers, c->containers == 1 ? "" : "s", c->networks,
		    c->networks == 1 ? "" : "s", c->volumes, c->volumes == 1 ? "" : "s",
		    c->links ? ", the shim interface" : "",
		    purge ? ", and the munge key"
		          : "; /home and the munge key are kept (--purge removes them)");
}

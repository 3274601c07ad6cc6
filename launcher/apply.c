/* SPDX-License-Identifier: MIT */
/*
 * apply.c - bring one engine to a plan: network, volumes, containers (made
 * in parallel, each with its files copied in before start), master first,
 * workers once slurmctld answers. Every object this run creates goes on an
 * undo list; a failure removes exactly those, newest first.
 */
#include "apply.h"
#include "docker_api.h"
#include "docker_body.h"
#include "tarball.h"

#include <pthread.h>

enum undo_kind {
	UNDO_CONTAINER,
	UNDO_NETWORK,
	UNDO_VOLUME,
};

struct undo {
	enum undo_kind kind;
	char *id;
};

struct undo_list {
	struct undo *items;
	size_t n;
};

static void undo_push(struct undo_list *u, enum undo_kind kind, const char *id)
{
	u->items = xreallocarray(u->items, u->n + 1, sizeof(*u->items));
	u->items[u->n].kind = kind;
	u->items[u->n].id = xstrdup(id);
	u->n++;
}

static void undo_free(struct undo_list *u)
{
	for (size_t i = 0; i < u->n; i++)
		free(u->items[i].id);
	free(u->items);
	u->items = NULL;
	u->n = 0;
}

/* Remove this run's objects, newest first. Errors are reported, not fatal. */
static void undo_run(struct docker *d, struct undo_list *u)
{
	for (size_t i = u->n; i-- > 0;) {
		struct sb_err err = SB_ERR_INIT;
		int ret = 0;

		switch (u->items[i].kind) {
		case UNDO_CONTAINER:
			ret = docker_container_remove(d, u->items[i].id, &err);
			break;
		case UNDO_NETWORK:
			ret = docker_network_remove(d, u->items[i].id, &err);
			break;
		case UNDO_VOLUME:
			ret = docker_volume_remove(d, u->items[i].id, &err);
			break;
		}
		if (ret < 0)
			cli_warn("Rolling back: %s", err.msg);
	}
}

void apply_diff_compute(const struct compose_plan *plan, const struct cli_cluster *have,
			struct apply_diff *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < plan->n_nodes; i++) {
		const struct cli_node *n = cli_cluster_node(have, plan->nodes[i].name);
		if (!n)
			out->n_missing++;
		else if (strcmp(n->hash, plan->config_hash) != 0)
			out->n_changed++;
		else if (strcmp(n->state, "running") != 0)
			out->n_stopped++;
	}
	for (size_t i = 0; i < have->n_nodes; i++)
		if (!compose_plan_node(plan, have->nodes[i].node))
			out->n_foreign++;
}

/* ---- parallel work, one Docker connection per thread ---- */

struct job {
	struct docker *d;
	const struct compose_plan *plan;
	const struct compose_node *node;
	const struct apply_opts *o;
	const struct sb_buf *files_tar;
	const char *start_id; /* start this container instead of creating one */
	char *id;             /* created container */
	struct sb_err err;
	int ret;
	pthread_t th;
};

static int node_create(struct job *j)
{
	struct json_object *body = docker_body_container(j->plan, j->node, docker_api_version(j->d));
	struct json_object *labels = NULL;
	int ret;

	if (json_object_object_get_ex(body, "Labels", &labels)) {
		for (size_t i = 0; i < j->o->n_extra_labels; i++) {
			const char *kv = j->o->extra_labels[i];
			const char *eq = strchr(kv, '=');
			_cleanup_free_ char *k = xstrndup(kv, (size_t)(eq - kv));
			json_object_object_add(labels, k, json_object_new_string(eq + 1));
		}
	}
	ret = docker_container_create(j->d, j->node->container, body, &j->id, &j->err);
	json_object_put(body);
	if (ret < 0)
		return sb_err_wrap(&j->err, "Creating container '%s'", j->node->container);
	ret = docker_container_put_archive(j->d, j->id, "/", j->files_tar->data, j->files_tar->len,
					   &j->err);
	if (ret < 0)
		return sb_err_wrap(&j->err, "Copying slurm.conf into '%s'", j->node->container);
	return 0;
}

static void *job_create(void *arg)
{
	struct job *j = arg;

	j->ret = node_create(j);
	return NULL;
}

static void *job_start(void *arg)
{
	struct job *j = arg;

	j->ret = docker_container_start(j->d, j->start_id, &j->err);
	if (j->ret < 0)
		sb_err_wrap(&j->err, "Starting '%s'", j->node->container);
	return NULL;
}

/* Run fn over jobs in parallel; the first failure is copied to err. */
static int jobs_run(struct job *jobs, size_t n, void *(*fn)(void *), struct docker *d,
		    struct sb_err *err)
{
	int ret = 0;

	for (size_t i = 0; i < n; i++) {
		jobs[i].d = docker_dup(d);
		if (pthread_create(&jobs[i].th, NULL, fn, &jobs[i]) != 0) {
			jobs[i].th = 0;
			fn(&jobs[i]);
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (jobs[i].th)
			pthread_join(jobs[i].th, NULL);
		docker_free(jobs[i].d);
		jobs[i].d = NULL;
		if (jobs[i].ret < 0 && ret == 0) {
			*err = jobs[i].err;
			ret = jobs[i].ret;
		}
	}
	return ret;
}

static int files_tar_build(const struct compose_plan *plan, struct sb_buf *out, struct sb_err *err)
{
	struct tarball_entry *e = xcalloc(plan->n_files, sizeof(*e));
	int ret;

	for (size_t i = 0; i < plan->n_files; i++) {
		e[i].path = plan->files[i].path + (plan->files[i].path[0] == '/');
		e[i].data = plan->files[i].content;
		e[i].len = strlen(plan->files[i].content);
		e[i].mode = plan->files[i].mode;
	}
	ret = tarball_build(e, plan->n_files, out, err);
	free(e);
	return ret;
}

static int network_ensure(struct docker *d, const struct compose_plan *plan, struct undo_list *u,
			  struct sb_err *err)
{
	_cleanup_free_ char *label = xasprintf("%s=%s", COMPOSE_LABEL_CLUSTER, plan->cluster);
	const char *labels[] = {label};
	struct json_object *list = NULL, *body;
	char *id = NULL;
	size_t n;
	int ret;

	ret = docker_network_list(d, labels, 1, &list, err);
	if (ret < 0)
		return ret;
	n = json_object_array_length(list);
	for (size_t i = 0; i < n; i++) {
		struct json_object *net = json_object_array_get_idx(list, i), *name;
		if (json_object_object_get_ex(net, "Name", &name) &&
		    strcmp(json_object_get_string(name), plan->network.name) == 0) {
			json_object_put(list);
			return 0;
		}
	}
	json_object_put(list);
	body = docker_body_network(plan, NULL, NULL);
	ret = docker_network_create(d, body, &id, err);
	json_object_put(body);
	if (ret < 0)
		return sb_err_wrap(err, "Creating network '%s'", plan->network.name);
	undo_push(u, UNDO_NETWORK, id);
	free(id);
	return 0;
}

static int volumes_ensure(struct docker *d, const struct compose_plan *plan, struct undo_list *u,
			  struct sb_err *err)
{
	_cleanup_free_ char *label = xasprintf("%s=%s", COMPOSE_LABEL_CLUSTER, plan->cluster);
	const char *labels[] = {label};
	struct json_object *list = NULL;
	int ret;

	ret = docker_volume_list(d, labels, 1, &list, err);
	if (ret < 0)
		return ret;
	for (size_t v = 0; v < plan->n_volumes; v++) {
		const struct compose_volume *vol = &plan->volumes[v];
		bool found = false;
		struct json_object *vl;

		for (size_t i = 0; i < json_object_array_length(list) && !found; i++) {
			struct json_object *name;
			if (json_object_object_get_ex(json_object_array_get_idx(list, i), "Name",
						      &name) &&
			    strcmp(json_object_get_string(name), vol->name) == 0)
				found = true;
		}
		if (found)
			continue;
		vl = docker_body_volume_labels(plan, vol);
		ret = docker_volume_create(d, vol->name, vl, err);
		json_object_put(vl);
		if (ret < 0) {
			json_object_put(list);
			return sb_err_wrap(err, "Creating volume '%s'", vol->name);
		}
		undo_push(u, UNDO_VOLUME, vol->name);
	}
	json_object_put(list);
	return 0;
}

int apply_master_run(struct docker *d, const char *container, const char *const *argv,
		     struct sb_buf *out, int *status, int timeout_ms, struct sb_err *err)
{
	struct sb_buf errbuf = SB_BUF_INIT;
	struct docker_exec_opts o = {
		.argv = argv,
		.in_fd = -1,
		.out_fd = -1,
		.err_fd = -1,
		.out_buf = out,
		.err_buf = &errbuf,
		.timeout_ms = timeout_ms,
	};
	int ret = docker_exec(d, container, &o, status, err);

	sb_buf_free(&errbuf);
	return ret;
}

int apply_plan(struct docker *d, const struct compose_plan *plan, const struct cli_cluster *have,
	       const struct apply_opts *o, struct sb_err *err)
{
	struct undo_list undo = {0};
	_cleanup_buf_ struct sb_buf tar = SB_BUF_INIT;
	struct job *create = xcalloc(plan->n_nodes, sizeof(*create));
	struct job *start = xcalloc(plan->n_nodes, sizeof(*start));
	size_t n_create = 0, n_start = 0;
	const struct compose_node *master = &plan->nodes[0];
	const char *master_id = NULL;
	bool master_running = false;
	struct cli_step step;
	int ret;

	ret = files_tar_build(plan, &tar, err);
	if (ret < 0)
		goto out;

	cli_step_begin(&step, o->cli, "Network and volumes");
	ret = network_ensure(d, plan, &undo, err);
	if (ret == 0)
		ret = volumes_ensure(d, plan, &undo, err);
	if (ret < 0) {
		cli_step_fail(&step);
		goto fail;
	}
	cli_step_end(&step, "%s", plan->network.name);

	for (size_t i = 0; i < plan->n_nodes; i++) {
		const struct cli_node *h = cli_cluster_node(have, plan->nodes[i].name);
		if (h)
			continue;
		create[n_create].plan = plan;
		create[n_create].node = &plan->nodes[i];
		create[n_create].o = o;
		create[n_create].files_tar = &tar;
		n_create++;
	}
	if (n_create) {
		cli_step_begin(&step, o->cli, "Creating %zu container%s", n_create,
			       n_create == 1 ? "" : "s");
		ret = jobs_run(create, n_create, job_create, d, err);
		for (size_t i = 0; i < n_create; i++)
			if (create[i].id)
				undo_push(&undo, UNDO_CONTAINER, create[i].id);
		if (ret < 0) {
			cli_step_fail(&step);
			goto fail;
		}
		cli_step_end(&step, NULL);
	}

	/* Which containers to start, and the master's id. */
	for (size_t i = 0; i < plan->n_nodes; i++) {
		const struct compose_node *pn = &plan->nodes[i];
		const struct cli_node *h = cli_cluster_node(have, pn->name);
		const char *id = NULL;
		bool running = false;

		if (h) {
			id = h->id;
			running = strcmp(h->state, "running") == 0;
		} else {
			for (size_t k = 0; k < n_create; k++)
				if (create[k].node == pn)
					id = create[k].id;
		}
		if (pn->role == COMPOSE_ROLE_MASTER) {
			master_id = id;
			master_running = running;
			continue;
		}
		if (!running) {
			start[n_start].node = pn;
			start[n_start].start_id = id;
			n_start++;
		}
	}

	if (!master_running) {
		cli_step_begin(&step, o->cli, "Starting slurmctld on %s", master->name);
		ret = docker_container_start(d, master_id, err);
		if (ret < 0) {
			cli_step_fail(&step);
			sb_err_wrap(err, "Starting '%s'", master->container);
			goto fail;
		}
		/* A timeout here keeps the containers, for debugging, like one later. */
		ret = apply_wait_controller(d, plan, o->timeout_sec, err);
		if (ret < 0) {
			cli_step_fail(&step);
			goto out;
		}
		cli_step_end(&step, NULL);
	}
	if (n_start) {
		cli_step_begin(&step, o->cli, "Starting %zu worker%s", n_start, n_start == 1 ? "" : "s");
		ret = jobs_run(start, n_start, job_start, d, err);
		if (ret < 0) {
			cli_step_fail(&step);
			goto fail;
		}
		cli_step_end(&step, NULL);
	}
	ret = 0;
	goto out;

fail:
	if (o->keep_on_failure) {
		if (undo.n)
			cli_warn("--keep-on-failure: leaving %zu object%s for debugging; remove them "
				 "with `slurmbox down`",
				 undo.n, undo.n == 1 ? "" : "s");
	} else {
		undo_run(d, &undo);
	}
out:
	for (size_t i = 0; i < n_create; i++)
		free(create[i].id);
	free(create);
	free(start);
	undo_free(&undo);
	return ret;
}

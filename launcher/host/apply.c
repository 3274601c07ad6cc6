/* SPDX-License-Identifier: MIT */
/*
 * apply.c - bring one engine to a plan: network, volumes, containers (made
 * in parallel, each with its files copied in before start), master first,
 * workers once slurmctld answers. Every object this run creates goes on an
 * undo list; a failure removes exactly those, newest first.
 */
#include "apply.h"
#include "../docker/docker_api.h"
#include "../docker/docker_body.h"
#include "tarball.h"
#include "../../netconf/netconf.h"
#include "../util/progress.h"
#include "../util/fanout.h"

#include <pthread.h>

void apply_diff_compute(const struct compose_plan *plan, const struct host_cluster *have,
                        const struct apply_opts *o, struct apply_diff *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < plan->n_nodes; i++) {
		const struct host_node *n = host_cluster_node(have, plan->nodes[i].name);
		if (o && !apply_node_here(o, &plan->nodes[i]))
			continue;
		if (!n)
			out->n_missing++;
		else if (strcmp(n->hash, plan->nodes[i].hash) != 0)
			out->n_changed++;
		else if (strcmp(n->state, "running") != 0)
			out->n_stopped++;
	}
	for (size_t i = 0; i < have->n_nodes; i++)
		if (!compose_plan_node(plan, have->nodes[i].node))
			out->n_foreign++;
}

/* ---- parallel work, one Docker connection per thread ---- */

/*
 * The master's container starts before any worker's: a worker whose first
 * packets to the master's address go out before that address exists gets
 * a failed neighbour entry and loses a second to ARP retries. Workers are
 * created meanwhile and start the moment the master's start returns.
 */
struct master_gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool open;   /* the master runs (or needed no start) */
	bool failed; /* the master could not start: workers do not either */
};

static void gate_set(struct master_gate *g, bool failed)
{
	pthread_mutex_lock(&g->lock);
	g->open = true;
	g->failed = failed;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

static bool gate_wait(struct master_gate *g)
{
	bool failed;

	pthread_mutex_lock(&g->lock);
	while (!g->open)
		pthread_cond_wait(&g->cond, &g->lock);
	failed = g->failed;
	pthread_mutex_unlock(&g->lock);
	return !failed;
}

/*
 * A host without the master, applied at the same time as the master's host:
 * its containers are created at once but start only when the master's
 * address answers on the LAN, for the same reason as above.
 */
struct gate_waiter {
	struct master_gate *gate;
	const char *parent;
	uint32_t ip;
	double deadline;
	pthread_t th;
};

static void *gate_waiter_run(void *arg)
{
	struct gate_waiter *w = arg;

	while (util_now() < w->deadline && !docker_aborted()) {
		struct sb_err err = SB_ERR_INIT;
		uint8_t mac[6];
		bool in_use = false;

		if (netconf_neigh_probe(w->parent, w->ip, 200, &in_use, mac, &err) < 0 || in_use)
			break; /* answered, or we cannot tell: start anyway (slurmd copes) */
	}
	gate_set(w->gate, false);
	return NULL;
}

static struct gate_waiter *gate_open_when_master_answers(struct master_gate *gate,
                                                         const struct compose_plan *plan,
                                                         const struct apply_opts *o)
{
	struct gate_waiter *w = xzalloc(sizeof(*w));

	w->gate = gate;
	w->parent = o->parent;
	w->ip = plan->nodes[0].ip;
	w->deadline = util_now() + (o->timeout_sec < 60 ? o->timeout_sec : 60);
	if (pthread_create(&w->th, NULL, gate_waiter_run, w) != 0) {
		gate_set(gate, false);
		free(w);
		return NULL;
	}
	return w;
}

struct job {
	struct docker *d;
	struct master_gate *gate;
	const struct compose_plan *plan;
	const struct compose_node *node;
	const struct apply_opts *o;
	const struct sb_buf *files_tar;
	const char *start_id; /* an existing container to start; NULL: create one first */
	char *id;             /* the container this job created */
	bool maybe;           /* its create was interrupted: it may exist all the same */
	struct sb_err err;
	int ret;
};

static int node_create(struct job *j)
{
	struct json_object *body =
	    docker_body_container(j->plan, j->node, docker_api_version(j->d));
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
	ret = apply_fault_bad_key(j->o, j->node, body, &j->err);
	if (ret == 0)
		ret = docker_container_create(j->d, j->node->container, body, &j->id, &j->err);
	json_object_put(body);
	j->maybe = ret == -EINTR; /* the daemon may have made it all the same */
	if (ret < 0)
		return sb_err_wrap(&j->err, "Creating container '%s'", j->node->container);
	if (!j->files_tar->len) /* a worker: slurmctld serves it its files */
		return 0;
	ret = docker_container_put_archive(j->d, j->id, "/", j->files_tar->data, j->files_tar->len,
	                                   &j->err);
	if (ret < 0)
		return sb_err_wrap(&j->err, "Copying slurm.conf into '%s'", j->node->container);
	return 0;
}

/* Create the node's container (unless it exists) and start it. */
static void *job_bring_up(void *arg)
{
	struct job *j = arg;
	bool master = j->node->role == COMPOSE_ROLE_MASTER;
	const char *id = j->start_id;

	if (!id) {
		j->ret = node_create(j);
		if (j->ret < 0)
			goto out;
		id = j->id;
		j->ret = apply_fault_fail(j->o, "create", &j->err);
		if (j->ret < 0)
			goto out;
		/* test-only fault point: stop here until interrupted (bounded) */
		if (apply_fault_point(j->o, "stall-after-create")) {
			for (int i = 0; i < 600 && !docker_aborted(); i++)
				usleep(100 * 1000);
			j->ret = sb_err_set(&j->err, EINTR, "Interrupted after creating '%s'",
			                    j->node->container);
			goto out;
		}
	}
	if (!master && !gate_wait(j->gate)) {
		j->ret = -ECANCELED;
		sb_err_set(&j->err, ECANCELED, "Not starting '%s': the master did not start",
		           j->node->container);
		return NULL;
	}
	j->ret = docker_container_start(j->d, id, &j->err);
	if (j->ret < 0)
		sb_err_wrap(&j->err, "Starting '%s'", j->node->container);
out:
	if (master)
		gate_set(j->gate, j->ret < 0);
	return NULL;
}

/* Run fn over jobs in parallel; the first failure is copied to err. */
static int jobs_run(struct job *jobs, size_t n, void *(*fn)(void *), struct docker *d,
                    struct sb_err *err)
{
	int ret = 0;

	for (size_t i = 0; i < n; i++)
		jobs[i].d = docker_dup(d);
	util_fanout(n, fn, jobs, sizeof(*jobs));
	for (size_t i = 0; i < n; i++) {
		docker_free(jobs[i].d);
		jobs[i].d = NULL;
		if (jobs[i].ret < 0 && ret == 0) {
			*err = jobs[i].err;
			ret = jobs[i].ret;
		}
	}
	return ret;
}

int apply_files_tar_build(const struct compose_plan *plan, enum compose_role role,
                          struct sb_buf *out, struct sb_err *err)
{
	struct tarball_entry *e = xcalloc(plan->n_files + 1, sizeof(*e));
	size_t n = 0;
	int ret = 0;

	for (size_t i = 0; i < plan->n_files; i++) {
		const struct compose_file *f = &plan->files[i];

		if (f->role != role)
			continue;
		e[n].path = f->path + (f->path[0] == '/');
		e[n].data = f->content;
		e[n].len = strlen(f->content);
		e[n].mode = f->mode;
		n++;
	}
	if (n)
		ret = tarball_build(e, n, out, err);
	free(e);
	return ret;
}

/* Reserve the shim's and the host's own address in Docker's IPAM. */
static void network_aux_add(struct json_object *body, const struct apply_opts *o)
{
	static const char *const names[] = {"slurmbox-shim", "slurmbox-host"};
	struct json_object *ipam, *cfg, *c0, *aux = NULL;
	char ip[16];

	if (!json_object_object_get_ex(body, "IPAM", &ipam) ||
	    !json_object_object_get_ex(ipam, "Config", &cfg) || !json_object_array_length(cfg))
		return;
	c0 = json_object_array_get_idx(cfg, 0);
	for (size_t i = 0; i < ARRAY_SIZE(o->aux); i++) {
		if (!o->aux[i])
			continue;
		if (!aux) {
			aux = json_object_new_object();
			json_object_object_add(c0, "AuxiliaryAddresses", aux);
		}
		json_object_object_add(aux, names[i],
		                       json_object_new_string(compose_ipv4_format(o->aux[i], ip)));
	}
}

/*
 * The cluster's existing network is reused only with the settings the plan
 * wants (driver, subnet, parent); anything else needs `down` first.
 */
static int network_same(struct json_object *net, const struct compose_plan *plan,
                        const struct apply_opts *o, struct sb_err *err)
{
	struct json_object *v, *ipam, *cfg, *opts, *parent;
	const char *driver = "", *subnet = "", *have_parent = "";
	const char *want_driver = compose_net_mode_name(plan->network.mode);
	char want_subnet[32];

	compose_cidr_format(&plan->network.subnet, want_subnet);
	if (json_object_object_get_ex(net, "Driver", &v))
		driver = json_object_get_string(v);
	if (json_object_object_get_ex(net, "IPAM", &ipam) &&
	    json_object_object_get_ex(ipam, "Config", &cfg) &&
	    json_object_is_type(cfg, json_type_array) && json_object_array_length(cfg) &&
	    json_object_object_get_ex(json_object_array_get_idx(cfg, 0), "Subnet", &v))
		subnet = json_object_get_string(v);
	if (json_object_object_get_ex(net, "Options", &opts) &&
	    json_object_object_get_ex(opts, "parent", &parent))
		have_parent = json_object_get_string(parent);
	if (strcmp(driver, want_driver) != 0 || strcmp(subnet, want_subnet) != 0 ||
	    (o->parent && strcmp(have_parent, o->parent) != 0))
		return sb_err_input(
		    err,
		    "Network '%s' exists with other settings (%s %s%s%s, the plan wants "
		    "%s %s%s%s); run `slurmbox down` first",
		    plan->network.name, driver, subnet, *have_parent ? " on " : "", have_parent,
		    want_driver, want_subnet, o->parent ? " on " : "", o->parent ? o->parent : "");
	return 0;
}

static int network_ensure(struct docker *d, const struct compose_plan *plan,
                          const struct apply_opts *o, struct apply_undo *u, struct sb_err *err)
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
			ret = network_same(net, plan, o, err);
			json_object_put(list);
			return ret;
		}
	}
	json_object_put(list);
	body = docker_body_network(plan, o->parent, o->ip_range, docker_api_version(d));
	network_aux_add(body, o);
	ret = docker_network_create(d, body, &id, err);
	json_object_put(body);
	if (ret == -EINTR) /* the daemon may have made it all the same */
		apply_undo_push_maybe(u, APPLY_UNDO_NETWORK, plan->network.name, plan->cluster);
	if (ret < 0)
		return sb_err_wrap(err, "Creating network '%s'", plan->network.name);
	apply_undo_push(u, APPLY_UNDO_NETWORK, id);
	free(id);
	return 0;
}

static int volumes_ensure(struct docker *d, const struct compose_plan *plan,
                          const struct apply_opts *o, struct apply_undo *u, struct sb_err *err)
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

		if (o->host_filter && vol->host != o->host)
			continue;
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
		if (ret == -EINTR)
			apply_undo_push_maybe(u, APPLY_UNDO_VOLUME, vol->name, plan->cluster);
		if (ret < 0) {
			json_object_put(list);
			return sb_err_wrap(err, "Creating volume '%s'", vol->name);
		}
		apply_undo_push(u, APPLY_UNDO_VOLUME, vol->name);
	}
	json_object_put(list);
	return 0;
}

int apply_plan(struct docker *d, const struct compose_plan *plan, const struct host_cluster *have,
               const struct apply_opts *o, struct sb_err *err)
{
	struct apply_undo *undo = o->undo;
	/* the files each role gets: the master's, and none for a worker today */
	_cleanup_buf_ struct sb_buf tar_master = SB_BUF_INIT, tar_worker = SB_BUF_INIT;
	struct job *jobs = xcalloc(plan->n_nodes, sizeof(*jobs));
	struct master_gate gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false,
	                           false};
	struct gate_waiter *gate_thread = NULL;
	size_t n_jobs = 0, n_create = 0;
	const struct compose_node *master = &plan->nodes[0];
	struct util_step step;
	int ret;

	ret = apply_names_check(d, plan, have, o, err);
	if (ret == 0)
		ret = apply_files_tar_build(plan, COMPOSE_ROLE_MASTER, &tar_master, err);
	if (ret == 0)
		ret = apply_files_tar_build(plan, COMPOSE_ROLE_WORKER, &tar_worker, err);
	if (ret < 0)
		goto out;

	util_step_begin(&step, o->cli, "Network and volumes");
	ret = network_ensure(d, plan, o, undo, err);
	if (ret == 0)
		ret = apply_fault_fail(o, "network", err);
	if (ret == 0)
		ret = volumes_ensure(d, plan, o, undo, err);
	if (ret == 0)
		ret = apply_fault_fail(o, "volumes", err);
	if (ret < 0) {
		util_step_fail(&step);
		goto fail;
	}
	util_step_end(&step, "%s", plan->network.name);

	/*
	 * Every node that is missing or stopped, in parallel: all are created
	 * at once, the master starts first and the workers right after (see
	 * struct master_gate). A worker's entrypoint holds slurmd back until
	 * slurmctld answers.
	 */
	for (size_t i = 0; i < plan->n_nodes; i++) {
		const struct host_node *h = host_cluster_node(have, plan->nodes[i].name);

		if (!apply_node_here(o, &plan->nodes[i]) || (h && strcmp(h->state, "running") == 0))
			continue;
		jobs[n_jobs].plan = plan;
		jobs[n_jobs].gate = &gate;
		jobs[n_jobs].node = &plan->nodes[i];
		jobs[n_jobs].o = o;
		jobs[n_jobs].files_tar =
		    plan->nodes[i].role == COMPOSE_ROLE_MASTER ? &tar_master : &tar_worker;
		jobs[n_jobs].start_id = h ? h->id : NULL;
		n_create += h ? 0 : 1;
		undo->n_started += h ? 1 : 0;
		n_jobs++;
	}
	if (n_jobs && jobs[0].node->role != COMPOSE_ROLE_MASTER) {
		if (o->wait_master && o->parent)
			gate_thread = gate_open_when_master_answers(&gate, plan, o);
		else
			gate_set(&gate, false); /* the master runs already */
	}
	if (n_jobs) {
		util_step_begin(
		    &step, o->cli, "Starting %zu container%s%s", n_jobs, n_jobs == 1 ? "" : "s",
		    n_create ? (n_create == n_jobs ? " (created)" : " (some created)") : "");
		ret = jobs_run(jobs, n_jobs, job_bring_up, d, err);
		for (size_t i = 0; i < n_jobs; i++)
			if (jobs[i].id)
				apply_undo_push(undo, APPLY_UNDO_CONTAINER, jobs[i].id);
			else if (jobs[i].maybe)
				apply_undo_push_maybe(undo, APPLY_UNDO_CONTAINER,
				                      jobs[i].node->container, plan->cluster);
		if (ret == 0)
			ret = apply_fault_fail(o, "start", err);
		if (ret < 0) {
			util_step_fail(&step);
			goto fail;
		}
		util_step_end(&step, NULL);
	}

	if (!apply_node_here(o, master)) {
		/* the master's host waits for Slurm; here, each node's daemon must start */
		if (n_jobs) {
			util_step_begin(&step, o->cli, "Waiting for the Slurm daemons here");
			ret = apply_wait_started(d, plan, o, err);
			if (ret < 0) {
				util_step_fail(&step);
				goto fail;
			}
			util_step_end(&step, NULL);
		}
		ret = 0;
		goto out;
	}
	/* A timeout or a dead node rolls back too; the logs were shown first. */
	util_step_begin(&step, o->cli, "Waiting for slurmctld on %s", master->name);
	ret = apply_wait_controller(d, plan, o->timeout_sec, err);
	if (ret == 0)
		ret = apply_fault_fail(o, "controller", err);
	if (ret < 0) {
		util_step_fail(&step);
		goto fail;
	}
	util_step_end(&step, NULL);
	ret = 0;
	goto out;

fail:
	/* the caller rolls back what the undo list holds (or keeps it) */
out:
	if (gate_thread) {
		pthread_join(gate_thread->th, NULL);
		free(gate_thread);
	}
	for (size_t i = 0; i < n_jobs; i++)
		free(jobs[i].id);
	free(jobs);
	return ret;
}

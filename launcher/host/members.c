/* SPDX-License-Identifier: MIT */
/*
 * members.c - slurm.conf and /etc/hosts brought to the plan's inside running
 * containers, and the Slurm daemons restarted in place (see members.h).
 */
#include "members.h"
#include "../docker/docker_api.h"
#include "reconcile.h"
#include "tarball.h"
#include "../util/progress.h"

#define SYNC_MS    30000
#define RESTART_MS 90000

/* Does the container's spec label describe the same cluster as `now`? */
static bool label_same(const char *label, const struct spec_doc *now)
{
	struct spec_doc was = {0};
	struct sb_err ignored = SB_ERR_INIT;
	struct json_object *o = label && *label ? json_tokener_parse(label) : NULL;
	_cleanup_buf_ struct sb_buf text = SB_BUF_INIT;
	bool same = false;

	if (o && spec_json_to(o, &was, &ignored) == 0)
		same = reconcile_diff(&was, now, &text) == 0;
	json_object_put(o);
	spec_doc_free(&was);
	return same;
}

/* argv in the container as root; `what` names it in an error. */
static int run_root(struct docker *d, const char *id, const char *what, const char *const *argv,
                    struct sb_buf *out, int timeout_ms, struct sb_err *err)
{
	int status = -1;
	int ret = docker_exec_capture(d, id, argv, -1, out, NULL, &status, timeout_ms, err);

	if (ret == 0 && status != 0)
		ret = sb_err_set(err, EIO, "%s: exit status %d", what, status);
	return ret;
}

/* slurm.conf as the plan has it? If not, write the plan's files. *changed says which. */
static int node_files_sync(struct docker *d, const struct compose_plan *plan, const char *id,
                           const struct sb_buf *tar, bool *changed, struct sb_err *err)
{
	const struct compose_file *conf = NULL;
	const char *cat[] = {"cat", "/etc/slurm/slurm.conf", NULL};
	_cleanup_buf_ struct sb_buf have = SB_BUF_INIT;
	int ret;

	for (size_t i = 0; i < plan->n_files; i++)
		if (strcmp(plan->files[i].path, "/etc/slurm/slurm.conf") == 0)
			conf = &plan->files[i];
	*changed = false;
	ret = run_root(d, id, "Reading /etc/slurm/slurm.conf", cat, &have, SYNC_MS, err);
	if (ret < 0)
		return ret;
	if (conf && have.data && strcmp(have.data, conf->content) == 0)
		return 0;
	*changed = true;
	return docker_container_put_archive(d, id, "/", tar->data, tar->len, err);
}

/* Every node's "ip<TAB>name" line in /etc/hosts, as Docker writes ExtraHosts. */
static int node_hosts_sync(struct docker *d, const struct compose_plan *plan, const char *id,
                           struct sb_err *err)
{
	const char **argv = xcalloc(plan->n_nodes + 5, sizeof(*argv));
	char **lines = xcalloc(plan->n_nodes, sizeof(*lines));
	size_t k = 0;
	int ret;

	argv[k++] = "sh";
	argv[k++] = "-c";
	argv[k++] = "for l; do grep -qxF \"$l\" /etc/hosts || printf '%s\\n' \"$l\" >>/etc/hosts; "
	            "done";
	argv[k++] = "sh";
	for (size_t i = 0; i < plan->n_nodes; i++) {
		char ip[16];

		lines[i] = xasprintf("%s\t%s", compose_ipv4_format(plan->nodes[i].ip, ip),
		                     plan->nodes[i].name);
		argv[k++] = lines[i];
	}
	ret = run_root(d, id, "Adding the hosts entries", argv, NULL, SYNC_MS, err);
	for (size_t i = 0; i < plan->n_nodes; i++)
		free(lines[i]);
	free(lines);
	free(argv);
	return ret;
}

/*
 * Restart the container's Slurm daemon in place: the entrypoint starts it
 * again when /run/slurmbox/restart exists, and removes the file then.
 */
static int node_daemon_restart(struct docker *d, const char *id, struct sb_err *err)
{
	const char *argv[] = {
	    "sh", "-c",
	    "[ -s /run/slurmbox/daemon.pid ] || { echo 'no /run/slurmbox/daemon.pid: an image "
	    "older than in-place restarts' >&2; exit 1; }; touch /run/slurmbox/restart && kill "
	    "-TERM \"$(cat /run/slurmbox/daemon.pid)\" && while [ -e /run/slurmbox/restart ]; do "
	    "sleep 0.05; done",
	    NULL};

	return run_root(d, id, "Restarting the Slurm daemon in place", argv, NULL, RESTART_MS, err);
}

int members_sync(struct docker *d, const struct compose_plan *plan, const struct spec_doc *now,
                 const struct apply_opts *o, const struct host_cluster *have, size_t *n_synced,
                 struct sb_err *err)
{
	_cleanup_buf_ struct sb_buf tar = SB_BUF_INIT;
	bool *restart = xcalloc(plan->n_nodes, sizeof(*restart));
	struct util_step step;
	size_t n_restart = 0;
	int ret;

	*n_synced = 0;
	ret = apply_files_tar_build(plan, &tar, err);
	for (size_t i = 0; i < plan->n_nodes && ret == 0; i++) {
		const struct compose_node *n = &plan->nodes[i];
		const struct host_node *h = host_cluster_node(have, n->name);

		if (!apply_node_here(o, n) || !h || strcmp(h->state, "running") != 0 ||
		    strcmp(h->hash, n->hash) != 0 || label_same(h->spec, now))
			continue;
		ret = node_files_sync(d, plan, h->id, &tar, &restart[i], err);
		if (ret == 0)
			ret = node_hosts_sync(d, plan, h->id, err);
		if (ret < 0)
			ret = sb_err_wrap(err, "Updating the node list in '%s'", h->container);
		n_restart += restart[i];
		(*n_synced)++;
	}
	/* the master first: a restarted slurmd registers with a slurmctld that knows it */
	if (ret == 0 && n_restart) {
		util_step_begin(&step, o->cli,
		                "Restarting Slurm in place on %zu node%s (new nodes)", n_restart,
		                n_restart == 1 ? "" : "s");
		if (restart[0]) {
			ret = node_daemon_restart(
			    d, host_cluster_node(have, plan->nodes[0].name)->id, err);
			if (ret == 0)
				ret = apply_wait_controller(d, plan, o->timeout_sec, err);
		}
		for (size_t i = 1; i < plan->n_nodes && ret == 0; i++)
			if (restart[i])
				ret = node_daemon_restart(
				    d, host_cluster_node(have, plan->nodes[i].name)->id, err);
		if (ret < 0) {
			util_step_fail(&step);
			ret = sb_err_wrap(err, "Restarting Slurm in place");
		} else {
			util_step_end(&step, NULL);
		}
	}
	free(restart);
	return ret;
}

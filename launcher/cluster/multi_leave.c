/* SPDX-License-Identifier: MIT */
/*
 * multi_leave.c - workers taken out of a running cluster. Every worker is a
 * dynamic node, so Slurm forgets one only when told: the nodes leaving are
 * drained, their jobs waited for (up to --timeout), and they are deleted
 * from slurmctld before their containers go. The master and the nodes that
 * stay are never restarted. Jobs still running at the deadline stop the
 * change (the nodes are put back in service) unless --force, which sets
 * the nodes DOWN (Slurm ends their jobs) and goes on.
 */
#include "multi_int.h"
#include "../host/reconcile.h"
#include "../remote/interrupt.h"
#include "../remote/remote.h"
#include "../util/json.h"
#include "../util/progress.h"

#include <time.h>

#define LEAVE_EXEC_MS 30000
#define LEAVE_POLL_MS 500
#define LEAVE_KILL_S  60 /* --force: how long the ended jobs may take to go */

struct leave {
	const char *dest, *cluster; /* the master's host */
	const char *list;           /* "worker-3,worker-4" */
};

/* argv in the master; its stdout in out (may be NULL). A non-zero exit is an error. */
static int master_run(const struct leave *l, const char *const *argv, struct sb_buf *out,
                      struct sb_err *err)
{
	_cleanup_buf_ struct sb_buf own = SB_BUF_INIT;
	int st = -1, ret;

	ret = remote_node_capture(l->dest, l->cluster, "master", argv, LEAVE_EXEC_MS,
	                          out ? out : &own, &st, err);
	if (ret == 0 && st != 0)
		ret = sb_err_set(err, EIO, "`%s %s` in the master failed (status %d)", argv[0],
		                 argv[1], st);
	return ret;
}

static int nodes_update(const struct leave *l, const char *state, const char *reason,
                        struct sb_err *err)
{
	_cleanup_free_ char *nodes = xasprintf("NodeName=%s", l->list),
	                    *st = xasprintf("State=%s", state),
	                    *why = reason ? xasprintf("Reason=%s", reason) : NULL;
	const char *argv[] = {"scontrol", "update", nodes, st, why, NULL};

	return master_run(l, argv, NULL, err);
}

/* The jobs still on the nodes, "12 13" (empty: none). */
static int jobs_on(const struct leave *l, struct sb_buf *ids, struct sb_err *err)
{
	const char *argv[] = {"squeue", "-h", "-w",
	                      l->list,  "-t", "RUNNING,COMPLETING,SUSPENDED,CONFIGURING,STOPPED",
	                      "-o",     "%i", NULL};
	int ret;

	sb_buf_reset(ids);
	ret = master_run(l, argv, ids, err);
	for (size_t i = 0; ret == 0 && i < ids->len; i++)
		if (ids->data[i] == '\n')
			ids->data[i] = ' ';
	while (ids->len && ids->data[ids->len - 1] == ' ')
		ids->data[--ids->len] = '\0';
	return ret;
}

/* Poll until no job is left on the nodes or `seconds` pass; ids holds what is left. */
static int jobs_wait(const struct leave *l, double seconds, struct sb_buf *ids, struct sb_err *err)
{
	double deadline = util_now() + seconds;
	int ret;

	for (;;) {
		ret = jobs_on(l, ids, err);
		if (ret < 0 || !ids->len || util_now() >= deadline)
			return ret;
		if (interrupt_signal)
			return sb_err_set(err, EINTR, "Interrupted while the nodes %s drained",
			                  l->list);
		nanosleep(&(struct timespec){0, LEAVE_POLL_MS * 1000000L}, NULL);
	}
}

/* The names of `names` that slurmctld knows (a node that never registered is not there). */
static int nodes_known(const struct leave *l, char *const *names, size_t n, struct sb_buf *list,
                       struct sb_err *err)
{
	_cleanup_buf_ struct sb_buf out = SB_BUF_INIT;
	const char *argv[] = {"sinfo", "-h", "-N", "-o", "%N", NULL};
	int ret = master_run(l, argv, &out, err);

	for (size_t i = 0; ret == 0 && i < n; i++) {
		bool found = false;

		for (const char *p = out.data ? out.data : ""; *p && !found;) {
			size_t len = strcspn(p, "\n");

			found = len == strlen(names[i]) && strncmp(p, names[i], len) == 0;
			p += len + (p[len] == '\n');
		}
		if (found)
			sb_buf_printf(list, "%s%s", list->len ? "," : "", names[i]);
	}
	return ret;
}

/* Take `names` out of Slurm: drain, wait, refuse or end the jobs (force), delete. */
static int nodes_leave(const char *master_dest, const char *cluster, char *const *names, size_t n,
                       unsigned timeout_sec, bool force, const struct sb_ctx *ctx,
                       struct sb_err *err)
{
	_cleanup_buf_ struct sb_buf list = SB_BUF_INIT, ids = SB_BUF_INIT;
	struct leave l = {.dest = master_dest, .cluster = cluster};
	struct sb_err ignored = SB_ERR_INIT;
	struct util_step step;
	int ret;

	if (!n)
		return 0;
	ret = nodes_known(&l, names, n, &list, err);
	if (ret < 0)
		return sb_err_wrap(err, "Asking slurmctld which nodes it has");
	if (!list.len)
		return 0; /* none registered: nothing to drain or delete */
	l.list = list.data;

	util_step_begin(&step, ctx, "Taking %s out of Slurm (drained; running jobs get up to %u s)",
	                l.list, timeout_sec);
	ret = nodes_update(&l, "DRAIN", "slurmbox:leaving", err);
	if (ret == 0)
		ret = jobs_wait(&l, timeout_sec, &ids, err);
	if (ret == 0 && ids.len && !force) {
		bool many = strchr(l.list, ',') != NULL, jobs = strchr(ids.data, ' ') != NULL;

		nodes_update(&l, "RESUME", NULL, &ignored); /* back in service: nothing changed */
		util_step_fail(&step);
		return sb_err_set(err, EBUSY,
		                  "%s still run%s job%s %s after %u s: nothing was changed, and "
		                  "the node%s %s back in service. Wait for the job%s, cancel "
		                  "%s (scancel %s), allow longer with --timeout, or pass --force "
		                  "to end %s and remove the node%s",
		                  l.list, many ? "" : "s", jobs ? "s" : "", ids.data, timeout_sec,
		                  many ? "s" : "", many ? "are" : "is", jobs ? "s" : "",
		                  jobs ? "them" : "it", ids.data, jobs ? "them" : "it",
		                  many ? "s" : "");
	}
	if (ret == 0 && ids.len) {
		/* --force: DOWN ends the jobs (they are requeued where they allow it) */
		util_warn("--force: ending job%s %s on %s", strchr(ids.data, ' ') ? "s" : "",
		          ids.data, l.list);
		ret = nodes_update(&l, "DOWN", "slurmbox:removed(--force)", err);
		if (ret == 0)
			ret = jobs_wait(&l, LEAVE_KILL_S, &ids, err);
		if (ret == 0 && ids.len)
			ret = sb_err_set(err, EBUSY, "Jobs %s did not end within %d s of --force",
			                 ids.data, LEAVE_KILL_S);
	}
	if (ret == 0) {
		_cleanup_free_ char *nodes = xasprintf("NodeName=%s", l.list);
		const char *argv[] = {"scontrol", "delete", nodes, NULL};

		ret = master_run(&l, argv, NULL, err);
	}
	if (ret < 0) {
		/* whatever stopped it (a signal, ssh, slurmctld), the nodes stay: back in service */
		nodes_update(&l, "RESUME", NULL, &ignored);
		util_step_fail(&step);
		return sb_err_wrap(err, "Taking %s out of Slurm", l.list);
	}
	util_step_end(&step, "deleted from Slurm");
	return 0;
}

/*
 * Only which nodes there are differs (workers, hosts; the master stays on
 * its host) and every container that stays is its node's: the running
 * cluster takes it in place, with no --recreate. New workers join as
 * dynamic nodes; the ones taken away leave (nodes_leave).
 */
bool multi_members_only(const struct spec_doc *prev, const struct spec_doc *doc,
                        struct multi_host *hosts, size_t n, const struct compose_plan *plan)
{
	_cleanup_buf_ struct sb_buf text = SB_BUF_INIT;
	const char *new_hash = NULL;

	return reconcile_settings_diff(prev, doc, &text) == 0 &&
	       strcmp(prev->spec.hosts[0].name, doc->spec.hosts[0].name) == 0 &&
	       !multi_hash_differing(hosts, n, plan, true, &new_hash);
}

/* Does prev's master run (its host is listed, and says so in its facts)? */
static bool master_running(const struct spec_doc *prev, struct multi_host *hosts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct json_object *nd;
		const char *st;

		if (strcmp(hosts[i].dest, prev->spec.hosts[0].name) != 0)
			continue;
		nd = multi_facts_node(&hosts[i], "master");
		st = nd ? util_json_str(nd, "state") : NULL;
		return st && strcmp(st, "running") == 0;
	}
	return false;
}

/*
 * The workers that leave are taken out of Slurm (drained, their jobs waited
 * for, deleted) while the master still knows them, before any container
 * goes. A master that is not running cannot: said, and the change goes on.
 */
int multi_nodes_leave(const struct spec_doc *prev, struct multi_host *hosts, size_t n,
                      const struct compose_plan *plan, unsigned timeout_sec, bool force,
                      const struct sb_ctx *ctx, struct sb_err *err)
{
	char **names = NULL;
	size_t k = multi_nodes_leaving(prev, hosts, n, plan, &names);
	int ret = 0;

	if (k && !master_running(prev, hosts, n))
		util_warn("the master is not running, so Slurm is not told that %zu worker%s "
		          "leave%s; once it runs, `slurmbox exec master scontrol delete "
		          "nodename=NAME` removes a node it still lists",
		          k, k == 1 ? "" : "s", k == 1 ? "s" : "");
	else if (k)
		ret = nodes_leave(prev->spec.hosts[0].name, ctx->cluster, names, k, timeout_sec,
		                  force, ctx, err);
	for (size_t i = 0; i < k; i++)
		free(names[i]);
	free(names);
	return ret;
}

/* Did the node run, as the plan has it, before this `up` (so it was kept)? */
static bool node_was_kept(struct multi_host *hosts, const struct compose_node *p)
{
	struct json_object *nd = multi_facts_node(&hosts[p->host], p->name);
	const char *st = nd ? util_json_str(nd, "state") : NULL,
	           *hash = nd ? util_json_str(nd, "hash") : NULL;

	return st && hash && strcmp(st, "running") == 0 && strcmp(hash, p->hash) == 0;
}

void multi_nodes_rejoin(struct multi_host *hosts, const struct compose_plan *plan,
                        const struct sb_ctx *ctx)
{
	static const char *const argv[] = {"sh", "-c",
	                                   "kill -HUP \"$(cat /run/slurmbox/daemon.pid)\"", NULL};
	size_t n_kept = 0, n_failed = 0;
	struct util_step step;

	if (node_was_kept(hosts, &plan->nodes[0]))
		return; /* slurmctld ran on: it knows its nodes */
	for (size_t i = 1; i < plan->n_nodes; i++)
		n_kept += node_was_kept(hosts, &plan->nodes[i]);
	if (!n_kept)
		return;
	util_step_begin(&step, ctx, "Registering %zu running worker%s with the new slurmctld",
	                n_kept, n_kept == 1 ? "" : "s");
	for (size_t i = 1; i < plan->n_nodes; i++) {
		const struct compose_node *p = &plan->nodes[i];
		_cleanup_buf_ struct sb_buf out = SB_BUF_INIT;
		struct sb_err err = SB_ERR_INIT;
		int st = -1;

		if (!node_was_kept(hosts, p))
			continue;
		if (remote_node_capture(hosts[p->host].dest, ctx->cluster, p->name, argv,
		                        LEAVE_EXEC_MS, &out, &st, &err) < 0 ||
		    st != 0) {
			util_warn("%s: could not signal its slurmd (%s); `docker restart %s` on %s "
			          "registers it again",
			          p->name, err.msg[0] ? err.msg : "kill failed", p->container,
			          hosts[p->host].dest);
			n_failed++;
		}
	}
	if (n_failed)
		util_step_fail(&step);
	else
		util_step_end(&step, "slurmd reloaded in place");
}

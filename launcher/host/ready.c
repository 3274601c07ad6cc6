/* SPDX-License-Identifier: MIT */
/*
 * ready.c - "up returns only when every node is idle": poll slurmctld with
 * `scontrol ping`, then `sinfo`, through exec in the master, every 50 ms.
 * A dead container fails at once with its last log lines instead of waiting
 * out the timeout.
 */
#include "apply.h"
#include "../docker/docker_api.h"
#include "sinfo.h"
#include "../util/progress.h"

#include <time.h>

#define POLL_MS   50
#define EXEC_MS   10000
#define LOG_LINES 12

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void node_logs_show(struct docker *d, const char *container)
{
	struct sb_err err = SB_ERR_INIT;

	fprintf(stderr, "--- last log lines of %s ---\n", container);
	fflush(stderr);
	if (docker_container_logs(d, container, false, LOG_LINES, STDERR_FILENO, STDERR_FILENO,
	                          &err) < 0)
		fprintf(stderr, "(no logs: %s)\n", err.msg);
}

/*
 * Is the container still up? A node whose entrypoint hits a fatal error
 * exits (status 78) and its restart policy starts it again, over and over:
 * so a node is dead when it is not running, when Docker is waiting to
 * restart it, or when it restarted since the wait began (*restarts holds
 * the count first seen; -1 before). -ESRCH, with its last log lines shown.
 */
static int node_alive(struct docker *d, const struct compose_node *node, long *restarts,
                      struct sb_err *err)
{
	struct json_object *info = NULL, *state, *v;
	bool running = true, restarting = false;
	long exit_code = 0, count = 0;
	int ret;

	ret = docker_container_inspect(d, node->container, &info, err);
	if (ret < 0)
		return sb_err_wrap(err, "Node '%s'", node->name);
	if (json_object_object_get_ex(info, "RestartCount", &v))
		count = json_object_get_int(v);
	if (json_object_object_get_ex(info, "State", &state)) {
		if (json_object_object_get_ex(state, "Running", &v))
			running = json_object_get_boolean(v);
		if (json_object_object_get_ex(state, "Restarting", &v))
			restarting = json_object_get_boolean(v);
		if (json_object_object_get_ex(state, "ExitCode", &v))
			exit_code = json_object_get_int(v);
	}
	json_object_put(info);
	if (*restarts < 0)
		*restarts = count;
	if (running && !restarting && count <= *restarts)
		return 0;
	node_logs_show(d, node->container);
	if (restarting || count > *restarts) {
		char status[32] = "";

		if (exit_code)
			snprintf(status, sizeof(status), " with status %ld", exit_code);
		return sb_err_set(err, ESRCH,
		                  "Node '%s' failed to start: it exited%s and Docker keeps "
		                  "restarting it (%ld restart%s so far); its last log lines are "
		                  "above",
		                  node->name, status, count, count == 1 ? "" : "s");
	}
	return sb_err_set(err, ESRCH,
	                  "Node '%s' stopped (exit code %ld) before it was ready; its last log "
	                  "lines are above (`slurmbox logs %s` shows more while it exists)",
	                  node->name, exit_code, node->name);
}

int apply_wait_controller(struct docker *d, const struct compose_plan *plan, unsigned timeout_sec,
                          struct sb_err *err)
{
	const struct compose_node *master = &plan->nodes[0];
	const char *argv[] = {"scontrol", "ping", NULL};
	double deadline = util_now() + timeout_sec;
	double next_check = util_now() + 1.0;
	long restarts = -1;
	int ret;

	ret = node_alive(d, master, &restarts, err);
	if (ret < 0)
		return ret;
	for (;;) {
		_cleanup_buf_ struct sb_buf out = SB_BUF_INIT;
		int status = -1;

		if (docker_aborted())
			return sb_err_set(err, EINTR, "Interrupted while waiting for slurmctld");

		ret = docker_exec_capture(d, master->container, argv, -1, &out, NULL, &status,
		                          EXEC_MS, err);
		if (ret == 0 && status == 0 && out.data && strstr(out.data, "is UP"))
			return 0;
		if (util_now() >= next_check || ret < 0) {
			ret = node_alive(d, master, &restarts, err);
			if (ret < 0)
				return ret;
			next_check = util_now() + 1.0;
		}
		if (util_now() >= deadline) {
			node_logs_show(d, master->container);
			return sb_err_set(
			    err, ETIMEDOUT,
			    "Timed out after %u s waiting for slurmctld on '%s' to "
			    "answer `scontrol ping`; its last log lines are above. Raise "
			    "the limit with --timeout",
			    timeout_sec, master->name);
		}
		sleep_ms(POLL_MS);
	}
}

/* sinfo states that count as ready: up and schedulable, responding (no '*'). */
static bool state_ready(const char *st)
{
	static const char *const ok[] = {"idle",      "mix",  "mixed",      "alloc",
	                                 "allocated", "comp", "completing", "resv",
	                                 "reserved",  "plnd", "planned"};

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		if (strcmp(st, ok[i]) == 0)
			return true;
	return false;
}

int apply_wait_ready(struct docker *d, const struct compose_plan *plan, unsigned timeout_sec,
                     const struct sb_ctx *cli, struct sb_err *err)
{
	const char *argv[] = {SINFO_ARGV, NULL};
	double deadline = util_now() + timeout_sec;
	double next_check = util_now() + 1.0;
	_cleanup_free_ long *restarts = xcalloc(plan->n_nodes, sizeof(*restarts));
	struct util_step step;
	int ret;

	for (size_t i = 0; i < plan->n_nodes; i++)
		restarts[i] = -1;
	util_step_begin(&step, cli, "Waiting for %zu node%s to be idle", plan->n_nodes - 1,
	                plan->n_nodes == 2 ? "" : "s");
	for (;;) {
		_cleanup_buf_ struct sb_buf out = SB_BUF_INIT;
		_cleanup_buf_ struct sb_buf late = SB_BUF_INIT;
		int status = -1;
		size_t n_late = 0;

		if (docker_aborted()) {
			util_step_fail(&step);
			return sb_err_set(err, EINTR, "Interrupted while waiting for the nodes");
		}

		ret = docker_exec_capture(d, plan->nodes[0].container, argv, -1, &out, NULL,
		                          &status, EXEC_MS, err);
		for (size_t i = 0; i < plan->n_nodes; i++) {
			const struct compose_node *n = &plan->nodes[i];
			char st[64];

			if (n->role != COMPOSE_ROLE_WORKER)
				continue;
			sinfo_node_state(ret == 0 && status == 0 ? out.data : "", n->name, st,
			                 sizeof(st));
			if (state_ready(st))
				continue;
			sb_buf_printf(&late, "%s%s (%s)", n_late ? ", " : "", n->name,
			              *st ? st : "not registered");
			n_late++;
		}
		if (n_late == 0) {
			util_step_end(&step, "all idle");
			return 0;
		}
		if (util_now() >= next_check) {
			/* the master's engine sees its own host's nodes; each other
			 * host's apply watched its own (apply_wait_started) */
			for (size_t i = 0; i < plan->n_nodes; i++) {
				if (plan->nodes[i].host != plan->nodes[0].host)
					continue;
				ret = node_alive(d, &plan->nodes[i], &restarts[i], err);
				if (ret < 0) {
					util_step_fail(&step);
					return ret;
				}
			}
			next_check = util_now() + 1.0;
		}
		if (util_now() >= deadline) {
			util_step_fail(&step);
			for (size_t i = 0; i < plan->n_nodes; i++) {
				char st[64];
				if (plan->nodes[i].role != COMPOSE_ROLE_WORKER)
					continue;
				sinfo_node_state(out.data ? out.data : "", plan->nodes[i].name, st,
				                 sizeof(st));
				if (!state_ready(st))
					node_logs_show(d, plan->nodes[i].container);
			}
			return sb_err_set(
			    err, ETIMEDOUT,
			    "Timed out after %u s; not ready: %s. Their last log lines "
			    "are above (`slurmbox logs NODE` and `slurmbox exec master sinfo` "
			    "show more while they exist). Raise the limit with --timeout",
			    timeout_sec, late.data);
		}
		sleep_ms(POLL_MS);
	}
}

int apply_wait_started(struct docker *d, const struct compose_plan *plan,
                       const struct apply_opts *o, struct sb_err *err)
{
	const char *argv[] = {"test", "-e", "/run/slurmbox/daemon.pid", NULL};
	double deadline = util_now() + o->timeout_sec;
	_cleanup_free_ long *restarts = xcalloc(plan->n_nodes, sizeof(*restarts));
	_cleanup_free_ bool *started = xcalloc(plan->n_nodes, sizeof(*started));
	size_t n_left = 0;
	int ret;

	for (size_t i = 0; i < plan->n_nodes; i++) {
		restarts[i] = -1;
		started[i] = !apply_node_here(o, &plan->nodes[i]);
		n_left += started[i] ? 0 : 1;
	}
	while (n_left) {
		if (docker_aborted())
			return sb_err_set(err, EINTR, "Interrupted while the nodes start");
		for (size_t i = 0; i < plan->n_nodes; i++) {
			int status = -1;

			if (started[i])
				continue;
			ret = node_alive(d, &plan->nodes[i], &restarts[i], err);
			if (ret < 0)
				return ret;
			ret = docker_exec_capture(d, plan->nodes[i].container, argv, -1, NULL, NULL,
			                          &status, EXEC_MS, err);
			if (ret == 0 && status == 0) {
				started[i] = true;
				n_left--;
			}
		}
		if (n_left && util_now() >= deadline)
			return sb_err_set(
			    err, ETIMEDOUT,
			    "Timed out after %u s waiting for %zu node%s here to start "
			    "their Slurm daemon; raise the limit with --timeout",
			    o->timeout_sec, n_left, n_left == 1 ? "" : "s");
		if (n_left)
			sleep_ms(POLL_MS * 2);
	}
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * ready.c - "up returns only when every node is idle": poll slurmctld with
 * `scontrol ping`, then `sinfo`, through exec in the master, every 50 ms.
 * A dead container fails at once with its last log lines instead of waiting
 * out the timeout.
 */
#include "apply.h"
#include "docker_api.h"

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

/* Is the container still running? -ESRCH with logs shown if it has stopped. */
static int node_alive(struct docker *d, const struct compose_node *node, struct sb_err *err)
{
	struct json_object *info = NULL, *state, *running, *code;
	bool alive = true;
	long exit_code = 0;
	int ret;

	ret = docker_container_inspect(d, node->container, &info, err);
	if (ret < 0)
		return sb_err_wrap(err, "Node '%s'", node->name);
	if (json_object_object_get_ex(info, "State", &state) &&
	    json_object_object_get_ex(state, "Running", &running))
		alive = json_object_get_boolean(running);
	if (!alive && json_object_object_get_ex(state, "ExitCode", &code))
		exit_code = json_object_get_int(code);
	json_object_put(info);
	if (alive)
		return 0;
	node_logs_show(d, node->container);
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
	double deadline = cli_now() + timeout_sec;
	double next_check = cli_now() + 1.0;
	int ret;

	for (;;) {
		_cleanup_buf_ struct sb_buf out = SB_BUF_INIT;
		int status = -1;

		if (docker_aborted())
			return sb_err_set(err, EINTR, "Interrupted while waiting for slurmctld");

		ret = apply_master_run(d, master->container, argv, &out, &status, EXEC_MS, err);
		if (ret == 0 && status == 0 && out.data && strstr(out.data, "is UP"))
			return 0;
		if (cli_now() >= next_check || ret < 0) {
			ret = node_alive(d, master, err);
			if (ret < 0)
				return ret;
			next_check = cli_now() + 1.0;
		}
		if (cli_now() >= deadline) {
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
                     const struct cli_ctx *cli, struct sb_err *err)
{
	const char *argv[] = {CLI_SINFO_ARGV, NULL};
	double deadline = cli_now() + timeout_sec;
	double next_check = cli_now() + 1.0;
	struct cli_step step;
	int ret;

	cli_step_begin(&step, cli, "Waiting for %zu node%s to be idle", plan->n_nodes - 1,
	               plan->n_nodes == 2 ? "" : "s");
	for (;;) {
		_cleanup_buf_ struct sb_buf out = SB_BUF_INIT;
		_cleanup_buf_ struct sb_buf late = SB_BUF_INIT;
		int status = -1;
		size_t n_late = 0;

		if (docker_aborted()) {
			cli_step_fail(&step);
			return sb_err_set(err, EINTR, "Interrupted while waiting for the nodes");
		}

		ret = apply_master_run(d, plan->nodes[0].container, argv, &out, &status, EXEC_MS,
		                       err);
		for (size_t i = 0; i < plan->n_nodes; i++) {
			const struct compose_node *n = &plan->nodes[i];
			char st[64];

			if (n->role != COMPOSE_ROLE_WORKER)
				continue;
			cli_sinfo_state(ret == 0 && status == 0 ? out.data : "", n->name, st,
			                sizeof(st));
			if (state_ready(st))
				continue;
			sb_buf_printf(&late, "%s%s (%s)", n_late ? ", " : "", n->name,
			              *st ? st : "not registered");
			n_late++;
		}
		if (n_late == 0) {
			cli_step_end(&step, "all idle");
			return 0;
		}
		if (cli_now() >= next_check) {
			for (size_t i = 0; i < plan->n_nodes; i++) {
				ret = node_alive(d, &plan->nodes[i], err);
				if (ret < 0) {
					cli_step_fail(&step);
					return ret;
				}
			}
			next_check = cli_now() + 1.0;
		}
		if (cli_now() >= deadline) {
			cli_step_fail(&step);
			for (size_t i = 0; i < plan->n_nodes; i++) {
				char st[64];
				if (plan->nodes[i].role != COMPOSE_ROLE_WORKER)
					continue;
				cli_sinfo_state(out.data ? out.data : "", plan->nodes[i].name, st,
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

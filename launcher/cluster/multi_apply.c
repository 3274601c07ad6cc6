/* SPDX-License-Identifier: MIT */
/*
 * multi_apply.c - every host's part of `up --hosts` at once, and the
 * rollback when one fails, the run is interrupted or a host is lost.
 *
 * Each host's `agent apply` reports what it created there (agent_apply.c).
 * A host that fails removes its own part itself; the control machine then
 * stops the hosts still at work by closing their stdin (they roll back the
 * same way), and hands the report of each host that had finished to its
 * `agent undo`. A host that cannot be reached any more is named with what
 * it may keep; `slurmbox down` removes that later. --keep-on-failure keeps
 * everything, everywhere.
 */
#include "multi_int.h"
#include "../remote/ssh.h"
#include "../remote/interrupt.h"
#include "../util/progress.h"
#include "../util/fanout.h"

#define APPLY_MS (15 * 60 * 1000)
#define UNDO_MS  (2 * 60 * 1000)

struct apply_job {
	struct multi_host *h;
	size_t index;
	const struct cli_ctx *ctx;
	const char *input;
	unsigned timeout;
	bool keep;
	const char *recreate;        /* NULL, "--recreate" or "--recreate-all" */
	const char *fault;           /* test-only: SLURMBOX_FAULT=HOST:POINT */
	volatile sig_atomic_t *stop; /* set by the first host that fails */
	bool cause;                  /* this host's failure set it */
	struct sb_buf out, errb;
	double seconds;
	int ret;
	struct sb_err err;
};

/* The last line of stderr that says something, for a one-line reason. */
static const char *last_line(struct sb_buf *b)
{
	char *e;

	if (!b->data || !b->len)
		return "(no message)";
	e = b->data + b->len;
	while (e > b->data && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' '))
		*--e = '\0';
	while (e > b->data && e[-1] != '\n')
		e--;
	if (strncmp(e, "slurmbox: ", 10) == 0)
		e += 10;
	return *e ? e : "(no message)";
}

static void *apply_run(void *arg)
{
	struct apply_job *j = arg;
	char index[16], timeout[16];
	const char *argv[10 + 8] = {j->h->path, "--local", "--name", j->ctx->cluster, "agent",
	                            "apply",    "--host",  index,    "--timeout",     timeout};
	size_t k = 10;
	struct ssh_run_opts o = {.in = j->input,
	                         .in_len = strlen(j->input),
	                         .in_fd = -1,
	                         .out = &j->out,
	                         .errbuf = &j->errb,
	                         .timeout_ms = APPLY_MS,
	                         .hold_in = true,
	                         .abort = j->stop};
	double t0 = cli_now();
	int status = -1;

	if (j->index > 0)
		argv[k++] = "--wait-master"; /* its workers start once the master answers */
	if (j->keep)
		argv[k++] = "--keep-on-failure";
	if (j->recreate)
		argv[k++] = j->recreate;
	if (j->fault) {
		argv[k++] = "--fault";
		argv[k++] = j->fault;
	}
	argv[k] = NULL;
	snprintf(index, sizeof(index), "%zu", j->index);
	snprintf(timeout, sizeof(timeout), "%u", j->timeout);
	j->h->apply_ran = true;
	j->ret = ssh_run(j->h->dest, argv, &o, &status, &j->err);
	j->h->report = json_tokener_parse(j->out.data ? j->out.data : "");
	if (j->ret == 0 && status == 255 && !j->h->report)
		j->ret = sb_err_set(&j->err, EHOSTUNREACH,
		                    "Lost the connection to host '%s' while it made its part "
		                    "(ssh exited with 255; last words: %s)",
		                    j->h->dest, last_line(&j->errb));
	else if (j->ret == 0 && status != 0)
		j->ret = sb_err_set(&j->err, EIO, "Host '%s' failed: %s", j->h->dest,
		                    last_line(&j->errb));
	if (j->ret < 0 && !j->keep && __sync_bool_compare_and_swap(j->stop, 0, 1))
		j->cause = true;
	j->seconds = cli_now() - t0;
	return NULL;
}

static bool report_bool(const struct multi_host *h, const char *key)
{
	struct json_object *v;

	return h->report && json_object_object_get_ex(h->report, key, &v) &&
	       json_object_get_boolean(v);
}

static size_t report_int(const struct multi_host *h, const char *key)
{
	struct json_object *v;

	if (!h->report || !json_object_object_get_ex(h->report, key, &v))
		return 0;
	if (json_object_is_type(v, json_type_array))
		return json_object_array_length(v);
	return (size_t)json_object_get_int(v);
}

bool multi_host_changed(const struct multi_host *h)
{
	return report_int(h, "created") || report_int(h, "started") || report_bool(h, "shim") ||
	       report_bool(h, "key");
}

static const char *fault_for(const char *dest)
{
	const char *f = getenv("SLURMBOX_FAULT"), *colon;

	if (!f || !(colon = strchr(f, ':')))
		return NULL;
	return strlen(dest) == (size_t)(colon - f) && strncmp(f, dest, (size_t)(colon - f)) == 0
	           ? colon + 1
	           : NULL;
}

int multi_hosts_apply(struct multi_host *hosts, size_t from, size_t n, const struct cli_ctx *ctx,
                      const char *input, unsigned timeout, bool keep, const char *recreate,
                      struct sb_err *err)
{
	struct apply_job *jobs = xcalloc(n, sizeof(*jobs));
	volatile sig_atomic_t stop = 0;
	_cleanup_secret_ char *line = sb_strdup_line(input); /* it holds the key */
	int ret = 0;

	for (size_t i = from; i < n; i++)
		jobs[i] = (struct apply_job){.h = &hosts[i],
		                             .index = i,
		                             .ctx = ctx,
		                             .input = line,
		                             .timeout = timeout,
		                             .keep = keep,
		                             .recreate = recreate,
		                             .fault = fault_for(hosts[i].dest),
		                             .stop = &stop};
	/*
	 * Every host at once; the others start their containers only when the
	 * master's address answers on the LAN (agent apply --wait-master), so
	 * slurmctld's address exists when their workers first look for it.
	 */
	util_fanout(n - from, apply_run, &jobs[from], sizeof(*jobs));
	/* the error to show: the host that failed first, not those it stopped */
	for (size_t i = from; i < n; i++)
		if (jobs[i].ret < 0 && (ret == 0 || jobs[i].cause)) {
			*err = jobs[i].err;
			ret = jobs[i].ret;
		}
	for (size_t i = from; i < n; i++) {
		const char *mark = ctx->stderr_tty ? "✓" : "",
		           *pre = ctx->stderr_tty ? "" : "slurmbox:";

		if (jobs[i].ret == 0 && ret == 0 && !cli_interrupted)
			fprintf(stderr, "%s  %s %s: %s%s (%.2fs)\n", pre, mark, hosts[i].dest,
			        report_int(&hosts[i], "created") || report_int(&hosts[i], "started")
			            ? "its nodes started"
			            : "its nodes run already",
			        report_bool(&hosts[i], "shim") ? ", shim made" : "",
			        jobs[i].seconds);
		sb_buf_free(&jobs[i].out);
		sb_buf_free(&jobs[i].errb);
	}
	free(jobs);
	if (ret == 0 && cli_interrupted)
		ret = sb_err_set(err, EINTR, "Interrupted");
	return ret;
}

/* ---- rollback ---- */

struct undo_job {
	struct multi_host *h;
	const char *cluster;
	int ret, status;
	struct sb_buf errb;
	struct sb_err err;
	bool todo; /* its report says something is still there */
};

static void *undo_run(void *arg)
{
	struct undo_job *j = arg;
	const char *input = json_object_to_json_string_ext(j->h->report, JSON_C_TO_STRING_PLAIN);
	const char *argv[] = {j->h->path, "--local", "--name", j->cluster, "agent", "undo", NULL};
	struct ssh_run_opts o = {.in = input,
	                         .in_len = strlen(input),
	                         .in_fd = -1,
	                         .out_fd = -1,
	                         .errbuf = &j->errb,
	                         .timeout_ms = UNDO_MS};

	if (!j->todo)
		return NULL;
	j->ret = ssh_run(j->h->dest, argv, &o, &j->status, &j->err);
	if (j->ret == 0 && j->status != 0)
		j->ret = sb_err_set(&j->err, EIO, "%s", last_line(&j->errb));
	return NULL;
}

size_t multi_rollback(struct multi_host *hosts, size_t n, const char *cluster, struct sb_buf *left)
{
	struct undo_job *jobs = xcalloc(n, sizeof(*jobs));
	size_t n_left = 0;

	/* an interrupt asked for this: the removals themselves must go through */
	ssh_abort_watch(NULL);
	for (size_t i = 0; i < n; i++) {
		struct multi_host *h = &hosts[i];

		jobs[i] = (struct undo_job){.h = h, .cluster = cluster};
		if (!h->apply_ran || report_bool(h, "rolled_back"))
			continue; /* nothing there, or it removed its part itself */
		if (!h->report) {
			sb_buf_printf(left,
			              "  %s: its part is unknown (the connection was lost); it may "
			              "keep containers, a network, a shim or a key copy\n",
			              h->dest);
			n_left++;
			continue;
		}
		jobs[i].todo = true;
	}
	util_fanout(n, undo_run, jobs, sizeof(*jobs));
	for (size_t i = 0; i < n; i++) {
		if (jobs[i].ret < 0) {
			sb_buf_printf(left, "  %s: %s\n", hosts[i].dest, jobs[i].err.msg);
			n_left++;
		}
		sb_buf_free(&jobs[i].errb);
	}
	free(jobs);
	return n_left;
}

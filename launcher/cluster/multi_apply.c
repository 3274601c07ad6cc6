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
#include "../remote/remote.h"
#include "../remote/interrupt.h"
#include "../util/progress.h"
#include "../util/fanout.h"

struct apply_job {
	struct multi_host *h;
	const struct sb_ctx *ctx;
	struct host_apply_req req;
	bool cause; /* this host's failure set req.abort */
	double seconds;
	int ret;
	struct sb_err err;
};

static void *apply_run(void *arg)
{
	struct apply_job *j = arg;
	double t0 = util_now();

	j->h->apply_ran = true;
	j->ret = remote_apply(j->h->dest, j->ctx, &j->req, &j->h->report, &j->err);
	if (j->ret < 0 && !j->req.keep_on_failure &&
	    __sync_bool_compare_and_swap(j->req.abort, 0, 1))
		j->cause = true;
	j->seconds = util_now() - t0;
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
	return report_int(h, "created") || report_int(h, "started") || report_int(h, "removed") ||
	       report_bool(h, "shim") || report_bool(h, "key");
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

int multi_hosts_apply(struct multi_host *hosts, size_t from, size_t n, const struct sb_ctx *ctx,
                      const struct spec_doc *doc, const unsigned char *key, size_t key_len,
                      unsigned timeout, bool keep, bool recreate, struct sb_err *err)
{
	struct apply_job *jobs = xcalloc(n, sizeof(*jobs));
	volatile sig_atomic_t stop = 0;
	int ret = 0;

	for (size_t i = from; i < n; i++)
		jobs[i] = (struct apply_job){.h = &hosts[i],
		                             .ctx = ctx,
		                             .req = {.doc = doc,
		                                     .key = key,
		                                     .key_len = key_len,
		                                     .host = (unsigned)i,
		                                     .timeout_sec = timeout,
		                                     .keep_on_failure = keep,
		                                     /* its workers start once the master answers */
		                                     .wait_master = i > 0,
		                                     .recreate = recreate,
		                                     .fault = fault_for(hosts[i].dest),
		                                     .abort = &stop}};
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

		if (jobs[i].ret == 0 && ret == 0 && !interrupt_signal)
			fprintf(stderr, "%s  %s %s: %s%s (%.2fs)\n", pre, mark, hosts[i].dest,
			        report_int(&hosts[i], "created") || report_int(&hosts[i], "started")
			            ? "its nodes started"
			            : "its nodes run already",
			        report_bool(&hosts[i], "shim") ? ", shim made" : "",
			        jobs[i].seconds);
	}
	free(jobs);
	if (ret == 0 && interrupt_signal)
		ret = sb_err_set(err, EINTR, "Interrupted");
	return ret;
}

/* ---- rollback ---- */

struct undo_job {
	struct multi_host *h;
	const char *cluster;
	int ret;
	struct sb_err err;
	bool todo; /* its report says something is still there */
};

static void *undo_run(void *arg)
{
	struct undo_job *j = arg;

	if (j->todo)
		j->ret = remote_undo(j->h->dest, j->cluster, j->h->report, &j->err);
	return NULL;
}

size_t multi_rollback(struct multi_host *hosts, size_t n, const char *cluster, struct sb_buf *left)
{
	struct undo_job *jobs = xcalloc(n, sizeof(*jobs));
	size_t n_left = 0;

	/* an interrupt asked for this: the removals themselves must go through */
	remote_abort_watch(NULL);
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
	}
	free(jobs);
	return n_left;
}

/* SPDX-License-Identifier: MIT */
/*
 * multi_state.c - the control machine's record of a cluster that spans
 * hosts, and the commands that use it: down (every host, partial when one
 * cannot be reached), exec/shell/logs (on the node's host). status is in
 * multi_status.c.
 */
#include "multi.h"
#include "multi_int.h"
#include "../remote/remote.h"
#include "../../compose/compose.h"
#include "../host/down.h"
#include "../host/state.h"
#include "../util/fanout.h"

#include <fcntl.h>
#include <sys/stat.h>

/* Where slurmbox before 0.2 kept the record: ~/.local/state also as root. */
static char *state_path_legacy(const char *cluster)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (xdg && *xdg == '/')
		return xasprintf("%s/slurmbox/%s.json", xdg, cluster);
	if (home && *home == '/')
		return xasprintf("%s/.local/state/slurmbox/%s.json", home, cluster);
	return NULL;
}

char *multi_state_path(const char *cluster, struct sb_err *err)
{
	_cleanup_free_ char *base = NULL, *legacy = NULL;
	char *p;
	bool per_host;

	if (state_base(&base, &per_host, err) < 0)
		return NULL;
	p = xasprintf("%s/%s.json", base, cluster);
	/* a record an older slurmbox left elsewhere is read there until the next save moves it */
	legacy = state_path_legacy(cluster);
	if (legacy && strcmp(legacy, p) != 0 && access(p, F_OK) < 0 && access(legacy, F_OK) == 0) {
		free(p);
		p = steal_ptr(&legacy);
	}
	return p;
}

bool multi_state_exists(const char *cluster)
{
	struct sb_err ignored = SB_ERR_INIT;
	_cleanup_free_ char *p = multi_state_path(cluster, &ignored);

	return p && access(p, F_OK) == 0;
}

void multi_state_remove(const char *cluster)
{
	struct sb_err ignored = SB_ERR_INIT;
	_cleanup_free_ char *p = multi_state_path(cluster, &ignored);

	if (p)
		unlink(p);
}

int multi_state_save(const char *cluster, const struct spec_doc *doc, char *const *paths,
                     struct sb_err *err)
{
	_cleanup_free_ char *p = NULL, *base = NULL, *legacy = state_path_legacy(cluster);
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	int ret = state_base_make(&base, err);

	if (ret < 0)
		goto out;
	p = xasprintf("%s/%s.json", base, cluster);
	json_object_object_add(o, "spec", spec_json_from(doc));
	for (size_t i = 0; i < doc->spec.n_hosts; i++)
		json_object_array_add(arr, json_object_new_string(paths[i]));
	json_object_object_add(o, "paths", arr);
	arr = NULL;
	ret = state_file_replace(p, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY),
	                         "the cluster record", err);
	if (ret == 0 && legacy && strcmp(legacy, p) != 0)
		unlink(legacy); /* moved here */
out:
	json_object_put(arr);
	json_object_put(o);
	return ret;
}

int multi_state_load(const char *cluster, struct spec_doc *doc, char ***paths, struct sb_err *err)
{
	_cleanup_free_ char *p = multi_state_path(cluster, err);
	struct json_object *o, *spec, *arr;
	int ret;

	if (!p)
		return -err->code;
	o = json_object_from_file(p);
	if (!o)
		return sb_err_set(err, ENOENT, "No record of cluster '%s' at '%s'", cluster, p);
	if (!json_object_object_get_ex(o, "spec", &spec) ||
	    !json_object_object_get_ex(o, "paths", &arr)) {
		json_object_put(o);
		return sb_err_set(err, EINVAL,
		                  "The cluster record '%s' is damaged; remove it and "
		                  "run `slurmbox up --hosts ...` to rebuild it from the hosts",
		                  p);
	}
	ret = spec_json_to(spec, doc, err);
	if (ret == 0) {
		*paths = xcalloc(doc->spec.n_hosts, sizeof(**paths));
		for (size_t i = 0; i < doc->spec.n_hosts; i++) {
			struct json_object *v = json_object_array_get_idx(arr, i);
			(*paths)[i] = xstrdup(v ? json_object_get_string(v) : "slurmbox");
		}
	}
	json_object_put(o);
	return ret;
}

void multi_paths_free(char **paths, size_t n)
{
	for (size_t i = 0; paths && i < n; i++)
		free(paths[i]);
	free(paths);
}

/*
 * The slurmbox to run on host i: checked (and copied if it went missing or
 * is another version) rather than trusted from the record. If the host
 * cannot be reached the recorded path stays, and the command's own ssh
 * reports why.
 */
/* ---- down ---- */

struct down_job {
	const char *dest;
	const struct sb_ctx *ctx;
	bool purge;
	struct json_object *out;
	int ret;
	struct sb_err err;
};

static void *down_run(void *arg)
{
	struct down_job *j = arg;

	/* the control machine's own key stays (its record's) unless purged */
	j->ret = remote_down(j->dest, j->ctx, j->ctx->cluster, j->purge, remote_is_self(j->dest),
	                     &j->out, &j->err);
	return NULL;
}

int multi_down(struct sb_ctx *ctx, bool purge, struct sb_err *err)
{
	struct spec_doc doc = {0};
	char **paths = NULL;
	struct down_job *jobs;
	_cleanup_buf_ struct sb_buf left = SB_BUF_INIT;
	size_t n;
	int ret;

	ret = multi_state_load(ctx->cluster, &doc, &paths, err);
	if (ret < 0)
		return ret;
	n = doc.spec.n_hosts;
	jobs = xcalloc(n, sizeof(*jobs));
	for (size_t i = 0; i < n; i++)
		jobs[i] =
		    (struct down_job){.dest = doc.spec.hosts[i].name, .ctx = ctx, .purge = purge};
	util_fanout(n, down_run, jobs, sizeof(*jobs));
	for (size_t i = 0; i < n; i++) {
		struct json_object *r = jobs[i].out;
		struct down_counts c = {0};

		if (jobs[i].ret < 0) {
			sb_buf_printf(&left, "  %s: %s\n", jobs[i].dest, jobs[i].err.msg);
			continue;
		}
		c.containers = (size_t)json_object_get_int(json_object_object_get(r, "containers"));
		c.networks = (size_t)json_object_get_int(json_object_object_get(r, "networks"));
		c.volumes = (size_t)json_object_get_int(json_object_object_get(r, "volumes"));
		c.links = (size_t)json_object_get_int(json_object_object_get(r, "links"));
		json_object_put(r);
		{
			_cleanup_free_ char *where = xasprintf("on %s", jobs[i].dest);
			down_report(where, ctx->cluster, purge, &c);
		}
	}
	free(jobs);
	if (left.len) {
		ret = sb_err_set(
		    err, SB_EPARTIAL,
		    "Cluster '%s' is only partly removed; these hosts could not be "
		    "cleaned and keep their part:\n%sRun `slurmbox down` again once they "
		    "are reachable",
		    ctx->cluster, left.data);
	} else {
		multi_state_remove(ctx->cluster);
		if (purge)
			ret = state_remove(ctx->cluster, err);
	}
	multi_paths_free(paths, n);
	spec_doc_free(&doc);
	return ret;
}

/* ---- exec, shell, logs: run the same command line on the node's host ---- */

int multi_node_run(struct sb_ctx *ctx, const char *node, char *const *argv, bool tty, bool *here,
                   struct sb_err *err)
{
	struct spec_doc doc = {0};
	_cleanup_plan_ struct compose_plan *plan = NULL;
	const struct compose_node *n;
	char **paths = NULL;
	int status = -1, ret;

	ret = multi_state_load(ctx->cluster, &doc, &paths, err);
	if (ret == 0)
		ret = compose_plan_build(&doc.spec, &plan, err);
	if (ret < 0)
		goto out;
	n = compose_plan_node(plan, node);
	if (!n) {
		_cleanup_buf_ struct sb_buf names = SB_BUF_INIT;
		for (size_t i = 0; i < plan->n_nodes; i++)
			sb_buf_printf(&names, "%s%s", i ? ", " : "", plan->nodes[i].name);
		ret = sb_err_input(err, "Unknown node '%s' in cluster '%s'; its nodes are: %s",
		                   node, ctx->cluster, names.data);
		goto out;
	}
	/* a node of this machine: the caller runs it here, in this process */
	*here = remote_is_self(doc.spec.hosts[n->host].name);
	if (*here)
		goto out;
	ret = remote_node_run(doc.spec.hosts[n->host].name, ctx->cluster, argv, tty, &status, err);
	if (ret == 0)
		util_exit_status = status;
out:
	multi_paths_free(paths, doc.spec.n_hosts);
	spec_doc_free(&doc);
	return ret;
}

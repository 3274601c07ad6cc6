/* SPDX-License-Identifier: MIT */
/*
 * health.c - the per-node checks of `status` (see health.h): reading each
 * node's slurm.conf and host name, and an unmunge round trip of a
 * credential made on the master. One connection per exec, all at once.
 */
#include "health.h"
#include "ops.h"
#include "../docker/docker_api.h"
#include "objects.h"
#include "../util/json.h"
#include "../util/opt.h"
#include "../util/fanout.h"

#include <fcntl.h>
#include <pthread.h>

#define HEALTH_EXEC_MS  15000
#define HEALTH_PARALLEL 16 /* execs at once: the daemon queues them anyway */

void health_node_release(struct health_node *h)
{
	if (!h)
		return;
	free(h->node);
	free(h->container);
	free(h->hostname);
	free(h->conf_path);
	free(h->conf);
	free(h->conf_error);
	free(h->munge_error);
	memset(h, 0, sizeof(*h));
}

/* The last non-empty line of a command's stderr, without its newline. Caller frees. */
static char *last_line(const char *text)
{
	const char *end, *start;

	if (!text)
		return xstrdup("");
	end = text + strlen(text);
	while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	start = end;
	while (start > text && start[-1] != '\n')
		start--;
	return xstrndup(start, (size_t)(end - start));
}

/* ---- pure parts ---- */

/* The n-th line of text (1-based) for a message: quoted and cut, or "end of file". */
static void line_show(const char *line, char *out, size_t len)
{
	size_t n;

	if (!line) {
		snprintf(out, len, "end of file");
		return;
	}
	n = strcspn(line, "\n");
	snprintf(out, len, "\"%.*s%s\"", n > 60 ? 60 : (int)n, line, n > 60 ? "..." : "");
}

bool health_conf_same(const char *have, const char *want, const char *whose, char *where,
                      size_t len)
{
	const char *a = have, *b = want;
	unsigned line = 1;
	char sa[80], sb[80];

	if (strcmp(have, want) == 0) {
		if (len)
			*where = '\0';
		return true;
	}
	/* walk both texts line by line until the lines differ */
	for (;;) {
		size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");

		if (la != lb || memcmp(a, b, la) != 0)
			break;
		a += la + (a[la] == '\n');
		b += lb + (b[lb] == '\n');
		line++;
		if (!a[0] || !b[0])
			break;
	}
	if (!*a && !*b) {
		snprintf(where, len, "line %u: only the final newline differs", line - 1);
		return false;
	}
	line_show(*a ? a : NULL, sa, sizeof(sa));
	line_show(*b ? b : NULL, sb, sizeof(sb));
	snprintf(where, len, "line %u: %s, %s: %s", line, sa, whose, sb);
	return false;
}

char *health_munge_reason(int exit_code, const char *stderr_text)
{
	_cleanup_free_ char *why = last_line(stderr_text);

	switch (exit_code) {
	case 14: /* EMUNGE_CRED_INVALID */
		return xstrdup("credential rejected; the node's key differs from the master's");
	case 15: /* EMUNGE_CRED_EXPIRED */
	case 16: /* EMUNGE_CRED_REWOUND */
		return xasprintf("credential %s; the node's clock differs from the master's",
		                 exit_code == 15 ? "expired" : "rewound");
	case 6: /* EMUNGE_SOCKET */
		return xasprintf("munged does not answer on the node (%s)", why);
	default:
		return xasprintf("unmunge failed with status %d%s%s", exit_code, *why ? ": " : "",
		                 why);
	}
}

static const char *state_name(enum health_state s, const char *bad)
{
	return s == HEALTH_OK ? "ok" : s == HEALTH_FAILED ? bad : "unknown";
}

const char *health_conf_name(enum health_state s)
{
	return state_name(s, "drift");
}

const char *health_munge_name(enum health_state s)
{
	return state_name(s, "failed");
}

const char *health_hostname_name(enum health_state s)
{
	return state_name(s, "mismatch");
}

void health_judge(const struct health_node *h, const char *want, const char *whose,
                  struct health_verdict *v)
{
	const char *path = h->conf_path ? h->conf_path : HEALTH_CONF_MASTER;
	char where[256];

	memset(v, 0, sizeof(*v));
	if (h->conf && want) {
		v->conf = health_conf_same(h->conf, want, whose, where, sizeof(where))
		              ? HEALTH_OK
		              : HEALTH_FAILED;
		if (v->conf == HEALTH_FAILED)
			sb_buf_printf(&v->problems, "drift: %s differs from %s (%s)\n", path, whose,
			              where);
	} else if (!h->conf && h->conf_error) {
		v->conf = HEALTH_FAILED;
		sb_buf_printf(&v->problems, "drift: %s cannot be read (%s)\n", path, h->conf_error);
	}
	v->munge = h->munge;
	if (h->munge == HEALTH_FAILED)
		sb_buf_printf(&v->problems, "munge: %s\n",
		              h->munge_error ? h->munge_error : "unmunge failed");
	if (h->hostname) {
		v->hostname = strcmp(h->hostname, h->node) == 0 ? HEALTH_OK : HEALTH_FAILED;
		if (v->hostname == HEALTH_FAILED)
			sb_buf_printf(&v->problems,
			              "hostname: the container calls itself '%s', its NodeName is "
			              "'%s'\n",
			              h->hostname, h->node);
	}
}

void health_verdict_release(struct health_verdict *v)
{
	if (v)
		sb_buf_free(&v->problems);
}

bool health_verdict_ok(const struct health_verdict *v)
{
	return v->conf != HEALTH_FAILED && v->munge != HEALTH_FAILED &&
	       v->hostname != HEALTH_FAILED;
}

void health_summary(const struct health_verdict *v, char *out, size_t len)
{
	const struct {
		enum health_state s;
		const char *bad;
	} parts[] = {{v->conf, "drift"}, {v->munge, "munge"}, {v->hostname, "hostname"}};
	bool any = false;
	size_t used = 0;

	*out = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
		any |= parts[i].s != HEALTH_UNKNOWN;
		if (parts[i].s == HEALTH_FAILED && used < len)
			used += (size_t)snprintf(out + used, len - used, "%s%s", used ? "," : "",
			                         parts[i].bad);
	}
	if (!*out)
		snprintf(out, len, "%s", any ? "ok" : "-");
}

/* ---- JSON ---- */

struct json_object *health_node_to_json(const struct health_node *h)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "node", json_object_new_string(h->node ? h->node : ""));
	json_object_object_add(o, "container",
	                       json_object_new_string(h->container ? h->container : ""));
	if (h->hostname)
		json_object_object_add(o, "hostname", json_object_new_string(h->hostname));
	if (h->conf_path)
		json_object_object_add(o, "conf_path", json_object_new_string(h->conf_path));
	if (h->conf)
		json_object_object_add(o, "conf", json_object_new_string(h->conf));
	if (h->conf_error)
		json_object_object_add(o, "conf_error", json_object_new_string(h->conf_error));
	json_object_object_add(o, "munge", json_object_new_string(health_munge_name(h->munge)));
	if (h->munge_error)
		json_object_object_add(o, "munge_error", json_object_new_string(h->munge_error));
	return o;
}

static char *jdup(struct json_object *o, const char *key)
{
	const char *s = util_json_str(o, key);

	return s ? xstrdup(s) : NULL;
}

void health_node_from_json(struct json_object *o, struct health_node *h)
{
	const char *m = util_json_str(o, "munge");

	memset(h, 0, sizeof(*h));
	h->node = jdup(o, "node");
	h->container = jdup(o, "container");
	h->hostname = jdup(o, "hostname");
	h->conf_path = jdup(o, "conf_path");
	h->conf = jdup(o, "conf");
	h->conf_error = jdup(o, "conf_error");
	h->munge_error = jdup(o, "munge_error");
	h->munge = !m                         ? HEALTH_UNKNOWN
	           : strcmp(m, "ok") == 0     ? HEALTH_OK
	           : strcmp(m, "failed") == 0 ? HEALTH_FAILED
	                                      : HEALTH_UNKNOWN;
}

void health_verdict_json_add(const struct health_verdict *v, struct json_object *node)
{
	struct json_object *arr = json_object_new_array();

	json_object_object_add(node, "conf", json_object_new_string(health_conf_name(v->conf)));
	json_object_object_add(node, "munge", json_object_new_string(health_munge_name(v->munge)));
	json_object_object_add(node, "hostname_check",
	                       json_object_new_string(health_hostname_name(v->hostname)));
	for (const char *p = v->problems.data; p && *p;) {
		size_t n = strcspn(p, "\n");
		json_object_array_add(arr, json_object_new_string_len(p, (int)n));
		p += n + (p[n] == '\n');
	}
	json_object_object_add(node, "problems", arr);
}

void health_problems_print(const char *node, const struct health_verdict *v, bool *header_done)
{
	for (const char *p = v->problems.data; p && *p;) {
		size_t n = strcspn(p, "\n");

		if (!*header_done) {
			printf("\nProblems:\n");
			*header_done = true;
		}
		printf("  %-12s %.*s\n", node, (int)n, p);
		p += n + (p[n] == '\n');
	}
}

/* ---- the checks, against one engine ---- */

int health_cred_make(struct docker *d, const char *container, char **cred, struct sb_err *err)
{
	_cleanup_buf_ struct sb_buf out = SB_BUF_INIT, errb = SB_BUF_INIT;
	const char *argv[] = {"munge", "-n", NULL};
	int st = -1, ret;

	*cred = NULL;
	ret = docker_exec_capture(d, container, argv, -1, &out, &errb, &st, HEALTH_EXEC_MS, err);
	if (ret < 0)
		return ret;
	if (st != 0 || !out.data || strncmp(out.data, "MUNGE:", 6) != 0) {
		_cleanup_free_ char *why = last_line(errb.data);
		return sb_err_set(
		    err, EIO, "cannot make a credential on the master (munge -n: status %d%s%s)",
		    st, *why ? ", " : "", why);
	}
	while (out.len && (out.data[out.len - 1] == '\n' || out.data[out.len - 1] == '\r'))
		out.data[--out.len] = '\0';
	*cred = sb_buf_steal(&out);
	return 0;
}

/*
 * One exec per node does every check (an exec costs the daemon a runc
 * process: about 70 ms, and they queue on a small machine). The credential
 * comes on stdin; the output is parsed by health_output_parse.
 */
static const char check_sh[] =
    "if [ \"$1\" = munge ]; then e=$(unmunge 2>&1 >/dev/null); s=$?; else e=; s=-; fi; "
    "printf '%s\\n' \"$s\"; printf '%s\\n' \"$e\" | tail -n 1; "
    "exec cat /proc/sys/kernel/hostname \"$2\"";

void health_output_parse(const char *out, int status, const char *err_text, struct health_node *h)
{
	const char *l1 = out ? out : "", *l2, *l3, *rest;
	char *end;
	long st;

	l2 = strchr(l1, '\n');
	l3 = l2 ? strchr(l2 + 1, '\n') : NULL;
	rest = l3 ? strchr(l3 + 1, '\n') : NULL;
	if (!l3) {
		free(h->conf_error);
		h->conf_error = xasprintf("the check did not run (status %d: %s)", status,
		                          err_text && *err_text ? err_text : "no output");
		return;
	}
	if (*l1 != '-') {
		st = strtol(l1, &end, 10);
		if (st == 0 && end != l1) {
			h->munge = HEALTH_OK;
		} else {
			_cleanup_free_ char *why = xstrndup(l2 + 1, (size_t)(l3 - l2 - 1));
			h->munge = HEALTH_FAILED;
			free(h->munge_error);
			h->munge_error = health_munge_reason((int)st, why);
		}
	}
	if (rest) {
		free(h->hostname);
		h->hostname = xstrndup(l3 + 1, (size_t)(rest - l3 - 1));
	}
	if (status == 0 && rest) {
		free(h->conf);
		h->conf = xstrdup(rest + 1);
	} else {
		_cleanup_free_ char *why = last_line(err_text);
		free(h->conf_error);
		h->conf_error = xstrdup(*why ? why : "cat failed");
	}
}

/* One node's exec; cred NULL: no munge check. */
static void check_one(struct docker *d, struct health_node *h, const char *cred)
{
	_cleanup_buf_ struct sb_buf out = SB_BUF_INIT, errb = SB_BUF_INIT;
	const char *argv[] = {"sh",
	                      "-c",
	                      check_sh,
	                      "sh",
	                      cred ? "munge" : "-",
	                      h->conf_path ? h->conf_path : HEALTH_CONF_MASTER,
	                      NULL};
	struct sb_err err = SB_ERR_INIT;
	int p[2] = {-1, -1}, st = -1, ret;

	if (cred) {
		/* the credential goes in on stdin: a pipe holds it all (it is far below PIPE_BUF) */
		size_t len = strlen(cred);
		if (pipe2(p, O_CLOEXEC) < 0 || write(p[1], cred, len) != (ssize_t)len ||
		    write(p[1], "\n", 1) != 1) {
			h->conf_error = xasprintf("pipe: %s", strerror(errno));
			goto out;
		}
		close(p[1]);
		p[1] = -1;
	}
	ret = docker_exec_capture(d, h->container, argv, p[0], &out, &errb, &st, HEALTH_EXEC_MS,
	                          &err);
	if (ret < 0)
		h->conf_error = xstrdup(err.msg);
	else
		health_output_parse(out.data, st, errb.data, h);
out:
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
}

/* Workers take the next node until none is left; at most HEALTH_PARALLEL execs at once. */
struct check_pool {
	struct docker *d;
	struct health_node *nodes;
	size_t n, next;
	const char *cred;
	pthread_mutex_t lock;
};

static void *check_worker(void *arg)
{
	struct check_pool *p = arg;
	struct docker *d = docker_dup(p->d);

	for (;;) {
		size_t i;

		pthread_mutex_lock(&p->lock);
		i = p->next++;
		pthread_mutex_unlock(&p->lock);
		if (i >= p->n)
			break;
		if (p->nodes[i].container)
			check_one(d, &p->nodes[i], p->cred);
	}
	docker_free(d);
	return NULL;
}

void health_nodes_check(struct docker *d, struct health_node *nodes, size_t n, const char *cred)
{
	struct check_pool pool = {.d = d, .nodes = nodes, .n = n, .cred = cred};
	size_t n_threads = n < HEALTH_PARALLEL ? n : HEALTH_PARALLEL;

	pthread_mutex_init(&pool.lock, NULL);
	util_fanout(n_threads, check_worker, &pool, 0); /* workers that share the pool */
	pthread_mutex_destroy(&pool.lock);
}

int host_check(const char *cluster, const char *cred, struct json_object **out, struct sb_err *err)
{
	_cleanup_docker_ struct docker *d = NULL;
	struct host_cluster have = {0};
	struct health_node *nodes;
	struct json_object *root, *arr;
	size_t n = 0;
	int ret;

	*out = NULL;
	if (cred && strlen(cred) > HEALTH_CRED_MAX)
		return sb_err_set(err, E2BIG, "The credential is longer than %d bytes",
		                  HEALTH_CRED_MAX);
	ret = docker_open(NULL, &d, err);
	if (ret == 0)
		ret = docker_version_check(d, err);
	if (ret == 0)
		ret = host_cluster_load(d, cluster, &have, err);
	if (ret < 0)
		return ret;
	nodes = xcalloc(have.n_nodes + 1, sizeof(*nodes));
	for (size_t i = 0; i < have.n_nodes; i++) {
		if (strcmp(have.nodes[i].state, "running") != 0)
			continue;
		nodes[n].node = xstrdup(have.nodes[i].node);
		nodes[n].container = xstrdup(have.nodes[i].container);
		nodes[n].conf_path =
		    xstrdup(have.nodes[i].role && strcmp(have.nodes[i].role, "master") == 0
		                ? HEALTH_CONF_MASTER
		                : HEALTH_CONF_WORKER);
		n++;
	}
	health_nodes_check(d, nodes, n, cred);
	root = json_object_new_object();
	arr = json_object_new_array();
	for (size_t i = 0, k = 0; i < have.n_nodes; i++) {
		struct json_object *o;

		if (k < n && strcmp(nodes[k].node, have.nodes[i].node) == 0) {
			o = health_node_to_json(&nodes[k]);
			health_node_release(&nodes[k++]);
		} else {
			o = json_object_new_object();
			json_object_object_add(o, "node",
			                       json_object_new_string(have.nodes[i].node));
		}
		json_object_object_add(o, "state", json_object_new_string(have.nodes[i].state));
		json_object_array_add(arr, o);
	}
	json_object_object_add(root, "nodes", arr);
	{
		struct json_object *dk = json_object_new_object();

		json_object_object_add(dk, "server",
		                       json_object_new_string(docker_server_version(d)));
		json_object_object_add(dk, "api", json_object_new_string(docker_api_version(d)));
		json_object_object_add(root, "docker", dk);
	}
	*out = root;
	free(nodes);
	host_cluster_free(&have);
	return 0;
}

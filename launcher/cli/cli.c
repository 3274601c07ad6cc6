/* SPDX-License-Identifier: MIT */
/*
 * cli.c - option helpers, progress lines, and finding a cluster's
 * containers by label.
 */
#include "cli.h"
#include "../docker/docker_api.h"
#include "../cluster/multi.h"
#include "../remote/ssh.h"
#include "../../compose/compose.h"

#include <signal.h>
#include <time.h>

int cli_exit_status = -1;
volatile sig_atomic_t cli_interrupted;

static void cli_on_signal(int sig)
{
	cli_interrupted = sig;
}

void cli_interrupt_catch(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = cli_on_signal; /* no SA_RESTART: blocking calls return EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	docker_abort_watch(&cli_interrupted);
	ssh_abort_watch(&cli_interrupted);
}

bool cli_routed(const struct cli_ctx *ctx)
{
	return !ctx->local && multi_state_exists(ctx->cluster);
}

int cli_set_cluster(struct cli_ctx *ctx, const char *name, struct sb_err *err)
{
	int ret = compose_cluster_name_check(name, err);

	if (ret < 0)
		return ret;
	ctx->cluster = name;
	ctx->name_given = true;
	return 0;
}

int cli_usage_error(const char *cmd, const char *what, struct sb_err *err)
{
	if (cmd)
		return sb_err_input(
		    err, "%s: bad option or missing argument '%s'; see `slurmbox %s --help`", cmd,
		    what ? what : "", cmd);
	return sb_err_input(err, "Bad option or missing argument '%s'; see `slurmbox --help`",
	                    what ? what : "");
}

int cli_parse_uint(const char *opt, const char *text, unsigned min, unsigned max, unsigned *out,
                   struct sb_err *err)
{
	char *end = NULL;
	unsigned long v;

	errno = 0;
	if (!text || !*text || *text == '-' || *text == '+')
		goto bad;
	v = strtoul(text, &end, 10);
	if (errno || *end || v < min || v > max)
		goto bad;
	*out = (unsigned)v;
	return 0;
bad:
	return sb_err_input(err, "%s '%s' is not valid: give a whole number from %u to %u", opt,
	                    text ? text : "", min, max);
}

double cli_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_step_begin(struct cli_step *s, const struct cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	s->ctx = ctx;
	va_start(ap, fmt);
	vsnprintf(s->text, sizeof(s->text), fmt, ap);
	va_end(ap);
	s->t0 = cli_now();
	if (ctx->stderr_tty) {
		fprintf(stderr, "  … %s", s->text);
		fflush(stderr);
	}
}

void cli_step_end(struct cli_step *s, const char *detail_fmt, ...)
{
	char detail[256] = "";
	double dt = cli_now() - s->t0;

	if (detail_fmt) {
		va_list ap;
		va_start(ap, detail_fmt);
		vsnprintf(detail, sizeof(detail), detail_fmt, ap);
		va_end(ap);
	}
	if (s->ctx->stderr_tty)
		fprintf(stderr, "\r\033[K  \033[32m✓\033[0m %s%s%s \033[2m(%.2fs)\033[0m\n",
		        s->text, *detail ? ": " : "", detail, dt);
	else
		fprintf(stderr, "slurmbox: %s%s%s (%.2fs)\n", s->text, *detail ? ": " : "", detail,
		        dt);
}

void cli_step_fail(struct cli_step *s)
{
	if (s->ctx->stderr_tty)
		fprintf(stderr, "\r\033[K  \033[31m✗\033[0m %s\n", s->text);
	else
		fprintf(stderr, "slurmbox: %s: failed\n", s->text);
}

void cli_info(const struct cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	(void)ctx;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("slurmbox: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- cluster look-up ---- */

const char *cli_json_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

/* Members that may be missing read as "" in the look-ups below. */
#define json_str(o, key) (cli_json_str((o), (key)) ?: "")

void cli_sinfo_state(const char *sinfo, const char *node, char *st, size_t len)
{
	size_t nl = strlen(node);

	*st = '\0';
	for (const char *p = sinfo; p && *p;) {
		const char *e = strchr(p, '\n');
		size_t ll = e ? (size_t)(e - p) : strlen(p);

		if (ll > nl + 1 && strncmp(p, node, nl) == 0 && p[nl] == ' ') {
			snprintf(st, len, "%.*s", (int)(ll - nl - 1), p + nl + 1);
			return;
		}
		p = e ? e + 1 : NULL;
	}
}

bool cli_slurm_state_ok(const char *st)
{
	return *st && !strchr(st, '*') && strncmp(st, "down", 4) != 0 &&
	       strncmp(st, "drain", 5) != 0 && strncmp(st, "fail", 4) != 0 &&
	       strncmp(st, "unk", 3) != 0;
}

static int node_order(const void *a, const void *b)
{
	const struct cli_node *x = a, *y = b;
	bool xm = strcmp(x->role, "master") == 0, ym = strcmp(y->role, "master") == 0;
	const char *xd, *yd;

	if (xm != ym)
		return xm ? -1 : 1;
	/* worker-2 before worker-10 */
	xd = strpbrk(x->node, "0123456789");
	yd = strpbrk(y->node, "0123456789");
	if (xd && yd && xd - x->node == yd - y->node &&
	    strncmp(x->node, y->node, (size_t)(xd - x->node)) == 0)
		return atoi(xd) - atoi(yd);
	return strcmp(x->node, y->node);
}

int cli_cluster_load(struct docker *d, const char *cluster, struct cli_cluster *out,
                     struct sb_err *err)
{
	_cleanup_free_ char *label = xasprintf("%s=%s", COMPOSE_LABEL_CLUSTER, cluster);
	const char *labels[] = {label};
	struct json_object *list = NULL;
	size_t n;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = docker_container_list(d, labels, 1, &list, err);
	if (ret < 0)
		return ret;
	n = json_object_array_length(list);
	out->nodes = xcalloc(n, sizeof(*out->nodes));
	for (size_t i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(list, i), *lab = NULL, *names,
		                   *ns, *nets;
		struct cli_node *node = &out->nodes[out->n_nodes];
		const char *name = "";

		json_object_object_get_ex(c, "Labels", &lab);
		if (json_object_object_get_ex(c, "Names", &names) &&
		    json_object_array_length(names) > 0)
			name = json_object_get_string(json_object_array_get_idx(names, 0));
		if (*name == '/')
			name++;
		node->id = xstrdup(json_str(c, "Id"));
		node->container = xstrdup(name);
		node->node = xstrdup(json_str(lab, COMPOSE_LABEL_NODE));
		node->role = xstrdup(json_str(lab, COMPOSE_LABEL_ROLE));
		node->user = xstrdup(json_str(lab, "io.slurmbox.user"));
		node->hash = xstrdup(json_str(lab, COMPOSE_LABEL_HASH));
		node->spec = xstrdup(json_str(lab, "io.slurmbox.spec"));
		node->state = xstrdup(json_str(c, "State"));
		node->ip = NULL;
		if (json_object_object_get_ex(c, "NetworkSettings", &ns) &&
		    json_object_object_get_ex(ns, "Networks", &nets)) {
			json_object_object_foreach(nets, key, val)
			{
				(void)key;
				const char *ip = json_str(val, "IPAddress");
				if (*ip && !node->ip)
					node->ip = xstrdup(ip);
				if (!*ip) {
					/* stopped containers keep their static address in IPAMConfig */
					struct json_object *ipam;
					if (json_object_object_get_ex(val, "IPAMConfig", &ipam) &&
					    *json_str(ipam, "IPv4Address") && !node->ip)
						node->ip = xstrdup(json_str(ipam, "IPv4Address"));
				}
			}
		}
		if (!node->ip)
			node->ip = xstrdup("");
		out->n_nodes++;
	}
	json_object_put(list);
	qsort(out->nodes, out->n_nodes, sizeof(*out->nodes), node_order);
	return 0;
}

void cli_cluster_free(struct cli_cluster *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_nodes; i++)
		cli_node_free(&c->nodes[i]);
	free(c->nodes);
	c->nodes = NULL;
	c->n_nodes = 0;
}

const struct cli_node *cli_cluster_node(const struct cli_cluster *c, const char *node)
{
	for (size_t i = 0; i < c->n_nodes; i++)
		if (strcmp(c->nodes[i].node, node) == 0)
			return &c->nodes[i];
	return NULL;
}

int cli_node_unknown(const struct cli_cluster *c, const char *cluster, const char *node,
                     struct sb_err *err)
{
	_cleanup_buf_ struct sb_buf names = SB_BUF_INIT;

	if (c->n_nodes == 0)
		return sb_err_input(
		    err,
		    "Cluster '%s' does not exist on this engine; create it with `slurmbox%s%s up`",
		    cluster, strcmp(cluster, COMPOSE_DEFAULT_CLUSTER) ? " --name " : "",
		    strcmp(cluster, COMPOSE_DEFAULT_CLUSTER) ? cluster : "");
	for (size_t i = 0; i < c->n_nodes; i++)
		sb_buf_printf(&names, "%s%s", i ? ", " : "", c->nodes[i].node);
	return sb_err_input(err, "Unknown node '%s' in cluster '%s'; its nodes are: %s", node,
	                    cluster, names.data);
}

int cli_node_find(struct docker *d, const char *cluster, const char *node, struct cli_node *out,
                  bool *found, struct sb_err *err)
{
	_cleanup_free_ char *name = xasprintf("%s-%s", cluster, node);
	struct json_object *info = NULL, *cfg, *lab = NULL, *state;
	int ret;

	memset(out, 0, sizeof(*out));
	*found = false;
	ret = docker_container_inspect(d, name, &info, err);
	if (ret == -ENOENT)
		return 0;
	if (ret < 0)
		return ret;
	if (json_object_object_get_ex(info, "Config", &cfg))
		json_object_object_get_ex(cfg, "Labels", &lab);
	/* A container by that name that is not this cluster's node is not ours. */
	if (strcmp(json_str(lab, COMPOSE_LABEL_CLUSTER), cluster) == 0 &&
	    strcmp(json_str(lab, COMPOSE_LABEL_NODE), node) == 0) {
		*found = true;
		out->id = xstrdup(json_str(info, "Id"));
		out->container = xstrdup(name);
		out->node = xstrdup(node);
		out->role = xstrdup(json_str(lab, COMPOSE_LABEL_ROLE));
		out->user = xstrdup(json_str(lab, "io.slurmbox.user"));
		out->hash = xstrdup(json_str(lab, COMPOSE_LABEL_HASH));
		out->spec = xstrdup(json_str(lab, "io.slurmbox.spec"));
		out->state = xstrdup(json_object_object_get_ex(info, "State", &state)
		                         ? json_str(state, "Status")
		                         : "");
		out->ip = xstrdup("");
	}
	json_object_put(info);
	return 0;
}

void cli_node_free(struct cli_node *n)
{
	if (!n)
		return;
	free(n->id);
	free(n->container);
	free(n->node);
	free(n->role);
	free(n->user);
	free(n->state);
	free(n->ip);
	free(n->hash);
	free(n->spec);
	memset(n, 0, sizeof(*n));
}

/* SPDX-License-Identifier: MIT */
/*
 * agent.c - `slurmbox [--name C] agent VERB`, one host's part of a cluster
 * that spans several hosts. The control machine runs these over ssh (or as
 * local processes for localhost):
 *
 *   facts [--parent IF] [--image TAG]...   what this host is: JSON
 *   probe --parent IF --timeout MS IP...   which addresses answer on the LAN: JSON
 *   apply --host N [--recreate] < {"spec":…,"key":hex}  create and start this host's part
 *                                             (--recreate: first remove its containers that differ)
 *   wait --timeout S  < {"spec":…}             until every node is idle (master's host)
 *   down [--purge]                            this host's part gone, shim included
 *   check             < credential            each running node's slurm.conf, host
 *                                             name and unmunge of the master's credential
 *   image-save TAG... / image-load            move images between hosts
 *
 * Problems that the control machine must report all at once (preflight) are
 * returned inside the facts JSON, not as a failure.
 */
#include "agent.h"
#include "apply.h"
#include "health.h"
#include "members.h"
#include "reconcile.h"
#include "docker_api.h"
#include "spec_json.h"
#include "../compose/compose.h"
#include "../netconf/netconf.h"

#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <sys/utsname.h>
#include <time.h>

#define AGENT_STDIN_MAX (1u << 20)

static int read_all(int fd, struct sb_buf *b, size_t max, struct sb_err *err)
{
	char buf[16384];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sb_err_set(err, errno, "Reading standard input: %s",
			                  strerror(errno));
		if (n == 0)
			return 0;
		sb_buf_add(b, buf, (size_t)n);
		if (b->len > max)
			return sb_err_set(err, E2BIG, "Standard input is larger than %zu bytes",
			                  max);
	}
}

static void json_print(struct json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	                                           JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/* The shim's interface name: "sb-" and 12 hex digits of the cluster name. */
void agent_shim_name(const char *cluster, char out[16])
{
	char hex[17];

	compose_hash_hex(cluster, strlen(cluster), hex);
	snprintf(out, 16, "sb-%.12s", hex);
}

/* ---- facts ---- */

static struct json_object *facts_docker(const char *cluster, char **images, size_t n_images,
                                        struct json_object **cluster_out)
{
	struct json_object *o = json_object_new_object();
	_cleanup_docker_ struct docker *d = NULL;
	struct sb_err err = SB_ERR_INIT;
	struct docker_info info;
	struct cli_cluster have = {0};

	*cluster_out = NULL;
	if (docker_open(NULL, &d, &err) < 0 || docker_version_check(d, &err) < 0 ||
	    docker_info_get(d, &info, &err) < 0) {
		json_object_object_add(o, "error", json_object_new_string(err.msg));
		return o;
	}
	json_object_object_add(o, "api", json_object_new_string(docker_api_version(d)));
	json_object_object_add(o, "server", json_object_new_string(info.server_version));
	json_object_object_add(o, "ncpus", json_object_new_int((int)info.ncpus));
	json_object_object_add(o, "mem_mb", json_object_new_int64((int64_t)(info.mem_bytes >> 20)));
	json_object_object_add(o, "arch", json_object_new_string(info.arch));
	if (n_images) {
		struct json_object *im = json_object_new_object();
		for (size_t i = 0; i < n_images; i++) {
			bool present = false;
			docker_image_exists(d, images[i], &present, &err);
			json_object_object_add(im, images[i], json_object_new_boolean(present));
		}
		json_object_object_add(o, "images", im);
	}
	if (cli_cluster_load(d, cluster, &have, &err) == 0) {
		struct json_object *c = json_object_new_object();
		struct json_object *nodes = json_object_new_array();
		for (size_t i = 0; i < have.n_nodes; i++) {
			struct json_object *n = json_object_new_object();
			json_object_object_add(n, "node",
			                       json_object_new_string(have.nodes[i].node));
			json_object_object_add(n, "role",
			                       json_object_new_string(have.nodes[i].role));
			json_object_object_add(n, "state",
			                       json_object_new_string(have.nodes[i].state));
			json_object_object_add(n, "ip", json_object_new_string(have.nodes[i].ip));
			json_object_object_add(n, "hash",
			                       json_object_new_string(have.nodes[i].hash));
			json_object_array_add(nodes, n);
			if (*have.nodes[i]
			         .spec) /* the newest generation: kept containers keep old ones */
				spec_json_keep_newest(c, json_tokener_parse(have.nodes[i].spec));
		}
		json_object_object_add(c, "nodes", nodes);
		*cluster_out = c;
	}
	cli_cluster_free(&have);
	return o;
}

static struct json_object *facts_uplink(const char *parent)
{
	struct json_object *o = json_object_new_object();
	struct sb_err err = SB_ERR_INIT;
	struct netconf_uplink up;
	char ip[16];

	if (netconf_uplink_find(parent, &up, &err) < 0) {
		json_object_object_add(o, "error", json_object_new_string(err.msg));
		return o;
	}
	json_object_object_add(o, "ifname", json_object_new_string(up.ifname));
	json_object_object_add(o, "addr", json_object_new_string(compose_ipv4_format(up.addr, ip)));
	json_object_object_add(o, "prefix", json_object_new_int(up.prefix));
	if (up.gateway)
		json_object_object_add(o, "gateway",
		                       json_object_new_string(compose_ipv4_format(up.gateway, ip)));
	json_object_object_add(o, "wireless", json_object_new_boolean(up.wireless));
	return o;
}

static int agent_facts(const struct cli_ctx *ctx, int argc, char **argv, struct sb_err *err)
{
	static const struct option opts[] = {
	    {"parent", required_argument, NULL, 'p'},
	    {"image", required_argument, NULL, 'i'},
	    {NULL, 0, NULL, 0},
	};
	struct json_object *o = json_object_new_object(), *cluster = NULL;
	char **images = xcalloc((size_t)argc, sizeof(*images));
	const char *parent = NULL;
	size_t n_images = 0;
	struct utsname u;
	int c;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'p')
			parent = optarg;
		else if (c == 'i')
			images[n_images++] = optarg;
		else {
			free(images);
			json_object_put(o);
			return cli_usage_error("agent facts", argv[optind - 1], err);
		}
	}
	uname(&u);
	json_object_object_add(o, "version", json_object_new_string(SLURMBOX_VERSION));
	{
		char self[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n > 0) {
			self[n] = '\0';
			json_object_object_add(o, "self", json_object_new_string(self));
		}
	}
	json_object_object_add(o, "arch", json_object_new_string(u.machine));
	json_object_object_add(o, "hostname", json_object_new_string(u.nodename));
	json_object_object_add(o, "euid", json_object_new_int((int)geteuid()));
	json_object_object_add(o, "time", json_object_new_int64((int64_t)time(NULL)));
	json_object_object_add(o, "docker", facts_docker(ctx->cluster, images, n_images, &cluster));
	json_object_object_add(o, "uplink", facts_uplink(parent));
	if (cluster)
		json_object_object_add(o, "cluster", cluster);
	free(images);
	json_print(o);
	return 0;
}

/* ---- probe ---- */

struct probe_job {
	const char *parent;
	uint32_t addr;
	int timeout_ms;
	bool in_use;
	uint8_t mac[6];
	struct sb_err err;
	int ret;
	pthread_t th;
};

static void *probe_one(void *arg)
{
	struct probe_job *j = arg;

	j->ret =
	    netconf_neigh_probe(j->parent, j->addr, j->timeout_ms, &j->in_use, j->mac, &j->err);
	return NULL;
}

static int agent_probe(int argc, char **argv, struct sb_err *err)
{
	static const struct option opts[] = {
	    {"parent", required_argument, NULL, 'p'},
	    {"timeout", required_argument, NULL, 't'},
	    {NULL, 0, NULL, 0},
	};
	const char *parent = NULL;
	unsigned timeout = 500;
	struct probe_job *jobs;
	struct json_object *out;
	size_t n;
	int c, ret;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'p') {
			parent = optarg;
		} else if (c == 't') {
			ret = cli_parse_uint("--timeout", optarg, 1, 60000, &timeout, err);
			if (ret < 0)
				return ret;
		} else {
			return cli_usage_error("agent probe", argv[optind - 1], err);
		}
	}
	if (!parent)
		return sb_err_input(err, "agent probe: --parent is required");
	n = (size_t)(argc - optind);
	jobs = xcalloc(n ? n : 1, sizeof(*jobs));
	for (size_t i = 0; i < n; i++) {
		ret = compose_ipv4_parse("agent probe", argv[optind + (int)i], &jobs[i].addr, err);
		if (ret < 0) {
			free(jobs);
			return ret;
		}
		jobs[i].parent = parent;
		jobs[i].timeout_ms = (int)timeout;
	}
	for (size_t i = 0; i < n; i++)
		if (pthread_create(&jobs[i].th, NULL, probe_one, &jobs[i]) != 0) {
			jobs[i].th = 0;
			probe_one(&jobs[i]);
		}
	out = json_object_new_array();
	ret = 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *r = json_object_new_object();
		char ip[16], mac[18];

		if (jobs[i].th)
			pthread_join(jobs[i].th, NULL);
		if (jobs[i].ret < 0 && ret == 0) {
			*err = jobs[i].err;
			ret = jobs[i].ret;
		}
		json_object_object_add(
		    r, "ip", json_object_new_string(compose_ipv4_format(jobs[i].addr, ip)));
		json_object_object_add(r, "in_use", json_object_new_boolean(jobs[i].in_use));
		if (jobs[i].in_use) {
			snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", jobs[i].mac[0],
			         jobs[i].mac[1], jobs[i].mac[2], jobs[i].mac[3], jobs[i].mac[4],
			         jobs[i].mac[5]);
			json_object_object_add(r, "mac", json_object_new_string(mac));
		}
		json_object_array_add(out, r);
	}
	free(jobs);
	if (ret < 0) {
		json_object_put(out);
		return ret;
	}
	json_print(out);
	return 0;
}

/* ---- apply, wait ---- */

static int hex_decode(const char *hex, unsigned char *out, size_t cap, size_t *len)
{
	size_t n = strlen(hex);

	if (n % 2 || n / 2 > cap)
		return -EINVAL;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		out[i] = (unsigned char)v;
	}
	*len = n / 2;
	return 0;
}

/* stdin: {"spec": {...}, "key": "hex"} → the spec (and the key, if asked). */
static int stdin_spec(struct spec_doc *doc, unsigned char *key, size_t *key_len, struct sb_err *err)
{
	_cleanup_buf_ struct sb_buf in = SB_BUF_INIT;
	struct json_object *o, *spec, *k;
	int ret;

	ret = read_all(STDIN_FILENO, &in, AGENT_STDIN_MAX, err);
	if (ret < 0)
		return ret;
	o = json_tokener_parse(in.data ? in.data : "");
	explicit_bzero(in.data, in.len);
	if (!o || !json_object_object_get_ex(o, "spec", &spec)) {
		json_object_put(o);
		return sb_err_set(err, EINVAL, "The control machine sent no cluster spec");
	}
	ret = spec_json_to(spec, doc, err);
	if (ret == 0 && key) {
		if (!json_object_object_get_ex(o, "key", &k) ||
		    hex_decode(json_object_get_string(k), key, 1024, key_len) < 0)
			ret = sb_err_set(err, EINVAL, "The control machine sent no munge key");
		/* json-c holds a copy of the key text; wipe it before freeing */
		else
			explicit_bzero((char *)json_object_get_string(k),
			               (size_t)json_object_get_string_len(k));
	}
	json_object_put(o);
	return ret;
}

static int agent_apply(const struct cli_ctx *ctx, int argc, char **argv, struct sb_err *err)
{
	static const struct option opts[] = {
	    {"host", required_argument, NULL, 'H'},
	    {"timeout", required_argument, NULL, 't'},
	    {"keep-on-failure", no_argument, NULL, 'k'},
	    {"wait-master", no_argument, NULL, 'w'},
	    {"recreate", no_argument, NULL, 'r'},
	    {"recreate-all", no_argument, NULL, 'R'},
	    {NULL, 0, NULL, 0},
	};
	struct spec_doc doc = {0};
	_cleanup_plan_ struct compose_plan *plan = NULL;
	_cleanup_docker_ struct docker *d = NULL;
	_cleanup_free_ char *key_path = NULL, *spec_label = NULL, *user_label = NULL;
	struct cli_cluster have = {0};
	struct apply_opts ao = {.cli = ctx, .host_filter = true, .timeout_sec = 180};
	unsigned char key[1024];
	size_t key_len = 0;
	unsigned host = 0;
	int lock_fd = -1; /* held until we exit */
	bool created, recreate = false, recreate_all = false;
	size_t n_synced = 0;
	int c, ret;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'H')
			ret = cli_parse_uint("--host", optarg, 0, 255, &host, err);
		else if (c == 't')
			ret = cli_parse_uint("--timeout", optarg, 1, 86400, &ao.timeout_sec, err);
		else if (c == 'w')
			ao.wait_master = true, ret = 0;
		else if (c == 'k')
			ao.keep_on_failure = true, ret = 0;
		else if (c == 'r')
			recreate = true, ret = 0;
		else if (c == 'R')
			recreate = recreate_all = true, ret = 0;
		else
			return cli_usage_error("agent apply", argv[optind - 1], err);
		if (ret < 0)
			return ret;
	}
	ret = stdin_spec(&doc, key, &key_len, err);
	if (ret == 0)
		ret = cli_lock_take(doc.spec.cluster, "host", &lock_fd, err);
	if (ret < 0)
		goto out;
	if (host >= doc.spec.n_hosts) {
		ret = sb_err_set(err, EINVAL, "Host index %u is not in the spec", host);
		goto out;
	}
	ret = cli_key_write(doc.spec.cluster, key, key_len, err);
	explicit_bzero(key, sizeof(key));
	if (ret < 0)
		goto out;
	/* the key lives in this host's own state directory */
	ret = cli_key_ensure(doc.spec.cluster, &key_path, &created, err);
	if (ret < 0)
		goto out;
	free(doc.spec.key_path);
	doc.spec.key_path = xstrdup(key_path);
	ret = compose_plan_build(&doc.spec, &plan, err);
	if (ret < 0)
		goto out;

	ret = docker_open(NULL, &d, err);
	if (ret < 0)
		goto out;
	ret = cli_cluster_load(d, doc.spec.cluster, &have, err);
	if (ret < 0)
		goto out;

	ao.host = host;
	if (doc.lan) {
		ao.parent = doc.lan[host].parent;
		ao.ip_range = doc.ip_range;
		ao.aux[0] = doc.lan[host].shim;
		ao.aux[1] = doc.lan[host].addr;
	}
	{
		struct json_object *sj = spec_json_from(&doc);
		spec_label = xasprintf("io.slurmbox.spec=%s",
		                       json_object_to_json_string_ext(sj, JSON_C_TO_STRING_PLAIN));
		json_object_put(sj);
	}
	user_label = xasprintf("io.slurmbox.user=%s", doc.spec.user.name);
	ao.extra_labels[ao.n_extra_labels++] = user_label;
	ao.extra_labels[ao.n_extra_labels++] = spec_label;
	if (recreate) {
		size_t n_removed = 0;

		/* this host's containers that differ; volumes and the key stay */
		ret = reconcile_remove_changed(d, plan, &ao, recreate_all, &have, &n_removed, err);
		if (ret < 0)
			goto out;
	}
	if (ret == 0) /* containers kept learn of new nodes before those start */
		ret = members_sync(d, plan, &doc, &ao, &have, &n_synced, err);
	if (ret == 0)
		ret = apply_plan(d, plan, &have, &ao, err);
	if (ret < 0)
		goto out;

	/* the host reaches its own containers only through a shim on the same parent */
	if (doc.lan && doc.lan[host].shim) {
		char name[16];
		uint32_t *routes = xcalloc(plan->n_nodes, sizeof(*routes));
		size_t n = 0;
		struct sb_err serr = SB_ERR_INIT;

		for (size_t i = 0; i < plan->n_nodes; i++)
			if (plan->nodes[i].host == host)
				routes[n++] = plan->nodes[i].ip;
		agent_shim_name(doc.spec.cluster, name);
		if (netconf_shim_ensure(name, doc.lan[host].parent,
		                        doc.spec.net_mode == COMPOSE_NET_IPVLAN
		                            ? NETCONF_SHIM_IPVLAN
		                            : NETCONF_SHIM_MACVLAN,
		                        doc.lan[host].shim, routes, n, &serr) < 0) {
			if (serr.code == EPERM)
				cli_warn("%s; this host will not reach its own containers",
				         serr.msg);
			else
				ret = sb_err_set(err, serr.code, "%s", serr.msg);
		}
		free(routes);
	}
	if (ret == 0) {
		struct json_object *r = json_object_new_object();
		json_object_object_add(r, "ok", json_object_new_boolean(true));
		json_print(r);
	}
out:
	cli_cluster_free(&have);
	spec_doc_free(&doc);
	return ret;
}

static int agent_wait(const struct cli_ctx *ctx, int argc, char **argv, struct sb_err *err)
{
	struct spec_doc doc = {0};
	_cleanup_plan_ struct compose_plan *plan = NULL;
	_cleanup_docker_ struct docker *d = NULL;
	unsigned timeout = 180;
	int ret;

	if (argc == 3 && strcmp(argv[1], "--timeout") == 0) {
		ret = cli_parse_uint("--timeout", argv[2], 1, 86400, &timeout, err);
		if (ret < 0)
			return ret;
	}
	ret = stdin_spec(&doc, NULL, NULL, err);
	if (ret == 0)
		ret = compose_plan_build(&doc.spec, &plan, err);
	if (ret == 0)
		ret = docker_open(NULL, &d, err);
	if (ret == 0)
		ret = apply_wait_ready(d, plan, timeout, ctx, err);
	spec_doc_free(&doc);
	return ret;
}

static int agent_down(const struct cli_ctx *ctx, int argc, char **argv, struct sb_err *err)
{
	_cleanup_docker_ struct docker *d = NULL;
	struct down_counts counts;
	struct json_object *r;
	bool purge = false, keep_key = false;
	bool exists = false;
	int lock_fd = -1; /* held until we exit */
	char name[16];
	int ret;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--purge") == 0)
			purge = true;
		else if (strcmp(argv[i], "--keep-key") == 0)
			keep_key = true;
		else
			return cli_usage_error("agent down", argv[i], err);
	}
	ret = cli_lock_take(ctx->cluster, "host", &lock_fd, err);
	if (ret < 0)
		return ret;
	ret = docker_open(NULL, &d, err);
	if (ret < 0)
		return ret;
	ret = down_local(d, ctx, ctx->cluster, purge, &counts, err);
	if (ret < 0)
		return ret;
	/* a host's copy of the key goes with its part; the control machine keeps the original */
	if (!purge && !keep_key) {
		ret = cli_state_remove(ctx->cluster, err);
		if (ret < 0)
			return ret;
	}
	agent_shim_name(ctx->cluster, name);
	if (netconf_link_exists(name, &exists, err) == 0 && exists) {
		ret = netconf_link_del(name, err);
		if (ret < 0)
			return ret;
		counts.links++;
	}
	r = json_object_new_object();
	json_object_object_add(r, "containers", json_object_new_int((int)counts.containers));
	json_object_object_add(r, "networks", json_object_new_int((int)counts.networks));
	json_object_object_add(r, "volumes", json_object_new_int((int)counts.volumes));
	json_object_object_add(r, "links", json_object_new_int((int)counts.links));
	json_print(r);
	return 0;
}

int cmd_agent(struct cli_ctx *ctx, int argc, char **argv, struct sb_err *err)
{
	if (argc < 2)
		return sb_err_input(
		    err, "agent: give a verb (facts, probe, apply, wait, down, "
		         "check, image-save, image-load); the control machine runs these");
	argc--;
	argv++;
	if (strcmp(argv[0], "facts") == 0)
		return agent_facts(ctx, argc, argv, err);
	if (strcmp(argv[0], "probe") == 0)
		return agent_probe(argc, argv, err);
	if (strcmp(argv[0], "apply") == 0)
		return agent_apply(ctx, argc, argv, err);
	if (strcmp(argv[0], "wait") == 0)
		return agent_wait(ctx, argc, argv, err);
	if (strcmp(argv[0], "down") == 0)
		return agent_down(ctx, argc, argv, err);
	if (strcmp(argv[0], "check") == 0)
		return agent_check(ctx, argc, argv, err);
	if (strcmp(argv[0], "image-save") == 0)
		return agent_image_save(argc, argv, err);
	if (strcmp(argv[0], "image-load") == 0)
		return agent_image_load(argc, argv, err);
	return sb_err_input(err, "agent: unknown verb '%s'", argv[0]);
}

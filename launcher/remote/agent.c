/* SPDX-License-Identifier: MIT */
/*
 * agent.c - `slurmbox [--name C] agent VERB`, one host's part of a cluster
 * that spans several hosts. The control machine runs these over ssh (or as
 * local processes for localhost):
 *
 *   facts [--parent IF] [--image TAG]... [--home PATH]   what this host is: JSON
 *   probe --parent IF --timeout MS IP...   which addresses answer on the LAN: JSON
 *   apply --host N [--recreate] < {"spec":…,"key":hex}  create and start this host's part
 *                                             (--recreate: first remove its containers that differ);
 *                                             report what it created (agent_apply.c)
 *   undo              < {"created":…}          remove what an apply reported
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
#include "../host/apply.h"
#include "../host/bridge.h"
#include "../host/shim.h"
#include "../host/health.h"
#include "../docker/docker_api.h"
#include "../host/spec_json.h"
#include "../../compose/compose.h"
#include "../../netconf/netconf.h"
#include "../host/down.h"
#include "../host/state.h"
#include "../util/json.h"
#include "../util/opt.h"
#include "../util/fanout.h"

#include <getopt.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>

/* ---- facts ---- */

/*
 * The macvlan and ipvlan networks of this engine: Docker 20.10 allows one
 * per parent interface, so the control machine's preflight names whose is
 * there. [{"name","driver","parent","subnet","cluster"}]; [] when unknown.
 */
static struct json_object *facts_lan_networks(struct json_object *list)
{
	struct json_object *out = json_object_new_array();

	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *net = json_object_array_get_idx(list, i), *x, *ipam, *cfg;
		const char *driver = cli_json_str(net, "Driver");
		struct json_object *r;

		if (!driver || (strcmp(driver, "macvlan") && strcmp(driver, "ipvlan")))
			continue;
		r = json_object_new_object();
		json_object_object_add(r, "name",
		                       json_object_new_string(cli_json_str(net, "Name") ?: ""));
		json_object_object_add(r, "driver", json_object_new_string(driver));
		json_object_object_get_ex(net, "Options", &x);
		json_object_object_add(r, "parent",
		                       json_object_new_string(cli_json_str(x, "parent") ?: ""));
		if (json_object_object_get_ex(net, "IPAM", &ipam) &&
		    json_object_object_get_ex(ipam, "Config", &cfg) &&
		    json_object_is_type(cfg, json_type_array) && json_object_array_length(cfg))
			json_object_object_add(
			    r, "subnet",
			    json_object_new_string(
			        cli_json_str(json_object_array_get_idx(cfg, 0), "Subnet") ?: ""));
		if (json_object_object_get_ex(net, "Labels", &x) &&
		    cli_json_str(x, COMPOSE_LABEL_CLUSTER))
			json_object_object_add(
			    r, "cluster",
			    json_object_new_string(cli_json_str(x, COMPOSE_LABEL_CLUSTER)));
		json_object_array_add(out, r);
	}
	return out;
}

/*
 * For a cluster on a bridge network: the subnet of the cluster's own network
 * if it exists, and every subnet in use here (routes and Docker networks),
 * from which the control machine picks a free one.
 */
static struct json_object *facts_bridge(struct docker *d, const char *cluster)
{
	struct json_object *o = json_object_new_object(), *used = json_object_new_array();
	struct sb_err err = SB_ERR_INIT;
	struct compose_cidr existing, *v = NULL;
	size_t n = 0;
	bool found = false;
	char text[32];

	if (bridge_subnet_existing(d, cluster, &existing, &found, &err) == 0 && found)
		json_object_object_add(
		    o, "subnet", json_object_new_string(compose_cidr_format(&existing, text)));
	if (bridge_subnets_used(d, &v, &n, &err) == 0)
		for (size_t i = 0; i < n; i++)
			json_object_array_add(
			    used, json_object_new_string(compose_cidr_format(&v[i], text)));
	free(v);
	json_object_object_add(o, "used", used);
	if (err.msg[0])
		json_object_object_add(o, "error", json_object_new_string(err.msg));
	return o;
}

/* One object named like the cluster's ("<cluster>-...") that is not the cluster's. */
static void taken_add(struct json_object *arr, const char *kind, const char *name,
                      struct json_object *labels, const char *cluster)
{
	const char *owner = labels ? cli_json_str(labels, COMPOSE_LABEL_CLUSTER) : NULL;
	size_t n = strlen(cluster);
	struct json_object *r;

	if (name && *name == '/')
		name++;
	if (!name || strncmp(name, cluster, n) != 0 || name[n] != '-' ||
	    (owner && strcmp(owner, cluster) == 0))
		return;
	r = json_object_new_object();
	json_object_object_add(r, "kind", json_object_new_string(kind));
	json_object_object_add(r, "name", json_object_new_string(name));
	if (owner)
		json_object_object_add(r, "owner", json_object_new_string(owner));
	json_object_array_add(arr, r);
}

/*
 * The containers, networks and volumes here whose names the cluster's would
 * be, but that are another cluster's or not slurmbox's: the control machine
 * refuses those of its plan before anything is made on any host.
 */
static struct json_object *facts_taken(struct docker *d, struct json_object *networks,
                                       const char *cluster)
{
	struct json_object *arr = json_object_new_array(), *list = NULL, *x;
	struct sb_err err = SB_ERR_INIT;

	if (docker_container_list(d, NULL, 0, &list, &err) == 0 &&
	    json_object_is_type(list, json_type_array))
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			struct json_object *c = json_object_array_get_idx(list, i), *names;
			if (json_object_object_get_ex(c, "Names", &names) &&
			    json_object_is_type(names, json_type_array) &&
			    json_object_array_length(names)) {
				x = NULL;
				json_object_object_get_ex(c, "Labels", &x);
				taken_add(
				    arr, "container",
				    json_object_get_string(json_object_array_get_idx(names, 0)), x,
				    cluster);
			}
		}
	for (size_t i = 0; i < json_object_array_length(networks); i++) {
		struct json_object *net = json_object_array_get_idx(networks, i);
		x = NULL;
		json_object_object_get_ex(net, "Labels", &x);
		taken_add(arr, "network", cli_json_str(net, "Name"), x, cluster);
	}
	json_object_put(list);
	list = NULL;
	if (docker_volume_list(d, NULL, 0, &list, &err) == 0 &&
	    json_object_is_type(list, json_type_array))
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			struct json_object *vol = json_object_array_get_idx(list, i);
			x = NULL;
			json_object_object_get_ex(vol, "Labels", &x);
			taken_add(arr, "volume", cli_json_str(vol, "Name"), x, cluster);
		}
	json_object_put(list);
	return arr;
}

/* --home PATH as this host sees it: {"path": resolved} or {"error": why, with the fix}. */
static struct json_object *facts_home(const char *path)
{
	struct json_object *o = json_object_new_object();
	_cleanup_free_ char *why = NULL;
	char real[PATH_MAX];
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		why = xasprintf("--home '%s' is not a directory; create it first: mkdir -p '%s'",
		                path, path);
	else if (!realpath(path, real))
		why = xasprintf("--home '%s': %s", path, strerror(errno));
	json_object_object_add(o, why ? "error" : "path", json_object_new_string(why ? why : real));
	return o;
}

static struct json_object *facts_docker(const char *cluster, char **images, size_t n_images,
                                        struct json_object **cluster_out)
{
	struct json_object *o = json_object_new_object();
	_cleanup_docker_ struct docker *d = NULL;
	struct sb_err err = SB_ERR_INIT;
	struct docker_info info;
	struct cli_cluster have = {0};
	struct json_object *networks = NULL;

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
	/* one list of the engine's networks for the LAN's and the taken names */
	if (docker_network_list(d, NULL, 0, &networks, &(struct sb_err)SB_ERR_INIT) < 0 ||
	    !json_object_is_type(networks, json_type_array)) {
		json_object_put(networks);
		networks = json_object_new_array();
	}
	json_object_object_add(o, "lan_networks", facts_lan_networks(networks));
	json_object_object_add(o, "bridge", facts_bridge(d, cluster));
	json_object_object_add(o, "taken", facts_taken(d, networks, cluster));
	json_object_put(networks);
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

/* May this process change the host's links (CAP_NET_ADMIN, effective)? */
static bool facts_net_admin(void)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
	unsigned long long eff = 0;
	char line[256];

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	return eff & (1ULL << 12); /* CAP_NET_ADMIN */
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
	    {"home", required_argument, NULL, 'H'},
	    {NULL, 0, NULL, 0},
	};
	struct json_object *o = json_object_new_object(), *cluster = NULL;
	const char *home = NULL;
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
		else if (c == 'H' && *optarg == '/')
			home = optarg;
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
	json_object_object_add(o, "net_admin", json_object_new_boolean(facts_net_admin()));
	json_object_object_add(o, "time", json_object_new_int64((int64_t)time(NULL)));
	json_object_object_add(o, "docker", facts_docker(ctx->cluster, images, n_images, &cluster));
	json_object_object_add(o, "uplink", facts_uplink(parent));
	if (home)
		json_object_object_add(o, "home", facts_home(home));
	if (cluster)
		json_object_object_add(o, "cluster", cluster);
	free(images);
	agent_json_print(o);
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
	util_fanout(n, probe_one, jobs, sizeof(*jobs));
	out = json_object_new_array();
	ret = 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *r = json_object_new_object();
		char ip[16], mac[18];

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
	agent_json_print(out);
	return 0;
}

/* ---- wait ---- */

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
	/* one line; then stdin stays open, and its end (the control machine's Ctrl-C) stops us */
	ret = agent_stdin_spec(&doc, NULL, NULL, true, err);
	if (ret == 0)
		agent_stdin_watch_start();
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
	host_shim_name(ctx->cluster, name);
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
	agent_json_print(r);
	return 0;
}

int cmd_agent(struct cli_ctx *ctx, int argc, char **argv, struct sb_err *err)
{
	if (argc < 2)
		return sb_err_input(
		    err, "agent: give a verb (facts, probe, apply, undo, wait, down, "
		         "check, image-save, image-load); the control machine runs these");
	argc--;
	argv++;
	if (strcmp(argv[0], "facts") == 0)
		return agent_facts(ctx, argc, argv, err);
	if (strcmp(argv[0], "probe") == 0)
		return agent_probe(argc, argv, err);
	if (strcmp(argv[0], "apply") == 0)
		return agent_apply(ctx, argc, argv, err);
	if (strcmp(argv[0], "undo") == 0)
		return agent_undo(ctx, argc, argv, err);
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

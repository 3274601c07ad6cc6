/* SPDX-License-Identifier: MIT */
/*
 * host_facts.c - what this host is, for the control machine's preflight and
 * plan (ops.h): the engine, its images and networks, the names the cluster
 * would take, the subnets in use, the uplink, how it sees --home, and what
 * of the cluster is already here.
 */
#include "ops.h"
#include "bridge.h"
#include "objects.h"
#include "spec_json.h"
#include "state.h"
#include "../docker/docker_api.h"
#include "../util/json.h"
#include "../../compose/compose.h"
#include "../../netconf/netconf.h"

#include <json-c/json.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

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
		const char *driver = util_json_str(net, "Driver");
		struct json_object *r;

		if (!driver || (strcmp(driver, "macvlan") && strcmp(driver, "ipvlan")))
			continue;
		r = json_object_new_object();
		json_object_object_add(r, "name",
		                       json_object_new_string(util_json_str(net, "Name") ?: ""));
		json_object_object_add(r, "driver", json_object_new_string(driver));
		json_object_object_get_ex(net, "Options", &x);
		json_object_object_add(r, "parent",
		                       json_object_new_string(util_json_str(x, "parent") ?: ""));
		if (json_object_object_get_ex(net, "IPAM", &ipam) &&
		    json_object_object_get_ex(ipam, "Config", &cfg) &&
		    json_object_is_type(cfg, json_type_array) && json_object_array_length(cfg))
			json_object_object_add(
			    r, "subnet",
			    json_object_new_string(
			        util_json_str(json_object_array_get_idx(cfg, 0), "Subnet") ?: ""));
		if (json_object_object_get_ex(net, "Labels", &x) &&
		    util_json_str(x, COMPOSE_LABEL_CLUSTER))
			json_object_object_add(
			    r, "cluster",
			    json_object_new_string(util_json_str(x, COMPOSE_LABEL_CLUSTER)));
		json_object_array_add(out, r);
	}
	return out;
}

/*
 * For a cluster on a bridge network: the subnet of the cluster's own network
 * if it exists, and every subnet in use here (routes and Docker networks),
 * from which the control machine picks a free one.
 */
static struct json_object *facts_bridge(struct json_object *networks, const struct sb_err *list_err,
                                        const char *cluster)
{
	struct json_object *o = json_object_new_object(), *used = json_object_new_array();
	struct sb_err err = *list_err;
	struct compose_cidr existing, *v = NULL;
	size_t n = 0;
	char text[32];

	if (bridge_subnet_existing(networks, cluster, &existing))
		json_object_object_add(
		    o, "subnet", json_object_new_string(compose_cidr_format(&existing, text)));
	if (bridge_subnets_used(networks, &v, &n,
	                        err.msg[0] ? &(struct sb_err)SB_ERR_INIT : &err) == 0)
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
	const char *owner = labels ? util_json_str(labels, COMPOSE_LABEL_CLUSTER) : NULL;
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
		taken_add(arr, "network", util_json_str(net, "Name"), x, cluster);
	}
	json_object_put(list);
	list = NULL;
	if (docker_volume_list(d, NULL, 0, &list, &err) == 0 &&
	    json_object_is_type(list, json_type_array))
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			struct json_object *vol = json_object_array_get_idx(list, i);
			x = NULL;
			json_object_object_get_ex(vol, "Labels", &x);
			taken_add(arr, "volume", util_json_str(vol, "Name"), x, cluster);
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

static struct json_object *facts_docker(const char *cluster, const char *const *images,
                                        size_t n_images, struct json_object **cluster_out)
{
	struct json_object *o = json_object_new_object();
	_cleanup_docker_ struct docker *d = NULL;
	struct sb_err err = SB_ERR_INIT;
	struct docker_info info;
	struct host_cluster have = {0};
	struct json_object *networks = NULL;
	struct sb_err list_err = SB_ERR_INIT;

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
	if (docker_network_list(d, NULL, 0, &networks, &list_err) < 0 ||
	    !json_object_is_type(networks, json_type_array)) {
		json_object_put(networks);
		networks = json_object_new_array();
	}
	json_object_object_add(o, "lan_networks", facts_lan_networks(networks));
	json_object_object_add(o, "bridge", facts_bridge(networks, &list_err, cluster));
	json_object_object_add(o, "taken", facts_taken(d, networks, cluster));
	json_object_put(networks);
	if (host_cluster_load(d, cluster, &have, &err) == 0) {
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
	host_cluster_free(&have);
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

int host_facts(const struct host_facts_req *r, struct json_object **out, struct sb_err *err)
{
	struct json_object *o = json_object_new_object(), *cluster = NULL;
	char self[PATH_MAX];
	ssize_t n;
	struct utsname u;

	(void)err;
	uname(&u);
	json_object_object_add(o, "version", json_object_new_string(SLURMBOX_VERSION));
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		json_object_object_add(o, "self", json_object_new_string(self));
	}
	json_object_object_add(o, "arch", json_object_new_string(u.machine));
	json_object_object_add(o, "hostname", json_object_new_string(u.nodename));
	json_object_object_add(o, "euid", json_object_new_int((int)geteuid()));
	json_object_object_add(o, "net_admin", json_object_new_boolean(facts_net_admin()));
	json_object_object_add(o, "time", json_object_new_int64((int64_t)time(NULL)));
	json_object_object_add(o, "docker",
	                       facts_docker(r->cluster, r->images, r->n_images, &cluster));
	json_object_object_add(o, "uplink", facts_uplink(r->parent));
	if (r->home)
		json_object_object_add(o, "home", facts_home(r->home));
	if (cluster)
		json_object_object_add(o, "cluster", cluster);
	*out = o;
	return 0;
}

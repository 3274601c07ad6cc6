/* SPDX-License-Identifier: MIT */
/*
 * bridge.c - choosing the subnet of a single host's bridge network: what
 * this host already routes (netconf) and what Docker's networks already
 * use, so the cluster's subnet overlaps neither.
 */
#include "bridge.h"
#include "../util/json.h"

#include <json-c/json.h>
#include "../../netconf/netconf.h"

/* The first subnet of a network of GET /networks, if it has one. */
static bool network_subnet(struct json_object *net, size_t j, struct compose_cidr *out)
{
	struct json_object *ipam, *cfg, *sub;
	struct sb_err ignored = SB_ERR_INIT;

	return json_object_object_get_ex(net, "IPAM", &ipam) &&
	       json_object_object_get_ex(ipam, "Config", &cfg) &&
	       json_object_is_type(cfg, json_type_array) && j < json_object_array_length(cfg) &&
	       json_object_object_get_ex(json_object_array_get_idx(cfg, j), "Subnet", &sub) &&
	       json_object_is_type(sub, json_type_string) &&
	       compose_cidr_parse("Subnet", json_object_get_string(sub), out, &ignored) == 0;
}

/* How many IPAM configs a network has (0 if it has none, or they are not a list). */
static size_t network_n_configs(struct json_object *net)
{
	struct json_object *ipam, *cfg;

	if (!json_object_object_get_ex(net, "IPAM", &ipam) ||
	    !json_object_object_get_ex(ipam, "Config", &cfg) ||
	    !json_object_is_type(cfg, json_type_array))
		return 0;
	return json_object_array_length(cfg);
}

int bridge_subnets_used(struct json_object *nets, struct compose_cidr **out, size_t *n,
                        struct sb_err *err)
{
	struct netconf_route4 *routes = NULL;
	size_t n_routes = 0, n_subnets = 0, k = 0;
	int ret;

	ret = netconf_routes_list(&routes, &n_routes, err);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < json_object_array_length(nets); i++)
		n_subnets += network_n_configs(json_object_array_get_idx(nets, i));
	*out = xcalloc(n_routes + n_subnets + 1, sizeof(**out));
	for (size_t i = 0; i < n_routes; i++) {
		if (routes[i].prefix == 0)
			continue; /* the default route overlaps everything */
		(*out)[k].addr = routes[i].dst;
		(*out)[k].prefix = routes[i].prefix;
		k++;
	}
	for (size_t i = 0; i < json_object_array_length(nets); i++) {
		struct json_object *net = json_object_array_get_idx(nets, i);

		for (size_t j = 0; j < network_n_configs(net); j++)
			if (network_subnet(net, j, &(*out)[k]))
				k++;
	}
	*n = k;
	free(routes);
	return 0;
}

bool bridge_subnet_existing(struct json_object *nets, const char *cluster, struct compose_cidr *out)
{
	for (size_t i = 0; i < json_object_array_length(nets); i++) {
		struct json_object *net = json_object_array_get_idx(nets, i), *labels;
		const char *owner;

		if (!json_object_object_get_ex(net, "Labels", &labels) ||
		    !(owner = util_json_str(labels, COMPOSE_LABEL_CLUSTER)) ||
		    strcmp(owner, cluster) != 0)
			continue;
		if (network_subnet(net, 0, out))
			return true;
	}
	return false;
}

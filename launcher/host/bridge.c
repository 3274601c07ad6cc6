/* SPDX-License-Identifier: MIT */
/*
 * bridge.c - choosing the subnet of a single host's bridge network: what
 * this host already routes (netconf) and what Docker's networks already
 * use, so the cluster's subnet overlaps neither.
 */
#include "bridge.h"
#include "../docker/docker_api.h"
#include "../../netconf/netconf.h"

/* The subnets in use here: the host's routes and every Docker network's. */
int bridge_subnets_used(struct docker *d, struct compose_cidr **out, size_t *n, struct sb_err *err)
{
	struct netconf_route4 *routes = NULL;
	struct json_object *nets = NULL;
	size_t n_routes = 0, k = 0;
	int ret;

	ret = netconf_routes_list(&routes, &n_routes, err);
	if (ret < 0)
		return ret;
	ret = docker_network_list(d, NULL, 0, &nets, err);
	if (ret < 0) {
		free(routes);
		return ret;
	}
	*out = xcalloc(n_routes + json_object_array_length(nets) * 2 + 1, sizeof(**out));
	for (size_t i = 0; i < n_routes; i++) {
		if (routes[i].prefix == 0)
			continue; /* the default route overlaps everything */
		(*out)[k].addr = routes[i].dst;
		(*out)[k].prefix = routes[i].prefix;
		k++;
	}
	for (size_t i = 0; i < json_object_array_length(nets); i++) {
		struct json_object *ipam, *cfg;
		struct json_object *net = json_object_array_get_idx(nets, i);

		if (!json_object_object_get_ex(net, "IPAM", &ipam) ||
		    !json_object_object_get_ex(ipam, "Config", &cfg) ||
		    !json_object_is_type(cfg, json_type_array))
			continue;
		for (size_t j = 0; j < json_object_array_length(cfg); j++) {
			struct json_object *sub;
			struct sb_err ignored = SB_ERR_INIT;
			struct compose_cidr c;

			if (!json_object_object_get_ex(json_object_array_get_idx(cfg, j), "Subnet",
			                               &sub))
				continue;
			if (compose_cidr_parse("Subnet", json_object_get_string(sub), &c,
			                       &ignored) == 0)
				(*out)[k++] = c;
		}
	}
	*n = k;
	free(routes);
	json_object_put(nets);
	return 0;
}

/* The subnet of the cluster's existing network, if there is one. */
int bridge_subnet_existing(struct docker *d, const char *cluster, struct compose_cidr *out,
                           bool *found, struct sb_err *err)
{
	_cleanup_free_ char *label = xasprintf("%s=%s", COMPOSE_LABEL_CLUSTER, cluster);
	const char *labels[] = {label};
	struct json_object *nets = NULL;
	int ret;

	*found = false;
	ret = docker_network_list(d, labels, 1, &nets, err);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < json_object_array_length(nets) && !*found; i++) {
		struct json_object *ipam, *cfg, *sub;
		struct json_object *net = json_object_array_get_idx(nets, i);
		struct sb_err ignored = SB_ERR_INIT;

		if (json_object_object_get_ex(net, "IPAM", &ipam) &&
		    json_object_object_get_ex(ipam, "Config", &cfg) &&
		    json_object_is_type(cfg, json_type_array) && json_object_array_length(cfg) &&
		    json_object_object_get_ex(json_object_array_get_idx(cfg, 0), "Subnet", &sub) &&
		    compose_cidr_parse("Subnet", json_object_get_string(sub), out, &ignored) == 0)
			*found = true;
	}
	json_object_put(nets);
	return 0;
}

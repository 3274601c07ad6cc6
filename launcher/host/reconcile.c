/* SPDX-License-Identifier: MIT */
/*
 * reconcile.c - the diff `up` shows when it refuses a change, and the
 * removal of the containers that differ for `up --recreate`.
 */
#include "reconcile.h"
#include "../docker/docker_api.h"
#include "../util/json.h"
#include "../util/progress.h"

static bool str_same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static size_t doc_diff(const struct spec_doc *old, const struct spec_doc *new, bool membership,
                       struct sb_buf *out)
{
	size_t n = membership ? compose_spec_diff(&old->spec, &new->spec, out)
	                      : compose_spec_settings_diff(&old->spec, &new->spec, out);

	if (!str_same(old->ip_range, new->ip_range)) {
		sb_buf_printf(out, "ip-range: %s -> %s\n", old->ip_range ? old->ip_range : "(none)",
		              new->ip_range ? new->ip_range : "(none)");
		n++;
	}
	for (size_t i = 0; old->lan && new->lan &&i < new->spec.n_hosts; i++)
		for (size_t k = 0; k < old->spec.n_hosts; k++)
			if (str_same(old->spec.hosts[k].name, new->spec.hosts[i].name) &&
			    !str_same(old->lan[k].parent, new->lan[i].parent)) {
				sb_buf_printf(out, "parent on %s: %s -> %s\n",
				              new->spec.hosts[i].name,
				              old->lan[k].parent ? old->lan[k].parent : "(none)",
				              new->lan[i].parent ? new->lan[i].parent : "(none)");
				n++;
			}
	return n;
}

size_t reconcile_diff(const struct spec_doc *old, const struct spec_doc *new, struct sb_buf *out)
{
	return doc_diff(old, new, true, out);
}

size_t reconcile_settings_diff(const struct spec_doc *old, const struct spec_doc *new,
                               struct sb_buf *out)
{
	return doc_diff(old, new, false, out);
}

int reconcile_remove_changed(struct docker *d, const struct compose_plan *plan,
                             const struct apply_opts *o, struct host_cluster *have,
                             size_t *n_removed, struct sb_err *err)
{
	int ret = 0;

	*n_removed = 0;
	/* workers first, the master last: slurmctld sees its nodes go, then saves and stops */
	for (size_t i = have->n_nodes; i-- > 0 && ret == 0;) {
		const struct host_node *h = &have->nodes[i];
		const struct compose_node *p = compose_plan_node(plan, h->node);

		/* have holds this engine's containers only, so one the plan lacks is ours to remove */
		if (p && (!apply_node_here(o, p) || strcmp(h->hash, p->hash) == 0))
			continue;
		if (!p)
			util_info(o->cli, "  Removing %s (not in the new settings)", h->node);
		else
			util_info(o->cli, "  Re-creating %s (settings changed)", h->node);
		if (strcmp(h->state, "running") == 0)
			ret = docker_container_stop(d, h->id, APPLY_STOP_SEC, err);
		if (ret == 0)
			ret = docker_container_remove(d, h->id, err);
		if (ret < 0)
			return sb_err_wrap(err, "Removing container '%s'", h->container);
		(*n_removed)++;
	}
	if (*n_removed) {
		host_cluster_free(have);
		ret = host_cluster_load(d, plan->cluster, have, err);
	}
	return ret;
}

int reconcile_network_drop(struct docker *d, const struct compose_plan *plan, struct sb_err *err)
{
	_cleanup_free_ char *label = xasprintf("%s=%s", COMPOSE_LABEL_CLUSTER, plan->cluster);
	const char *labels[] = {label};
	struct json_object *nets = NULL;
	char want[32];
	int ret;

	compose_cidr_format(&plan->network.subnet, want);
	ret = docker_network_list(d, labels, 1, &nets, err);
	for (size_t i = 0; ret == 0 && i < json_object_array_length(nets); i++) {
		struct json_object *net = json_object_array_get_idx(nets, i), *ipam, *cfg, *sub;
		const char *name = util_json_str(net, "Name"), *id = util_json_str(net, "Id");

		if (!name || !id || strcmp(name, plan->network.name) != 0)
			continue;
		if (json_object_object_get_ex(net, "IPAM", &ipam) &&
		    json_object_object_get_ex(ipam, "Config", &cfg) &&
		    json_object_is_type(cfg, json_type_array) && json_object_array_length(cfg) &&
		    json_object_object_get_ex(json_object_array_get_idx(cfg, 0), "Subnet", &sub) &&
		    strcmp(json_object_get_string(sub), want) == 0)
			continue; /* the same network: kept */
		util_info(NULL, "  Re-creating network %s (subnet changed)", name);
		ret = docker_network_remove(d, id, err);
		if (ret < 0)
			ret = sb_err_wrap(err, "Removing network '%s'", name);
	}
	json_object_put(nets);
	return ret;
}

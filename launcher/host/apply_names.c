/* SPDX-License-Identifier: MIT */
/*
 * apply_names.c - whose is the object under a name the plan uses? A
 * container, network or volume that carries another cluster's label, or
 * none, is never adopted or removed: `up` refuses before the first change.
 */
#include "apply.h"
#include "../docker/docker_api.h"
#include "../util/json.h"

int apply_object_owner(struct docker *d, enum apply_undo_kind kind, const char *name, bool *exists,
                       char **owner, struct sb_err *err)
{
	struct json_object *o = NULL;
	struct json_object *cfg, *lab = NULL;
	const char *v;
	int ret;

	*exists = false;
	*owner = NULL;
	switch (kind) {
	case APPLY_UNDO_CONTAINER:
		ret = docker_container_inspect(d, name, &o, err);
		if (ret == 0 && json_object_object_get_ex(o, "Config", &cfg))
			json_object_object_get_ex(cfg, "Labels", &lab);
		break;
	case APPLY_UNDO_NETWORK:
		ret = docker_network_inspect(d, name, &o, err);
		if (ret == 0)
			json_object_object_get_ex(o, "Labels", &lab);
		break;
	case APPLY_UNDO_VOLUME:
	default:
		ret = docker_volume_inspect(d, name, &o, err);
		if (ret == 0)
			json_object_object_get_ex(o, "Labels", &lab);
		break;
	}
	if (ret == 0) {
		*exists = true;
		v = lab ? util_json_str(lab, COMPOSE_LABEL_CLUSTER) : NULL;
		*owner = v ? xstrdup(v) : NULL;
	} else if (ret == -ENOENT) {
		*err = (struct sb_err)SB_ERR_INIT;
		ret = 0;
	}
	json_object_put(o);
	return ret;
}

void apply_name_taken_print(struct sb_buf *problems, const char *host, const char *what,
                            const char *name, const char *owner)
{
	const char *rm = strcmp(what, "container") == 0 ? "rm -f"
	                 : strcmp(what, "network") == 0 ? "network rm"
	                                                : "volume rm";

	sb_buf_printf(problems, "  %s%s", host ? host : "", host ? ": " : "");
	if (owner)
		sb_buf_printf(problems, "%s '%s' belongs to slurmbox cluster '%s'\n", what, name,
		              owner);
	else
		sb_buf_printf(problems, "%s '%s' exists and is not slurmbox's (docker %s %s)\n",
		              what, name, rm, name);
}

struct names_kind {
	enum apply_undo_kind kind;
	const char *what;
};

static void names_one(struct docker *d, const struct names_kind *k, const char *name,
                      const char *cluster, struct sb_buf *problems, struct sb_err *err)
{
	_cleanup_free_ char *owner = NULL;
	bool exists;

	if (err->code || apply_object_owner(d, k->kind, name, &exists, &owner, err) < 0)
		return;
	if (!exists || (owner && strcmp(owner, cluster) == 0))
		return;
	apply_name_taken_print(problems, NULL, k->what, name, owner);
}

int apply_names_check(struct docker *d, const struct compose_plan *plan,
                      const struct host_cluster *have, const struct apply_opts *o,
                      struct sb_err *err)
{
	static const struct names_kind net = {APPLY_UNDO_NETWORK, "network"},
	                               vol = {APPLY_UNDO_VOLUME, "volume"},
	                               ctr = {APPLY_UNDO_CONTAINER, "container"};
	_cleanup_buf_ struct sb_buf problems = SB_BUF_INIT;

	names_one(d, &net, plan->network.name, plan->cluster, &problems, err);
	for (size_t i = 0; i < plan->n_volumes; i++)
		if (!o->host_filter || plan->volumes[i].host == o->host)
			names_one(d, &vol, plan->volumes[i].name, plan->cluster, &problems, err);
	for (size_t i = 0; i < plan->n_nodes; i++)
		if (apply_node_here(o, &plan->nodes[i]) &&
		    !host_cluster_node(have, plan->nodes[i].name))
			names_one(d, &ctr, plan->nodes[i].container, plan->cluster, &problems, err);
	if (err->code)
		return -err->code;
	if (problems.len)
		return sb_err_input(err,
		                    "Cluster '%s' would use names that are taken:\n%sRemove "
		                    "those objects, or choose another name with --name",
		                    plan->cluster, problems.data);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* objects.c - a cluster's containers on one engine, found by label (see objects.h). */
#include "objects.h"
#include "../docker/docker_api.h"
#include "../util/json.h"
#include "../../compose/compose.h"

/* Members that may be missing read as "" in the look-ups below. */
#define json_str(o, key) (util_json_str((o), (key)) ?: "")

static int node_order(const void *a, const void *b)
{
	const struct host_node *x = a, *y = b;
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

int host_cluster_load(struct docker *d, const char *cluster, struct host_cluster *out,
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
		struct host_node *node = &out->nodes[out->n_nodes];
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

void host_cluster_free(struct host_cluster *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_nodes; i++)
		host_node_free(&c->nodes[i]);
	free(c->nodes);
	c->nodes = NULL;
	c->n_nodes = 0;
}

const struct host_node *host_cluster_node(const struct host_cluster *c, const char *node)
{
	for (size_t i = 0; i < c->n_nodes; i++)
		if (strcmp(c->nodes[i].node, node) == 0)
			return &c->nodes[i];
	return NULL;
}

int host_node_unknown(const struct host_cluster *c, const char *cluster, const char *node,
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

int host_node_find(struct docker *d, const char *cluster, const char *node, struct host_node *out,
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

void host_node_free(struct host_node *n)
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

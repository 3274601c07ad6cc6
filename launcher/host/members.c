/* SPDX-License-Identifier: MIT */
/*
 * members.c - /etc/hosts brought to the plan's inside running containers
 * (see members.h).
 */
#include "members.h"
#include "../docker/docker_api.h"
#include "reconcile.h"

#define SYNC_MS 30000

/* Does the container's spec label describe the same cluster as `now`? */
static bool label_same(const char *label, const struct spec_doc *now)
{
	struct spec_doc was = {0};
	struct sb_err ignored = SB_ERR_INIT;
	struct json_object *o = label && *label ? json_tokener_parse(label) : NULL;
	_cleanup_buf_ struct sb_buf text = SB_BUF_INIT;
	bool same = false;

	if (o && spec_json_to(o, &was, &ignored) == 0)
		same = reconcile_diff(&was, now, &text) == 0;
	json_object_put(o);
	spec_doc_free(&was);
	return same;
}

/* argv in the container as root; `what` names it in an error. */
static int run_root(struct docker *d, const char *id, const char *what, const char *const *argv,
                    struct sb_buf *out, int timeout_ms, struct sb_err *err)
{
	int status = -1;
	int ret = docker_exec_capture(d, id, argv, -1, out, NULL, &status, timeout_ms, err);

	if (ret == 0 && status != 0)
		ret = sb_err_set(err, EIO, "%s: exit status %d", what, status);
	return ret;
}

/* Every node's "ip<TAB>name" line in /etc/hosts, as Docker writes ExtraHosts. */
static int node_hosts_sync(struct docker *d, const struct compose_plan *plan, const char *id,
                           struct sb_err *err)
{
	const char **argv = xcalloc(plan->n_nodes + 5, sizeof(*argv));
	char **lines = xcalloc(plan->n_nodes, sizeof(*lines));
	size_t k = 0;
	int ret;

	argv[k++] = "sh";
	argv[k++] = "-c";
	argv[k++] = "for l; do grep -qxF \"$l\" /etc/hosts || printf '%s\\n' \"$l\" >>/etc/hosts; "
	            "done";
	argv[k++] = "sh";
	for (size_t i = 0; i < plan->n_nodes; i++) {
		char ip[16];

		lines[i] = xasprintf("%s\t%s", compose_ipv4_format(plan->nodes[i].ip, ip),
		                     plan->nodes[i].name);
		argv[k++] = lines[i];
	}
	ret = run_root(d, id, "Adding the hosts entries", argv, NULL, SYNC_MS, err);
	for (size_t i = 0; i < plan->n_nodes; i++)
		free(lines[i]);
	free(lines);
	free(argv);
	return ret;
}

int members_sync(struct docker *d, const struct compose_plan *plan, const struct spec_doc *now,
                 const struct apply_opts *o, const struct host_cluster *have, size_t *n_synced,
                 struct sb_err *err)
{
	int ret = 0;

	*n_synced = 0;
	for (size_t i = 0; i < plan->n_nodes && ret == 0; i++) {
		const struct compose_node *n = &plan->nodes[i];
		const struct host_node *h = host_cluster_node(have, n->name);

		if (!apply_node_here(o, n) || !h || strcmp(h->state, "running") != 0 ||
		    strcmp(h->hash, n->hash) != 0 || label_same(h->spec, now))
			continue;
		ret = node_hosts_sync(d, plan, h->id, err);
		if (ret < 0)
			ret = sb_err_wrap(err, "Updating the node list in '%s'", h->container);
		(*n_synced)++;
	}
	return ret;
}

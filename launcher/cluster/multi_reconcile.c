/* SPDX-License-Identifier: MIT */
/*
 * multi_reconcile.c - a multi-host `up` on a cluster that exists: the nodes'
 * and shims' addresses (the nodes kept keep theirs), which nodes a new spec
 * keeps, whether it only adds hosts, which containers differ, and the part
 * of hosts no longer listed removed.
 * A node that already exists keeps its address: the same name on the same
 * host as in the previous spec. Only the others are chosen anew, so adding
 * a host leaves the running nodes (the master first of all) where they are.
 */
#include "multi_int.h"
#include "../host/reconcile.h"
#include "../remote/remote.h"
#include "../util/json.h"
#include "../util/progress.h"

/* Node i of a spec (plan order: master, then workers by host): its host and name number. */
static void node_at(const struct compose_spec *s, size_t i, size_t *host, size_t *number)
{
	size_t k = 1;

	*host = 0;
	*number = 0; /* the master */
	if (i == 0)
		return;
	for (size_t h = 0; h < s->n_hosts; h++) {
		unsigned w = compose_spec_host_workers(s, h);

		if (i < k + w) {
			*host = h;
			*number = compose_spec_node_number(s, i); /* worker-<number> */
			return;
		}
		k += w;
	}
}

static bool same_name(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* The address node i of `now` had in `prev` (same name, same host), or 0. */
static uint32_t prev_addr(const struct spec_doc *prev, const struct compose_spec *now, size_t i)
{
	size_t h, num, ph, pnum;

	node_at(now, i, &h, &num);
	for (size_t j = 0; j < compose_spec_node_count(&prev->spec) && j < prev->spec.n_node_ips;
	     j++) {
		node_at(&prev->spec, j, &ph, &pnum);
		if (pnum == num && same_name(prev->spec.hosts[ph].name, now->hosts[h].name))
			return prev->spec.node_ips[j];
	}
	return 0;
}

void multi_numbers_assign(struct spec_doc *doc, const struct spec_doc *prev, bool have_prev)
{
	size_t n = compose_spec_node_count(&doc->spec), n_prev = 0, k = 1;
	bool *used = xcalloc(COMPOSE_MAX_NUMBER + 1, sizeof(*used));
	unsigned next = 1;

	free(doc->node_numbers);
	doc->node_numbers = xcalloc(n, sizeof(*doc->node_numbers));
	if (have_prev)
		n_prev = compose_spec_node_count(&prev->spec);
	/* a worker that stays keeps its number: the j-th worker of a host it had */
	for (size_t h = 0; h < doc->spec.n_hosts; h++) {
		unsigned w = compose_spec_host_workers(&doc->spec, h);

		for (unsigned j = 0; j < w; j++, k++) {
			unsigned seen = 0;

			for (size_t i = 1; i < n_prev && !doc->node_numbers[k]; i++) {
				size_t ph, num;

				node_at(&prev->spec, i, &ph, &num);
				if (same_name(prev->spec.hosts[ph].name, doc->spec.hosts[h].name) &&
				    seen++ == j && num >= 1 && num <= COMPOSE_MAX_NUMBER &&
				    !used[num]) {
					doc->node_numbers[k] = (unsigned)num;
					used[num] = true;
				}
			}
		}
	}
	/*
	 * The new ones: the lowest numbers no worker of prev had, so a name
	 * never moves to another host in one `up` (the worker that leaves has
	 * it until then); a number comes free once its worker is gone.
	 */
	for (size_t i = 1; i < n_prev; i++) {
		size_t ph, num;

		node_at(&prev->spec, i, &ph, &num);
		if (num <= COMPOSE_MAX_NUMBER)
			used[num] = true;
	}
	for (size_t i = 1; i < n; i++) {
		while (!doc->node_numbers[i] && next <= COMPOSE_MAX_NUMBER && used[next])
			next++;
		if (!doc->node_numbers[i] && next <= COMPOSE_MAX_NUMBER)
			used[doc->node_numbers[i] = next] = true;
	}
	free(used);
	doc->spec.node_numbers = doc->node_numbers;
	doc->spec.n_node_numbers = n;
}

bool multi_spec_grows(const struct spec_doc *prev, const struct spec_doc *doc)
{
	struct spec_doc head = *doc; /* doc's first hosts: the same as prev? */
	_cleanup_buf_ struct sb_buf text = SB_BUF_INIT;
	size_t n_prev = compose_spec_node_count(&prev->spec);

	if (doc->spec.n_hosts <= prev->spec.n_hosts)
		return false;
	head.spec.n_hosts = prev->spec.n_hosts;
	if (compose_spec_node_count(&head.spec) != n_prev)
		return false;
	if (head.spec.node_ips)
		head.spec.n_node_ips = n_prev;
	return reconcile_diff(prev, &head, &text) == 0;
}

static struct json_object *facts_nodes(const struct multi_host *h)
{
	struct json_object *c = NULL, *nodes = NULL;

	if (h->facts && json_object_object_get_ex(h->facts, "cluster", &c))
		json_object_object_get_ex(c, "nodes", &nodes);
	return nodes;
}

struct json_object *multi_facts_node(const struct multi_host *h, const char *node)
{
	struct json_object *nodes = facts_nodes(h);

	for (size_t k = 0; nodes && k < json_object_array_length(nodes); k++) {
		struct json_object *nd = json_object_array_get_idx(nodes, k);
		const char *name = util_json_str(nd, "node");

		if (name && strcmp(name, node) == 0)
			return nd;
	}
	return NULL;
}

/*
 * The config-hash of a container of the cluster, on any host, that differs
 * from its node's in the plan, or that the plan puts elsewhere or lacks.
 */
/* The plan's node that a container `nd` on host `dest` is: the same name on the same host. */
static const struct compose_node *node_kept(struct json_object *nd, const char *dest,
                                            const struct compose_plan *plan)
{
	const char *name = util_json_str(nd, "node");
	const struct compose_node *p = name ? compose_plan_node(plan, name) : NULL;

	return p && strcmp(plan->hosts[p->host].name, dest) == 0 ? p : NULL;
}

const char *multi_hash_differing(struct multi_host *hosts, size_t n,
                                 const struct compose_plan *plan, bool kept_only,
                                 const char **new_hash)
{
	for (size_t i = 0; i < n; i++) {
		struct json_object *nodes = facts_nodes(&hosts[i]);

		for (size_t k = 0; nodes && k < json_object_array_length(nodes); k++) {
			struct json_object *nd = json_object_array_get_idx(nodes, k);
			const char *hash = util_json_str(nd, "hash");
			const struct compose_node *p = node_kept(nd, hosts[i].dest, plan);

			if (!p && kept_only)
				continue;
			*new_hash = p ? p->hash : "(none)";
			if (!p || !hash || strcmp(hash, p->hash) != 0)
				return hash ? hash : "(none)";
		}
	}
	return NULL;
}

size_t multi_nodes_leaving(const struct spec_doc *prev, struct multi_host *hosts, size_t n,
                           const struct compose_plan *plan, char ***names)
{
	size_t k = 0, cap = compose_spec_node_count(&prev->spec);
	char **v;

	for (size_t i = 0; i < n; i++) {
		struct json_object *nodes = facts_nodes(&hosts[i]);
		cap += nodes ? json_object_array_length(nodes) : 0;
	}
	v = xcalloc(cap + 1, sizeof(*v));
	/* the cluster's containers on the hosts listed that the plan lacks or puts elsewhere */
	for (size_t i = 0; i < n; i++) {
		struct json_object *nodes = facts_nodes(&hosts[i]);

		for (size_t j = 0; nodes && j < json_object_array_length(nodes); j++) {
			struct json_object *nd = json_object_array_get_idx(nodes, j);
			const char *name = util_json_str(nd, "node");

			if (name && strcmp(name, "master") != 0 &&
			    !node_kept(nd, hosts[i].dest, plan))
				v[k++] = xstrdup(name);
		}
	}
	/* and the workers of the hosts no longer listed */
	for (size_t j = 1; j < compose_spec_node_count(&prev->spec); j++) {
		size_t h, num;
		bool listed = false;

		node_at(&prev->spec, j, &h, &num);
		for (size_t i = 0; i < n && !listed; i++)
			listed = same_name(hosts[i].dest, prev->spec.hosts[h].name);
		if (!listed)
			v[k++] = xasprintf("worker-%zu", num);
	}
	*names = v;
	return k;
}

int multi_addrs_assign(struct spec_doc *doc, const struct spec_doc *prev, bool have_prev,
                       const struct multi_host *hosts, size_t n, const char *ip_range,
                       const struct sb_ctx *ctx, struct sb_err *err)
{
	size_t n_nodes = compose_spec_node_count(&doc->spec), need = 0, n_keep = 0;
	uint32_t *keep = xcalloc(n_nodes + n, sizeof(*keep));
	uint32_t *fresh = NULL;
	struct compose_cidr range;
	struct util_step step;
	int ret = 0;

	if (have_prev && prev->lan && prev->node_ips) {
		for (size_t i = 0; i < n_nodes; i++)
			if ((doc->node_ips[i] = prev_addr(prev, &doc->spec, i)))
				keep[n_keep++] = doc->node_ips[i];
		for (size_t i = 0; i < n; i++)
			for (size_t k = 0; k < prev->spec.n_hosts; k++)
				if (same_name(prev->spec.hosts[k].name, hosts[i].dest) &&
				    prev->lan[k].shim) {
					doc->lan[i].shim = prev->lan[k].shim;
					keep[n_keep++] = doc->lan[i].shim;
				}
	}
	for (size_t i = 0; i < n_nodes; i++)
		need += doc->node_ips[i] ? 0 : 1;
	for (size_t i = 0; i < n; i++)
		need += doc->lan[i].shim ? 0 : 1;
	if (need == 0)
		goto out; /* the same cluster again: its addresses stay (they answer: they are ours) */

	if (ip_range) {
		ret = compose_cidr_parse("--ip-range", ip_range, &range, err);
		if (ret == 0 && !compose_cidr_overlaps(&range, &doc->spec.subnet))
			ret = sb_err_input(err, "--ip-range %s is outside the subnet %s", ip_range,
			                   hosts[0].lan_text);
		if (ret < 0)
			goto out;
	}
	fresh = xcalloc(need, sizeof(*fresh));
	util_step_begin(&step, ctx, "Choosing %zu free address%s", need, need == 1 ? "" : "es");
	ret = multi_addrs_choose(hosts, n, &doc->spec.subnet, doc->spec.gateway,
	                         ip_range ? &range : NULL, keep, n_keep, need, fresh, err);
	if (ret < 0) {
		util_step_fail(&step);
		goto out;
	}
	util_step_end(&step, NULL);
	need = 0;
	for (size_t i = 0; i < n_nodes; i++)
		if (!doc->node_ips[i])
			doc->node_ips[i] = fresh[need++];
	for (size_t i = 0; i < n; i++)
		if (!doc->lan[i].shim)
			doc->lan[i].shim = fresh[need++];
out:
	free(fresh);
	free(keep);
	return ret;
}

int multi_hosts_drop(const struct spec_doc *prev, const struct multi_host *hosts, size_t n,
                     const char *cluster, struct sb_err *err)
{
	for (size_t k = 0; k < prev->spec.n_hosts; k++) {
		const char *dest = prev->spec.hosts[k].name;
		struct json_object *gone = NULL;
		bool listed = false;
		int ret;

		for (size_t i = 0; i < n && !listed; i++)
			listed = same_name(hosts[i].dest, dest);
		if (listed || !dest)
			continue;
		fprintf(stderr, "slurmbox: '%s' is no longer listed: removing its part\n", dest);
		/* the control machine's own key stays when the host is this machine */
		ret = remote_down(dest, &(struct sb_ctx){.cluster = cluster}, cluster, false,
		                  remote_is_self(dest), &gone, err);
		json_object_put(gone);
		if (ret < 0)
			return sb_err_wrap(
			    err,
			    "Removing the cluster's part on '%s', which --hosts no "
			    "longer lists; nothing was changed elsewhere. Bring it back "
			    "or list it again",
			    dest);
		if (!prev->spec.home_path)
			util_warn(
			    "'%s' keeps the /home volume %s-home (no --home was shared); remove "
			    "it there with `docker volume rm %s-home`",
			    dest, cluster, cluster);
	}
	return 0;
}

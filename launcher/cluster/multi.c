/* SPDX-License-Identifier: MIT */
/*
 * multi.c - `up --hosts`: facts from every host, one preflight that reports
 * every problem at once, one plan, then each host applies its part.
 * multi_state.c keeps the control machine's record and routes exec, status,
 * logs and down to the hosts.
 */
#include "multi.h"
#include "multi_int.h"
#include "../remote/remote.h"
#include "../host/apply.h"
#include "../host/image.h"
#include "../host/reconcile.h"
#include "../remote/ssh_dest.h"
#include "../../compose/compose.h"
#include "../util/json.h"
#include "../util/progress.h"
#include "../util/fanout.h"

#include <sys/random.h>
#include <time.h>

#define PROBE_MS  300
#define CLOCK_MAX 60

int multi_hosts_parse(const char *text, char ***hosts, size_t *n, struct sb_err *err)
{
	_cleanup_free_ char *copy = xstrdup(text);
	_cleanup_buf_ struct sb_buf dups = SB_BUF_INIT;
	char **v = NULL;
	size_t k = 0;
	int ret = 0;

	for (char *save = NULL, *h = strtok_r(copy, ",", &save); h;
	     h = strtok_r(NULL, ",", &save)) {
		ret = ssh_dest_check("--hosts", h, err);
		if (ret < 0)
			goto fail;
		for (size_t i = 0; i < k; i++)
			if (strcmp(v[i], h) == 0)
				sb_buf_printf(&dups, "%s'%s'", dups.len ? ", " : "", h);
		v = xreallocarray(v, k + 1, sizeof(*v));
		v[k++] = xstrdup(h);
	}
	if (k == 0) {
		ret = sb_err_input(err, "--hosts '%s' names no host; give e.g. --hosts rpi1,rpi2",
		                   text);
		goto fail;
	}
	if (dups.len) {
		ret = sb_err_input(err, "--hosts names %s more than once; give each host once",
		                   dups.data);
		goto fail;
	}
	*hosts = v;
	*n = k;
	return 0;
fail:
	for (size_t i = 0; i < k; i++)
		free(v[i]);
	free(v);
	return ret;
}

/* ---- per-host facts, in parallel ---- */

static int64_t jint(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o && json_object_object_get_ex(o, key, &v))
		return json_object_get_int64(v);
	return -1;
}

struct facts_job {
	struct multi_host *h;
	const char *cluster;
	const char *parent;
	const char *home;
	const struct image_set *images;
};

static void *facts_run(void *arg)
{
	struct facts_job *j = arg;
	struct multi_host *h = j->h;
	const char *images[] = {j->images->master, j->images->worker};
	struct host_facts_req r = {.cluster = j->cluster,
	                           .parent = j->parent,
	                           .home = j->home,
	                           .images = images,
	                           .n_images = ARRAY_SIZE(images)};

	h->ret = remote_facts(h->dest, &r, &h->facts, &h->path, &h->err);
	return NULL;
}

int multi_facts_gather(struct multi_host *hosts, size_t n, const char *cluster, const char *parent,
                       const char *home, const struct image_set *images)
{
	struct facts_job *jobs = xcalloc(n, sizeof(*jobs));
	int failed = 0;

	for (size_t i = 0; i < n; i++)
		jobs[i] = (struct facts_job){&hosts[i], cluster, parent, home, images};
	util_fanout(n, facts_run, jobs, sizeof(*jobs));
	for (size_t i = 0; i < n; i++)
		failed += hosts[i].ret < 0;
	free(jobs);
	return failed;
}

/* ---- preflight: every problem at once ---- */

/*
 * Docker allows one macvlan (or ipvlan) network per parent interface (20.10 and
 * 26.1 alike: "network dm-… is already using parent interface eth0"):
 * one already on the host's parent that is not this cluster's is named with
 * whose it is and the fix. It is never touched.
 */
static void lan_networks_check(const struct multi_host *h, struct json_object *dk,
                               const char *cluster, struct sb_buf *problems)
{
	struct json_object *nets = NULL;

	if (!json_object_object_get_ex(dk, "lan_networks", &nets) ||
	    !json_object_is_type(nets, json_type_array) || !h->ifname)
		return;
	for (size_t i = 0; i < json_object_array_length(nets); i++) {
		struct json_object *net = json_object_array_get_idx(nets, i);
		const char *parent = util_json_str(net, "parent") ?: "";
		const char *owner = util_json_str(net, "cluster");
		const char *name = util_json_str(net, "name") ?: "";
		const char *subnet = util_json_str(net, "subnet") ?: "no subnet";

		/* a parent "eth0.10" is a VLAN of eth0: another interface */
		if (strcmp(parent, h->ifname) != 0 || (owner && strcmp(owner, cluster) == 0))
			continue;
		if (owner)
			sb_buf_printf(
			    problems,
			    "  %s: %s already carries the %s network '%s' (%s) of slurmbox "
			    "cluster '%s', and Docker allows one per interface: remove that "
			    "cluster first (slurmbox --name %s down), or give another "
			    "--parent\n",
			    h->dest, parent, util_json_str(net, "driver") ?: "", name, subnet,
			    owner, owner);
		else
			sb_buf_printf(
			    problems,
			    "  %s: %s already carries the %s network '%s' (%s), which is not "
			    "slurmbox's, and Docker allows one per interface: give another "
			    "--parent, or remove it yourself (docker network rm %s) if "
			    "nothing needs it\n",
			    h->dest, parent, util_json_str(net, "driver") ?: "", name, subnet,
			    name);
	}
}

/*
 * The shim (the host's own link to its nodes on the LAN) is a netlink change
 * that needs CAP_NET_ADMIN: an ssh user in the docker group has not got it.
 * Said before anything is made, once per host new to the cluster; with
 * --no-shim the consequence is printed and up goes on.
 */
static void shim_check(const struct multi_host *h, const char *cluster, bool no_shim,
                       struct sb_buf *problems)
{
	struct json_object *v, *nodes;

	/* a host that has nodes of the cluster already got past this once */
	if (!json_object_object_get_ex(h->facts, "net_admin", &v) || json_object_get_boolean(v) ||
	    (json_object_object_get_ex(h->facts, "cluster", &v) &&
	     json_object_object_get_ex(v, "nodes", &nodes) &&
	     json_object_is_type(nodes, json_type_array) && json_object_array_length(nodes)))
		return;
	if (no_shim)
		util_warn(
		    "--no-shim: %s cannot reach its own nodes of cluster '%s' (no shim there; "
		    "the other hosts and the nodes reach them as usual)",
		    h->dest, cluster);
	else
		sb_buf_printf(problems,
		              "  %s: the shim (this host's own link to its nodes on the LAN) needs "
		              "CAP_NET_ADMIN, which uid %d there has not got: run slurmbox there "
		              "as root (ssh root@HOST), or give --no-shim to go on without it "
		              "(then %s cannot reach its own nodes; the others can)\n",
		              h->dest, (int)jint(h->facts, "euid"), h->dest);
}

static int preflight(struct multi_host *hosts, size_t n, const char *cluster, bool lan,
                     bool no_shim, struct sb_buf *problems)
{
	time_t now = time(NULL);
	int64_t tmin = INT64_MAX, tmax = INT64_MIN;
	const char *net0 = NULL;
	bool differ = false;

	for (size_t i = 0; i < n; i++) {
		struct multi_host *h = &hosts[i];
		struct json_object *dk, *up;
		struct sb_err e = SB_ERR_INIT;
		struct compose_cidr c;
		char cidr[32];

		if (h->ret < 0) {
			sb_buf_printf(problems, "  %s: %s\n", h->dest, h->err.msg);
			continue;
		}
		dk = up = NULL;
		json_object_object_get_ex(h->facts, "docker", &dk);
		json_object_object_get_ex(h->facts, "uplink", &up);
		if (util_json_str(dk, "error"))
			sb_buf_printf(problems, "  %s: %s\n", h->dest, util_json_str(dk, "error"));
		else if (!util_json_str(dk, "arch") || jint(dk, "ncpus") < 1 ||
		         jint(dk, "mem_mb") < 1)
			sb_buf_printf(problems,
			              "  %s: its agent's answer lacks the engine's arch, CPUs or "
			              "memory (another slurmbox there?)\n",
			              h->dest);
		if (jint(h->facts, "time") > 0) {
			int64_t t = jint(h->facts, "time");
			tmin = t < tmin ? t : tmin;
			tmax = t > tmax ? t : tmax;
		}
		/* a bridge network needs no uplink: this host alone, no LAN */
		if (!lan)
			continue;
		if (util_json_str(up, "error")) {
			sb_buf_printf(problems, "  %s: %s\n", h->dest, util_json_str(up, "error"));
			continue;
		}
		h->ifname = util_json_str(up, "ifname");
		if (!h->ifname ||
		    compose_ipv4_parse("addr", util_json_str(up, "addr"), &h->addr, &e) < 0 ||
		    jint(up, "prefix") < 1 || jint(up, "prefix") > 32) {
			h->ifname = NULL;
			sb_buf_printf(problems,
			              "  %s: its agent's answer has no usable uplink (interface, "
			              "address and prefix 1-32)\n",
			              h->dest);
			continue;
		}
		lan_networks_check(h, dk, cluster, problems);
		shim_check(h, cluster, no_shim, problems);
		if (util_json_str(up, "gateway"))
			compose_ipv4_parse("gateway", util_json_str(up, "gateway"), &h->gateway,
			                   &e);
		h->prefix = (uint8_t)jint(up, "prefix");
		h->wireless = json_object_get_boolean(json_object_object_get(up, "wireless"));
		c.prefix = h->prefix;
		c.addr = h->prefix ? h->addr & (0xffffffffu << (32 - h->prefix)) : 0;
		h->lan = c;
		compose_cidr_format(&c, cidr);
		snprintf(h->lan_text, sizeof(h->lan_text), "%s", cidr);
		if (!net0)
			net0 = h->lan_text;
		else if (strcmp(net0, h->lan_text) != 0)
			differ = true;
		for (size_t k = 0; k < i; k++)
			if (hosts[k].ret == 0 && hosts[k].addr && hosts[k].addr == h->addr)
				sb_buf_printf(
				    problems,
				    "  %s and %s are the same machine (%s): give each host "
				    "once\n",
				    hosts[k].dest, h->dest, util_json_str(up, "addr"));
	}
	if (differ) {
		sb_buf_puts(problems, "  the hosts are not on one LAN subnet:");
		for (size_t i = 0; i < n; i++)
			if (hosts[i].ret == 0 && hosts[i].lan_text[0])
				sb_buf_printf(problems, " %s %s%s", hosts[i].dest,
				              hosts[i].lan_text, i + 1 < n ? "," : "");
		sb_buf_puts(problems, "; macvlan needs every host on the same L2 network (or name "
		                      "the right interface with --parent)\n");
	}
	if (tmax > INT64_MIN && tmax - tmin > CLOCK_MAX)
		sb_buf_printf(problems,
		              "  the hosts' clocks differ by %lld s (more than %d s): munge "
		              "credentials would expire; run NTP on every host\n",
		              (long long)(tmax - tmin), CLOCK_MAX);
	(void)now;
	return problems->len ? -1 : 0;
}

/* ---- addresses: from the top of the subnet (or --ip-range), probed ---- */

static bool addr_forbidden(uint32_t a, const struct compose_cidr *net, uint32_t gateway,
                           const struct multi_host *hosts, size_t n, const uint32_t *taken,
                           size_t n_taken)
{
	if (a == net->addr || a == compose_cidr_broadcast(net) || a == gateway)
		return true;
	for (size_t i = 0; i < n; i++)
		if (hosts[i].addr == a)
			return true;
	for (size_t i = 0; i < n_taken; i++)
		if (taken[i] == a)
			return true;
	return false;
}

/* Probe `cand` from hosts[0]; in_use[i] set, macs[i] filled. */
static int probe(const struct multi_host *h0, const uint32_t *cand, size_t n, bool *in_use,
                 char (*macs)[18], struct sb_err *err)
{
	struct host_probe_req r = {
	    .parent = h0->ifname, .timeout_ms = PROBE_MS, .addrs = cand, .n = n};
	struct json_object *arr = NULL;
	int ret;

	ret = remote_probe(h0->dest, &r, &arr, err);
	if (ret < 0)
		return sb_err_wrap(err, "Probing addresses from '%s'", h0->dest);
	for (size_t i = 0; i < n && i < json_object_array_length(arr); i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);
		in_use[i] = json_object_get_boolean(json_object_object_get(o, "in_use"));
		snprintf(macs[i], 18, "%s", util_json_str(o, "mac") ? util_json_str(o, "mac") : "");
	}
	json_object_put(arr);
	return 0;
}

static int addrs_too_few(const struct compose_cidr *net, const struct compose_cidr *range,
                         size_t need, size_t got, struct sb_err *err)
{
	char c[32];

	return sb_err_input(err,
	                    "%s %s has too few free addresses: need %zu (the nodes and each "
	                    "host's shim), have %zu; give a larger --ip-range",
	                    range ? "--ip-range" : "The subnet",
	                    compose_cidr_format(range ? range : net, c), need, got);
}

int multi_addrs_choose(const struct multi_host *hosts, size_t n_hosts,
                       const struct compose_cidr *net, uint32_t gateway,
                       const struct compose_cidr *range, const uint32_t *ours, size_t n_ours,
                       size_t need, uint32_t *out, struct sb_err *err)
{
	uint32_t lo, hi, a;
	size_t got = 0;
	int dir;
	int ret;

	if (range) {
		lo = range->addr;
		hi = compose_cidr_broadcast(range);
		a = lo;
		dir = 1;
	} else {
		lo = net->addr;
		hi = compose_cidr_broadcast(net);
		a = hi;
		dir = -1;
	}
	while (got < need) {
		uint32_t cand[32];
		bool in_use[32] = {false};
		char macs[32][18];
		size_t k = 0;

		while (k < ARRAY_SIZE(cand) && k < need - got + 4 && a >= lo && a <= hi) {
			if (!addr_forbidden(a, net, gateway, hosts, n_hosts, out, got) &&
			    !addr_forbidden(a, net, gateway, hosts, 0, ours, n_ours))
				cand[k++] = a;
			if ((dir < 0 && a == lo) || (dir > 0 && a == hi))
				break;
			a = (uint32_t)((int64_t)a + dir);
		}
		if (k == 0)
			return addrs_too_few(net, range, need, got, err);
		ret = probe(&hosts[0], cand, k, in_use, macs, err);
		if (ret < 0)
			return ret;
		for (size_t i = 0; i < k && got < need; i++) {
			char ip[16];
			if (!in_use[i]) {
				out[got++] = cand[i];
				continue;
			}
			if (range)
				return sb_err_input(
				    err,
				    "--ip-range: %s is already in use on the LAN (by "
				    "%s); give a range of free addresses",
				    compose_ipv4_format(cand[i], ip), macs[i]);
			fprintf(stderr, "slurmbox: %s answers on the LAN (%s): skipped\n",
			        compose_ipv4_format(cand[i], ip), macs[i]);
		}
		if (((dir < 0 && a == lo) || (dir > 0 && a == hi)) && got < need)
			return addrs_too_few(net, range, need, got, err);
	}
	return 0;
}

void multi_hosts_free(struct multi_host *hosts, size_t n)
{
	for (size_t i = 0; hosts && i < n; i++) {
		free(hosts[i].path);
		json_object_put(hosts[i].facts);
		json_object_put(hosts[i].report);
	}
	free(hosts);
}

/* A token for the /home marker: 16 random hex digits. */
void multi_token(char out[17])
{
	unsigned char b[8] = {0};

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		memset(b, 0x5a, sizeof(b));
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

int multi_preflight(struct multi_host *hosts, size_t n, const char *cluster, bool lan, bool no_shim,
                    struct sb_err *err)
{
	_cleanup_buf_ struct sb_buf problems = SB_BUF_INIT;

	if (preflight(hosts, n, cluster, lan, no_shim, &problems) == 0)
		return 0;
	return sb_err_set(err, EIO,
	                  "Preflight found problems; nothing was changed on any host:\n%s",
	                  problems.data);
}

/* ---- names the plan uses that are taken on a host ---- */

static void taken_find(const struct multi_host *h, const char *kind, const char *name,
                       struct sb_buf *problems)
{
	struct json_object *dk = NULL, *arr = NULL;

	if (!json_object_object_get_ex(h->facts, "docker", &dk) ||
	    !json_object_object_get_ex(dk, "taken", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *t = json_object_array_get_idx(arr, i);
		const char *k = util_json_str(t, "kind"), *n = util_json_str(t, "name");
		const char *owner = util_json_str(t, "owner");

		if (!k || !n || strcmp(k, kind) != 0 || strcmp(n, name) != 0)
			continue;
		apply_name_taken_print(problems, h->dest, kind, name, owner);
		return;
	}
}

int multi_names_check(const struct multi_host *hosts, size_t n, const struct compose_plan *plan,
                      struct sb_err *err)
{
	_cleanup_buf_ struct sb_buf problems = SB_BUF_INIT;

	for (size_t i = 0; i < n; i++) {
		taken_find(&hosts[i], "network", plan->network.name, &problems);
		for (size_t k = 0; k < plan->n_volumes; k++)
			if (plan->volumes[k].host == i)
				taken_find(&hosts[i], "volume", plan->volumes[k].name, &problems);
		for (size_t k = 0; k < plan->n_nodes; k++)
			if (plan->nodes[k].host == i)
				taken_find(&hosts[i], "container", plan->nodes[k].container,
				           &problems);
	}
	if (!problems.len)
		return 0;
	return sb_err_input(err,
	                    "Cluster '%s' would use names that are taken; nothing was changed on "
	                    "any host:\n%sRemove those objects, or choose another name with --name",
	                    plan->cluster, problems.data);
}

/* ---- the previous settings: the record, else every host's labels, agreeing ---- */

int multi_prev_find(struct multi_host *hosts, size_t n, const char *cluster, bool recreate,
                    struct spec_doc *prev, bool *found, struct sb_err *err)
{
	_cleanup_buf_ struct sb_buf differ = SB_BUF_INIT;
	struct sb_err ignored = SB_ERR_INIT;
	struct spec_doc *docs = xcalloc(n, sizeof(*docs));
	char **paths = NULL;
	size_t first = n;
	int ret = 0;

	memset(prev, 0, sizeof(*prev));
	*found = false;
	for (size_t i = 0; i < n; i++) {
		struct json_object *c = NULL, *spec = NULL;

		if (json_object_object_get_ex(hosts[i].facts, "cluster", &c) &&
		    json_object_object_get_ex(c, "spec", &spec) &&
		    spec_json_to(spec, &docs[i], &ignored) == 0 && first == n)
			first = i;
	}
	/* nothing of the cluster on any host: a new cluster, whatever a stale record says */
	if (first == n)
		goto out;
	/* the control machine's record is the authority; labels do not override it */
	if (multi_state_exists(cluster)) {
		ret = multi_state_load(cluster, prev, &paths, err);
		if (ret == 0) {
			multi_paths_free(paths, prev->spec.n_hosts);
			*found = true;
		}
		goto out;
	}
	/* no record: the labels rebuild it, if every host that has them agrees */
	for (size_t i = first + 1; i < n; i++) {
		_cleanup_buf_ struct sb_buf text = SB_BUF_INIT;

		if (!docs[i].spec.cluster)
			continue;
		if (reconcile_diff(&docs[first], &docs[i], &text) == 0 &&
		    docs[first].generation == docs[i].generation)
			continue;
		sb_buf_printf(&differ, "  %s (generation %u) against %s (generation %u):\n%s",
		              hosts[first].dest, docs[first].generation, hosts[i].dest,
		              docs[i].generation, text.data ? text.data : "");
	}
	if (differ.len && !recreate) {
		ret = sb_err_set(
		    err, EPROTO,
		    "This machine has no record of cluster '%s', and its hosts' labels "
		    "disagree on its settings:\n%sNothing was changed. Give the settings "
		    "you want with --recreate (the containers that differ are "
		    "re-created; /home, the key and Slurm's state are kept), or "
		    "`slurmbox down` first",
		    cluster, differ.data);
		goto out;
	}
	if (!differ.len) {
		*prev = docs[first];
		memset(&docs[first], 0, sizeof(docs[first]));
		*found = true;
	}
out:
	for (size_t i = 0; i < n; i++)
		spec_doc_free(&docs[i]);
	free(docs);
	return ret;
}

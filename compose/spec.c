/* SPDX-License-Identifier: MIT */
/*
 * spec.c - validation of a compose_spec. Every field is checked and every
 * problem reported at once (kind's habit), each naming the option, the bad
 * value and the fix, so one run of `up` shows everything to correct.
 */
#include <inttypes.h>

#include "compose.h"

#define ID_MIN 1
#define ID_MAX 65533 /* 65534 is nobody, 65535 is (uid_t)-1 in 16 bits */

/* Problems collected so far, joined with "\n"; the rest are only counted. */
struct problems {
	struct sb_buf buf;
	size_t room; /* stop adding lines past this length */
	unsigned dropped;
};

__attribute__((format(__printf__, 2, 3))) static void problem_add(struct problems *p,
                                                                  const char *fmt, ...)
{
	char line[512];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	n = strlen(line);
	/* Bad values can hold newlines; keep one problem per line. */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	if (p->dropped || p->buf.len + n + 1 > p->room) {
		p->dropped++;
		return;
	}
	if (p->buf.len)
		sb_buf_add(&p->buf, "\n", 1);
	sb_buf_add(&p->buf, line, n);
}

/* Record a problem a checker returned through a scratch sb_err. */
static void problem_take(struct problems *p, int ret, const struct sb_err *e)
{
	if (ret < 0)
		problem_add(p, "%s", e->msg);
}

unsigned compose_spec_host_workers(const struct compose_spec *spec, size_t host)
{
	if (host >= spec->n_hosts)
		return 0;
	if (host == 0 && spec->no_master_worker)
		return 0;
	return spec->workers;
}

size_t compose_spec_node_count(const struct compose_spec *spec)
{
	size_t n = 1;

	for (size_t h = 0; h < spec->n_hosts; h++)
		n += compose_spec_host_workers(spec, h);
	return n;
}

static bool has_control_char(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* True if some component of the path is "..". */
static bool has_dotdot(const char *path)
{
	for (const char *p = path; (p = strstr(p, "..")); p += 2)
		if ((p == path || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
			return true;
	return false;
}

/* A host path that becomes a bind-mount source. `what` names the option. */
static void check_host_path(struct problems *p, const char *what, const char *path,
                            const char *example)
{
	if (!path || !*path) {
		problem_add(p, "Missing %s: give an absolute path, e.g. \"%s\"", what, example);
		return;
	}
	if (path[0] != '/')
		problem_add(p, "Invalid %s \"%s\": must be an absolute path, e.g. \"%s\"", what,
		            path, example);
	if (strchr(path, ':') || strchr(path, ','))
		problem_add(p,
		            "Invalid %s \"%s\": ':' and ',' are not allowed in a bind-mount "
		            "path; choose a path without them",
		            what, path);
	if (has_dotdot(path))
		problem_add(p, "Invalid %s \"%s\": \"..\" is not allowed; give the path without it",
		            what, path);
	if (has_control_char(path))
		problem_add(p, "Invalid %s \"%s\": control characters are not allowed", what, path);
	if (path[strspn(path, "/")] == '\0')
		problem_add(p,
		            "Invalid %s \"%s\": the host's root directory cannot be mounted; give "
		            "a directory, e.g. \"%s\"",
		            what, path, example);
}

static void check_image(struct problems *p, const char *what, const char *ref)
{
	if (!ref || !*ref) {
		problem_add(p, "Missing %s image: an image reference is required", what);
		return;
	}
	for (const char *s = ref; *s; s++) {
		if (*s == ' ' || *s == '\t' || (unsigned char)*s < 0x20 || *s == 0x7f) {
			problem_add(p,
			            "Invalid %s image \"%s\": spaces and control characters are "
			            "not allowed in an image reference",
			            what, ref);
			return;
		}
	}
}

/* Returns false when the worker count is unusable, so the node count means nothing. */
static bool check_workers(struct problems *p, const struct compose_spec *spec)
{
	size_t hosts_with = spec->n_hosts - (spec->no_master_worker ? 1 : 0);
	uint64_t total = (uint64_t)spec->workers * hosts_with;

	if (spec->n_hosts == 0)
		return false;
	if (spec->workers < 1) {
		if (spec->n_hosts == 1)
			problem_add(p, "Invalid --workers \"0\": need 1 to %d workers",
			            COMPOSE_MAX_WORKERS);
		else
			problem_add(p,
			            "Invalid --workers \"0\": need at least 1 worker per host, and "
			            "%d at most in all",
			            COMPOSE_MAX_WORKERS);
		return false;
	}
	if (spec->no_master_worker && spec->n_hosts == 1) {
		problem_add(p, "Invalid --no-master-worker with a single host: the cluster would "
		               "have no workers; add hosts or leave it out");
		return false;
	}
	if (total <= COMPOSE_MAX_WORKERS)
		return true;
	if (spec->n_hosts == 1)
		problem_add(p, "Invalid --workers \"%u\": need 1 to %d workers", spec->workers,
		            COMPOSE_MAX_WORKERS);
	else
		problem_add(p,
		            "Invalid --workers \"%u\": %zu hosts with %u workers each make %" PRIu64
		            ", more than %d; use --workers %zu or fewer",
		            spec->workers, hosts_with, spec->workers, total, COMPOSE_MAX_WORKERS,
		            COMPOSE_MAX_WORKERS / hosts_with);
	return false;
}

static void check_hosts(struct problems *p, const struct compose_spec *spec)
{
	if (spec->n_hosts == 0 || !spec->hosts) {
		problem_add(p, "No hosts: at least one host is needed to run the master");
		return;
	}
	for (size_t i = 0; i < spec->n_hosts; i++) {
		const struct compose_host *h = &spec->hosts[i];

		if (!h->name || !*h->name) {
			problem_add(p, "Host %zu has no name; give each host as NAME or USER@NAME",
			            i);
			continue;
		}
		if (h->ncpus < 1)
			problem_add(p,
			            "Host \"%s\" reports 0 CPUs; check that Docker runs there "
			            "(docker info)",
			            h->name);
		if (h->mem_mb < 1)
			problem_add(p,
			            "Host \"%s\" reports 0 MiB of memory; check that Docker runs "
			            "there (docker info)",
			            h->name);
		for (size_t j = 0; j < i; j++) {
			if (spec->hosts[j].name && !strcmp(spec->hosts[j].name, h->name)) {
				problem_add(p, "Host \"%s\" is listed twice; give each host once",
				            h->name);
				break;
			}
		}
	}
}

unsigned compose_spec_node_number(const struct compose_spec *spec, size_t i)
{
	return spec->node_numbers && i < spec->n_node_numbers ? spec->node_numbers[i] : (unsigned)i;
}

/* Slurm's name for node index i: master first, then worker-<number>. */
static void node_label(const struct compose_spec *spec, size_t i, char *buf, size_t len)
{
	if (i == 0)
		snprintf(buf, len, "master");
	else
		snprintf(buf, len, "worker-%u", compose_spec_node_number(spec, i));
}

/* Given numbers: one per node, the master's 0, the workers' 1..MAX and all different. */
static void check_numbers(struct problems *p, const struct compose_spec *spec, size_t n_nodes)
{
	if (!spec->node_numbers && !spec->n_node_numbers)
		return;
	if (!spec->node_numbers || spec->n_node_numbers != n_nodes) {
		problem_add(p, "Got %zu node numbers for %zu nodes; give one number per node",
		            spec->node_numbers ? spec->n_node_numbers : 0, n_nodes);
		return;
	}
	if (spec->node_numbers[0] != 0)
		problem_add(p, "The master's node number must be 0, not %u", spec->node_numbers[0]);
	for (size_t i = 1; i < n_nodes; i++) {
		unsigned v = spec->node_numbers[i];

		if (v < 1 || v > COMPOSE_MAX_NUMBER) {
			problem_add(p, "Worker number %u is out of range: 1 to %d", v,
			            COMPOSE_MAX_NUMBER);
			continue;
		}
		for (size_t j = 1; j < i; j++)
			if (spec->node_numbers[j] == v) {
				problem_add(p, "Two workers are numbered %u: worker-%u twice", v,
				            v);
				break;
			}
	}
}

/* n_nodes is 0 when the worker count is unusable: then only the network itself is checked. */
static void check_network(struct problems *p, const struct compose_spec *spec, size_t n_nodes)
{
	const struct compose_cidr *sn = &spec->subnet;
	char sbuf[20], ip[16];
	uint32_t mask, bcast, gw;
	uint64_t have, need;

	if (spec->net_mode != COMPOSE_NET_BRIDGE && spec->net_mode != COMPOSE_NET_MACVLAN &&
	    spec->net_mode != COMPOSE_NET_IPVLAN)
		problem_add(p, "Invalid --network mode %d: use bridge, macvlan or ipvlan",
		            (int)spec->net_mode);
	if (spec->net_mode == COMPOSE_NET_BRIDGE && spec->n_hosts > 1)
		problem_add(p, "--network bridge cannot span hosts: containers on different hosts "
		               "could not reach each other; use --network macvlan");

	compose_cidr_format(sn, sbuf);
	if (sn->prefix < 8 || sn->prefix > 30) {
		problem_add(p, "Invalid --subnet \"%s\": the prefix must be between /8 and /30",
		            sbuf);
		return;
	}
	mask = UINT32_MAX << (32 - sn->prefix);
	if (sn->addr & ~mask) {
		struct compose_cidr fixed = {sn->addr & mask, sn->prefix};
		char fbuf[20];

		problem_add(p, "Invalid --subnet \"%s\": host bits set; did you mean \"%s\"", sbuf,
		            compose_cidr_format(&fixed, fbuf));
		return;
	}
	bcast = compose_cidr_broadcast(sn);
	gw = spec->gateway ? spec->gateway : sn->addr + 1;
	if (spec->gateway && (!compose_cidr_contains(sn, gw) || gw == sn->addr || gw == bcast))
		problem_add(p,
		            "Invalid --gateway \"%s\": must be a host address inside --subnet "
		            "\"%s\"",
		            compose_ipv4_format(gw, ip), sbuf);

	if (!n_nodes)
		return;
	have = (uint64_t)1 << (32 - sn->prefix);
	need = n_nodes + 3; /* network, gateway, broadcast */
	if (need > have) {
		unsigned fit = 32;

		while (((uint64_t)1 << (32 - fit)) < need)
			fit--;
		problem_add(p,
		            "Invalid --subnet \"%s\": need %" PRIu64
		            " addresses (%zu nodes, gateway, network and "
		            "broadcast), --subnet %s has %" PRIu64 "; use a /%u or larger",
		            sbuf, need, n_nodes, sbuf, have, fit);
	}

	if (!spec->node_ips && !spec->n_node_ips) {
		/* Bridge numbering: master .2, workers from .3, clear of the default gateway. */
		if (spec->gateway && gw >= sn->addr + 2 && gw - sn->addr - 2 < n_nodes) {
			char first[16], last[16];

			compose_ipv4_format(sn->addr + 2, first);
			compose_ipv4_format(sn->addr + 1 + (uint32_t)n_nodes, last);
			problem_add(p,
			            "Invalid --gateway \"%s\": the nodes are numbered %s to %s, "
			            "which includes it; use a gateway outside that range",
			            compose_ipv4_format(gw, ip), first, last);
		}
		return;
	}
	if (!spec->node_ips || spec->n_node_ips != n_nodes) {
		problem_add(p,
		            "Got %zu node addresses for %zu nodes (master and %zu workers); give "
		            "one address per node",
		            spec->node_ips ? spec->n_node_ips : 0, n_nodes, n_nodes - 1);
		return;
	}
	for (size_t i = 0; i < n_nodes; i++) {
		uint32_t a = spec->node_ips[i];
		char name[32];

		node_label(spec, i, name, sizeof(name));
		compose_ipv4_format(a, ip);
		if (!compose_cidr_contains(sn, a))
			problem_add(p, "Address %s for %s is outside --subnet \"%s\"", ip, name,
			            sbuf);
		else if (a == sn->addr)
			problem_add(p,
			            "Address %s for %s is the network address of --subnet \"%s\"",
			            ip, name, sbuf);
		else if (a == bcast)
			problem_add(p,
			            "Address %s for %s is the broadcast address of --subnet \"%s\"",
			            ip, name, sbuf);
		else if (a == gw)
			problem_add(p, "Address %s for %s is the network's gateway", ip, name);
		for (size_t j = 0; j < i; j++) {
			if (spec->node_ips[j] == a) {
				char other[32];

				node_label(spec, j, other, sizeof(other));
				problem_add(p, "Address %s is given to both %s and %s", ip, other,
				            name);
				break;
			}
		}
	}
}

static void check_user(struct problems *p, const struct compose_user *u)
{
	struct sb_err e = SB_ERR_INIT;

	problem_take(p, compose_user_name_check(u->name, &e), &e);
	if (u->uid == 0)
		problem_add(p,
		            "Invalid --user uid \"0\": jobs must not run as root; give a normal "
		            "user's uid (%d to %d)",
		            ID_MIN, ID_MAX);
	else if (u->uid > ID_MAX)
		problem_add(p, "Invalid --user uid \"%" PRIu32 "\": must be from %d to %d", u->uid,
		            ID_MIN, ID_MAX);
	if (u->gid == 0)
		problem_add(p,
		            "Invalid --user gid \"0\": the root group is not allowed; give a "
		            "normal group's gid (%d to %d)",
		            ID_MIN, ID_MAX);
	else if (u->gid > ID_MAX)
		problem_add(p, "Invalid --user gid \"%" PRIu32 "\": must be from %d to %d", u->gid,
		            ID_MIN, ID_MAX);
}

int compose_spec_validate(const struct compose_spec *spec, struct sb_err *err)
{
	struct problems p = {SB_BUF_INIT, sizeof(err->msg) - 64, 0};
	struct sb_err e = SB_ERR_INIT;
	bool workers_ok;
	int ret;

	problem_take(&p, compose_cluster_name_check(spec->cluster, &e), &e);
	check_hosts(&p, spec);
	workers_ok = check_workers(&p, spec);
	if (spec->home_path)
		check_host_path(&p, "--home", spec->home_path, "/srv/slurmbox-home");
	check_user(&p, &spec->user);
	check_host_path(&p, "munge key path", spec->key_path, "/var/lib/slurmbox/munge.key");
	if (spec->release && !compose_release_find(spec->release))
		problem_add(&p,
		            "Unknown release \"%.32s\": the node images are made of Debian "
		            "bookworm or trixie",
		            spec->release);
	check_image(&p, "master", spec->image_master);
	check_image(&p, "worker", spec->image_worker);
	check_network(&p, spec, workers_ok ? compose_spec_node_count(spec) : 0);
	if (workers_ok)
		check_numbers(&p, spec, compose_spec_node_count(spec));

	if (!p.buf.len)
		return 0;
	if (p.dropped)
		sb_buf_printf(&p.buf, "\n(and %u more problems)", p.dropped);
	ret = sb_err_input(err, "%s", p.buf.data);
	sb_buf_free(&p.buf);
	return ret;
}

/* SPDX-License-Identifier: MIT */
/*
 * diff.c - what differs between the spec a cluster was made from and the
 * one a new `up` asks for, one line per field: "workers: 2 -> 3". Pure: the
 * launcher shows the lines when it refuses a change, and `up --recreate`
 * acts on them.
 */
#include "compose.h"

#include <inttypes.h>

static bool str_same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void line_str(struct sb_buf *out, size_t *n, const char *field, const char *a, const char *b)
{
	if (str_same(a, b))
		return;
	sb_buf_printf(out, "%s: %s -> %s\n", field, a ? a : "(none)", b ? b : "(none)");
	(*n)++;
}

/* The user as "alice (1000)", or "alice (1000:100)" when the group differs from the uid. */
static void user_text(const struct compose_user *u, char *buf, size_t size)
{
	if (u->gid == u->uid)
		snprintf(buf, size, "%s (%" PRIu32 ")", u->name ? u->name : "?", u->uid);
	else
		snprintf(buf, size, "%s (%" PRIu32 ":%" PRIu32 ")", u->name ? u->name : "?", u->uid,
		         u->gid);
}

/* "/srv/home", or "volume <cluster>-home" when no --home was given. */
static char *home_text(const struct compose_spec *s)
{
	return s->home_path ? xstrdup(s->home_path) : xasprintf("volume %s-home", s->cluster);
}

static char *hosts_text(const struct compose_spec *s)
{
	struct sb_buf b = SB_BUF_INIT;

	for (size_t i = 0; i < s->n_hosts; i++)
		sb_buf_printf(&b, "%s%s", i ? "," : "", s->hosts[i].name ? s->hosts[i].name : "?");
	return sb_buf_steal(&b);
}

static char *gateway_text(const struct compose_spec *s)
{
	char g[16];

	return xstrdup(compose_ipv4_format(s->gateway ? s->gateway : s->subnet.addr + 1, g));
}

/* The nodes' addresses in plan order; bridge numbering when none are given. */
static char *addrs_text(const struct compose_spec *s)
{
	struct sb_buf b = SB_BUF_INIT;
	size_t n = compose_spec_node_count(s);
	char ip[16];

	if (!s->node_ips)
		return xasprintf("%s.. (numbered in the subnet)",
		                 compose_ipv4_format(s->subnet.addr + 2, ip));
	for (size_t i = 0; i < n && i < s->n_node_ips; i++)
		sb_buf_printf(&b, "%s%s", i ? "," : "", compose_ipv4_format(s->node_ips[i], ip));
	return sb_buf_steal(&b);
}

/* A host in both specs whose facts changed (Docker's CPUs, memory or architecture). */
static void host_facts(struct sb_buf *out, size_t *n, const struct compose_host *a,
                       const struct compose_host *b)
{
	if (a->ncpus == b->ncpus && a->mem_mb == b->mem_mb && str_same(a->arch, b->arch))
		return;
	sb_buf_printf(out,
	              "host %s: %u CPUs, %" PRIu64 " MiB, %s -> %u CPUs, %" PRIu64 " MiB, %s\n",
	              b->name, a->ncpus, a->mem_mb, a->arch ? a->arch : "?", b->ncpus, b->mem_mb,
	              b->arch ? b->arch : "?");
	(*n)++;
}

/* membership: also the fields that say which nodes there are and where */
static size_t spec_diff(const struct compose_spec *old, const struct compose_spec *new,
                        bool membership, struct sb_buf *out)
{
	size_t n = 0;
	char a[64], b[64];

	line_str(out, &n, "cluster", old->cluster, new->cluster);
	if (membership && old->workers != new->workers) {
		sb_buf_printf(out, "%s: %u -> %u\n",
		              new->n_hosts > 1 ? "workers per host" : "workers", old->workers,
		              new->workers);
		n++;
	}
	if (membership && old->no_master_worker != new->no_master_worker) {
		sb_buf_printf(out, "no-master-worker: %s -> %s\n",
		              old->no_master_worker ? "yes" : "no",
		              new->no_master_worker ? "yes" : "no");
		n++;
	}
	if (membership) {
		_cleanup_free_ char *x = hosts_text(old), *y = hosts_text(new);
		line_str(out, &n, "hosts", x, y);
	}
	user_text(&old->user, a, sizeof(a));
	user_text(&new->user, b, sizeof(b));
	line_str(out, &n, "user", a, b);
	{
		_cleanup_free_ char *x = home_text(old), *y = home_text(new);
		line_str(out, &n, "home", x, y);
	}
	line_str(out, &n, "key", old->key_path, new->key_path);
	{
		const struct compose_release *ra = compose_release_find(old->release),
		                             *rb = compose_release_find(new->release);
		char x[64], y[64];

		if (ra != rb) {
			snprintf(x, sizeof(x), "%s (Debian %s %s)", ra ? ra->slurm : "?",
			         ra ? ra->debian : "?", ra ? ra->name : old->release);
			snprintf(y, sizeof(y), "%s (Debian %s %s)", rb ? rb->slurm : "?",
			         rb ? rb->debian : "?", rb ? rb->name : new->release);
			line_str(out, &n, "slurm", x, y);
		}
	}
	line_str(out, &n, "image master", old->image_master, new->image_master);
	line_str(out, &n, "image worker", old->image_worker, new->image_worker);
	line_str(out, &n, "network", compose_net_mode_name(old->net_mode),
	         compose_net_mode_name(new->net_mode));
	line_str(out, &n, "subnet", compose_cidr_format(&old->subnet, a),
	         compose_cidr_format(&new->subnet, b));
	if (old->gateway || new->gateway) { /* else subnet + 1 on both sides, follows the subnet */
		_cleanup_free_ char *x = gateway_text(old), *y = gateway_text(new);
		line_str(out, &n, "gateway", x, y);
	}
	{
		_cleanup_free_ char *x = addrs_text(old), *y = addrs_text(new);
		/* bridge numbering follows the subnet, already shown */
		if (membership && (old->node_ips || new->node_ips))
			line_str(out, &n, "addresses", x, y);
	}
	for (size_t i = 0; i < new->n_hosts; i++)
		for (size_t k = 0; k < old->n_hosts; k++)
			if (str_same(old->hosts[k].name, new->hosts[i].name))
				host_facts(out, &n, &old->hosts[k], &new->hosts[i]);
	return n;
}

size_t compose_spec_diff(const struct compose_spec *old, const struct compose_spec *new,
                         struct sb_buf *out)
{
	return spec_diff(old, new, true, out);
}

size_t compose_spec_settings_diff(const struct compose_spec *old, const struct compose_spec *new,
                                  struct sb_buf *out)
{
	return spec_diff(old, new, false, out);
}

/* SPDX-License-Identifier: MIT */
/*
 * link.c - the host-side shim that lets the host reach its own macvlan
 * (or ipvlan) containers: a sibling link on the same parent, up, with a
 * /32 of its own and a /32 route through it to each container. Creating
 * it is idempotent: run it again and nothing changes.
 */
#include "internal.h"

#include <linux/if_link.h>
#include <netlink/route/link/ipvlan.h>
#include <netlink/route/link/macvlan.h>

static const char *const netconf_shim_kinds[] = {
    [NETCONF_SHIM_MACVLAN] = "macvlan",
    [NETCONF_SHIM_IPVLAN] = "ipvlan",
};

static int netconf_check_ifname(const char *what, const char *name, struct sb_err *err)
{
	if (!name || !*name)
		return sb_err_input(err, "%s: an interface name is required", what);
	if (strlen(name) >= IF_NAMESIZE)
		return sb_err_input(err, "%s: interface name '%s' is longer than %d characters",
		                    what, name, IF_NAMESIZE - 1);
	return 0;
}

static const char *netconf_article(const char *word)
{
	return strchr("aeiou", word[0]) && word[0] ? "an" : "a";
}

/* A link of that name exists: is it our shim, in the mode that works? */
static int netconf_shim_check(struct rtnl_link *link, struct nl_cache *links, const char *parent,
                              int parent_idx, enum netconf_shim_kind kind, struct sb_err *err)
{
	const char *want = netconf_shim_kinds[kind];
	const char *name = rtnl_link_get_name(link);
	const char *type = rtnl_link_get_type(link);
	char other[IF_NAMESIZE];
	char mode[32];

	if (!type)
		return sb_err_set(err, EEXIST,
		                  "Creating shim '%s': a device by that name exists and is not a "
		                  "%s; pick another shim name",
		                  name, want);
	if (strcmp(type, want) != 0)
		return sb_err_set(
		    err, EEXIST,
		    "Creating shim '%s': a link by that name exists and is %s %s, not "
		    "%s %s; pick another shim name, or delete it ('ip link del %s') "
		    "if it is a leftover",
		    name, netconf_article(type), type, netconf_article(want), want, name);
	if (rtnl_link_get_link(link) != parent_idx) {
		netconf_link_name(links, rtnl_link_get_link(link), other);
		return sb_err_set(err, EEXIST,
		                  "Shim '%s' exists on parent '%s', not on '%s'; delete it ('ip "
		                  "link del %s') and retry",
		                  name, *other ? other : "(another namespace)", parent, name);
	}
	if (kind == NETCONF_SHIM_MACVLAN && rtnl_link_is_macvlan(link)) {
		uint32_t m = rtnl_link_macvlan_get_mode(link);

		if (m != MACVLAN_MODE_BRIDGE)
			return sb_err_set(
			    err, EEXIST,
			    "Shim '%s' is a macvlan in mode %s, not bridge, and cannot "
			    "reach the containers; delete it ('ip link del %s') and "
			    "retry",
			    name, rtnl_link_macvlan_mode2str((int)m, mode, sizeof(mode)), name);
	}
	if (kind == NETCONF_SHIM_IPVLAN && rtnl_link_is_ipvlan(link)) {
		uint16_t m;

		if (rtnl_link_ipvlan_get_mode(link, &m) == 0 && m != IPVLAN_MODE_L2)
			return sb_err_set(
			    err, EEXIST,
			    "Shim '%s' is an ipvlan in mode %s, not l2; delete it ('ip "
			    "link del %s') and retry",
			    name, rtnl_link_ipvlan_mode2str(m, mode, sizeof(mode)), name);
	}
	return 0;
}

/* Returns 0 when created, 1 when a link of that name appeared meanwhile. */
static int netconf_shim_create(struct nl_sock *sk, const char *name, const char *parent,
                               int parent_idx, enum netconf_shim_kind kind, struct sb_err *err)
{
	_cleanup_rtnl_link_ struct rtnl_link *link = NULL;
	const char *kname = netconf_shim_kinds[kind];
	int r;

	if (kind == NETCONF_SHIM_MACVLAN) {
		link = rtnl_link_macvlan_alloc();
		if (!link)
			sb_oom();
		/* Not the kernel default, vepa: that one cannot reach sibling macvlans. */
		r = rtnl_link_macvlan_set_mode(link, MACVLAN_MODE_BRIDGE);
	} else {
		link = rtnl_link_ipvlan_alloc();
		if (!link)
			sb_oom();
		r = rtnl_link_ipvlan_set_mode(link, IPVLAN_MODE_L2);
	}
	if (r < 0)
		return netconf_nl_fail(err, r, "Creating shim '%s': setting the %s mode", name,
		                       kname);
	rtnl_link_set_name(link, name);
	rtnl_link_set_link(link, parent_idx);

	r = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
	switch (r) {
	case 0:
		return 0;
	case -NLE_EXIST:
		return 1;
	case -NLE_OPNOTSUPP:
		return sb_err_set(
		    err, EOPNOTSUPP,
		    "Creating shim '%s': the kernel lacks %s (load the '%s' module "
		    "or use a kernel built with CONFIG_%s)%s",
		    name, kname, kname, kind == NETCONF_SHIM_IPVLAN ? "IPVLAN" : "MACVLAN",
		    kind == NETCONF_SHIM_IPVLAN ? "; or use a wired --parent with macvlan" : "");
	case -NLE_BUSY:
		return sb_err_set(err, EBUSY,
		                  "Creating %s shim '%s' on '%s': the parent is taken by another "
		                  "kind of link (one parent cannot carry both macvlan and ipvlan, "
		                  "nor be a bridge or bond port)",
		                  kname, name, parent);
	default:
		return netconf_nl_fail(err, r, "Creating %s shim '%s' on '%s'", kname, name,
		                       parent);
	}
}

static int netconf_shim_up(struct nl_sock *sk, struct rtnl_link *link, struct sb_err *err)
{
	_cleanup_rtnl_link_ struct rtnl_link *change = NULL;
	int r;

	if (rtnl_link_get_flags(link) & IFF_UP)
		return 0;
	change = rtnl_link_alloc();
	if (!change)
		sb_oom();
	rtnl_link_set_flags(change, IFF_UP);
	r = rtnl_link_change(sk, link, change, 0);
	if (r < 0)
		return netconf_nl_fail(err, r, "Bringing shim '%s' up", rtnl_link_get_name(link));
	return 0;
}

static int netconf_shim_addr(struct nl_sock *sk, const char *name, int ifindex, uint32_t addr,
                             struct sb_err *err)
{
	_cleanup_rtnl_addr_ struct rtnl_addr *a = rtnl_addr_alloc();
	_cleanup_nl_addr_ struct nl_addr *local = netconf_nl_addr_new(addr, 32);
	char ip[INET_ADDRSTRLEN];
	int r;

	if (!a)
		sb_oom();
	rtnl_addr_set_ifindex(a, ifindex);
	r = rtnl_addr_set_local(a, local);
	if (r < 0)
		return netconf_nl_fail(err, r, "Preparing address %s/32 for shim '%s'",
		                       netconf_ip4_str(addr, ip), name);
	rtnl_addr_set_prefixlen(a, 32);
	r = rtnl_addr_add(sk, a, 0);
	if (r < 0 && r != -NLE_EXIST)
		return netconf_nl_fail(err, r, "Adding address %s/32 to shim '%s'",
		                       netconf_ip4_str(addr, ip), name);
	return 0;
}

/* ip route add DST/32 dev NAME scope link proto static (main table). */
static int netconf_shim_route(struct nl_sock *sk, const char *name, int ifindex, uint32_t dst,
                              struct sb_err *err)
{
	_cleanup_rtnl_route_ struct rtnl_route *route = rtnl_route_alloc();
	_cleanup_nl_addr_ struct nl_addr *d = netconf_nl_addr_new(dst, 32);
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	char ip[INET_ADDRSTRLEN];
	int r;

	if (!route || !nh)
		sb_oom();
	rtnl_route_nh_set_ifindex(nh, ifindex);
	rtnl_route_add_nexthop(route, nh); /* the route owns nh now */
	r = rtnl_route_set_dst(route, d);
	if (r < 0)
		return netconf_nl_fail(err, r, "Preparing route %s/32 via shim '%s'",
		                       netconf_ip4_str(dst, ip), name);
	rtnl_route_set_table(route, RT_TABLE_MAIN);
	rtnl_route_set_scope(route, RT_SCOPE_LINK);
	rtnl_route_set_protocol(route, RTPROT_STATIC);
	rtnl_route_set_type(route, RTN_UNICAST);
	/* No NLM_F_EXCL: an identical route answers -NLE_EXIST, which is what we want. */
	r = rtnl_route_add(sk, route, 0);
	if (r < 0 && r != -NLE_EXIST)
		return netconf_nl_fail(err, r, "Adding route %s/32 via shim '%s'",
		                       netconf_ip4_str(dst, ip), name);
	return 0;
}

int netconf_shim_ensure(const char *name, const char *parent, enum netconf_shim_kind kind,
                        uint32_t addr, const uint32_t *routes, size_t n_routes, struct sb_err *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	_cleanup_nl_cache_ struct nl_cache *links = NULL;
	_cleanup_rtnl_link_ struct rtnl_link *plink = NULL;
	_cleanup_rtnl_link_ struct rtnl_link *link = NULL;
	char ip[INET_ADDRSTRLEN];
	int parent_idx, ifindex, r;

	r = netconf_check_ifname("Creating a shim", name, err);
	if (r < 0)
		return r;
	r = netconf_check_ifname("Creating a shim: its parent", parent, err);
	if (r < 0)
		return r;
	if ((unsigned)kind >= ARRAY_SIZE(netconf_shim_kinds))
		return sb_err_input(err, "Creating shim '%s': unknown kind %d", name, (int)kind);
	if (!addr)
		return sb_err_input(err, "Creating shim '%s': it needs an IPv4 address", name);
	if (n_routes && !routes)
		return sb_err_input(err, "Creating shim '%s': %zu routes but no array", name,
		                    n_routes);
	if (!netconf_ip4_is_unicast(addr))
		return sb_err_input(err, "Creating shim '%s': %s is not a unicast address", name,
		                    netconf_ip4_str(addr, ip));
	for (size_t i = 0; i < n_routes; i++) {
		if (!netconf_ip4_is_unicast(routes[i]))
			return sb_err_input(
			    err, "Creating shim '%s': route to %s: not a unicast address", name,
			    netconf_ip4_str(routes[i], ip));
	}

	r = netconf_nl_open(&sk, err);
	if (r < 0)
		return r;
	r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &links);
	if (r < 0)
		return netconf_nl_fail(err, r, "Listing network interfaces");
	plink = rtnl_link_get_by_name(links, parent);
	if (!plink)
		return sb_err_set(err, ENODEV,
		                  "Creating shim '%s': --parent '%s': no such interface; see 'ip "
		                  "link' for the names on this host",
		                  name, parent);
	parent_idx = rtnl_link_get_ifindex(plink);

	link = rtnl_link_get_by_name(links, name);
	if (!link) {
		r = netconf_shim_create(sk, name, parent, parent_idx, kind, err);
		if (r < 0)
			return r;
	}
	/* Fresh from the kernel: the cache predates the creation. */
	if (link)
		rtnl_link_put(steal_ptr(&link));
	r = rtnl_link_get_kernel(sk, 0, name, &link);
	if (r < 0)
		return netconf_nl_fail(err, r, "Reading back shim '%s'", name);
	r = netconf_shim_check(link, links, parent, parent_idx, kind, err);
	if (r < 0)
		return r;
	ifindex = rtnl_link_get_ifindex(link);

	r = netconf_shim_up(sk, link, err);
	if (r < 0)
		return r;
	r = netconf_shim_addr(sk, name, ifindex, addr, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n_routes; i++) {
		r = netconf_shim_route(sk, name, ifindex, routes[i], err);
		if (r < 0)
			return r;
	}
	return 0;
}

int netconf_link_del(const char *name, struct sb_err *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	_cleanup_rtnl_link_ struct rtnl_link *link = NULL;
	int r;

	r = netconf_check_ifname("Deleting a link", name, err);
	if (r < 0)
		return r;
	r = netconf_nl_open(&sk, err);
	if (r < 0)
		return r;
	link = rtnl_link_alloc();
	if (!link)
		sb_oom();
	rtnl_link_set_name(link, name);
	r = rtnl_link_delete(sk, link);
	if (r == -NLE_NODEV || r == -NLE_OBJ_NOTFOUND)
		return 0;
	if (r < 0)
		return netconf_nl_fail(err, r, "Deleting link '%s'", name);
	return 0;
}

int netconf_link_exists(const char *name, bool *exists, struct sb_err *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	_cleanup_rtnl_link_ struct rtnl_link *link = NULL;
	int r;

	*exists = false;
	r = netconf_check_ifname("Looking up a link", name, err);
	if (r < 0)
		return r;
	r = netconf_nl_open(&sk, err);
	if (r < 0)
		return r;
	r = rtnl_link_get_kernel(sk, 0, name, &link);
	if (r == -NLE_NODEV || r == -NLE_OBJ_NOTFOUND)
		return 0;
	if (r < 0)
		return netconf_nl_fail(err, r, "Looking up link '%s'", name);
	*exists = true;
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * uplink.c - the host's LAN side: the default route's interface (or the
 * one the user named with --parent), its IPv4 address and prefix, the
 * gateway, the MTU and whether it is Wi-Fi (macvlan does not work there).
 */
#include "internal.h"

#include <sys/stat.h>

/* A usable default route: main table, dst /0, unicast, with an interface. */
static bool netconf_route_is_default(struct rtnl_route *r)
{
	struct nl_addr *dst = rtnl_route_get_dst(r);

	if (rtnl_route_get_family(r) != AF_INET || rtnl_route_get_table(r) != RT_TABLE_MAIN ||
	    rtnl_route_get_type(r) != RTN_UNICAST)
		return false;
	if (dst && nl_addr_get_prefixlen(dst) != 0)
		return false;
	return rtnl_route_get_nnexthops(r) > 0 &&
	       rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(r, 0)) > 0;
}

/*
 * The lowest-metric default route; with ifindex > 0, only one whose first
 * hop leaves through that interface.
 */
static struct rtnl_route *netconf_default_route(struct nl_cache *routes, int ifindex)
{
	struct rtnl_route *best = NULL;

	for (struct nl_object *o = nl_cache_get_first(routes); o; o = nl_cache_get_next(o)) {
		struct rtnl_route *r = (struct rtnl_route *)o;

		if (!netconf_route_is_default(r))
			continue;
		if (ifindex > 0 && rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(r, 0)) != ifindex)
			continue;
		if (!best || rtnl_route_get_priority(r) < rtnl_route_get_priority(best))
			best = r;
	}
	return best;
}

/*
 * The first global IPv4 address on ifindex, primaries before secondaries.
 * Returns false if there is none.
 */
static bool netconf_uplink_addr(struct nl_cache *addrs, int ifindex, uint32_t *addr,
                                uint8_t *prefix)
{
	for (int pass = 0; pass < 2; pass++) {
		for (struct nl_object *o = nl_cache_get_first(addrs); o; o = nl_cache_get_next(o)) {
			struct rtnl_addr *a = (struct rtnl_addr *)o;

			if (rtnl_addr_get_ifindex(a) != ifindex ||
			    rtnl_addr_get_family(a) != AF_INET ||
			    rtnl_addr_get_scope(a) != RT_SCOPE_UNIVERSE)
				continue;
			if (pass == 0 && (rtnl_addr_get_flags(a) & IFA_F_SECONDARY))
				continue;
			if (!netconf_nl_addr_ipv4(rtnl_addr_get_local(a), addr))
				continue;
			*prefix = (uint8_t)rtnl_addr_get_prefixlen(a);
			return true;
		}
	}
	return false;
}

/*
 * sysfs shows the network namespace of whoever mounted /sys: right under
 * `ip netns exec` and on the host, stale under a bare `nsenter --net`.
 */
static bool netconf_is_wireless(const char *ifname)
{
	static const char *const probes[] = {"wireless", "phy80211"};
	struct stat st;

	for (size_t i = 0; i < ARRAY_SIZE(probes); i++) {
		_cleanup_free_ char *path = xasprintf("/sys/class/net/%s/%s", ifname, probes[i]);

		if (stat(path, &st) == 0)
			return true;
	}
	return false;
}

int netconf_uplink_find(const char *ifname, struct netconf_uplink *out, struct sb_err *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	_cleanup_nl_cache_ struct nl_cache *links = NULL;
	_cleanup_nl_cache_ struct nl_cache *routes = NULL;
	_cleanup_nl_cache_ struct nl_cache *addrs = NULL;
	_cleanup_rtnl_link_ struct rtnl_link *link = NULL;
	struct netconf_uplink u = {0};
	struct rtnl_route *def;
	int r;

	if (ifname && (!*ifname || strlen(ifname) >= IF_NAMESIZE))
		return sb_err_input(err, "--parent '%s': not a valid interface name", ifname);
	r = netconf_caches_load(&sk, &links, &routes, &addrs, err);
	if (r < 0)
		return r;

	if (ifname) {
		link = rtnl_link_get_by_name(links, ifname);
		if (!link)
			return sb_err_set(err, ENODEV,
			                  "--parent '%s': no such interface; see 'ip link' for the "
			                  "names on this host",
			                  ifname);
		u.ifindex = rtnl_link_get_ifindex(link);
		def = netconf_default_route(routes, u.ifindex);
	} else {
		def = netconf_default_route(routes, 0);
		if (!def)
			return sb_err_set(err, ENETUNREACH,
			                  "No IPv4 default route; name the LAN interface with "
			                  "--parent");
		u.ifindex = rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(def, 0));
		link = rtnl_link_get(links, u.ifindex);
		if (!link)
			return sb_err_set(
			    err, ENODEV,
			    "The default route's interface (index %d) vanished; retry "
			    "or name the LAN interface with --parent",
			    u.ifindex);
	}
	snprintf(u.ifname, sizeof(u.ifname), "%s", rtnl_link_get_name(link));
	u.mtu = rtnl_link_get_mtu(link);
	u.wireless = netconf_is_wireless(u.ifname);
	if (!netconf_uplink_addr(addrs, u.ifindex, &u.addr, &u.prefix))
		return sb_err_set(err, EADDRNOTAVAIL,
		                  "Interface '%s' has no global IPv4 address; give it one or name "
		                  "another LAN interface with --parent",
		                  u.ifname);
	if (def && !netconf_nl_addr_ipv4(rtnl_route_nh_get_gateway(rtnl_route_nexthop_n(def, 0)),
	                                 &u.gateway))
		u.gateway = 0;
	*out = u;
	return 0;
}

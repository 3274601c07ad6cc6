/* SPDX-License-Identifier: MIT */
/*
 * route.c - every IPv4 route the host has, plus the prefix of every IPv4
 * interface address (an interface that is down keeps its addresses but
 * loses its connected routes, and a noprefixroute address never had one).
 * The launcher picks private subnets that overlap none of these.
 */
#include "internal.h"

struct netconf_route_vec {
	struct netconf_route4 *v;
	size_t n, cap;
};

static void netconf_route_vec_push(struct netconf_route_vec *vec, const struct netconf_route4 *r)
{
	if (vec->n == vec->cap) {
		vec->cap = vec->cap ? vec->cap * 2 : 16;
		vec->v = xreallocarray(vec->v, vec->cap, sizeof(*vec->v));
	}
	vec->v[vec->n++] = *r;
}

static uint32_t netconf_prefix_mask(unsigned prefix)
{
	return prefix ? ~(uint32_t)0 << (32 - prefix) : 0;
}

static void netconf_route_from_rtnl(struct rtnl_route *r, struct nl_cache *links,
                                    struct netconf_route4 *out)
{
	struct nl_addr *dst = rtnl_route_get_dst(r);
	struct rtnl_nexthop *nh;

	memset(out, 0, sizeof(*out));
	if (dst) {
		out->prefix = (uint8_t)nl_addr_get_prefixlen(dst);
		if (!netconf_nl_addr_ipv4(dst, &out->dst))
			out->dst = 0; /* the default route has an empty dst */
	}
	out->priority = rtnl_route_get_priority(r);
	out->table = rtnl_route_get_table(r);
	/* Multipath routes: the first hop names the interface; dst is what matters. */
	if (rtnl_route_get_nnexthops(r) > 0) {
		nh = rtnl_route_nexthop_n(r, 0);
		out->ifindex = rtnl_route_nh_get_ifindex(nh);
		if (!netconf_nl_addr_ipv4(rtnl_route_nh_get_gateway(nh), &out->gateway))
			out->gateway = 0;
		netconf_link_name(links, out->ifindex, out->ifname);
	}
}

static bool netconf_route_vec_has(const struct netconf_route_vec *vec, uint32_t dst, uint8_t prefix,
                                  int ifindex)
{
	for (size_t i = 0; i < vec->n; i++) {
		const struct netconf_route4 *r = &vec->v[i];

		if (r->dst == dst && r->prefix == prefix && r->ifindex == ifindex)
			return true;
	}
	return false;
}

/* The connected prefix of an address, unless a route of any table already is it. */
static void netconf_route_from_addr(struct rtnl_addr *a, struct nl_cache *links,
                                    struct netconf_route_vec *vec)
{
	struct netconf_route4 r = {0};
	struct nl_addr *peer = rtnl_addr_get_peer(a);
	uint32_t local;

	if (rtnl_addr_get_family(a) != AF_INET ||
	    !netconf_nl_addr_ipv4(rtnl_addr_get_local(a), &local))
		return;
	/* Point-to-point: the prefix is the peer's. */
	if (peer && netconf_nl_addr_ipv4(peer, &r.dst) && r.dst != local)
		local = r.dst;
	r.prefix = (uint8_t)rtnl_addr_get_prefixlen(a);
	if (r.prefix > 32)
		return;
	r.dst = local & netconf_prefix_mask(r.prefix);
	r.ifindex = rtnl_addr_get_ifindex(a);
	r.table = RT_TABLE_MAIN;
	netconf_link_name(links, r.ifindex, r.ifname);
	if (!netconf_route_vec_has(vec, r.dst, r.prefix, r.ifindex))
		netconf_route_vec_push(vec, &r);
}

int netconf_routes_list(struct netconf_route4 **out, size_t *n, struct sb_err *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	_cleanup_nl_cache_ struct nl_cache *links = NULL;
	_cleanup_nl_cache_ struct nl_cache *routes = NULL;
	_cleanup_nl_cache_ struct nl_cache *addrs = NULL;
	struct netconf_route_vec vec = {0};
	struct nl_object *o;
	int r;

	*out = NULL;
	*n = 0;
	r = netconf_caches_load(&sk, &links, &routes, &addrs, err);
	if (r < 0)
		return r;

	for (o = nl_cache_get_first(routes); o; o = nl_cache_get_next(o)) {
		struct netconf_route4 rt;

		if (rtnl_route_get_family((struct rtnl_route *)o) != AF_INET)
			continue;
		netconf_route_from_rtnl((struct rtnl_route *)o, links, &rt);
		netconf_route_vec_push(&vec, &rt);
	}
	for (o = nl_cache_get_first(addrs); o; o = nl_cache_get_next(o))
		netconf_route_from_addr((struct rtnl_addr *)o, links, &vec);

	*out = vec.v;
	*n = vec.n;
	return 0;
}

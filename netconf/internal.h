/* SPDX-License-Identifier: MIT */
/*
 * internal.h - private to netconf/: cleanup helpers for libnl objects
 * (libnl's own _nl_auto_* are internal to libnl), the libnl socket and
 * the mapping of -NLE_* codes to negative errno with a message.
 *
 * Include netconf.h first: it brings <net/if.h>, which must come before
 * any <linux/if.h> the libnl headers pull in.
 */
#ifndef SLURMBOX_NETCONF_INTERNAL_H
#define SLURMBOX_NETCONF_INTERNAL_H

#include "netconf.h"

#include <arpa/inet.h>
#include <netlink/netlink.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

static inline void netconf_nl_sock_freep(struct nl_sock **p)
{
	if (*p)
		nl_socket_free(*p);
}

static inline void netconf_nl_cache_putp(struct nl_cache **p)
{
	if (*p)
		nl_cache_put(*p);
}

static inline void netconf_rtnl_link_putp(struct rtnl_link **p)
{
	if (*p)
		rtnl_link_put(*p);
}

static inline void netconf_rtnl_addr_putp(struct rtnl_addr **p)
{
	if (*p)
		rtnl_addr_put(*p);
}

static inline void netconf_rtnl_route_putp(struct rtnl_route **p)
{
	if (*p)
		rtnl_route_put(*p);
}

static inline void netconf_nl_addr_putp(struct nl_addr **p)
{
	if (*p)
		nl_addr_put(*p);
}

#define _cleanup_nl_sock_    _cleanup_(netconf_nl_sock_freep)
#define _cleanup_nl_cache_   _cleanup_(netconf_nl_cache_putp)
#define _cleanup_rtnl_link_  _cleanup_(netconf_rtnl_link_putp)
#define _cleanup_rtnl_addr_  _cleanup_(netconf_rtnl_addr_putp)
#define _cleanup_rtnl_route_ _cleanup_(netconf_rtnl_route_putp)
#define _cleanup_nl_addr_    _cleanup_(netconf_nl_addr_putp)

/* A connected NETLINK_ROUTE socket in the caller's network namespace. */
int netconf_nl_open(struct nl_sock **out, struct sb_err *err);
/* A connected socket and the link, IPv4 route and address caches (all the caller's). */
int netconf_caches_load(struct nl_sock **sk, struct nl_cache **links, struct nl_cache **routes,
                        struct nl_cache **addrs, struct sb_err *err);

/* A negative (or positive) NLE_* code as a positive errno value. */
int netconf_nl_errno(int nle);

/*
 * Fill *err with "<context>: <nl_geterror(nle)>" and return -errno. The
 * context is a printf format; for -NLE_PERM a hint about CAP_NET_ADMIN is
 * appended.
 */
__attribute__((format(printf, 3, 4))) int netconf_nl_fail(struct sb_err *err, int nle,
                                                          const char *fmt, ...);

/* An IPv4 nl_addr as a host-order uint32; false if it is not 4 bytes long. */
bool netconf_nl_addr_ipv4(struct nl_addr *a, uint32_t *out);

/* A new nl_addr for an IPv4 address (host order) with a prefix length. */
struct nl_addr *netconf_nl_addr_new(uint32_t addr, unsigned prefix);

/* Interface name by index from a link cache; "" when unknown. */
void netconf_link_name(struct nl_cache *links, int ifindex, char name[IF_NAMESIZE]);

/* A host's unicast address: not 0.0.0.0, not loopback, not multicast or class E. */
bool netconf_ip4_is_unicast(uint32_t addr);

/* Dotted quad of a host-order address into buf[INET_ADDRSTRLEN]. */
const char *netconf_ip4_str(uint32_t addr, char buf[INET_ADDRSTRLEN]);

#endif

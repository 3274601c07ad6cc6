/* SPDX-License-Identifier: MIT */
/*
 * netconf - netlink only (libnl-route-3 for links, addresses and routes;
 * libmnl for the neighbour probe). Knows nothing of Docker or compose; it
 * includes only compose/base.h for the error type. Addresses are IPv4 in
 * host byte order, like compose.
 *
 * Every call works in the caller's current network namespace.
 */
#ifndef SLURMBOX_NETCONF_H
#define SLURMBOX_NETCONF_H

#include "../compose/base.h"
#include <net/if.h>

struct netconf_route4 {
	uint32_t dst; /* network, host order */
	uint8_t prefix;
	uint32_t gateway; /* 0 if none */
	int ifindex;
	char ifname[IF_NAMESIZE];
	uint32_t priority;
	uint32_t table;
};

/*
 * Every IPv4 route of every table (one entry per route; a multipath route
 * shows its first hop), plus each interface address's prefix that is not
 * already a route (interface down, noprefixroute), as table 254 without
 * gateway. Caller frees *out.
 */
int netconf_routes_list(struct netconf_route4 **out, size_t *n, struct sb_err *err);

/* The LAN side of a host: what macvlan hangs from. */
struct netconf_uplink {
	char ifname[IF_NAMESIZE];
	int ifindex;
	uint32_t addr; /* the host's own IPv4 address on it */
	uint8_t prefix;
	uint32_t gateway; /* of the lowest-metric main-table default route through
			     this interface; 0 if none leaves through it */
	bool wireless;    /* /sys/class/net/IF/wireless or phy80211 exists */
	unsigned mtu;
};

/*
 * ifname NULL: the interface of the main table's default route (lowest
 * metric). Otherwise that interface, which must exist and have an IPv4
 * address. Errors name the interface and the fix.
 */
int netconf_uplink_find(const char *ifname, struct netconf_uplink *out, struct sb_err *err);

/*
 * Is `addr` in use on the link `ifname`? Makes the kernel resolve it (a UDP
 * connect+send to the discard port triggers ARP), waits up to timeout_ms,
 * and reads the neighbour table with RTM_GETNEIGH (libmnl). *in_use is true
 * when an entry is REACHABLE/STALE/DELAY/PROBE/PERMANENT with a MAC, which
 * goes to mac[6]. REACHABLE/PERMANENT and FAILED answer at once; otherwise
 * the state at timeout_ms decides. One of this host's own addresses is in
 * use, with its interface's MAC (it never shows up in the neighbour table).
 */
int netconf_neigh_probe(const char *ifname, uint32_t addr, int timeout_ms, bool *in_use,
                        uint8_t mac[6], struct sb_err *err);

enum netconf_shim_kind {
	NETCONF_SHIM_MACVLAN, /* mode bridge: the kernel default, vepa, cannot reach siblings */
	NETCONF_SHIM_IPVLAN,  /* mode l2, for Wi-Fi parents */
};

/*
 * Create (idempotently) a shim link `name` on `parent` with `addr/32`, up,
 * and a /32 route through it for each of `routes`. An existing link of the
 * same kind on the same parent is reused; anything else by that name is an
 * error. -EPERM with a clear message without CAP_NET_ADMIN.
 */
int netconf_shim_ensure(const char *name, const char *parent, enum netconf_shim_kind kind,
                        uint32_t addr, const uint32_t *routes, size_t n_routes, struct sb_err *err);
/* Delete a link by name; absent is success. */
int netconf_link_del(const char *name, struct sb_err *err);
/* Does a link by that name exist? */
int netconf_link_exists(const char *name, bool *exists, struct sb_err *err);

/* ---- pure parsers, unit-tested on captured messages ---- */

struct nlmsghdr;
struct netconf_neigh {
	uint32_t dst;
	int ifindex;
	uint16_t state; /* NUD_* */
	uint8_t mac[6];
	bool has_mac;
	bool has_cacheinfo;
	uint32_t confirmed_cs; /* since the neighbour last answered, in 1/100 s (NDA_CACHEINFO) */
};
/*
 * Parse one RTM_NEWNEIGH message of nlh->nlmsg_len bytes: 0 when parsed, 1 to
 * skip (not AF_INET, or not RTM_NEWNEIGH), -EBADMSG when malformed (short,
 * truncated or unaligned, no 4-byte NDA_DST). has_mac is false without a
 * 6-byte NDA_LLADDR.
 */
int netconf_neigh_parse(const struct nlmsghdr *nlh, struct netconf_neigh *out);
/* True for states that mean "someone answered": REACHABLE, STALE, DELAY, PROBE, PERMANENT. */
bool netconf_neigh_state_in_use(uint16_t state);

#endif

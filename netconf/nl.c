/* SPDX-License-Identifier: MIT */
/*
 * nl.c - the libnl socket, error mapping and small address helpers shared
 * by the rest of netconf/.
 */
#include "internal.h"

int netconf_nl_open(struct nl_sock **out, struct sb_err *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = nl_socket_alloc();
	int r;

	if (!sk)
		sb_oom();
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0)
		return netconf_nl_fail(err, r, "Opening a NETLINK_ROUTE socket");
	*out = steal_ptr(&sk);
	return 0;
}

/* The inverse of libnl's nl_syserr2nlerr(), as far as it is one to one. */
static const int netconf_nle_errno[] = {
    [NLE_INTR] = EINTR,           [NLE_BAD_SOCK] = EBADF,
    [NLE_AGAIN] = EAGAIN,         [NLE_NOMEM] = ENOMEM,
    [NLE_EXIST] = EEXIST,         [NLE_INVAL] = EINVAL,
    [NLE_RANGE] = ERANGE,         [NLE_MSGSIZE] = EMSGSIZE,
    [NLE_OPNOTSUPP] = EOPNOTSUPP, [NLE_AF_NOSUPPORT] = EAFNOSUPPORT,
    [NLE_OBJ_NOTFOUND] = ENOENT,  [NLE_NOADDR] = EADDRNOTAVAIL,
    [NLE_BUSY] = EBUSY,           [NLE_PROTO_MISMATCH] = EPROTONOSUPPORT,
    [NLE_NOACCESS] = EACCES,      [NLE_PERM] = EPERM,
    [NLE_NODEV] = ENODEV,
};

int netconf_nl_errno(int nle)
{
	if (nle < 0)
		nle = -nle;
	if (nle > 0 && (size_t)nle < ARRAY_SIZE(netconf_nle_errno) && netconf_nle_errno[nle])
		return netconf_nle_errno[nle];
	return EIO;
}

int netconf_nl_fail(struct sb_err *err, int nle, const char *fmt, ...)
{
	char ctx[sizeof(err->msg)];
	va_list ap;
	int code = netconf_nl_errno(nle);

	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	if (code == EPERM || code == EACCES)
		return sb_err_set(err, code, "%s needs CAP_NET_ADMIN: run as root (%s)", ctx,
		                  nl_geterror(nle));
	return sb_err_set(err, code, "%s: %s", ctx, nl_geterror(nle));
}

bool netconf_nl_addr_ipv4(struct nl_addr *a, uint32_t *out)
{
	uint32_t be;

	if (!a || nl_addr_get_family(a) != AF_INET || nl_addr_get_len(a) != sizeof(be))
		return false;
	memcpy(&be, nl_addr_get_binary_addr(a), sizeof(be));
	*out = ntohl(be);
	return true;
}

struct nl_addr *netconf_nl_addr_new(uint32_t addr, unsigned prefix)
{
	uint32_t be = htonl(addr);
	struct nl_addr *a = nl_addr_build(AF_INET, &be, sizeof(be));

	if (!a)
		sb_oom();
	nl_addr_set_prefixlen(a, (int)prefix);
	return a;
}

void netconf_link_name(struct nl_cache *links, int ifindex, char name[IF_NAMESIZE])
{
	name[0] = '\0';
	if (ifindex > 0 && !rtnl_link_i2name(links, ifindex, name, IF_NAMESIZE))
		name[0] = '\0';
}

const char *netconf_ip4_str(uint32_t addr, char buf[INET_ADDRSTRLEN])
{
	struct in_addr in = {.s_addr = htonl(addr)};

	return inet_ntop(AF_INET, &in, buf, INET_ADDRSTRLEN);
}

bool netconf_ip4_is_unicast(uint32_t addr)
{
	return addr != 0 && addr >> 24 != 127 && addr < 0xe0000000u;
}

int netconf_caches_load(struct nl_sock **sk, struct nl_cache **links, struct nl_cache **routes,
                        struct nl_cache **addrs, struct sb_err *err)
{
	int r;

	r = netconf_nl_open(sk, err);
	if (r < 0)
		return r;
	r = rtnl_link_alloc_cache(*sk, AF_UNSPEC, links);
	if (r < 0)
		return netconf_nl_fail(err, r, "Listing network interfaces");
	r = rtnl_route_alloc_cache(*sk, AF_INET, 0, routes);
	if (r < 0)
		return netconf_nl_fail(err, r, "Listing IPv4 routes");
	r = rtnl_addr_alloc_cache(*sk, addrs);
	if (r < 0)
		return netconf_nl_fail(err, r, "Listing interface addresses");
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * probe.c - is an IPv4 address taken on a link? A UDP datagram to the
 * discard port, sent out of that link, makes the kernel ARP for it; the
 * answer shows up in the neighbour table, which we read with RTM_GETNEIGH
 * dumps (libmnl) every 20 ms.
 */
#include "internal.h"

#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

#define NETCONF_PROBE_INTERVAL_MS 20
/*
 * An old entry that cannot be dropped (no CAP_NET_ADMIN) is checked again by
 * the kernel only after delay_first_probe_time (5 s) and a unicast probe
 * (retrans_time, 1 s): wait that long for its fresh answer or its failure.
 */
#define NETCONF_PROBE_RECHECK_MS 8000
#define NETCONF_PROBE_BUF_SIZE   32768

static void netconf_mnl_socket_closep(struct mnl_socket **p)
{
	if (*p)
		mnl_socket_close(*p);
}

#define _cleanup_mnl_socket_ _cleanup_(netconf_mnl_socket_closep)

/* What the neighbour table says about (ifindex, dst). */
struct netconf_probe_seen {
	int ifindex;
	uint32_t dst;
	bool found;
	struct netconf_neigh neigh;
};

static int netconf_probe_neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	struct netconf_probe_seen *seen = data;
	struct netconf_neigh n;

	/* A malformed entry cannot be ours to judge; skip it rather than fail the probe. */
	if (netconf_neigh_parse(nlh, &n) != 0)
		return MNL_CB_OK;
	if (n.ifindex == seen->ifindex && n.dst == seen->dst) {
		seen->neigh = n;
		seen->found = true;
	}
	return MNL_CB_OK;
}

/*
 * One RTM_GETNEIGH dump of the IPv4 neighbour table, looking for seen->dst.
 * Returns 0, or -errno of the failed socket call.
 */
static int netconf_probe_dump(struct mnl_socket *nl, unsigned seq, struct netconf_probe_seen *seen)
{
	_cleanup_free_ char *buf = xmalloc(NETCONF_PROBE_BUF_SIZE);
	unsigned portid = mnl_socket_get_portid(nl);
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;
	ssize_t n;
	int r;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETNEIGH;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = AF_INET;

	seen->found = false;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return errno ? -errno : -EIO;
	for (;;) {
		n = mnl_socket_recvfrom(nl, buf, NETCONF_PROBE_BUF_SIZE);
		if (n < 0)
			return errno ? -errno : -EIO;
		r = mnl_cb_run(buf, (size_t)n, seq, portid, netconf_probe_neigh_cb, seen);
		if (r == MNL_CB_ERROR)
			return errno ? -errno : -EIO;
		if (r == MNL_CB_STOP) /* NLMSG_DONE */
			return 0;
	}
}

/*
 * Forget what the neighbour table remembers about (ifindex, addr), so the
 * answer we wait for is fresh: a STALE entry may name a machine (or one of
 * our own containers) that left minutes ago, and the kernel would not even
 * ask again for 5 s (delay_first_probe_time). Absent is fine.
 */
static int netconf_probe_forget(struct mnl_socket *nl, unsigned seq, int ifindex, uint32_t addr)
{
	char buf[8192];
	unsigned portid = mnl_socket_get_portid(nl);
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;
	uint32_t dst = htonl(addr);
	ssize_t n;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_DELNEIGH;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = AF_INET;
	ndm->ndm_ifindex = ifindex;
	mnl_attr_put(nlh, NDA_DST, sizeof(dst), &dst);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return errno ? -errno : -EIO;
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0)
		return errno ? -errno : -EIO;
	if (mnl_cb_run(buf, (size_t)n, seq, portid, NULL, NULL) < 0 && errno != ENOENT)
		return errno ? -errno : -EIO;
	return 0;
}

/* Send one byte to addr:9 out of ifname, so that the kernel resolves addr there. */
static int netconf_probe_kick(const char *ifname, uint32_t addr, struct sb_err *err)
{
	_cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sin = {
	    .sin_family = AF_INET,
	    .sin_port = htons(9), /* discard */
	    .sin_addr.s_addr = htonl(addr),
	};
	char ip[INET_ADDRSTRLEN];

	netconf_ip4_str(addr, ip);
	if (fd < 0)
		return sb_err_set(err, errno, "Probing %s: socket: %s", ip, strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname) + 1) < 0)
		return sb_err_set(err, errno,
		                  "Probing %s: binding to interface '%s' needs CAP_NET_RAW: %s", ip,
		                  ifname, strerror(errno));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		return sb_err_set(err, errno,
		                  "Probing %s on '%s': %s; is the interface up with an IPv4 "
		                  "address?",
		                  ip, ifname, strerror(errno));
	/* The datagram itself may be refused later (ICMP); only the ARP matters. */
	if (send(fd, "", 1, MSG_DONTWAIT) < 0 && errno != EAGAIN && errno != EHOSTUNREACH &&
	    errno != ECONNREFUSED)
		return sb_err_set(err, errno, "Probing %s on '%s': %s", ip, ifname,
		                  strerror(errno));
	return 0;
}

/*
 * Is addr one of this host's own addresses? Those never show up in the
 * neighbour table (the kernel routes them to lo), but they are in use.
 */
static int netconf_probe_local(uint32_t addr, bool *local, uint8_t mac[6], struct sb_err *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	_cleanup_nl_cache_ struct nl_cache *addrs = NULL;
	_cleanup_nl_cache_ struct nl_cache *links = NULL;
	int r;

	*local = false;
	r = netconf_nl_open(&sk, err);
	if (r < 0)
		return r;
	r = rtnl_addr_alloc_cache(sk, &addrs);
	if (r < 0)
		return netconf_nl_fail(err, r, "Listing interface addresses");
	for (struct nl_object *o = nl_cache_get_first(addrs); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;
		_cleanup_rtnl_link_ struct rtnl_link *link = NULL;
		struct nl_addr *ll;
		uint32_t v;

		if (rtnl_addr_get_family(a) != AF_INET ||
		    !netconf_nl_addr_ipv4(rtnl_addr_get_local(a), &v) || v != addr)
			continue;
		*local = true;
		r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &links);
		if (r < 0)
			return netconf_nl_fail(err, r, "Listing network interfaces");
		link = rtnl_link_get(links, rtnl_addr_get_ifindex(a));
		ll = link ? rtnl_link_get_addr(link) : NULL;
		if (ll && nl_addr_get_len(ll) == 6)
			memcpy(mac, nl_addr_get_binary_addr(ll), 6);
		return 0;
	}
	return 0;
}

/* Did the neighbour answer within the last `ms` (plus a tick of rounding)? */
static bool netconf_neigh_fresh(const struct netconf_neigh *n, long long ms)
{
	return n->has_cacheinfo && (long long)n->confirmed_cs * 10 <= ms + 10;
}

static long long netconf_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int netconf_neigh_probe(const char *ifname, uint32_t addr, int timeout_ms, bool *in_use,
                        uint8_t mac[6], struct sb_err *err)
{
	_cleanup_mnl_socket_ struct mnl_socket *nl = NULL;
	struct netconf_probe_seen seen = {.dst = addr};
	const struct timespec tick = {.tv_nsec = NETCONF_PROBE_INTERVAL_MS * 1000000L};
	char ip[INET_ADDRSTRLEN];
	long long deadline, kicked;
	unsigned seq;
	bool local, kept = false;
	int r;

	*in_use = false;
	memset(mac, 0, 6);
	netconf_ip4_str(addr, ip);
	if (!ifname || !*ifname || strlen(ifname) >= IF_NAMESIZE)
		return sb_err_input(err, "Probing %s: '%s' is not a valid interface name", ip,
		                    ifname ? ifname : "");
	if (!netconf_ip4_is_unicast(addr))
		return sb_err_input(err, "Probing %s: not a unicast address of a LAN host", ip);
	if (timeout_ms < 0)
		return sb_err_input(err, "Probing %s: timeout %d ms is negative", ip, timeout_ms);
	seen.ifindex = (int)if_nametoindex(ifname);
	if (!seen.ifindex)
		return sb_err_set(err, ENODEV, "Probing %s: no interface '%s'", ip, ifname);

	r = netconf_probe_local(addr, &local, mac, err);
	if (r < 0)
		return r;
	if (local) {
		*in_use = true;
		return 0;
	}

	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return sb_err_set(err, errno, "Opening a NETLINK_ROUTE socket: %s",
		                  strerror(errno));
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return sb_err_set(err, errno, "Binding a NETLINK_ROUTE socket: %s",
		                  strerror(errno));

	seq = (unsigned)time(NULL);
	r = netconf_probe_dump(nl, seq++, &seen);
	if (r < 0)
		return sb_err_set(err, -r, "Probing %s on '%s': reading the neighbour table: %s",
		                  ip, ifname, strerror(-r));
	/* A configured (permanent) entry is someone's; anything else is asked afresh. */
	if (seen.found && (seen.neigh.state & NUD_PERMANENT) && seen.neigh.has_mac) {
		*in_use = true;
		memcpy(mac, seen.neigh.mac, 6);
		return 0;
	}
	if (seen.found) {
		/*
		 * Without CAP_NET_ADMIN (a user in the docker group) the entry
		 * stays: the kick below makes the kernel check it again, and
		 * only a fresh answer or a failure ends the wait.
		 */
		r = netconf_probe_forget(nl, seq++, seen.ifindex, addr);
		if (r == -EPERM) {
			kept = true;
			r = 0;
		}
		if (r < 0)
			return sb_err_set(err, -r,
			                  "Probing %s on '%s': forgetting its old neighbour "
			                  "entry: %s",
			                  ip, ifname, strerror(-r));
	}
	kicked = netconf_now_ms();
	deadline =
	    kicked +
	    (kept && timeout_ms < NETCONF_PROBE_RECHECK_MS ? NETCONF_PROBE_RECHECK_MS : timeout_ms);
	r = netconf_probe_kick(ifname, addr, err);
	if (r < 0)
		return r;
	for (;; seq++) {
		r = netconf_probe_dump(nl, seq, &seen);
		if (r < 0)
			return sb_err_set(err, -r,
			                  "Probing %s on '%s': reading the neighbour table: %s", ip,
			                  ifname, strerror(-r));
		if (seen.found) {
			uint16_t st = seen.neigh.state;

			/* Definite answers: confirmed now, configured, or resolution failed. */
			if ((st & (NUD_REACHABLE | NUD_PERMANENT)) && seen.neigh.has_mac)
				break;
			if (st & NUD_FAILED)
				break;
		}
		if (netconf_now_ms() >= deadline)
			break;
		nanosleep(&tick, NULL);
	}
	/*
	 * At the deadline, a STALE/DELAY/PROBE entry still names the last MAC
	 * that answered. An old entry that could not be dropped counts only if
	 * it answered since the kick: it may name a machine (or a container of
	 * a cluster just removed) that left minutes ago. (REACHABLE above is the
	 * kernel's own word, at most base_reachable_time old.)
	 */
	if (seen.found && seen.neigh.has_mac && netconf_neigh_state_in_use(seen.neigh.state) &&
	    (!kept || (seen.neigh.state & NUD_REACHABLE) ||
	     netconf_neigh_fresh(&seen.neigh, netconf_now_ms() - kicked))) {
		*in_use = true;
		memcpy(mac, seen.neigh.mac, 6);
	}
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * netconf-driver - a small CLI over the netconf API, for
 * tests/netns/test-netconf.sh (OpenVPN's t_net.sh idea: do it through our
 * code, check it with iproute2). It acts on the current network namespace.
 *
 *   netconf-driver routes
 *   netconf-driver uplink [IF]
 *   netconf-driver probe IF ADDR TIMEOUT_MS
 *   netconf-driver shim-ensure NAME PARENT macvlan|ipvlan ADDR [ROUTE...]
 *   netconf-driver link-del NAME
 *   netconf-driver link-exists NAME
 *
 * Output is one fact per line, key=value, stable for scripts. Errors go to
 * stderr as "netconf-driver: error (-ERRNO): MESSAGE"; the exit status
 * follows sb_err_exit_status (1, or 2 for bad input).
 */
#include "../../netconf/netconf.h"

#include <arpa/inet.h>

static const char *ip4(uint32_t a, char buf[INET_ADDRSTRLEN])
{
	struct in_addr in = {.s_addr = htonl(a)};

	return inet_ntop(AF_INET, &in, buf, INET_ADDRSTRLEN);
}

static int parse_ip4(const char *s, uint32_t *out, struct sb_err *err)
{
	struct in_addr in;

	if (inet_pton(AF_INET, s, &in) != 1)
		return sb_err_input(err, "'%s' is not an IPv4 address", s);
	*out = ntohl(in.s_addr);
	return 0;
}

static int cmd_routes(int argc, char **argv, struct sb_err *err)
{
	struct netconf_route4 *routes = NULL;
	char a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];
	size_t n;
	int r;

	(void)argv;
	if (argc != 0)
		return sb_err_input(err, "usage: routes");
	r = netconf_routes_list(&routes, &n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		printf("dst=%s/%u gw=%s dev=%s ifindex=%d metric=%u table=%u\n",
		       ip4(routes[i].dst, a), routes[i].prefix, ip4(routes[i].gateway, g),
		       routes[i].ifname[0] ? routes[i].ifname : "-", routes[i].ifindex,
		       routes[i].priority, routes[i].table);
	free(routes);
	return 0;
}

static int cmd_uplink(int argc, char **argv, struct sb_err *err)
{
	struct netconf_uplink u;
	char a[INET_ADDRSTRLEN];
	int r;

	if (argc > 1)
		return sb_err_input(err, "usage: uplink [IF]");
	r = netconf_uplink_find(argc ? argv[0] : NULL, &u, err);
	if (r < 0)
		return r;
	printf("ifname=%s\n", u.ifname);
	printf("ifindex=%d\n", u.ifindex);
	printf("addr=%s/%u\n", ip4(u.addr, a), u.prefix);
	printf("gateway=%s\n", ip4(u.gateway, a));
	printf("wireless=%d\n", u.wireless);
	printf("mtu=%u\n", u.mtu);
	return 0;
}

static int cmd_probe(int argc, char **argv, struct sb_err *err)
{
	uint8_t mac[6];
	bool in_use;
	uint32_t addr = 0;
	char *end;
	long ms;
	int r;

	if (argc != 3)
		return sb_err_input(err, "usage: probe IF ADDR TIMEOUT_MS");
	r = parse_ip4(argv[1], &addr, err);
	if (r < 0)
		return r;
	ms = strtol(argv[2], &end, 10);
	if (*end || ms < 0 || ms > 60000)
		return sb_err_input(err, "timeout '%s': want 0..60000 ms", argv[2]);
	r = netconf_neigh_probe(argv[0], addr, (int)ms, &in_use, mac, err);
	if (r < 0)
		return r;
	if (in_use)
		printf("in_use mac=%02x:%02x:%02x:%02x:%02x:%02x\n", mac[0], mac[1], mac[2], mac[3],
		       mac[4], mac[5]);
	else
		printf("free\n");
	return 0;
}

static int cmd_shim_ensure(int argc, char **argv, struct sb_err *err)
{
	_cleanup_free_ uint32_t *routes = NULL;
	enum netconf_shim_kind kind;
	uint32_t addr = 0;
	int r;

	if (argc < 4)
		return sb_err_input(err, "usage: shim-ensure NAME PARENT macvlan|ipvlan ADDR "
		                         "[ROUTE...]");
	if (!strcmp(argv[2], "macvlan"))
		kind = NETCONF_SHIM_MACVLAN;
	else if (!strcmp(argv[2], "ipvlan"))
		kind = NETCONF_SHIM_IPVLAN;
	else
		return sb_err_input(err, "kind '%s': want macvlan or ipvlan", argv[2]);
	r = parse_ip4(argv[3], &addr, err);
	if (r < 0)
		return r;
	routes = xcalloc((size_t)argc, sizeof(*routes));
	for (int i = 4; i < argc; i++) {
		r = parse_ip4(argv[i], &routes[i - 4], err);
		if (r < 0)
			return r;
	}
	r = netconf_shim_ensure(argv[0], argv[1], kind, addr, routes, (size_t)argc - 4, err);
	if (r < 0)
		return r;
	printf("ok\n");
	return 0;
}

static int cmd_link_del(int argc, char **argv, struct sb_err *err)
{
	int r;

	if (argc != 1)
		return sb_err_input(err, "usage: link-del NAME");
	r = netconf_link_del(argv[0], err);
	if (r < 0)
		return r;
	printf("ok\n");
	return 0;
}

static int cmd_link_exists(int argc, char **argv, struct sb_err *err)
{
	bool exists;
	int r;

	if (argc != 1)
		return sb_err_input(err, "usage: link-exists NAME");
	r = netconf_link_exists(argv[0], &exists, err);
	if (r < 0)
		return r;
	printf("exists=%d\n", exists);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv, struct sb_err *err);
} commands[] = {
    {"routes", cmd_routes},           {"uplink", cmd_uplink},     {"probe", cmd_probe},
    {"shim-ensure", cmd_shim_ensure}, {"link-del", cmd_link_del}, {"link-exists", cmd_link_exists},
};

int main(int argc, char **argv)
{
	struct sb_err err = SB_ERR_INIT;

	if (argc < 2) {
		fprintf(stderr, "usage: netconf-driver routes|uplink|probe|shim-ensure|link-del|"
		                "link-exists ...\n");
		return 2;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(argv[1], commands[i].name) != 0)
			continue;
		if (commands[i].fn(argc - 2, argv + 2, &err) < 0) {
			fprintf(stderr, "netconf-driver: error (-%d): %s\n", err.code, err.msg);
			return sb_err_exit_status(&err);
		}
		return fflush(stdout) == 0 ? 0 : 1;
	}
	fprintf(stderr, "netconf-driver: unknown command '%s'\n", argv[1]);
	return 2;
}

/* SPDX-License-Identifier: MIT */
/*
 * netconf's error mapping (-NLE_* never leaks upwards), its address
 * helpers, and the input checks every call makes before it opens a
 * netlink socket. No privileges, no netlink traffic.
 */
#include "../../netconf/internal.h"
#include "tap.h"

static void test_nle_to_errno(void)
{
	CHECK_INT(netconf_nl_errno(-NLE_EXIST), EEXIST);
	CHECK_INT(netconf_nl_errno(NLE_EXIST), EEXIST);
	CHECK_INT(netconf_nl_errno(-NLE_PERM), EPERM);
	CHECK_INT(netconf_nl_errno(-NLE_NOACCESS), EACCES);
	CHECK_INT(netconf_nl_errno(-NLE_NODEV), ENODEV);
	CHECK_INT(netconf_nl_errno(-NLE_OBJ_NOTFOUND), ENOENT);
	CHECK_INT(netconf_nl_errno(-NLE_OPNOTSUPP), EOPNOTSUPP);
	CHECK_INT(netconf_nl_errno(-NLE_BUSY), EBUSY);
	CHECK_INT(netconf_nl_errno(-NLE_NOMEM), ENOMEM);
	CHECK_INT(netconf_nl_errno(-NLE_NOADDR), EADDRNOTAVAIL);
	/* Codes with no errno of their own, and nonsense, become EIO. */
	CHECK_INT(netconf_nl_errno(-NLE_FAILURE), EIO);
	CHECK_INT(netconf_nl_errno(-NLE_PARSE_ERR), EIO);
	CHECK_INT(netconf_nl_errno(0), EIO);
	CHECK_INT(netconf_nl_errno(-100000), EIO);
}

static void test_nl_fail_message(void)
{
	struct sb_err err = SB_ERR_INIT;

	CHECK_INT(netconf_nl_fail(&err, -NLE_PERM, "Creating shim '%s'", "sb-x"), -EPERM);
	CHECK_INT(err.code, EPERM);
	CHECK_STR(
	    err.msg,
	    "Creating shim 'sb-x' needs CAP_NET_ADMIN: run as root (Operation not permitted)");

	CHECK_INT(netconf_nl_fail(&err, -NLE_EXIST, "Adding address %s", "10.0.0.1/32"), -EEXIST);
	CHECK_STR(err.msg, "Adding address 10.0.0.1/32: Object exists");

	CHECK_INT(netconf_nl_fail(&err, -NLE_DUMP_INTR, "Listing routes"), -EIO);
	CHECK_INT(err.code, EIO);
	CHECK_CONTAINS(err.msg, "Listing routes: ");
}

static void test_unicast(void)
{
	CHECK(netconf_ip4_is_unicast(0x0a000001));
	CHECK(netconf_ip4_is_unicast(0xdfffffff));
	CHECK(!netconf_ip4_is_unicast(0));
	CHECK(!netconf_ip4_is_unicast(0x7f000001));
	CHECK(!netconf_ip4_is_unicast(0xe0000001));
	CHECK(!netconf_ip4_is_unicast(0xf0000001));
	CHECK(!netconf_ip4_is_unicast(0xffffffff));
}

static void test_addr_helpers(void)
{
	_cleanup_nl_addr_ struct nl_addr *a = netconf_nl_addr_new(0x0a4d00fa, 32);
	_cleanup_nl_addr_ struct nl_addr *mac = NULL;
	char buf[INET_ADDRSTRLEN], text[64];
	uint32_t v = 0;

	CHECK(netconf_nl_addr_ipv4(a, &v));
	CHECK_INT(v, 0x0a4d00fa);
	CHECK_INT(nl_addr_get_prefixlen(a), 32);
	CHECK_STR(nl_addr2str(a, text, sizeof(text)), "10.77.0.250");
	CHECK_STR(netconf_ip4_str(0xc0000201, buf), "192.0.2.1");
	CHECK(!netconf_nl_addr_ipv4(NULL, &v));
	CHECK_INT(nl_addr_parse("02:00:00:00:00:01", AF_LLC, &mac), 0);
	CHECK(!netconf_nl_addr_ipv4(mac, &v));
}

/* Bad names and arguments are input errors (exit 2), found before any netlink I/O. */
static void test_input_checks(void)
{
	struct sb_err err = SB_ERR_INIT;
	struct netconf_uplink u;
	uint8_t mac[6];
	bool b;

	CHECK_INT(netconf_shim_ensure("sb-shim-name-too-long", "eth0", NETCONF_SHIM_MACVLAN,
	                              0x0a000001, NULL, 0, &err),
	          -SB_EINPUT);
	CHECK_CONTAINS(err.msg, "'sb-shim-name-too-long' is longer than 15 characters");
	CHECK_INT(
	    netconf_shim_ensure("sb-shim", "", NETCONF_SHIM_MACVLAN, 0x0a000001, NULL, 0, &err),
	    -SB_EINPUT);
	CHECK_INT(netconf_shim_ensure("sb-shim", "eth0", NETCONF_SHIM_MACVLAN, 0, NULL, 0, &err),
	          -SB_EINPUT);
	CHECK_CONTAINS(err.msg, "needs an IPv4 address");
	CHECK_INT(
	    netconf_shim_ensure("sb-shim", "eth0", (enum netconf_shim_kind)7, 1, NULL, 0, &err),
	    -SB_EINPUT);
	CHECK_INT(netconf_shim_ensure("sb-shim", "eth0", NETCONF_SHIM_MACVLAN, 1, NULL, 2, &err),
	          -SB_EINPUT);
	CHECK_INT(
	    netconf_shim_ensure("sb-shim", "eth0", NETCONF_SHIM_MACVLAN, 0xe0000001, NULL, 0, &err),
	    -SB_EINPUT);
	CHECK_CONTAINS(err.msg, "224.0.0.1 is not a unicast address");
	CHECK_INT(netconf_shim_ensure("sb-shim", "eth0", NETCONF_SHIM_MACVLAN, 0x0a000001,
	                              (const uint32_t[]){0x0a000002, 0xffffffff}, 2, &err),
	          -SB_EINPUT);
	CHECK_CONTAINS(err.msg, "route to 255.255.255.255: not a unicast address");
	CHECK_INT(netconf_link_del("", &err), -SB_EINPUT);
	CHECK_INT(netconf_link_exists("0123456789abcdef", &b, &err), -SB_EINPUT);
	CHECK_INT(netconf_uplink_find("0123456789abcdef", &u, &err), -SB_EINPUT);
	CHECK_CONTAINS(err.msg, "--parent '0123456789abcdef'");
	CHECK_INT(netconf_neigh_probe(NULL, 0x0a000001, 10, &b, mac, &err), -SB_EINPUT);
	CHECK_INT(netconf_neigh_probe("eth0", 0x7f000005, 10, &b, mac, &err), -SB_EINPUT);
	CHECK_CONTAINS(err.msg, "Probing 127.0.0.5: not a unicast address");
	CHECK_INT(netconf_neigh_probe("eth0", 0, 10, &b, mac, &err), -SB_EINPUT);
	CHECK_INT(netconf_neigh_probe("eth0", 0xffffffff, 10, &b, mac, &err), -SB_EINPUT);
	CHECK_INT(netconf_neigh_probe("eth0", 0x0a000001, -1, &b, mac, &err), -SB_EINPUT);
	CHECK_CONTAINS(err.msg, "negative");
	CHECK_INT(sb_err_exit_status(&err), 2);
}

int main(void)
{
	TAP_RUN(test_nle_to_errno, test_nl_fail_message, test_unicast, test_addr_helpers,
	        test_input_checks);
}

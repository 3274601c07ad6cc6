/* SPDX-License-Identifier: MIT */
/*
 * The RTM_NEWNEIGH parser on messages captured from a real kernel
 * (tests/fixtures/netconf/neigh-*.bin, made by
 * tests/netns/capture-neigh-fixtures) and on handcrafted broken ones,
 * and the "someone answered" state classification. No privileges.
 */
#include "../../netconf/netconf.h"
#include "tap.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

/* Netlink messages are 4-byte aligned; keep the buffers so. */
union msgbuf {
	struct nlmsghdr nlh;
	uint32_t align;
	char bytes[4096];
};

/* Read a fixture into buf; returns its size, 0 (and a failed check) on error. */
static size_t load(const char *name, union msgbuf *buf)
{
	char path[256];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/netconf/%s", TAP_FIXTURES, name);
	memset(buf, 0, sizeof(*buf));
	f = fopen(path, "rb");
	if (!f) {
		TAP_FAIL("cannot open %s (run from the top of the repository)", path);
		return 0;
	}
	n = fread(buf->bytes, 1, sizeof(buf->bytes), f);
	fclose(f);
	if (n < sizeof(struct nlmsghdr) || buf->nlh.nlmsg_len != n) {
		TAP_FAIL("%s: %zu bytes, not one whole netlink message", path, n);
		return 0;
	}
	return n;
}

static void check_captured(const char *name, uint32_t dst, uint16_t state, const char *mac,
                           bool in_use)
{
	union msgbuf buf;
	struct netconf_neigh n;
	char got[18];

	if (!load(name, &buf))
		return;
	memset(&n, 0xa5, sizeof(n));
	CHECK_INT(netconf_neigh_parse(&buf.nlh, &n), 0);
	CHECK_INT(n.dst, dst);
	CHECK_INT(n.ifindex, 7);
	CHECK_INT(n.state, state);
	CHECK_INT(n.has_mac, mac != NULL);
	if (mac) {
		snprintf(got, sizeof(got), "%02x:%02x:%02x:%02x:%02x:%02x", n.mac[0], n.mac[1],
		         n.mac[2], n.mac[3], n.mac[4], n.mac[5]);
		CHECK_STR(got, mac);
	} else {
		static const uint8_t zero[6];

		CHECK(memcmp(n.mac, zero, sizeof(zero)) == 0);
	}
	CHECK_INT(netconf_neigh_state_in_use(n.state), in_use);
}

static void test_captured_reachable(void)
{
	union msgbuf buf;
	struct netconf_neigh n;

	check_captured("neigh-reachable.bin", IP4(10, 55, 0, 2), NUD_REACHABLE, "02:00:00:00:00:02",
	               true);
	/* the kernel's NDA_CACHEINFO: when the neighbour last answered (1/100 s ago) */
	if (!load("neigh-reachable.bin", &buf))
		return;
	CHECK_INT(netconf_neigh_parse(&buf.nlh, &n), 0);
	CHECK(n.has_cacheinfo);
	CHECK_INT(n.confirmed_cs, 0); /* captured as it answered */
}

static void test_captured_stale(void)
{
	check_captured("neigh-stale.bin", IP4(10, 55, 0, 3), NUD_STALE, "02:00:00:00:00:03", true);
}

static void test_captured_permanent(void)
{
	check_captured("neigh-permanent.bin", IP4(10, 55, 0, 4), NUD_PERMANENT, "02:00:00:00:00:04",
	               true);
}

static void test_captured_incomplete(void)
{
	check_captured("neigh-incomplete.bin", IP4(10, 55, 0, 9), NUD_INCOMPLETE, NULL, false);
}

static void test_captured_failed(void)
{
	check_captured("neigh-failed.bin", IP4(10, 55, 0, 8), NUD_FAILED, NULL, false);
}

static void test_captured_inet6_skipped(void)
{
	union msgbuf buf;
	struct netconf_neigh n;

	if (!load("neigh-inet6.bin", &buf))
		return;
	CHECK_INT(netconf_neigh_parse(&buf.nlh, &n), 1);
}

/* Several captured messages back to back, as in one recvfrom() of a dump. */
struct dump_tally {
	int parsed, skipped, bad;
	uint32_t last_dst;
};

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_tally *t = data;
	struct netconf_neigh n;
	int r = netconf_neigh_parse(nlh, &n);

	if (r == 0) {
		t->parsed++;
		t->last_dst = n.dst;
	} else if (r == 1) {
		t->skipped++;
	} else {
		t->bad++;
	}
	return MNL_CB_OK;
}

static void test_captured_dump_chunk(void)
{
	static const char *const names[] = {"neigh-reachable.bin",  "neigh-inet6.bin",
	                                    "neigh-stale.bin",      "neigh-permanent.bin",
	                                    "neigh-incomplete.bin", "neigh-failed.bin"};
	static union msgbuf chunk;
	struct dump_tally t = {0};
	size_t len = 0;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		union msgbuf one;
		size_t n = load(names[i], &one);

		if (!n)
			return;
		memcpy(chunk.bytes + len, one.bytes, n);
		len += MNL_ALIGN(n);
	}
	CHECK_INT(mnl_cb_run(chunk.bytes, len, 0, 0, dump_cb, &t), MNL_CB_OK);
	CHECK_INT(t.parsed, 5);
	CHECK_INT(t.skipped, 1);
	CHECK_INT(t.bad, 0);
	CHECK_INT(t.last_dst, IP4(10, 55, 0, 8));
}

/* ---- handcrafted messages ---- */

static struct nlmsghdr *craft(union msgbuf *buf, uint16_t type, uint8_t family, uint16_t state)
{
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;

	memset(buf, 0, sizeof(*buf));
	nlh = mnl_nlmsg_put_header(buf->bytes);
	nlh->nlmsg_type = type;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = family;
	ndm->ndm_ifindex = 3;
	ndm->ndm_state = state;
	return nlh;
}

static void put_dst(struct nlmsghdr *nlh, uint32_t addr)
{
	uint32_t be = htonl(addr);

	mnl_attr_put(nlh, NDA_DST, sizeof(be), &be);
}

static void test_crafted_ok(void)
{
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	union msgbuf buf;
	struct nlmsghdr *nlh = craft(&buf, RTM_NEWNEIGH, AF_INET, NUD_DELAY);
	struct netconf_neigh n;

	mnl_attr_put_u32(nlh, 99, 0xdeadbeef); /* unknown attributes are skipped */
	put_dst(nlh, IP4(192, 168, 1, 20));
	mnl_attr_put(nlh, NDA_LLADDR, sizeof(mac), mac);
	CHECK_INT(netconf_neigh_parse(nlh, &n), 0);
	CHECK_INT(n.dst, IP4(192, 168, 1, 20));
	CHECK_INT(n.ifindex, 3);
	CHECK_INT(n.state, NUD_DELAY);
	CHECK(n.has_mac);
	CHECK(memcmp(n.mac, mac, sizeof(mac)) == 0);
}

static void test_crafted_missing_lladdr(void)
{
	union msgbuf buf;
	struct nlmsghdr *nlh = craft(&buf, RTM_NEWNEIGH, AF_INET, NUD_REACHABLE);
	struct netconf_neigh n;

	put_dst(nlh, IP4(10, 0, 0, 1));
	CHECK_INT(netconf_neigh_parse(nlh, &n), 0);
	CHECK(!n.has_mac);
	CHECK_INT(n.state, NUD_REACHABLE);
}

static void test_crafted_odd_lladdr(void)
{
	static const uint8_t ib[20] = {1, 2, 3}; /* InfiniBand-sized: not a MAC */
	union msgbuf buf;
	struct nlmsghdr *nlh = craft(&buf, RTM_NEWNEIGH, AF_INET, NUD_REACHABLE);
	struct netconf_neigh n;

	put_dst(nlh, IP4(10, 0, 0, 1));
	mnl_attr_put(nlh, NDA_LLADDR, sizeof(ib), ib);
	CHECK_INT(netconf_neigh_parse(nlh, &n), 0);
	CHECK(!n.has_mac);
}

static void test_crafted_missing_dst(void)
{
	static const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
	union msgbuf buf;
	struct nlmsghdr *nlh = craft(&buf, RTM_NEWNEIGH, AF_INET, NUD_REACHABLE);
	struct netconf_neigh n;

	mnl_attr_put(nlh, NDA_LLADDR, sizeof(mac), mac);
	CHECK_INT(netconf_neigh_parse(nlh, &n), -EBADMSG);
}

static void test_crafted_dst_wrong_size(void)
{
	static const uint8_t v6[16] = {0xfd};
	union msgbuf buf;
	struct nlmsghdr *nlh = craft(&buf, RTM_NEWNEIGH, AF_INET, NUD_REACHABLE);
	struct netconf_neigh n;

	mnl_attr_put(nlh, NDA_DST, sizeof(v6), v6);
	CHECK_INT(netconf_neigh_parse(nlh, &n), -EBADMSG);
}

static void test_crafted_wrong_family(void)
{
	union msgbuf buf;
	struct nlmsghdr *nlh = craft(&buf, RTM_NEWNEIGH, AF_INET6, NUD_REACHABLE);
	struct netconf_neigh n;

	CHECK_INT(netconf_neigh_parse(nlh, &n), 1);
	nlh = craft(&buf, RTM_NEWNEIGH, AF_BRIDGE, NUD_PERMANENT);
	CHECK_INT(netconf_neigh_parse(nlh, &n), 1);
}

static void test_crafted_wrong_type(void)
{
	union msgbuf buf;
	struct nlmsghdr *nlh = craft(&buf, RTM_DELNEIGH, AF_INET, NUD_REACHABLE);
	struct netconf_neigh n;

	put_dst(nlh, IP4(10, 0, 0, 1));
	CHECK_INT(netconf_neigh_parse(nlh, &n), 1);
	nlh->nlmsg_type = RTM_NEWLINK;
	CHECK_INT(netconf_neigh_parse(nlh, &n), 1);
}

static void test_truncated(void)
{
	union msgbuf buf;
	struct netconf_neigh n;
	uint32_t full;

	CHECK_INT(netconf_neigh_parse(NULL, &n), -EBADMSG);
	if (!load("neigh-reachable.bin", &buf))
		return;
	full = buf.nlh.nlmsg_len;

	/* Shorter than a netlink header. */
	buf.nlh.nlmsg_len = 10;
	CHECK_INT(netconf_neigh_parse(&buf.nlh, &n), -EBADMSG);
	/* A header but not the whole struct ndmsg. */
	buf.nlh.nlmsg_len = 20;
	CHECK_INT(netconf_neigh_parse(&buf.nlh, &n), -EBADMSG);
	/* struct ndmsg only: no NDA_DST. */
	buf.nlh.nlmsg_len = 28;
	CHECK_INT(netconf_neigh_parse(&buf.nlh, &n), -EBADMSG);
	/* Cut inside NDA_DST (28..36). */
	buf.nlh.nlmsg_len = 32;
	CHECK_INT(netconf_neigh_parse(&buf.nlh, &n), -EBADMSG);
	/* Cut inside NDA_LLADDR (36..46, padded to 48). */
	buf.nlh.nlmsg_len = 40;
	CHECK_INT(netconf_neigh_parse(&buf.nlh, &n), -EBADMSG);
	/* Not a multiple of 4: the kernel never sends that. */
	buf.nlh.nlmsg_len = 34;
	CHECK_INT(netconf_neigh_parse(&buf.nlh, &n), -EBADMSG);
	buf.nlh.nlmsg_len = 46;
	CHECK_INT(netconf_neigh_parse(&buf.nlh, &n), -EBADMSG);
	/* Cut between attributes: what is there is whole, so it parses. */
	buf.nlh.nlmsg_len = 48;
	CHECK_INT(netconf_neigh_parse(&buf.nlh, &n), 0);
	CHECK(n.has_mac);
	/* An attribute claiming zero length. */
	buf.nlh.nlmsg_len = full;
	((struct nlattr *)(buf.bytes + 36))->nla_len = 0;
	CHECK_INT(netconf_neigh_parse(&buf.nlh, &n), -EBADMSG);
	/* An attribute longer than the message. */
	((struct nlattr *)(buf.bytes + 36))->nla_len = 200;
	CHECK_INT(netconf_neigh_parse(&buf.nlh, &n), -EBADMSG);
}

static void test_state_in_use(void)
{
	static const struct {
		uint16_t state;
		bool in_use;
	} cases[] = {
	    {NUD_NONE, false},   {NUD_INCOMPLETE, false}, {NUD_REACHABLE, true},
	    {NUD_STALE, true},   {NUD_DELAY, true},       {NUD_PROBE, true},
	    {NUD_FAILED, false}, {NUD_NOARP, false},      {NUD_PERMANENT, true},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		if (netconf_neigh_state_in_use(cases[i].state) != cases[i].in_use)
			TAP_FAIL("state 0x%02x: in_use %d, expected %d", cases[i].state,
			         !cases[i].in_use, cases[i].in_use);
	}
}

int main(void)
{
	TAP_RUN(test_captured_reachable, test_captured_stale, test_captured_permanent,
	        test_captured_incomplete, test_captured_failed, test_captured_inet6_skipped,
	        test_captured_dump_chunk, test_crafted_ok, test_crafted_missing_lladdr,
	        test_crafted_odd_lladdr, test_crafted_missing_dst, test_crafted_dst_wrong_size,
	        test_crafted_wrong_family, test_crafted_wrong_type, test_truncated,
	        test_state_in_use);
}

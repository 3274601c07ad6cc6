/* SPDX-License-Identifier: MIT */
/*
 * neigh-capture - write one RTM_NEWNEIGH message, exactly as the kernel
 * sent it, to a file: the fixtures of tests/unit/test_netconf_parse.c
 * (iproute2's testsuite idea: test the parser without a kernel).
 *
 *   neigh-capture inet|inet6 DST OUT.bin
 *
 * Dumps the neighbour table of the current network namespace with libmnl
 * and saves the first entry whose NDA_DST is DST. Used by
 * tests/netns/capture-neigh-fixtures; not part of the build.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct capture {
	int family;
	unsigned char dst[16];
	size_t dst_len;
	FILE *out;
	int saved;
};

static int capture_cb(const struct nlmsghdr *nlh, void *data)
{
	struct capture *c = data;
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;

	if (c->saved || ndm->ndm_family != c->family)
		return MNL_CB_OK;
	mnl_attr_for_each(attr, nlh, sizeof(*ndm))
	{
		if (mnl_attr_get_type(attr) != NDA_DST ||
		    mnl_attr_get_payload_len(attr) != c->dst_len ||
		    memcmp(mnl_attr_get_payload(attr), c->dst, c->dst_len) != 0)
			continue;
		if (fwrite(nlh, 1, nlh->nlmsg_len, c->out) != nlh->nlmsg_len)
			return MNL_CB_ERROR;
		c->saved = 1;
		fprintf(stderr, "neigh-capture: %u bytes, state 0x%02x\n", nlh->nlmsg_len,
		        ndm->ndm_state);
	}
	return MNL_CB_OK;
}

int main(int argc, char **argv)
{
	static char buf[32768];
	struct capture c = {0};
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;
	unsigned seq = (unsigned)time(NULL), portid;
	ssize_t n;
	int r;

	if (argc != 4 || (strcmp(argv[1], "inet") && strcmp(argv[1], "inet6"))) {
		fprintf(stderr, "usage: neigh-capture inet|inet6 DST OUT.bin\n");
		return 2;
	}
	c.family = strcmp(argv[1], "inet") ? AF_INET6 : AF_INET;
	c.dst_len = c.family == AF_INET ? 4 : 16;
	if (inet_pton(c.family, argv[2], c.dst) != 1) {
		fprintf(stderr, "neigh-capture: bad address '%s'\n", argv[2]);
		return 2;
	}
	c.out = fopen(argv[3], "wb");
	if (!c.out) {
		perror(argv[3]);
		return 1;
	}

	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("netlink");
		return 1;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETNEIGH;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = (unsigned char)c.family;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		perror("sendto");
		return 1;
	}
	do {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0) {
			perror("recvfrom");
			return 1;
		}
		r = mnl_cb_run(buf, (size_t)n, seq, portid, capture_cb, &c);
	} while (r > MNL_CB_STOP);
	mnl_socket_close(nl);
	if (r < 0 || fclose(c.out) != 0) {
		perror("neigh-capture");
		return 1;
	}
	if (!c.saved) {
		fprintf(stderr, "neigh-capture: no %s entry for %s\n", argv[1], argv[2]);
		remove(argv[3]);
		return 1;
	}
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * neigh.c - pure parsing of RTM_NEWNEIGH messages (libmnl attribute
 * walking, no socket), unit-tested on captured kernel messages.
 */
#include "netconf.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

struct netconf_neigh_attrs {
	const struct nlattr *dst;
	const struct nlattr *lladdr;
	const struct nlattr *cacheinfo;
	const char *end; /* just past the last well-formed attribute */
};

static int netconf_neigh_attr_cb(const struct nlattr *attr, void *data)
{
	struct netconf_neigh_attrs *tb = data;

	tb->end = (const char *)attr + MNL_ALIGN(attr->nla_len);
	switch (mnl_attr_get_type(attr)) {
	case NDA_DST:
		tb->dst = attr;
		break;
	case NDA_LLADDR:
		tb->lladdr = attr;
		break;
	case NDA_CACHEINFO:
		tb->cacheinfo = attr;
		break;
	default:
		break; /* NDA_PROBES, and whatever newer kernels add */
	}
	return MNL_CB_OK;
}

int netconf_neigh_parse(const struct nlmsghdr *nlh, struct netconf_neigh *out)
{
	struct netconf_neigh_attrs tb = {0};
	const struct ndmsg *ndm;
	const char *tail;
	uint32_t be;

	/*
	 * The kernel pads every message to 4 bytes, and libmnl's attribute walk
	 * reads up to the padded end: an unaligned length would let it read past.
	 */
	if (!nlh || nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len % MNL_ALIGNTO)
		return -EBADMSG;
	if (nlh->nlmsg_type != RTM_NEWNEIGH)
		return 1;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ndm)))
		return -EBADMSG;
	ndm = mnl_nlmsg_get_payload(nlh);
	if (ndm->ndm_family != AF_INET)
		return 1;

	tb.end = mnl_nlmsg_get_payload_offset(nlh, sizeof(*ndm));
	if (mnl_attr_parse(nlh, sizeof(*ndm), netconf_neigh_attr_cb, &tb) < MNL_CB_OK)
		return -EBADMSG;
	/* mnl_attr_parse() stops quietly at a cut attribute; a cut one is an error here. */
	tail = (const char *)nlh + nlh->nlmsg_len;
	if (tb.end < tail)
		return -EBADMSG;
	if (!tb.dst || mnl_attr_get_payload_len(tb.dst) != sizeof(be))
		return -EBADMSG;

	memset(out, 0, sizeof(*out));
	memcpy(&be, mnl_attr_get_payload(tb.dst), sizeof(be));
	out->dst = ntohl(be);
	out->ifindex = ndm->ndm_ifindex;
	out->state = ndm->ndm_state;
	/* Entries still resolving have no NDA_LLADDR; non-Ethernet links have other sizes. */
	if (tb.lladdr && mnl_attr_get_payload_len(tb.lladdr) == sizeof(out->mac)) {
		memcpy(out->mac, mnl_attr_get_payload(tb.lladdr), sizeof(out->mac));
		out->has_mac = true;
	}
	/* the ages are in USER_HZ ticks: 1/100 s on Linux */
	if (tb.cacheinfo &&
	    mnl_attr_get_payload_len(tb.cacheinfo) >= sizeof(struct nda_cacheinfo)) {
		struct nda_cacheinfo ci;

		memcpy(&ci, mnl_attr_get_payload(tb.cacheinfo), sizeof(ci));
		out->confirmed_cs = ci.ndm_confirmed;
		out->has_cacheinfo = true;
	}
	return 0;
}

bool netconf_neigh_state_in_use(uint16_t state)
{
	return state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT);
}

/* SPDX-License-Identifier: MIT */
/*
 * netconf's RTM_NEWNEIGH parser on any bytes: as the probe reads a dump
 * (mnl_cb_run hands each message to netconf_neigh_parse), and one message
 * alone, its length cut to what is there.
 */
#include "fuzz.h"
#include "../../netconf/netconf.h"

#include <libmnl/libmnl.h>
#include <stdlib.h>

static int neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	struct netconf_neigh n;
	size_t *parsed = data;

	if (netconf_neigh_parse(nlh, &n) == 0) {
		(*parsed)++;
		(void)netconf_neigh_state_in_use(n.state);
	}
	return MNL_CB_OK;
}

/*
 * libmnl 1.0.4's mnl_nlmsg_ok() compares (int)nlmsg_len, so a length above
 * INT_MAX passes and mnl_cb_run() walks off the buffer. The kernel never
 * sends one (a message fits its datagram); leave such inputs out.
 */
static bool mnl_walk_safe(const uint8_t *data, size_t size)
{
	size_t off = 0;

	while (size - off >= sizeof(struct nlmsghdr)) {
		uint32_t len;

		memcpy(&len, data + off, sizeof(len));
		if (len > INT32_MAX)
			return false;
		if (len < sizeof(struct nlmsghdr) || len > size - off)
			return true;
		off += MNL_ALIGN(len);
		if (off > size)
			return true;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ struct nlmsghdr *nlh = NULL;
	struct netconf_neigh n;
	size_t parsed = 0;

	if (size < sizeof(*nlh))
		return 0;
	/* netlink buffers are 4-byte aligned, and so is malloc's */
	nlh = xmalloc(size);
	memcpy(nlh, data, size);
	if (mnl_walk_safe(data, size))
		(void)mnl_cb_run(nlh, size, 0, 0, neigh_cb, &parsed);
	if (nlh->nlmsg_len > size)
		nlh->nlmsg_len = (uint32_t)size;
	(void)netconf_neigh_parse(nlh, &n);
	return 0;
}

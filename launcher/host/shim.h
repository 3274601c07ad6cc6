/* SPDX-License-Identifier: MIT */
/* shim - the host's own interface on a cluster's LAN (macvlan/ipvlan modes). */
#ifndef SLURMBOX_HOST_SHIM_H
#define SLURMBOX_HOST_SHIM_H

/* The shim's interface name: "sb-" and 12 hex digits of the cluster name. */
void host_shim_name(const char *cluster, char out[16]);

#endif

/* SPDX-License-Identifier: MIT */
#ifndef SLURMBOX_BRIDGE_H
#define SLURMBOX_BRIDGE_H

#include "../docker/docker.h"
#include "../../compose/compose.h"

/* The subnets in use here: the host's routes and every Docker network's. Caller frees *out. */
int bridge_subnets_used(struct docker *d, struct compose_cidr **out, size_t *n, struct sb_err *err);
/* The subnet of the cluster's existing (labelled) network, if there is one. */
int bridge_subnet_existing(struct docker *d, const char *cluster, struct compose_cidr *out,
                           bool *found, struct sb_err *err);

#endif

/* SPDX-License-Identifier: MIT */
#ifndef SLURMBOX_BRIDGE_H
#define SLURMBOX_BRIDGE_H

#include "../../compose/compose.h"

struct json_object;

/*
 * The subnets in use here: the host's routes and every network's of nets
 * (the engine's list, GET /networks). Caller frees *out.
 */
int bridge_subnets_used(struct json_object *nets, struct compose_cidr **out, size_t *n,
                        struct sb_err *err);
/* The subnet of the cluster's existing (labelled) network among nets, if there is one. */
bool bridge_subnet_existing(struct json_object *nets, const char *cluster,
                            struct compose_cidr *out);

#endif

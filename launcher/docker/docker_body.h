/* SPDX-License-Identifier: MIT */
/*
 * docker_body - pure: a compose plan translated into Docker API request
 * bodies (json-c). No I/O; golden-file tested (tests/unit/test_docker_body.c).
 * Every function returns a new object (refcount 1) that the caller puts.
 */
#ifndef SLURMBOX_DOCKER_BODY_H
#define SLURMBOX_DOCKER_BODY_H

#include "../../compose/compose.h"
#include <json-c/json.h>

/*
 * POST /containers/create body for one node: image, hostname, labels, env,
 * HostConfig (network, mounts, extra hosts, restart policy, init) and the
 * node's static address in NetworkingConfig. api_version is the negotiated
 * version (fields that differ between versions are chosen by it).
 */
struct json_object *docker_body_container(const struct compose_plan *plan,
                                          const struct compose_node *node, const char *api_version);

/*
 * POST /networks/create body for plan->network. bridge: subnet and gateway.
 * macvlan/ipvlan: `parent` is the host interface (NULL: Docker's isolated
 * dummy parent) and `ip_range` (may be NULL) the CIDR Docker allocates from
 * automatically; for bridge both are normally NULL. `api_version` is the
 * negotiated one (NULL: the oldest): below 1.44 the body asks for
 * CheckDuplicate, which 1.44 made the rule and deprecated as a field.
 */
struct json_object *docker_body_network(const struct compose_plan *plan, const char *parent,
                                        const char *ip_range, const char *api_version);

/* The Labels object for a volume: cluster and kind. */
struct json_object *docker_body_volume_labels(const struct compose_plan *plan,
                                              const struct compose_volume *v);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * members - the node list inside running containers. A node's config-hash
 * leaves out the other nodes, and slurm.conf names none (every worker is a
 * dynamic node), so adding nodes or hosts keeps the running containers and
 * their daemons: only their /etc/hosts learns the new names. See
 * images/NOTES.md.
 */
#ifndef SLURMBOX_MEMBERS_H
#define SLURMBOX_MEMBERS_H

#include "apply.h"
#include "spec_json.h"

/*
 * For every running container here whose config-hash is its node's in the
 * plan, but whose spec label differs from `now` (another node list): add
 * the hosts entries it lacks. *n_synced counts them.
 */
int members_sync(struct docker *d, const struct compose_plan *plan, const struct spec_doc *now,
                 const struct apply_opts *o, const struct host_cluster *have, size_t *n_synced,
                 struct sb_err *err);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * members - the node list inside running containers. A node's config-hash
 * leaves out the other nodes, so adding a host keeps the running containers;
 * their slurm.conf and /etc/hosts are brought to the plan's in place, and
 * their Slurm daemon restarts in place (the container stays: its entrypoint
 * starts the daemon again). Slurm 22.05 learns of new nodes only so; see
 * images/NOTES.md.
 */
#ifndef SLURMBOX_MEMBERS_H
#define SLURMBOX_MEMBERS_H

#include "apply.h"
#include "spec_json.h"

/*
 * For every running container here whose config-hash is its node's in the
 * plan, but whose spec label differs from `now` (another node list): make
 * /etc/slurm/slurm.conf the plan's and add the missing hosts entries. Then
 * restart the daemon of each container whose slurm.conf changed, the
 * master's first (waiting until slurmctld answers again). *n_synced counts them.
 */
int members_sync(struct docker *d, const struct compose_plan *plan, const struct spec_doc *now,
                 const struct apply_opts *o, const struct host_cluster *have, size_t *n_synced,
                 struct sb_err *err);

#endif

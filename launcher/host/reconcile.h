/* SPDX-License-Identifier: MIT */
/*
 * reconcile - `up` on a cluster that exists with other settings: the diff of
 * old against new shown when it is refused (cluster/refuse.c words the
 * refusal), and `up --recreate`, which
 * removes (by label only) the containers that differ so apply re-creates
 * them. Volumes (/home, the Slurm state) and the key are never touched here.
 */
#ifndef SLURMBOX_RECONCILE_H
#define SLURMBOX_RECONCILE_H

#include "apply.h"
#include "spec_json.h"

/*
 * The lines "field: old -> new" for every setting that differs: the spec's
 * (compose_spec_diff) and the LAN's (--ip-range, each host's --parent).
 * Returns the number of lines.
 */
size_t reconcile_diff(const struct spec_doc *old, const struct spec_doc *new, struct sb_buf *out);
/* The same without the membership (compose_spec_settings_diff): 0 when only the nodes differ. */
size_t reconcile_settings_diff(const struct spec_doc *old, const struct spec_doc *new,
                               struct sb_buf *out);

/*
 * Stop (so slurmctld saves its state) and remove this engine's containers of
 * the cluster whose config-hash differs from the plan's, or that the plan
 * does not have (workers taken away: Slurm was told first, see
 * cluster/multi_leave.c); only those with the cluster's label, only on o's
 * host. Then reload *have. *n_removed counts them.
 */
int reconcile_remove_changed(struct docker *d, const struct compose_plan *plan,
                             const struct apply_opts *o, struct host_cluster *have,
                             size_t *n_removed, struct sb_err *err);

/*
 * A one-host cluster whose network has another subnet than the plan's: remove
 * it (by label) once no container of the cluster is left, so apply makes it
 * anew. Fails if containers are still attached.
 */
int reconcile_network_drop(struct docker *d, const struct compose_plan *plan, struct sb_err *err);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * apply - make one engine match a plan, recording an undo list so a failure
 * removes exactly what this run created; then wait until Slurm is ready.
 */
#ifndef SLURMBOX_APPLY_H
#define SLURMBOX_APPLY_H

#include "objects.h"
#include "../util/ctx.h"
#include "../../compose/compose.h"

/* How long a node gets to stop: slurmctld writes its state on SIGTERM; this is plenty. */
#define APPLY_STOP_SEC 20

/* What one run created on one engine, in order (apply_undo.c). */
enum apply_undo_kind {
	APPLY_UNDO_CONTAINER,
	APPLY_UNDO_NETWORK,
	APPLY_UNDO_VOLUME,
};

struct apply_undo {
	struct {
		enum apply_undo_kind kind;
		char *id;   /* container or network id, volume name */
		bool maybe; /* a create that was interrupted: id is the name, and the
		             * object is removed only if it exists with the label of
		             * `cluster` (the daemon may have made it all the same) */
	} * items;
	char *cluster; /* for `maybe` items */
	size_t n;
	size_t n_started; /* existing containers this run started (not undone) */
};

void apply_undo_push(struct apply_undo *u, enum apply_undo_kind kind, const char *id);
void apply_undo_push_maybe(struct apply_undo *u, enum apply_undo_kind kind, const char *name,
                           const char *cluster);
void apply_undo_free(struct apply_undo *u);
/* Remove, newest first; failures are warned. Returns how many could not be removed. */
size_t apply_undo_run(struct docker *d, const struct apply_undo *u);
/*
 * Does an object of that kind exist under that name (or id), and which
 * cluster's label does it carry? *owner is NULL when it has none (caller frees).
 */
int apply_object_owner(struct docker *d, enum apply_undo_kind kind, const char *name, bool *exists,
                       char **owner, struct sb_err *err);
/* [{"kind":"container","id":…},…] and back (appended to *u). */
struct json_object *apply_undo_to_json(const struct apply_undo *u);
int apply_undo_from_json(struct json_object *arr, struct apply_undo *u, struct sb_err *err);

struct apply_opts {
	const struct sb_ctx *cli;
	bool keep_on_failure;        /* leave what was created for debugging */
	unsigned timeout_sec;        /* readiness */
	const char *extra_labels[8]; /* "k=v" added to every container (user, spec) */
	size_t n_extra_labels;
	/* Several hosts: apply only hosts[host]'s part, on its LAN. */
	bool host_filter;
	size_t host;
	const char *parent;   /* macvlan/ipvlan parent interface */
	const char *ip_range; /* Docker's IPRange, or NULL */
	uint32_t aux[2];      /* addresses Docker must never hand out (shim, host); 0: none */
	bool wait_master;     /* a worker-only host applied beside the master's: start its
	                       * containers once the master's address answers on parent */
	/*
	 * Required: what this run creates is recorded here and never rolled back
	 * by apply_plan itself (the caller has more to undo: a host's shim and
	 * key, other hosts); keep_on_failure is the caller's.
	 */
	struct apply_undo *undo;
	/* A test-only fault point (see apply.c), or NULL: $SLURMBOX_FAULT decides. */
	const char *fault;
};

/* Test-only fault points (apply_fault.c): $SLURMBOX_FAULT, or o->fault. */
bool apply_fault_point(const struct apply_opts *o, const char *name);
/* fail-after-STEP: fail as a real error would after that step. */
int apply_fault_fail(const struct apply_opts *o, const char *step, struct sb_err *err);
/* bad-key:NODE: that node's container body gets a key munged refuses. */
int apply_fault_bad_key(const struct apply_opts *o, const struct compose_node *node,
                        struct json_object *body, struct sb_err *err);

/* Is this node applied here? */
static inline bool apply_node_here(const struct apply_opts *o, const struct compose_node *n)
{
	return !o->host_filter || n->host == o->host;
}

/* What the plan looks like next to what exists. */
struct apply_diff {
	size_t n_missing; /* nodes with no container */
	size_t n_stopped; /* containers not running */
	size_t n_changed; /* containers whose config-hash differs */
	size_t n_foreign; /* containers of this cluster that the plan does not have */
	bool network_missing;
};

void apply_diff_compute(const struct compose_plan *plan, const struct host_cluster *have,
                        const struct apply_opts *o, struct apply_diff *out);

/*
 * Create what is missing (network, volumes, containers with their files),
 * start every container that is not running, all at once (a worker's
 * entrypoint starts slurmd once slurmctld answers), and wait for
 * slurmctld. Existing running
 * containers with the same config-hash are left alone; stopped ones are
 * started. On failure, o->undo lists this run's objects; the caller undoes them.
 */
int apply_plan(struct docker *d, const struct compose_plan *plan, const struct host_cluster *have,
               const struct apply_opts *o, struct sb_err *err);

/*
 * Wait until slurmctld answers and every node of the plan is idle (or
 * allocated) in sinfo. On timeout, name the nodes that are not ready, show
 * their last log lines, and fail; the containers stay.
 */
int apply_wait_ready(struct docker *d, const struct compose_plan *plan, unsigned timeout_sec,
                     const struct sb_ctx *cli, struct sb_err *err);

/*
 * A host without the master: wait until every node of this host that the plan
 * has runs its Slurm daemon (the entrypoint's /run/slurmbox/daemon.pid),
 * failing at once, with its logs, when one exits or restarts.
 */
int apply_wait_started(struct docker *d, const struct compose_plan *plan,
                       const struct apply_opts *o, struct sb_err *err);

/* Wait until slurmctld answers `scontrol ping`; fail fast if the master dies. */
int apply_wait_controller(struct docker *d, const struct compose_plan *plan, unsigned timeout_sec,
                          struct sb_err *err);

/*
 * One line of a "names that are taken" refusal: "  [HOST: ]WHAT 'NAME'
 * belongs to slurmbox cluster 'OWNER'" or, without an owner, "... exists and
 * is not slurmbox's (docker ... NAME)". what: container, network or volume.
 */
void apply_name_taken_print(struct sb_buf *problems, const char *host, const char *what,
                            const char *name, const char *owner);
/*
 * Before the first change: the plan's network, this host's volumes and the
 * containers still to be made must not exist under another owner (another
 * cluster's label, or none). All of them are named at once (exit 2).
 */
int apply_names_check(struct docker *d, const struct compose_plan *plan,
                      const struct host_cluster *have, const struct apply_opts *o,
                      struct sb_err *err);

/* The plan's files for the nodes of `role` as one tar (empty: none), for the Docker archive API. */
int apply_files_tar_build(const struct compose_plan *plan, enum compose_role role,
                          struct sb_buf *out, struct sb_err *err);

#endif

/* SPDX-License-Identifier: MIT */
/* multi_int.h - what the files of cluster/ share (multi.h is what the verbs use). */
#ifndef SLURMBOX_MULTI_INT_H
#define SLURMBOX_MULTI_INT_H

#include "../util/ctx.h"
#include "../host/image.h"
#include "../host/spec_json.h"

struct multi_host {
	const char *dest;          /* as given in --hosts */
	char *path;                /* slurmbox on that host */
	struct json_object *facts; /* agent facts */
	int ret;                   /* < 0: unreachable or failed, see err */
	struct sb_err err;
	/* from the facts */
	const char *ifname;
	uint32_t addr;
	uint32_t gateway;
	uint8_t prefix;
	bool wireless;
	struct compose_cidr lan;
	char lan_text[32];
	/* its part of `up` (multi_apply.c) */
	bool apply_ran;             /* agent apply was started there */
	struct json_object *report; /* what it created (host_apply); NULL: no answer */
};

/*
 * Facts of every host in parallel (binary copied where missing; home: how
 * each host sees --home). Returns how many failed.
 */
int multi_facts_gather(struct multi_host *hosts, size_t n, const char *cluster, const char *parent,
                       const char *home, const struct image_set *images);
/*
 * Every problem of every host at once (exit 1, nothing changed): unreachable,
 * no Docker, no uplink, not one LAN, one machine twice, clocks apart, another
 * cluster's (or a foreign) macvlan network on a host's parent, a host where
 * the shim cannot be made (no CAP_NET_ADMIN) unless no_shim. Without lan
 * (a bridge network on one host) only the engine and the clock count.
 */
int multi_preflight(struct multi_host *hosts, size_t n, const char *cluster, bool lan, bool no_shim,
                    struct sb_err *err);
/*
 * `need` free addresses: from --ip-range (all must be free) or the top of the
 * subnet (busy ones skipped). `ours` are the cluster's own (they answer): skipped.
 */
int multi_addrs_choose(const struct multi_host *hosts, size_t n_hosts,
                       const struct compose_cidr *net, uint32_t gateway,
                       const struct compose_cidr *range, const uint32_t *ours, size_t n_ours,
                       size_t need, uint32_t *out, struct sb_err *err);
/*
 * doc->node_ips (zeroed, n = node count) and each host's shim: a node or host
 * that was in `prev` keeps its address; the others get free ones.
 */
int multi_addrs_assign(struct spec_doc *doc, const struct spec_doc *prev, bool have_prev,
                       const struct multi_host *hosts, size_t n, const char *ip_range,
                       const struct sb_ctx *ctx, struct sb_err *err);
/*
 * doc's node numbers (its workers' names): a worker that stays (the j-th
 * worker of a host prev had j+1 or more on) keeps its number, the new ones
 * take the lowest that no worker of prev had. Without prev: 1, 2, .. in
 * host order.
 */
void multi_numbers_assign(struct spec_doc *doc, const struct spec_doc *prev, bool have_prev);
/* prev's hosts are the first of doc's, and nothing else changed: hosts were added. */
bool multi_spec_grows(const struct spec_doc *prev, const struct spec_doc *doc);
/* The facts' entry for the cluster's container of `node` on host h, or NULL. */
struct json_object *multi_facts_node(const struct multi_host *h, const char *node);
/*
 * The config-hash of a container of the cluster, on any host, that differs
 * from its node's in the plan, or (unless kept_only) that the plan puts
 * elsewhere or lacks (*new_hash: the plan's); NULL if none.
 */
const char *multi_hash_differing(struct multi_host *hosts, size_t n,
                                 const struct compose_plan *plan, bool kept_only,
                                 const char **new_hash);
/*
 * The workers that leave the cluster: its containers on the hosts listed
 * that the plan lacks or puts on another host, and the workers of prev's
 * hosts no longer listed. *names (NULL-terminated; the caller frees each and
 * the array) gets them; returns how many.
 */
size_t multi_nodes_leaving(const struct spec_doc *prev, struct multi_host *hosts, size_t n,
                           const struct compose_plan *plan, char ***names);
/*
 * Only which nodes there are differs between prev and doc (workers, hosts;
 * the master stays on its host), and every container that stays is its
 * node's: a running cluster takes that in place, with no --recreate.
 */
bool multi_members_only(const struct spec_doc *prev, const struct spec_doc *doc,
                        struct multi_host *hosts, size_t n, const struct compose_plan *plan);
/*
 * Take the workers that leave (multi_nodes_leaving) out of Slurm before
 * their containers go (see multi_leave.c): drain, wait for their jobs up to
 * timeout_sec (then refuse, the nodes back in service, unless force), delete.
 * With the master not running, only a warning.
 */
int multi_nodes_leave(const struct spec_doc *prev, struct multi_host *hosts, size_t n,
                      const struct compose_plan *plan, unsigned timeout_sec, bool force,
                      const struct sb_ctx *ctx, struct sb_err *err);
/*
 * Hosts of prev that `hosts` no longer lists: their part of the cluster is
 * removed (agent down; a /home volume there stays, as with `down`).
 */
int multi_hosts_drop(const struct spec_doc *prev, const struct multi_host *hosts, size_t n,
                     const char *cluster, struct sb_err *err);
/*
 * The master was (re)started by this `up` while workers ran on: a slurmctld
 * that lost their records (its state dropped or new) would never hear from
 * them again, since a dynamic node registers when its slurmd starts. So each
 * kept worker's slurmd gets SIGHUP: it reloads in place (same PID, its jobs
 * run on) and registers again. Best effort: a failure is a warning.
 */
void multi_nodes_rejoin(struct multi_host *hosts, const struct compose_plan *plan,
                        const struct sb_ctx *ctx);
void multi_hosts_free(struct multi_host *hosts, size_t n);
/*
 * The settings of the cluster's previous `up` (*found false for a new
 * cluster: nothing of it on any host). The control machine's record is the
 * authority; a host's labels never override it. Without a record the
 * hosts' labels rebuild it only if every host that has them agrees; else
 * the differences are shown and refused, unless recreate (then there are
 * no previous settings: the containers that differ are re-created).
 */
int multi_prev_find(struct multi_host *hosts, size_t n, const char *cluster, bool recreate,
                    struct spec_doc *prev, bool *found, struct sb_err *err);
/*
 * The names the plan gives each host's objects that are taken there (the
 * facts' "taken": another cluster's, or not slurmbox's): every one at once,
 * exit 2. They are never adopted or removed.
 */
int multi_names_check(const struct multi_host *hosts, size_t n, const struct compose_plan *plan,
                      struct sb_err *err);

/*
 * hosts[from..n) make their part at once (remote_apply; recreate: 0, 1 for the
 * containers that differ, 2 for all). The first host that fails stops the
 * others (they roll back their part themselves) unless keep; SIGINT/SIGTERM
 * stops them all (-EINTR). Each host's report lands in hosts[i].report.
 */
int multi_hosts_apply(struct multi_host *hosts, size_t from, size_t n, const struct sb_ctx *ctx,
                      const struct spec_doc *doc, const unsigned char *key, size_t key_len,
                      unsigned timeout, bool keep, bool recreate, struct sb_err *err);
/* Did this run create or start anything on the host? */
bool multi_host_changed(const struct multi_host *h);
/*
 * Undo what this run created on every host whose report says it is still
 * there (`agent undo`). Hosts that could not be cleaned (or whose part is
 * unknown) are listed in *left, one line each; returns how many.
 */
size_t multi_rollback(struct multi_host *hosts, size_t n, const char *cluster, struct sb_buf *left);
void multi_token(char out[17]);

/*
 * The control machine's record: <state base>/<cluster>.json (state_base:
 * /var/lib/slurmbox as root, else $XDG_STATE_HOME/slurmbox or
 * ~/.local/state/slurmbox). NULL with *err when there is no such directory.
 */
char *multi_state_path(const char *cluster, struct sb_err *err);
void multi_state_remove(const char *cluster);
int multi_state_save(const char *cluster, const struct spec_doc *doc, char *const *paths,
                     struct sb_err *err);
/* *paths: one per host (caller frees each and the array). */
int multi_state_load(const char *cluster, struct spec_doc *doc, char ***paths, struct sb_err *err);
void multi_paths_free(char **paths, size_t n);

#endif

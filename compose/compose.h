/* SPDX-License-Identifier: MIT */
/*
 * compose - the pure planning core: spec + host facts -> plan -> rendered files.
 *
 * No I/O at all: no files, sockets, env, clock or randomness. Everything the
 * plan depends on is passed in (host CPUs and memory, routes in use, the key
 * path, image tags). So a plan is a function of its inputs and is tested on
 * golden files (tests/unit/test_compose_*.c, tests/fixtures/).
 *
 * The plan is built for N hosts from the start; single-host is N = 1.
 */
#ifndef SLURMBOX_COMPOSE_H
#define SLURMBOX_COMPOSE_H

#include "base.h"

#define COMPOSE_LABEL_CLUSTER "io.slurmbox.cluster"
#define COMPOSE_LABEL_NODE    "io.slurmbox.node"
#define COMPOSE_LABEL_ROLE    "io.slurmbox.role"
#define COMPOSE_LABEL_HASH    "io.slurmbox.config-hash"
#define COMPOSE_LABEL_KIND    "io.slurmbox.kind" /* volumes: "home" or "state" */

#define COMPOSE_DEFAULT_CLUSTER "slurmbox"
#define COMPOSE_MAX_WORKERS     250
#define COMPOSE_MAX_NUMBER      9999 /* the highest worker number: "worker-9999" */
#define COMPOSE_CLUSTER_MAX_LEN 40
#define COMPOSE_WORKER_FEATURE  "worker" /* every worker's Slurm feature */
#define COMPOSE_NODESET \
	"workers" /* the NodeSet of the nodes with it */ /* so "<cluster>-worker-250" stays a DNS label */

/* ---- IPv4 helpers (host byte order everywhere) ---- */

struct compose_cidr {
	uint32_t addr; /* network address, host order */
	uint8_t prefix;
};

/* "10.1.2.0/24" -> cidr. Refuses bad syntax, prefix > 32 and host bits set (field names the flag). */
int compose_cidr_parse(const char *field, const char *text, struct compose_cidr *out,
                       struct sb_err *err);
int compose_ipv4_parse(const char *field, const char *text, uint32_t *out, struct sb_err *err);
/* Writes "a.b.c.d" into buf (>= 16 bytes) and returns buf. */
char *compose_ipv4_format(uint32_t addr, char *buf);
/* Writes "a.b.c.d/p" into buf (>= 19 bytes) and returns buf. */
char *compose_cidr_format(const struct compose_cidr *c, char *buf);
bool compose_cidr_contains(const struct compose_cidr *c, uint32_t addr);
bool compose_cidr_overlaps(const struct compose_cidr *a, const struct compose_cidr *b);
uint32_t compose_cidr_broadcast(const struct compose_cidr *c);

/*
 * Choose a private subnet for a bridge network: the first /prefix inside
 * `pool` that overlaps none of `used` (host routes and existing Docker
 * networks, gathered by the launcher). -ENOSPC with a message if none.
 */
int compose_subnet_choose(const struct compose_cidr *pool, uint8_t prefix,
                          const struct compose_cidr *used, size_t n_used, struct compose_cidr *out,
                          struct sb_err *err);

/* ---- names ---- */

/* A cluster name: a DNS label, lower case [a-z0-9-], no leading/trailing '-', <= 40 chars. */
int compose_cluster_name_check(const char *name, struct sb_err *err);
/* A POSIX user name for the cluster user: [a-z_][a-z0-9_-]*, <= 32 chars, not root. */
int compose_user_name_check(const char *name, struct sb_err *err);

/* ---- spec and facts ---- */

enum compose_role {
	COMPOSE_ROLE_MASTER,
	COMPOSE_ROLE_WORKER,
};

enum compose_net_mode {
	COMPOSE_NET_BRIDGE, /* one host: a user-defined bridge network */
	COMPOSE_NET_MACVLAN,
	COMPOSE_NET_IPVLAN,
};

struct compose_user {
	char *name;
	uint32_t uid;
	uint32_t gid;
};

/* Facts about one host, gathered by the launcher (Docker /info, netconf). */
struct compose_host {
	char *name;      /* "localhost" or an ssh destination */
	unsigned ncpus;  /* online CPUs */
	uint64_t mem_mb; /* total memory in MiB */
	char *arch;      /* Docker's Architecture, e.g. "x86_64", "aarch64" */
};

struct compose_spec {
	char *cluster;            /* validated name */
	unsigned workers;         /* single host: total; several hosts: per host */
	char *home_path;          /* NULL: a named volume "<cluster>-home" */
	char *key_path;           /* host path of the munge key (bind-mounted :ro) */
	struct compose_user user; /* the cluster user, same everywhere */
	char *release;            /* Debian release of the images ("trixie"); NULL: a record
	                           * made before releases were recorded (bookworm) */
	char *image_master;       /* image references, e.g. slurmbox-master:3f2a... */
	char *image_worker;
	enum compose_net_mode net_mode;
	struct compose_cidr
	    subnet;       /* the network's subnet (bridge: chosen by compose_subnet_choose) */
	uint32_t gateway; /* 0: subnet + 1; LAN modes: the LAN's router (--gateway) */
	struct compose_host *hosts; /* hosts[0] runs the master */
	size_t n_hosts;
	bool no_master_worker;    /* several hosts: hosts[0] runs no worker */
	const uint32_t *node_ips; /* optional: the nodes' addresses, master first, then
					* workers in host order (LAN modes, after probing).
					* NULL: bridge numbering, gateway .1, master .2, workers .3.. */
	size_t n_node_ips;
	const unsigned *node_numbers; /* optional: each node's number, master first (0), then
	                               * the workers in host order: worker-<number>. A worker
	                               * keeps its number (its name) while the cluster's
	                               * membership changes. NULL: 1, 2, .. in host order */
	size_t n_node_numbers;
};

/* Checks every field and reports all problems at once (exit 2 on failure). */
int compose_spec_validate(const struct compose_spec *spec, struct sb_err *err);
/* Workers placed on hosts[host] (0 for hosts[0] with no_master_worker). */
unsigned compose_spec_host_workers(const struct compose_spec *spec, size_t host);
/* Master plus all workers: how many node_ips a LAN mode must supply. */
size_t compose_spec_node_count(const struct compose_spec *spec);
/* Node i's number (plan order: 0 the master, then the workers by host): node_numbers or i. */
unsigned compose_spec_node_number(const struct compose_spec *spec, size_t i);

/*
 * What differs between two specs, one line per field appended to `out`:
 * "workers: 2 -> 3", "user: alice (1000) -> bob (1001)", "hosts: a,b -> a,b,c".
 * Returns the number of lines (0: the same settings).
 */
size_t compose_spec_diff(const struct compose_spec *old, const struct compose_spec *new,
                         struct sb_buf *out);
/*
 * The same without the cluster's membership (workers, no-master-worker,
 * hosts, addresses): 0 when only which nodes there are and where differs,
 * which a running cluster takes in place (nodes join and leave).
 */
size_t compose_spec_settings_diff(const struct compose_spec *old, const struct compose_spec *new,
                                  struct sb_buf *out);

/* ---- releases (release.c) ---- */

/* The release of a spec without one: the only one before releases were recorded. */
#define COMPOSE_RELEASE_BEFORE "bookworm"

struct compose_release {
	const char *name;   /* Debian's code name, e.g. "trixie" */
	const char *debian; /* its number, e.g. "13" */
	const char *slurm;  /* the Slurm it ships, e.g. "24.11.5" */
};
/* The release called name (NULL: COMPOSE_RELEASE_BEFORE), or NULL if unknown. */
const struct compose_release *compose_release_find(const char *name);
/* Can Slurm `reader` (e.g. "24.11.5") load the state Slurm `saved_by` wrote? */
bool compose_slurm_state_readable(const char *saved_by, const char *reader);
/*
 * What an upgrade from old's release to new's drops, as one line appended
 * to out (the new Slurm cannot read the old one's state); 0 lines if nothing.
 */
size_t compose_release_note(const struct compose_spec *old, const struct compose_spec *new,
                            struct sb_buf *out);

/* ---- plan ---- */

/* Where each node finds the host's munge key (read-only); see plan.c. */
#define COMPOSE_MUNGE_KEY_TARGET "/etc/slurmbox/munge.key"

enum compose_mount_type {
	COMPOSE_MOUNT_BIND,
	COMPOSE_MOUNT_VOLUME,
	COMPOSE_MOUNT_TMPFS, /* memory only, gone when the container stops */
};

const char *compose_mount_type_name(enum compose_mount_type t);

struct compose_mount {
	enum compose_mount_type type;
	char *source; /* host path or volume name; "tmpfs" for a tmpfs */
	char *target;
	bool read_only;
};

struct compose_volume {
	char *name;  /* "<cluster>-home", "<cluster>-state" */
	char *kind;  /* "home" (kept by down) or "state" (removed by down) */
	size_t host; /* index into plan->hosts */
};

/* A file written into every node before it starts (slurm.conf, cgroup.conf). */
/*
 * A file written into the containers of one role before they start. Only the
 * master holds Slurm's files: slurmctld serves them to the workers
 * (configless), whose slurmd keeps its copy in /run/slurm/conf.
 */
struct compose_file {
	char *path; /* absolute, inside the container */
	unsigned mode;
	char *content;
	enum compose_role role; /* the nodes it is written into */
};

struct compose_node {
	char *name;      /* Slurm NodeName and hostname: "master", "worker-1" */
	char *container; /* Docker container name: "<cluster>-<name>" */
	enum compose_role role;
	size_t host; /* index into plan->hosts */
	char *image;
	uint32_t ip;
	unsigned cpus;
	uint64_t mem_mb; /* RealMemory */
	struct compose_mount *mounts;
	size_t n_mounts;
	char **env; /* "K=V"; never secrets */
	size_t n_env;
	/*
	 * The container's config-hash label: 16 hex digits over what this
	 * container is made from, but not the other nodes (slurm.conf's NodeName
	 * lines, the hosts entries), which `up` updates in place. So adding a host
	 * leaves the running nodes' hashes as they are.
	 */
	char hash[17];
};

struct compose_network {
	char *name; /* "<cluster>-net" */
	enum compose_net_mode mode;
	struct compose_cidr subnet;
	uint32_t gateway;
};

struct compose_plan {
	char *cluster;
	struct compose_user user;
	struct compose_host *hosts; /* copies of the spec's hosts */
	size_t n_hosts;
	struct compose_network network;
	struct compose_node *nodes; /* master first, then workers in host order */
	size_t n_nodes;
	struct compose_volume *volumes;
	size_t n_volumes;
	struct compose_file *files;
	size_t n_files;
	char **extra_hosts; /* "name:ip" for every node, identical in every container */
	size_t n_extra_hosts;
	char *config_hash; /* 16 hex digits over the whole plan (every node, every file) */
};

/* spec -> plan. The spec must have passed compose_spec_validate. */
int compose_plan_build(const struct compose_spec *spec, struct compose_plan **out,
                       struct sb_err *err);
void compose_plan_free(struct compose_plan *plan);
static inline void compose_plan_freep(struct compose_plan **p)
{
	compose_plan_free(*p);
}
#define _cleanup_plan_ _cleanup_(compose_plan_freep)

/* Borrowed; NULL if absent. */
const struct compose_node *compose_plan_node(const struct compose_plan *plan, const char *name);
const char *compose_role_name(enum compose_role role);
/* The Docker network driver: "bridge", "macvlan" or "ipvlan". */
const char *compose_net_mode_name(enum compose_net_mode mode);

/* ---- rendering (caller frees) ---- */

char *compose_render_slurm_conf(const struct compose_plan *plan);
char *compose_render_cgroup_conf(const struct compose_plan *plan);
/* /etc/hosts lines for every node, as the containers see them. */
char *compose_render_hosts(const struct compose_plan *plan);
/* Human-readable plan for --dry-run: nodes, IPs, mounts, then slurm.conf. */
char *compose_render_plan(const struct compose_plan *plan);

/* FNV-1a 64, as 16 lower-case hex digits into out[17]. */
void compose_hash_hex(const void *data, size_t len, char out[17]);

#endif

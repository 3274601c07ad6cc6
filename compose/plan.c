/* SPDX-License-Identifier: MIT */
/*
 * plan.c - spec -> plan: the nodes with their names, hosts, addresses,
 * resources, mounts and environment, the volumes, the hosts entries, the
 * rendered config files, and a hash over all of it.
 */
#include <inttypes.h>

#include "compose.h"

/*
 * The host's key is bind-mounted read-only where munged does not look; the
 * entrypoint, as the container's root, installs a copy owned by munge, 0400,
 * into /etc/munge, a tmpfs: so the host's file can be owned by whoever runs
 * slurmbox (a user in the docker group cannot chown it to munge's uid), and
 * the copy lives in memory only, never in a layer of the container.
 */
#define MUNGE_KEY_TARGET COMPOSE_MUNGE_KEY_TARGET
#define MUNGE_DIR_TARGET "/etc/munge"
#define HOME_TARGET      "/home"
#define STATE_TARGET     "/var/spool/slurmctld" /* slurm.conf's StateSaveLocation */

/*
 * slurmd marks a node DOWN ("Low RealMemory") when slurm.conf claims more
 * memory than it sees, and what it sees can be a little less than what
 * Docker reports: claim 95%.
 */
#define REAL_MEMORY_PERCENT 95

void compose_hash_hex(const void *data, size_t len, char out[17])
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a 64 offset basis */

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL; /* FNV 64 prime */
	}
	for (int i = 15; i >= 0; i--) {
		out[i] = hex[h & 0xf];
		h >>= 4;
	}
	out[16] = '\0';
}

const struct compose_node *compose_plan_node(const struct compose_plan *plan, const char *name)
{
	if (!plan || !name)
		return NULL;
	for (size_t i = 0; i < plan->n_nodes; i++)
		if (!strcmp(plan->nodes[i].name, name))
			return &plan->nodes[i];
	return NULL;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void node_clear(struct compose_node *n)
{
	free(n->name);
	free(n->container);
	free(n->image);
	for (size_t i = 0; i < n->n_mounts; i++) {
		free(n->mounts[i].source);
		free(n->mounts[i].target);
	}
	free(n->mounts);
	strv_free(n->env, n->n_env);
}

void compose_plan_free(struct compose_plan *plan)
{
	if (!plan)
		return;
	free(plan->cluster);
	free(plan->user.name);
	for (size_t i = 0; i < plan->n_hosts; i++) {
		free(plan->hosts[i].name);
		free(plan->hosts[i].arch);
	}
	free(plan->hosts);
	free(plan->network.name);
	for (size_t i = 0; i < plan->n_nodes; i++)
		node_clear(&plan->nodes[i]);
	free(plan->nodes);
	for (size_t i = 0; i < plan->n_volumes; i++) {
		free(plan->volumes[i].name);
		free(plan->volumes[i].kind);
	}
	free(plan->volumes);
	for (size_t i = 0; i < plan->n_files; i++) {
		free(plan->files[i].path);
		free(plan->files[i].content);
	}
	free(plan->files);
	strv_free(plan->extra_hosts, plan->n_extra_hosts);
	free(plan->config_hash);
	free(plan);
}

const char *compose_mount_type_name(enum compose_mount_type t)
{
	switch (t) {
	case COMPOSE_MOUNT_VOLUME:
		return "volume";
	case COMPOSE_MOUNT_TMPFS:
		return "tmpfs";
	case COMPOSE_MOUNT_BIND:
	default:
		return "bind";
	}
}

static void mount_add(struct compose_node *n, enum compose_mount_type type, const char *source,
                      const char *target, bool read_only)
{
	struct compose_mount *m;

	n->mounts = xreallocarray(n->mounts, n->n_mounts + 1, sizeof(*n->mounts));
	m = &n->mounts[n->n_mounts++];
	m->type = type;
	m->source = xstrdup(source);
	m->target = xstrdup(target);
	m->read_only = read_only;
}

__attribute__((format(__printf__, 2, 3))) static void env_add(struct compose_node *n,
                                                              const char *fmt, ...)
{
	char *s;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		sb_oom();
	n->env = xreallocarray(n->env, n->n_env + 1, sizeof(*n->env));
	n->env[n->n_env++] = s;
}

static void node_fill(const struct compose_spec *spec, struct compose_node *n, const char *name,
                      enum compose_role role, size_t host, uint32_t ip, uint32_t master_ip)
{
	const struct compose_host *h = &spec->hosts[host];
	_cleanup_free_ char *home_volume = NULL;

	n->name = xstrdup(name);
	n->container = xasprintf("%s-%s", spec->cluster, name);
	n->role = role;
	n->host = host;
	n->image = xstrdup(role == COMPOSE_ROLE_MASTER ? spec->image_master : spec->image_worker);
	n->ip = ip;
	n->cpus = h->ncpus;
	n->mem_mb = h->mem_mb * REAL_MEMORY_PERCENT / 100;
	if (n->mem_mb < 1)
		n->mem_mb = 1;

	mount_add(n, COMPOSE_MOUNT_BIND, spec->key_path, MUNGE_KEY_TARGET, true);
	mount_add(n, COMPOSE_MOUNT_TMPFS, "tmpfs", MUNGE_DIR_TARGET, false);
	if (spec->home_path) {
		mount_add(n, COMPOSE_MOUNT_BIND, spec->home_path, HOME_TARGET, false);
	} else {
		home_volume = xasprintf("%s-home", spec->cluster);
		mount_add(n, COMPOSE_MOUNT_VOLUME, home_volume, HOME_TARGET, false);
	}
	if (role == COMPOSE_ROLE_MASTER) {
		_cleanup_free_ char *state = xasprintf("%s-state", spec->cluster);

		mount_add(n, COMPOSE_MOUNT_VOLUME, state, STATE_TARGET, false);
	}

	env_add(n, "SLURMBOX_CLUSTER=%s", spec->cluster);
	env_add(n, "SLURMBOX_NODE=%s", name);
	env_add(n, "SLURMBOX_ROLE=%s", compose_role_name(role));
	env_add(n, "SLURMBOX_USER=%s", spec->user.name);
	env_add(n, "SLURMBOX_UID=%" PRIu32, spec->user.uid);
	env_add(n, "SLURMBOX_GID=%" PRIu32, spec->user.gid);
	if (role == COMPOSE_ROLE_WORKER) {
		char text[16];

		/*
		 * slurmd -Z registers the node with what it is given here (a
		 * container's slurmd -C would report the host's resources)
		 * and fetches slurm.conf from the controller at this address.
		 */
		env_add(n, "SLURMBOX_CONF_SERVER=%s", compose_ipv4_format(master_ip, text));
		env_add(n, "SLURMBOX_CPUS=%u", n->cpus);
		env_add(n, "SLURMBOX_MEMORY_MB=%" PRIu64, n->mem_mb);
		env_add(n, "SLURMBOX_FEATURES=%s", COMPOSE_WORKER_FEATURE);
	}
}

static void volume_add(struct compose_plan *plan, const char *cluster, const char *kind,
                       size_t host)
{
	struct compose_volume *v;

	plan->volumes = xreallocarray(plan->volumes, plan->n_volumes + 1, sizeof(*plan->volumes));
	v = &plan->volumes[plan->n_volumes++];
	v->name = xasprintf("%s-%s", cluster, kind);
	v->kind = xstrdup(kind);
	v->host = host;
}

static void file_add(struct compose_plan *plan, enum compose_role role, const char *path,
                     unsigned mode, char *content)
{
	struct compose_file *f;

	plan->files = xreallocarray(plan->files, plan->n_files + 1, sizeof(*plan->files));
	f = &plan->files[plan->n_files++];
	f->path = xstrdup(path);
	f->mode = mode;
	f->content = content;
	f->role = role;
}

/* One node's line, with its mounts and env. */
static void serialize_node(struct sb_buf *b, const struct compose_plan *plan,
                           const struct compose_node *n)
{
	char ip[16];

	sb_buf_printf(b, "node %s %s %s %s %s %s %u %" PRIu64 "\n", n->name, n->container,
	              compose_role_name(n->role), plan->hosts[n->host].name,
	              compose_ipv4_format(n->ip, ip), n->image, n->cpus, n->mem_mb);
	for (size_t j = 0; j < n->n_mounts; j++) {
		const struct compose_mount *m = &n->mounts[j];

		sb_buf_printf(b, " mount %s %s %s %s\n", compose_mount_type_name(m->type),
		              m->source, m->target, m->read_only ? "ro" : "rw");
	}
	for (size_t j = 0; j < n->n_env; j++)
		sb_buf_printf(b, " env %s\n", n->env[j]);
}

/* The facts every canonical text starts with, after its first line. */
static void serialize_common(struct sb_buf *b, const struct compose_plan *plan)
{
	char a[20], g[16];

	sb_buf_printf(b, "user %s %" PRIu32 " %" PRIu32 "\n", plan->user.name, plan->user.uid,
	              plan->user.gid);
	sb_buf_printf(b, "network %s %s %s %s\n", plan->network.name,
	              compose_net_mode_name(plan->network.mode),
	              compose_cidr_format(&plan->network.subnet, a),
	              compose_ipv4_format(plan->network.gateway, g));
}

/*
 * The canonical text the config hash is taken over: one line per fact, in
 * plan order, file contents length-prefixed. Change it only on purpose:
 * a different hash makes `up` see every running cluster as changed.
 */
static char *plan_serialize(const struct compose_plan *plan)
{
	struct sb_buf b = SB_BUF_INIT;

	sb_buf_printf(&b, "slurmbox-plan 1\ncluster %s\n", plan->cluster);
	serialize_common(&b, plan);
	for (size_t i = 0; i < plan->n_nodes; i++)
		serialize_node(&b, plan, &plan->nodes[i]);
	for (size_t i = 0; i < plan->n_volumes; i++)
		sb_buf_printf(&b, "volume %s %s %s\n", plan->volumes[i].name, plan->volumes[i].kind,
		              plan->hosts[plan->volumes[i].host].name);
	for (size_t i = 0; i < plan->n_extra_hosts; i++)
		sb_buf_printf(&b, "extra-host %s\n", plan->extra_hosts[i]);
	for (size_t i = 0; i < plan->n_files; i++) {
		const struct compose_file *f = &plan->files[i];

		sb_buf_printf(&b, "file %s %s %04o %zu\n", compose_role_name(f->role), f->path,
		              f->mode, strlen(f->content));
		sb_buf_puts(&b, f->content);
		sb_buf_puts(&b, "\n");
	}
	return sb_buf_steal(&b);
}

/*
 * One node's canonical text: the plan's common facts, this node's own line,
 * mounts and env, the volumes on its host, and the files written into it.
 * No other node is in it, so nodes come and go and the others stay. Change
 * it only on purpose (see plan_serialize).
 */
static char *node_serialize(const struct compose_plan *plan, const struct compose_node *n)
{
	struct sb_buf b = SB_BUF_INIT;

	sb_buf_printf(&b, "slurmbox-node 1\ncluster %s\n", plan->cluster);
	serialize_common(&b, plan);
	serialize_node(&b, plan, n);
	for (size_t i = 0; i < plan->n_volumes; i++)
		if (plan->volumes[i].host == n->host)
			sb_buf_printf(&b, "volume %s %s\n", plan->volumes[i].name,
			              plan->volumes[i].kind);
	for (size_t i = 0; i < plan->n_files; i++) {
		const struct compose_file *f = &plan->files[i];

		/*
		 * A worker reads the master's files (slurmctld serves them):
		 * they are in its text too, so one changed re-creates it
		 * rather than leave it a stale copy. The other nodes are in
		 * none of them.
		 */
		if (f->role != n->role && f->role != COMPOSE_ROLE_MASTER)
			continue;
		sb_buf_printf(&b, "file %s %04o %zu\n", f->path, f->mode, strlen(f->content));
		sb_buf_puts(&b, f->content);
		sb_buf_puts(&b, "\n");
	}
	return sb_buf_steal(&b);
}

int compose_plan_build(const struct compose_spec *spec, struct compose_plan **out,
                       struct sb_err *err)
{
	struct compose_plan *plan;
	_cleanup_free_ char *canon = NULL;
	uint32_t master_ip;
	size_t k;
	int ret;

	*out = NULL;
	ret = compose_spec_validate(spec, err);
	if (ret < 0)
		return ret;

	plan = xzalloc(sizeof(*plan));
	plan->cluster = xstrdup(spec->cluster);
	plan->user.name = xstrdup(spec->user.name);
	plan->user.uid = spec->user.uid;
	plan->user.gid = spec->user.gid;

	plan->hosts = xcalloc(spec->n_hosts, sizeof(*plan->hosts));
	plan->n_hosts = spec->n_hosts;
	for (size_t h = 0; h < spec->n_hosts; h++) {
		plan->hosts[h] = spec->hosts[h];
		plan->hosts[h].name = xstrdup(spec->hosts[h].name);
		plan->hosts[h].arch = xstrdup(spec->hosts[h].arch);
	}

	plan->network.name = xasprintf("%s-net", spec->cluster);
	plan->network.mode = spec->net_mode;
	plan->network.subnet = spec->subnet;
	plan->network.gateway = spec->gateway ? spec->gateway : spec->subnet.addr + 1;

	/* Master first, then workers numbered in host order. */
	plan->n_nodes = compose_spec_node_count(spec);
	plan->nodes = xcalloc(plan->n_nodes, sizeof(*plan->nodes));
	master_ip = spec->node_ips ? spec->node_ips[0] : spec->subnet.addr + 2;
	node_fill(spec, &plan->nodes[0], "master", COMPOSE_ROLE_MASTER, 0, master_ip, master_ip);
	k = 1;
	for (size_t h = 0; h < spec->n_hosts; h++) {
		unsigned w = compose_spec_host_workers(spec, h);

		for (unsigned j = 0; j < w; j++, k++) {
			char name[32];

			snprintf(name, sizeof(name), "worker-%u",
			         compose_spec_node_number(spec, k));
			node_fill(spec, &plan->nodes[k], name, COMPOSE_ROLE_WORKER, h,
			          spec->node_ips ? spec->node_ips[k]
			                         : spec->subnet.addr + 2 + (uint32_t)k,
			          master_ip);
		}
	}

	/* Volumes belong to one Docker engine: a home volume on every host. */
	if (!spec->home_path)
		for (size_t h = 0; h < spec->n_hosts; h++)
			volume_add(plan, spec->cluster, "home", h);
	volume_add(plan, spec->cluster, "state", 0);

	plan->extra_hosts = xcalloc(plan->n_nodes, sizeof(*plan->extra_hosts));
	plan->n_extra_hosts = plan->n_nodes;
	for (size_t i = 0; i < plan->n_nodes; i++) {
		char ip[16];

		plan->extra_hosts[i] = xasprintf("%s:%s", plan->nodes[i].name,
		                                 compose_ipv4_format(plan->nodes[i].ip, ip));
	}

	file_add(plan, COMPOSE_ROLE_MASTER, "/etc/slurm/slurm.conf", 0644,
	         compose_render_slurm_conf(plan));
	file_add(plan, COMPOSE_ROLE_MASTER, "/etc/slurm/cgroup.conf", 0644,
	         compose_render_cgroup_conf(plan));

	canon = plan_serialize(plan);
	plan->config_hash = xmalloc(17);
	compose_hash_hex(canon, strlen(canon), plan->config_hash);
	for (size_t i = 0; i < plan->n_nodes; i++) {
		_cleanup_free_ char *nc = node_serialize(plan, &plan->nodes[i]);
		compose_hash_hex(nc, strlen(nc), plan->nodes[i].hash);
	}

	*out = plan;
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* Plans: nodes, addresses, resources, mounts, env, volumes, hosts entries and the hash. */
#include "compose_fixture.h"

static const char *ip_str(uint32_t ip)
{
	static char buf[4][16];
	static int k;

	return compose_ipv4_format(ip, buf[k++ % 4]);
}

static void check_mount(const struct compose_mount *m, enum compose_mount_type type,
                        const char *source, const char *target, bool ro)
{
	CHECK_INT(m->type, type);
	CHECK_STR(m->source, source);
	CHECK_STR(m->target, target);
	CHECK_INT(m->read_only, ro);
}

static void test_single_host_nodes(void)
{
	struct compose_spec s = spec_single();
	_cleanup_plan_ struct compose_plan *plan = build(&s);
	static const char *const names[] = {"master", "worker-1", "worker-2"};
	static const char *const ips[] = {"10.213.0.2", "10.213.0.3", "10.213.0.4"};

	if (!plan)
		return;
	CHECK_STR(plan->cluster, "slurmbox");
	CHECK_INT(plan->n_nodes, 3);
	for (size_t i = 0; i < plan->n_nodes && i < 3; i++) {
		const struct compose_node *n = &plan->nodes[i];
		char container[64];

		snprintf(container, sizeof(container), "slurmbox-%s", names[i]);
		CHECK_STR(n->name, names[i]);
		CHECK_STR(n->container, container);
		CHECK_INT(n->role, i == 0 ? COMPOSE_ROLE_MASTER : COMPOSE_ROLE_WORKER);
		CHECK_STR(n->image,
		          i == 0 ? "slurmbox-master:3f2a9c1e" : "slurmbox-worker:3f2a9c1e");
		CHECK_STR(ip_str(n->ip), ips[i]);
		CHECK_INT(n->host, 0);
		CHECK_INT(n->cpus, 2);
		CHECK_INT(n->mem_mb, 22000); /* 95% of 23158 */
	}
	CHECK_STR(plan->network.name, "slurmbox-net");
	CHECK_INT(plan->network.mode, COMPOSE_NET_BRIDGE);
	CHECK_INT(plan->network.subnet.addr, IP(10, 213, 0, 0));
	CHECK_INT(plan->network.subnet.prefix, 24);
	CHECK_STR(ip_str(plan->network.gateway), "10.213.0.1");
	CHECK_STR(plan->user.name, "alice");
	CHECK_INT(plan->user.uid, 1000);
	CHECK_INT(plan->n_hosts, 1);
	CHECK_STR(plan->hosts[0].name, "localhost");
	CHECK(plan->hosts[0].name != hosts1[0].name); /* a copy */
	CHECK_STR(plan->hosts[0].arch, "x86_64");
}

static void test_single_host_mounts(void)
{
	struct compose_spec s = spec_single();
	_cleanup_plan_ struct compose_plan *plan = build(&s);

	if (!plan)
		return;
	CHECK_INT(plan->nodes[0].n_mounts, 4);
	for (size_t i = 0; i < plan->n_nodes; i++) {
		/* the host's key, read-only, and munged's directory in memory */
		check_mount(&plan->nodes[i].mounts[0], COMPOSE_MOUNT_BIND,
		            "/var/lib/slurmbox/slurmbox/munge.key", "/etc/slurmbox/munge.key",
		            true);
		check_mount(&plan->nodes[i].mounts[1], COMPOSE_MOUNT_TMPFS, "tmpfs", "/etc/munge",
		            false);
		check_mount(&plan->nodes[i].mounts[2], COMPOSE_MOUNT_VOLUME, "slurmbox-home",
		            "/home", false);
		if (i > 0)
			CHECK_INT(plan->nodes[i].n_mounts, 3);
	}
	check_mount(&plan->nodes[0].mounts[3], COMPOSE_MOUNT_VOLUME, "slurmbox-state",
	            "/var/spool/slurmctld", false);

	CHECK_INT(plan->n_volumes, 2);
	CHECK_STR(plan->volumes[0].name, "slurmbox-home");
	CHECK_STR(plan->volumes[0].kind, "home");
	CHECK_INT(plan->volumes[0].host, 0);
	CHECK_STR(plan->volumes[1].name, "slurmbox-state");
	CHECK_STR(plan->volumes[1].kind, "state");
	CHECK_INT(plan->volumes[1].host, 0);
}

static void test_single_host_env(void)
{
	struct compose_spec s = spec_single();
	_cleanup_plan_ struct compose_plan *plan = build(&s);
	const struct compose_node *w;

	if (!plan)
		return;
	CHECK_INT(plan->nodes[0].n_env, 6);
	CHECK_STR(plan->nodes[0].env[0], "SLURMBOX_CLUSTER=slurmbox");
	CHECK_STR(plan->nodes[0].env[1], "SLURMBOX_NODE=master");
	CHECK_STR(plan->nodes[0].env[2], "SLURMBOX_ROLE=master");
	CHECK_STR(plan->nodes[0].env[3], "SLURMBOX_USER=alice");
	CHECK_STR(plan->nodes[0].env[4], "SLURMBOX_UID=1000");
	CHECK_STR(plan->nodes[0].env[5], "SLURMBOX_GID=1000");
	w = compose_plan_node(plan, "worker-2");
	CHECK(w != NULL);
	if (!w)
		return;
	CHECK_INT(w->n_env, 10);
	CHECK_STR(w->env[1], "SLURMBOX_NODE=worker-2");
	CHECK_STR(w->env[2], "SLURMBOX_ROLE=worker");
	/* what slurmd -Z registers the node with, and where it fetches slurm.conf */
	CHECK_STR(w->env[6], "SLURMBOX_CONF_SERVER=10.213.0.2");
	CHECK_STR(w->env[7], "SLURMBOX_CPUS=2");
	CHECK_STR(w->env[8], "SLURMBOX_MEMORY_MB=22000");
	CHECK_STR(w->env[9], "SLURMBOX_FEATURES=worker");
	/* Nothing secret goes through the environment. */
	for (size_t i = 0; i < plan->n_nodes; i++)
		for (size_t j = 0; j < plan->nodes[i].n_env; j++)
			CHECK(!strstr(plan->nodes[i].env[j], "munge"));
}

static void test_single_host_extra_hosts_and_files(void)
{
	struct compose_spec s = spec_single();
	_cleanup_plan_ struct compose_plan *plan = build(&s);
	_cleanup_free_ char *slurm = NULL, *cgroup = NULL;

	if (!plan)
		return;
	CHECK_INT(plan->n_extra_hosts, 3);
	CHECK_STR(plan->extra_hosts[0], "master:10.213.0.2");
	CHECK_STR(plan->extra_hosts[1], "worker-1:10.213.0.3");
	CHECK_STR(plan->extra_hosts[2], "worker-2:10.213.0.4");

	slurm = compose_render_slurm_conf(plan);
	cgroup = compose_render_cgroup_conf(plan);
	CHECK_INT(plan->n_files, 2);
	CHECK_STR(plan->files[0].path, "/etc/slurm/slurm.conf");
	CHECK_INT(plan->files[0].mode, 0644);
	CHECK_STR(plan->files[0].content, slurm);
	CHECK_STR(plan->files[1].path, "/etc/slurm/cgroup.conf");
	CHECK_INT(plan->files[1].mode, 0644);
	CHECK_STR(plan->files[1].content, cgroup);
	CHECK_INT(plan->files[0].role, COMPOSE_ROLE_MASTER);
	CHECK_INT(plan->files[1].role, COMPOSE_ROLE_MASTER);

	CHECK_INT(strlen(plan->config_hash), 16);
	CHECK_INT(strspn(plan->config_hash, "0123456789abcdef"), 16);
}

static void test_plan_node_lookup(void)
{
	struct compose_spec s = spec_single();
	_cleanup_plan_ struct compose_plan *plan = build(&s);

	if (!plan)
		return;
	CHECK(compose_plan_node(plan, "master") == &plan->nodes[0]);
	CHECK(compose_plan_node(plan, "worker-1") == &plan->nodes[1]);
	CHECK(compose_plan_node(plan, "worker-3") == NULL);
	CHECK(compose_plan_node(plan, "slurmbox-master") == NULL);
	CHECK(compose_plan_node(plan, NULL) == NULL);
	CHECK(compose_plan_node(NULL, "master") == NULL);
	CHECK_STR(compose_role_name(COMPOSE_ROLE_MASTER), "master");
	CHECK_STR(compose_role_name(COMPOSE_ROLE_WORKER), "worker");
	CHECK_STR(compose_net_mode_name(COMPOSE_NET_BRIDGE), "bridge");
	CHECK_STR(compose_net_mode_name(COMPOSE_NET_MACVLAN), "macvlan");
	CHECK_STR(compose_net_mode_name(COMPOSE_NET_IPVLAN), "ipvlan");
}

static void test_given_node_ips(void)
{
	static const uint32_t ips[] = {IP(10, 213, 0, 100), IP(10, 213, 0, 7), IP(10, 213, 0, 42)};
	struct compose_spec s = spec_single();
	struct compose_plan *plan;

	s.net_mode = COMPOSE_NET_MACVLAN;
	s.node_ips = ips;
	s.n_node_ips = 3;
	plan = build(&s);
	if (!plan)
		return;
	CHECK_STR(ip_str(plan->nodes[0].ip), "10.213.0.100");
	CHECK_STR(ip_str(plan->nodes[1].ip), "10.213.0.7");
	CHECK_STR(ip_str(plan->nodes[2].ip), "10.213.0.42");
	CHECK_STR(plan->extra_hosts[0], "master:10.213.0.100");
	CHECK_STR(plan->extra_hosts[2], "worker-2:10.213.0.42");
	CHECK_STR(ip_str(plan->network.gateway), "10.213.0.1");
	CHECK_INT(plan->network.mode, COMPOSE_NET_MACVLAN);
	compose_plan_free(plan);
}

/* Given numbers name the workers; a worker keeps its name and hash whatever the others are. */
static void test_given_node_numbers(void)
{
	static const unsigned nums[] = {0, 7, 3};
	static const unsigned dup[] = {0, 3, 3}, master1[] = {1, 2, 3}, big[] = {0, 1, 10000};
	struct compose_spec s = spec_single();
	struct compose_plan *plan, *bad = NULL;
	struct sb_err err = SB_ERR_INIT;

	s.node_numbers = nums;
	s.n_node_numbers = 3;
	plan = build(&s);
	if (!plan)
		return;
	CHECK_STR(plan->nodes[1].name, "worker-7");
	CHECK_STR(plan->nodes[1].container, "slurmbox-worker-7");
	CHECK_STR(plan->nodes[2].name, "worker-3");
	CHECK_STR(plan->extra_hosts[1], "worker-7:10.213.0.3");
	CHECK(compose_plan_node(plan, "worker-1") == NULL);
	compose_plan_free(plan);

	s.node_numbers = dup;
	CHECK_INT(compose_plan_build(&s, &bad, &err), -SB_EINPUT);
	CHECK_CONTAINS(err.msg, "Two workers are numbered 3");
	s.node_numbers = master1;
	CHECK_INT(compose_plan_build(&s, &bad, &err), -SB_EINPUT);
	CHECK_CONTAINS(err.msg, "The master's node number must be 0");
	s.node_numbers = big;
	CHECK_INT(compose_plan_build(&s, &bad, &err), -SB_EINPUT);
	CHECK_CONTAINS(err.msg, "Worker number 10000 is out of range");
	s.node_numbers = nums;
	s.n_node_numbers = 2;
	CHECK_INT(compose_plan_build(&s, &bad, &err), -SB_EINPUT);
	CHECK_CONTAINS(err.msg, "Got 2 node numbers for 3 nodes");
	CHECK(bad == NULL);
}

static void test_three_hosts(void)
{
	struct compose_spec s = spec_three();
	_cleanup_plan_ struct compose_plan *plan = build(&s);
	static const size_t host_of[] = {0, 0, 0, 1, 1, 2, 2};
	static const unsigned cpus_of[] = {4, 4, 4, 8, 8, 2, 2};
	static const uint64_t mem_of[] = {15078, 15078, 15078, 30156, 30156, 7296, 7296};

	if (!plan)
		return;
	CHECK_INT(plan->n_nodes, 7);
	CHECK_INT(plan->n_hosts, 3);
	for (size_t i = 0; i < plan->n_nodes && i < 7; i++) {
		char name[16];

		if (i == 0)
			snprintf(name, sizeof(name), "master");
		else
			snprintf(name, sizeof(name), "worker-%zu", i);
		CHECK_STR(plan->nodes[i].name, name);
		CHECK_INT(plan->nodes[i].host, host_of[i]);
		CHECK_INT(plan->nodes[i].cpus, cpus_of[i]);
		CHECK_INT(plan->nodes[i].mem_mb, mem_of[i]);
		CHECK_INT(plan->nodes[i].ip, IP(192, 168, 10, 50 + i));
	}
	CHECK_STR(plan->nodes[3].container, "lab-worker-3");
	CHECK_STR(plan->network.name, "lab-net");
	CHECK_STR(ip_str(plan->network.gateway), "192.168.10.254");

	/* home is bound from the host path: no home volume, only the state. */
	CHECK_INT(plan->n_volumes, 1);
	CHECK_STR(plan->volumes[0].name, "lab-state");
	CHECK_INT(plan->volumes[0].host, 0);
	check_mount(&plan->nodes[5].mounts[2], COMPOSE_MOUNT_BIND, "/srv/lab-home", "/home", false);
	CHECK_INT(plan->nodes[5].n_mounts, 3);

	CHECK_INT(plan->n_extra_hosts, 7);
	CHECK_STR(plan->extra_hosts[6], "worker-6:192.168.10.56");
	CHECK_STR(plan->nodes[6].env[5], "SLURMBOX_GID=100");
}

static void test_three_hosts_home_volumes(void)
{
	struct compose_spec s = spec_three();
	struct compose_plan *plan;

	s.home_path = NULL;
	plan = build(&s);
	if (!plan)
		return;
	/* Volumes live in one engine: a home volume per host, the state on the master's. */
	CHECK_INT(plan->n_volumes, 4);
	for (size_t h = 0; h < 3 && h < plan->n_volumes; h++) {
		CHECK_STR(plan->volumes[h].name, "lab-home");
		CHECK_STR(plan->volumes[h].kind, "home");
		CHECK_INT(plan->volumes[h].host, h);
	}
	CHECK_STR(plan->volumes[3].name, "lab-state");
	CHECK_INT(plan->volumes[3].host, 0);
	check_mount(&plan->nodes[6].mounts[2], COMPOSE_MOUNT_VOLUME, "lab-home", "/home", false);
	compose_plan_free(plan);
}

static void test_no_master_worker(void)
{
	struct compose_spec s = spec_three();
	_cleanup_plan_ struct compose_plan *plan = NULL;

	s.no_master_worker = true;
	s.n_node_ips = 5;
	plan = build(&s);
	if (!plan)
		return;
	CHECK_INT(plan->n_nodes, 5);
	CHECK_STR(plan->nodes[0].name, "master");
	CHECK_INT(plan->nodes[0].host, 0);
	CHECK_STR(plan->nodes[1].name, "worker-1");
	CHECK_INT(plan->nodes[1].host, 1);
	CHECK_INT(plan->nodes[2].host, 1);
	CHECK_STR(plan->nodes[4].name, "worker-4");
	CHECK_INT(plan->nodes[4].host, 2);
	CHECK_INT(plan->nodes[4].ip, IP(192, 168, 10, 54));
	for (size_t i = 1; i < plan->n_nodes; i++)
		CHECK(plan->nodes[i].host != 0);
}

static void test_invalid_spec_builds_nothing(void)
{
	struct compose_spec s = spec_single();
	struct compose_plan *plan = (struct compose_plan *)&s; /* must be reset to NULL */
	struct sb_err err = SB_ERR_INIT;

	s.workers = 0;
	CHECK_INT(compose_plan_build(&s, &plan, &err), -SB_EINPUT);
	CHECK(plan == NULL);
	CHECK_CONTAINS(err.msg, "--workers");
	compose_plan_free(NULL);
}

/* Copy the plan's hash out and free it. */
static void hash_of(const struct compose_spec *s, char out[17])
{
	struct compose_plan *plan = build(s);

	strcpy(out, plan ? plan->config_hash : "");
	compose_plan_free(plan);
}

static void test_hash_stable_and_sensitive(void)
{
	static const uint32_t ips[] = {IP(10, 213, 0, 2), IP(10, 213, 0, 3), IP(10, 213, 0, 5)};
	struct compose_spec s = spec_single();
	char base[17], again[17], h[17];

	hash_of(&s, base);
	hash_of(&s, again);
	CHECK_STR(again, base);
	CHECK_INT(strlen(base), 16);

	/* Not part of any container: the same hash. */
	hosts1[0].arch = (char *)"aarch64";
	hash_of(&s, h);
	CHECK_STR(h, base);

#define CHANGED(stmt)                                               \
	do {                                                        \
		s = spec_single();                                  \
		stmt;                                               \
		hash_of(&s, h);                                     \
		if (!strcmp(h, base))                               \
			TAP_FAIL("hash unchanged after %s", #stmt); \
	} while (0)

	CHANGED(s.workers = 3);
	CHANGED(s.cluster = (char *)"other");
	CHANGED(s.image_worker = (char *)"slurmbox-worker:0000");
	CHANGED(s.image_master = (char *)"slurmbox-master:0000");
	CHANGED(s.user.uid = 1001);
	CHANGED(s.user.gid = 1001);
	CHANGED(s.user.name = (char *)"bob");
	CHANGED(s.home_path = (char *)"/srv/home");
	CHANGED(s.key_path = (char *)"/root/munge.key");
	CHANGED(s.subnet.addr = IP(10, 214, 0, 0));
	CHANGED(s.gateway = IP(10, 213, 0, 254));
	CHANGED(hosts1[0].ncpus = 4);
	CHANGED(hosts1[0].mem_mb = 64000);
	CHANGED(hosts1[0].name = (char *)"other-host");
	CHANGED(s.net_mode = COMPOSE_NET_MACVLAN);
	CHANGED((s.node_ips = ips, s.n_node_ips = 3));
#undef CHANGED

	/* The same spec again, after all that: the same hash. */
	s = spec_single();
	hash_of(&s, h);
	CHECK_STR(h, base);
}

/* FNV-1a 64 reference values. */
static void test_hash_hex(void)
{
	char out[17];

	compose_hash_hex("", 0, out);
	CHECK_STR(out, "cbf29ce484222325");
	compose_hash_hex("a", 1, out);
	CHECK_STR(out, "af63dc4c8601ec8c");
	compose_hash_hex("foobar", 6, out);
	CHECK_STR(out, "85944171f73967e8");
}

int main(void)
{
	TAP_RUN(test_single_host_nodes, test_single_host_mounts, test_single_host_env,
	        test_single_host_extra_hosts_and_files, test_plan_node_lookup, test_given_node_ips,
	        test_three_hosts, test_three_hosts_home_volumes, test_no_master_worker,
	        test_invalid_spec_builds_nothing, test_hash_stable_and_sensitive, test_hash_hex,
	        test_given_node_numbers);
}

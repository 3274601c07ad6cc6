/* SPDX-License-Identifier: MIT */
/*
 * Request bodies from a hand-built plan (no compose_plan_build), compared
 * with golden files in tests/fixtures/docker/.
 */
#include "../../launcher/docker/docker_body.h"
#include "tap.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static char *master_env[] = {"SLURMBOX_CLUSTER=demo", "SLURMBOX_NODE=master",
                             "SLURMBOX_ROLE=master", "SLURMBOX_USER=alice"};
static char *worker_env[] = {"SLURMBOX_CLUSTER=demo", "SLURMBOX_NODE=worker-1",
                             "SLURMBOX_ROLE=worker", "SLURMBOX_USER=alice"};
static struct compose_mount master_mounts[] = {
    {COMPOSE_MOUNT_BIND, "/var/lib/slurmbox/demo/munge.key", "/etc/slurmbox/munge.key", true},
    {COMPOSE_MOUNT_TMPFS, "tmpfs", "/etc/munge", false},
    {COMPOSE_MOUNT_VOLUME, "demo-home", "/home", false},
    {COMPOSE_MOUNT_VOLUME, "demo-state", "/var/spool/slurmctld", false},
};
static struct compose_mount worker_mounts[] = {
    {COMPOSE_MOUNT_BIND, "/var/lib/slurmbox/demo/munge.key", "/etc/slurmbox/munge.key", true},
    {COMPOSE_MOUNT_TMPFS, "tmpfs", "/etc/munge", false},
    {COMPOSE_MOUNT_BIND, "/srv/home", "/home", false},
};
static struct compose_node nodes[] = {
    {
        .name = "master",
        .container = "demo-master",
        .role = COMPOSE_ROLE_MASTER,
        .image = "slurmbox-master:3f2a9c",
        .ip = IP(172, 28, 0, 2),
        .mounts = master_mounts,
        .n_mounts = ARRAY_SIZE(master_mounts),
        .env = master_env,
        .n_env = ARRAY_SIZE(master_env),
        .hash = "0123456789abcdef",
    },
    {
        .name = "worker-1",
        .container = "demo-worker-1",
        .role = COMPOSE_ROLE_WORKER,
        .image = "slurmbox-worker:3f2a9c",
        .ip = IP(172, 28, 0, 3),
        .mounts = worker_mounts,
        .n_mounts = ARRAY_SIZE(worker_mounts),
        .env = worker_env,
        .n_env = ARRAY_SIZE(worker_env),
        .hash = "0123456789abcdef",
    },
};
static struct compose_volume volumes[] = {
    {.name = "demo-home", .kind = "home"},
    {.name = "demo-state", .kind = "state"},
};
static char *extra_hosts[] = {"master:172.28.0.2", "worker-1:172.28.0.3"};

static struct compose_plan plan = {
    .cluster = "demo",
    .network = {"demo-net", COMPOSE_NET_BRIDGE, {IP(172, 28, 0, 0), 24}, IP(172, 28, 0, 1)},
    .nodes = nodes,
    .n_nodes = ARRAY_SIZE(nodes),
    .volumes = volumes,
    .n_volumes = ARRAY_SIZE(volumes),
    .extra_hosts = extra_hosts,
    .n_extra_hosts = ARRAY_SIZE(extra_hosts),
    .config_hash = "0123456789abcdef",
};

static void check_golden_json(const char *name, struct json_object *o)
{
	CHECK(o != NULL);
	if (!o)
		return;
	_cleanup_free_ char *text =
	    xasprintf("%s\n", json_object_to_json_string_ext(
	                          o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	CHECK_GOLDEN(name, text);
	json_object_put(o);
}

static void test_container_master(void)
{
	struct json_object *o = docker_body_container(&plan, &nodes[0], "1.41");
	struct json_object *v;

	/* A few facts checked directly, besides the golden file. */
	CHECK(json_object_object_get_ex(o, "NetworkingConfig", &v));
	CHECK(json_object_object_get_ex(v, "EndpointsConfig", &v));
	CHECK(json_object_object_get_ex(v, "demo-net", &v));
	CHECK(json_object_object_get_ex(v, "IPAMConfig", &v));
	CHECK(json_object_object_get_ex(v, "IPv4Address", &v));
	CHECK_STR(json_object_get_string(v), "172.28.0.2");
	check_golden_json("docker/container-master.json", o);
}

static void test_container_worker(void)
{
	check_golden_json("docker/container-worker.json",
	                  docker_body_container(&plan, &nodes[1], "1.41"));
}

static void test_network_bridge(void)
{
	check_golden_json("docker/network-bridge.json",
	                  docker_body_network(&plan, NULL, NULL, "1.41"));
}

/* API 1.44 (Docker 25) made CheckDuplicate the rule and deprecated the field. */
static void test_network_check_duplicate(void)
{
	static const struct {
		const char *api;
		bool sent;
	} cases[] = {{NULL, true},   {"1.40", true},  {"1.41", true},
	             {"1.43", true}, {"1.44", false}, {"1.45", false}};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct json_object *b = docker_body_network(&plan, NULL, NULL, cases[i].api);
		struct json_object *v = NULL;

		CHECK(json_object_object_get_ex(b, "CheckDuplicate", &v) == cases[i].sent);
		if (cases[i].sent)
			CHECK(json_object_get_boolean(v));
		json_object_put(b);
	}
}

static void test_network_macvlan(void)
{
	struct compose_plan lan = plan;

	lan.network.mode = COMPOSE_NET_MACVLAN;
	lan.network.subnet = (struct compose_cidr){IP(192, 168, 1, 0), 24};
	lan.network.gateway = IP(192, 168, 1, 1);
	check_golden_json("docker/network-macvlan.json",
	                  docker_body_network(&lan, "eth0", "192.168.1.192/27", "1.41"));

	lan.network.mode = COMPOSE_NET_IPVLAN;
	check_golden_json("docker/network-ipvlan.json",
	                  docker_body_network(&lan, "eth0.10", NULL, "1.45"));
}

static void test_volume_labels(void)
{
	struct json_object *l = docker_body_volume_labels(&plan, &volumes[0]);

	CHECK_STR(json_object_to_json_string_ext(l, JSON_C_TO_STRING_PLAIN),
	          "{\"io.slurmbox.cluster\":\"demo\",\"io.slurmbox.kind\":\"home\"}");
	json_object_put(l);
	l = docker_body_volume_labels(&plan, &volumes[1]);
	CHECK_STR(json_object_to_json_string_ext(l, JSON_C_TO_STRING_PLAIN),
	          "{\"io.slurmbox.cluster\":\"demo\",\"io.slurmbox.kind\":\"state\"}");
	json_object_put(l);
}

int main(void)
{
	TAP_RUN(test_container_master, test_container_worker, test_network_bridge,
	        test_network_check_duplicate, test_network_macvlan, test_volume_labels);
}

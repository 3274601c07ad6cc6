/* SPDX-License-Identifier: MIT */
/* Spec validation: each bad field alone, several at once, and the node counts. */
#include "compose_fixture.h"

static void expect_ok(const struct compose_spec *s)
{
	struct sb_err err = SB_ERR_INIT;

	if (compose_spec_validate(s, &err) != 0)
		TAP_FAIL("valid spec refused: %s", err.msg);
	CHECK_INT(err.code, 0);
}

/* Exactly one problem, SB_EINPUT, its message containing each needle. */
#define expect_one(s, ...) expect_one_(__LINE__, s, (const char *[]){__VA_ARGS__, NULL})
static void expect_one_(int line, const struct compose_spec *s, const char **needles)
{
	struct sb_err err = SB_ERR_INIT;
	int ret = compose_spec_validate(s, &err);

	if (ret != -SB_EINPUT || err.code != SB_EINPUT) {
		TAP_FAIL("line %d: ret %d code %d, expected -SB_EINPUT", line, ret, err.code);
		return;
	}
	for (; *needles; needles++)
		if (!strstr(err.msg, *needles))
			TAP_FAIL("line %d: \"%s\" not in \"%s\"", line, *needles, err.msg);
	if (strchr(err.msg, '\n'))
		TAP_FAIL("line %d: more than one problem: \"%s\"", line, err.msg);
	if (err.msg[strlen(err.msg) - 1] == '.')
		TAP_FAIL("line %d: trailing period: \"%s\"", line, err.msg);
}

static void test_valid_specs(void)
{
	struct compose_spec s = spec_single();

	expect_ok(&s);
	s.home_path = (char *)"/srv/slurmbox-home";
	expect_ok(&s);
	s.home_path = (char *)"/srv/..hidden/home"; /* ".." only as a whole component */
	expect_ok(&s);
	s = spec_single();
	s.workers = COMPOSE_MAX_WORKERS;
	expect_ok(&s);
	s.subnet = (struct compose_cidr){IP(10, 0, 0, 0), 8};
	expect_ok(&s);
	s = spec_single();
	s.workers = 1;
	s.subnet = (struct compose_cidr){IP(10, 0, 0, 0), 30}; /* 4 addresses: 2 nodes + 2 */
	expect_one(&s, "need 5 addresses");
	s.subnet.prefix = 29; /* 8 addresses >= 2 nodes + 3 */
	expect_ok(&s);
	s = spec_three();
	expect_ok(&s);
	s.no_master_worker = true;
	s.n_node_ips = 5;
	expect_ok(&s);
	s = spec_three();
	s.node_ips = NULL;
	s.n_node_ips = 0;
	expect_ok(&s); /* LAN mode with bridge-style numbering */
	s.gateway = IP(192, 168, 10, 254);
	expect_ok(&s);
}

static void test_bad_cluster(void)
{
	struct compose_spec s = spec_single();

	s.cluster = (char *)"Node_1";
	expect_one(&s, "Invalid --name \"Node_1\"", "try \"node-1\"");
	s.cluster = NULL;
	expect_one(&s, "--name", "required");
}

static void test_bad_workers(void)
{
	struct compose_spec s = spec_single();

	s.workers = 0;
	expect_one(&s, "Invalid --workers \"0\"", "need 1 to 250 workers");
	s.workers = 251;
	expect_one(&s, "Invalid --workers \"251\"", "need 1 to 250 workers");
	s = spec_three();
	s.node_ips = NULL;
	s.n_node_ips = 0;
	s.subnet = (struct compose_cidr){IP(192, 168, 0, 0), 16};
	s.workers = 100;
	expect_one(&s, "Invalid --workers \"100\"", "3 hosts with 100 workers each make 300",
	           "use --workers 83 or fewer");
	s.no_master_worker = true;
	s.workers = 125; /* 2 hosts x 125 = 250: the most there can be */
	expect_ok(&s);
	s.workers = 126;
	expect_one(&s, "2 hosts with 126 workers each make 252", "use --workers 125 or fewer");
}

static void test_bad_workers_per_host(void)
{
	struct compose_spec s = spec_three();

	s.workers = 0;
	expect_one(&s, "Invalid --workers \"0\"", "at least 1 worker per host");
	s = spec_single();
	s.no_master_worker = true;
	expect_one(&s, "--no-master-worker", "single host", "no workers");
}

static void test_bad_home(void)
{
	struct compose_spec s = spec_single();

	s.home_path = (char *)"home/alice";
	expect_one(&s, "Invalid --home \"home/alice\"", "must be an absolute path");
	s.home_path = (char *)"/";
	expect_one(&s, "Invalid --home \"/\"", "root directory");
	s.home_path = (char *)"//";
	expect_one(&s, "Invalid --home \"//\"", "root directory");
	s.home_path = (char *)"/srv/a:b";
	expect_one(&s, "Invalid --home \"/srv/a:b\"", "':' and ','");
	s.home_path = (char *)"/srv/a,b";
	expect_one(&s, "Invalid --home \"/srv/a,b\"", "':' and ','");
	s.home_path = (char *)"/srv/../etc";
	expect_one(&s, "Invalid --home \"/srv/../etc\"", "\"..\" is not allowed");
	s.home_path = (char *)"/srv/..";
	expect_one(&s, "\"..\" is not allowed");
	s.home_path = (char *)"";
	expect_one(&s, "Missing --home");
	s.home_path = (char *)"/srv/a\nb";
	expect_one(&s, "Invalid --home \"/srv/a?b\": control characters are not allowed");
}

static void test_bad_user(void)
{
	struct compose_spec s = spec_single();

	s.user.name = (char *)"root";
	expect_one(&s, "Invalid --user \"root\"", "jobs must not run as root");
	s.user.name = (char *)"Alice";
	expect_one(&s, "Invalid --user \"Alice\"", "try \"alice\"");
	s = spec_single();
	s.user.uid = 0;
	expect_one(&s, "Invalid --user uid \"0\"", "jobs must not run as root");
	s.user.uid = 65534;
	expect_one(&s, "Invalid --user uid \"65534\"", "from 1 to 65533");
	s = spec_single();
	s.user.gid = 0;
	expect_one(&s, "Invalid --user gid \"0\"");
	s.user.gid = 70000;
	expect_one(&s, "Invalid --user gid \"70000\"", "from 1 to 65533");
}

static void test_bad_key_and_images(void)
{
	struct compose_spec s = spec_single();

	s.key_path = NULL;
	expect_one(&s, "Missing munge key path");
	s.key_path = (char *)"munge.key";
	expect_one(&s, "Invalid munge key path \"munge.key\"", "absolute path");
	s = spec_single();
	s.image_master = (char *)"";
	expect_one(&s, "Missing master image");
	s = spec_single();
	s.image_worker = NULL;
	expect_one(&s, "Missing worker image");
	s.image_worker = (char *)"slurmbox worker";
	expect_one(&s, "Invalid worker image \"slurmbox worker\"", "spaces");
}

static void test_bad_hosts(void)
{
	struct compose_spec s = spec_single();

	s.n_hosts = 0;
	expect_one(&s, "No hosts");
	s = spec_single();
	hosts1[0].ncpus = 0;
	expect_one(&s, "Host \"localhost\" reports 0 CPUs", "docker info");
	s = spec_single();
	hosts1[0].mem_mb = 0;
	expect_one(&s, "Host \"localhost\" reports 0 MiB of memory");
	s = spec_three();
	hosts3[2].name = (char *)"alpha";
	expect_one(&s, "Host \"alpha\" is listed twice");
	s = spec_three();
	hosts3[1].name = NULL;
	expect_one(&s, "Host 1 has no name");
}

static void test_bad_subnet(void)
{
	struct compose_spec s = spec_single();

	s.subnet.prefix = 31;
	expect_one(&s, "Invalid --subnet \"10.213.0.0/31\"", "between /8 and /30");
	s.subnet = (struct compose_cidr){IP(10, 0, 0, 0), 7};
	expect_one(&s, "Invalid --subnet \"10.0.0.0/7\"", "between /8 and /30");
	s.subnet = (struct compose_cidr){IP(10, 213, 0, 1), 24};
	expect_one(&s, "Invalid --subnet \"10.213.0.1/24\"", "did you mean \"10.213.0.0/24\"");
	s = spec_single();
	s.workers = 6;
	s.subnet = (struct compose_cidr){IP(10, 213, 0, 0), 29};
	expect_one(&s, "Invalid --subnet \"10.213.0.0/29\"", "need 10 addresses",
	           "--subnet 10.213.0.0/29 has 8", "use a /28 or larger");
	s.workers = 250;
	s.subnet.prefix = 24; /* 251 nodes + 3 = 254 addresses of 256 */
	expect_ok(&s);
	s.subnet.prefix = 25;
	expect_one(&s, "need 254 addresses", "has 128", "use a /24 or larger");
}

static void test_bad_gateway(void)
{
	struct compose_spec s = spec_three();

	s.gateway = IP(192, 168, 11, 1);
	expect_one(&s, "Invalid --gateway \"192.168.11.1\"", "inside --subnet \"192.168.10.0/24\"");
	s.gateway = IP(192, 168, 10, 255);
	expect_one(&s, "Invalid --gateway \"192.168.10.255\"");
	s = spec_single();
	s.gateway = IP(10, 213, 0, 4);
	expect_one(&s, "Invalid --gateway \"10.213.0.4\"", "numbered 10.213.0.2 to 10.213.0.4");
}

static void test_bad_node_ips(void)
{
	struct compose_spec s = spec_three();

	s.n_node_ips = 6;
	expect_one(&s, "Got 6 node addresses for 7 nodes (master and 6 workers)");
	s = spec_three();
	ips3[3] = IP(192, 168, 11, 3);
	expect_one(&s, "Address 192.168.11.3 for worker-3 is outside --subnet \"192.168.10.0/24\"");
	s = spec_three();
	ips3[0] = IP(192, 168, 10, 0);
	expect_one(&s, "Address 192.168.10.0 for master is the network address");
	s = spec_three();
	ips3[6] = IP(192, 168, 10, 255);
	expect_one(&s, "Address 192.168.10.255 for worker-6 is the broadcast address");
	s = spec_three();
	s.gateway = 0; /* the default: the subnet's first address */
	ips3[2] = IP(192, 168, 10, 1);
	expect_one(&s, "Address 192.168.10.1 for worker-2 is the network's gateway");
	s = spec_three();
	s.gateway = IP(192, 168, 10, 53);
	expect_one(&s, "Address 192.168.10.53 for worker-3 is the network's gateway");
	s = spec_three();
	ips3[5] = ips3[1];
	expect_one(&s, "Address 192.168.10.51 is given to both worker-1 and worker-5");
}

static void test_bad_network_mode(void)
{
	struct compose_spec s = spec_three();

	s.net_mode = COMPOSE_NET_BRIDGE;
	expect_one(&s, "--network bridge cannot span hosts",
	           "containers on different hosts could not reach each other",
	           "use --network macvlan");
	s = spec_single();
	s.net_mode = (enum compose_net_mode)7;
	expect_one(&s, "Invalid --network mode 7");
}

/* Several problems at once: all reported, one per line. */
static void test_many_problems(void)
{
	struct compose_spec s = spec_single();
	struct sb_err err = SB_ERR_INIT;
	int lines = 1;

	s.cluster = (char *)"ALL";
	s.workers = 0;
	s.home_path = (char *)"relative";
	s.user.uid = 0;
	s.subnet.prefix = 31;
	s.image_worker = NULL;
	CHECK_INT(compose_spec_validate(&s, &err), -SB_EINPUT);
	CHECK_INT(err.code, SB_EINPUT);
	CHECK_CONTAINS(err.msg, "Invalid --name \"ALL\"");
	CHECK_CONTAINS(err.msg, "Invalid --workers \"0\"");
	CHECK_CONTAINS(err.msg, "Invalid --home \"relative\"");
	CHECK_CONTAINS(err.msg, "Invalid --user uid \"0\"");
	CHECK_CONTAINS(err.msg, "Invalid --subnet \"10.213.0.0/31\"");
	CHECK_CONTAINS(err.msg, "Missing worker image");
	for (const char *p = err.msg; (p = strchr(p, '\n')); p++)
		lines++;
	CHECK_INT(lines, 6);
}

/* Hundreds of problems: the message stays whole lines and says how many were left out. */
static void test_too_many_problems(void)
{
	static uint32_t ips[251];
	struct compose_spec s = spec_single();
	struct sb_err err = SB_ERR_INIT;
	size_t len;

	s.workers = 250;
	for (size_t i = 0; i < ARRAY_SIZE(ips); i++)
		ips[i] = IP(10, 214, 0, 1);
	s.node_ips = ips;
	s.n_node_ips = ARRAY_SIZE(ips);
	CHECK_INT(compose_spec_validate(&s, &err), -SB_EINPUT);
	CHECK_CONTAINS(err.msg, "Address 10.214.0.1 for master is outside --subnet");
	CHECK_CONTAINS(err.msg, "more problems)");
	len = strlen(err.msg);
	CHECK(len < sizeof(err.msg) - 1);
	CHECK(err.msg[len - 1] == ')');
}

static void test_node_counts(void)
{
	struct compose_spec s = spec_single();

	CHECK_INT(compose_spec_node_count(&s), 3);
	CHECK_INT(compose_spec_host_workers(&s, 0), 2);
	CHECK_INT(compose_spec_host_workers(&s, 1), 0);
	s = spec_three();
	CHECK_INT(compose_spec_node_count(&s), 7);
	CHECK_INT(compose_spec_host_workers(&s, 0), 2);
	CHECK_INT(compose_spec_host_workers(&s, 2), 2);
	s.no_master_worker = true;
	CHECK_INT(compose_spec_node_count(&s), 5);
	CHECK_INT(compose_spec_host_workers(&s, 0), 0);
	CHECK_INT(compose_spec_host_workers(&s, 1), 2);
}

int main(void)
{
	TAP_RUN(test_valid_specs, test_bad_cluster, test_bad_workers, test_bad_workers_per_host,
	        test_bad_home, test_bad_user, test_bad_key_and_images, test_bad_hosts,
	        test_bad_subnet, test_bad_gateway, test_bad_node_ips, test_bad_network_mode,
	        test_many_problems, test_too_many_problems, test_node_counts);
}

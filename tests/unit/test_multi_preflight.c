/* SPDX-License-Identifier: MIT */
/*
 * multi_preflight: every problem of every host at once, from the agents'
 * facts (canned here). Cases 23 and 25 (another cluster's or a foreign
 * macvlan network on a host's parent) run for real in multi-faults.bats. Case 28 of the reference (clock skew over 60 s) is
 * tested here: CLOCK_REALTIME is not namespaced, so the lab's hosts all
 * share this machine's clock and a real skew cannot be made there.
 */
#include "tap.h"
#include "../../launcher/cluster/multi_int.h"

#include <json-c/json.h>

/* what the agent's facts say of every engine */
#define ENGINE "\"arch\": \"x86_64\", \"ncpus\": 2, \"mem_mb\": 2048"

/* facts as `slurmbox agent facts` prints them */
static struct json_object *facts(const char *addr, long long t, const char *docker_err)
{
	char text[512];

	snprintf(
	    text, sizeof(text),
	    "{\"docker\": {" ENGINE "%s%s%s}, \"uplink\": {\"ifname\": \"eth0\", \"addr\": \"%s\", "
	    "\"prefix\": 24, \"gateway\": \"10.77.0.1\", \"wireless\": false}, \"time\": %lld}",
	    docker_err ? ", \"error\": \"" : "", docker_err ? docker_err : "",
	    docker_err ? "\"" : "", addr, t);
	return json_tokener_parse(text);
}

static void hosts_init(struct multi_host *h, size_t n)
{
	static const char *names[] = {"h1", "h2", "h3"};

	memset(h, 0, n * sizeof(*h));
	for (size_t i = 0; i < n; i++)
		h[i].dest = names[i];
}

static void hosts_put(struct multi_host *h, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_object_put(h[i].facts);
}

static void test_clocks_within_60s(void)
{
	struct multi_host h[3];
	struct sb_err err = SB_ERR_INIT;

	hosts_init(h, 3);
	h[0].facts = facts("10.77.0.11", 1000000, NULL);
	h[1].facts = facts("10.77.0.12", 1000060, NULL);
	h[2].facts = facts("10.77.0.13", 999990, NULL); /* 70 s spread: too much */
	CHECK(multi_preflight(h, 3, "sbx", true, false, &err) < 0);
	CHECK_CONTAINS(err.msg, "nothing was changed on any host");
	CHECK_CONTAINS(err.msg, "the hosts' clocks differ by 70 s (more than 60 s)");
	CHECK_CONTAINS(err.msg, "run NTP on every host");
	hosts_put(h, 3);

	hosts_init(h, 3);
	h[0].facts = facts("10.77.0.11", 1000000, NULL);
	h[1].facts = facts("10.77.0.12", 1000060, NULL);
	h[2].facts = facts("10.77.0.13", 1000030, NULL); /* 60 s: munge's TTL allows it */
	CHECK_INT(multi_preflight(h, 3, "sbx", true, false, &err), 0);
	CHECK_STR(h[1].ifname, "eth0");
	CHECK_STR(h[2].lan_text, "10.77.0.0/24");
	hosts_put(h, 3);
}

static void test_every_problem_at_once(void)
{
	struct multi_host h[3];
	struct sb_err err = SB_ERR_INIT;

	hosts_init(h, 3);
	h[0].facts = facts("10.77.0.11", 1000000, NULL);
	h[1].facts = facts("10.77.0.11", 1000000, "Cannot reach the Docker daemon");
	h[2].ret = -EHOSTUNREACH;
	snprintf(h[2].err.msg, sizeof(h[2].err.msg), "ssh: connect to host h3 port 22: timed out");
	CHECK(multi_preflight(h, 3, "sbx", true, false, &err) < 0);
	CHECK_CONTAINS(err.msg, "  h2: Cannot reach the Docker daemon\n");
	CHECK_CONTAINS(err.msg, "  h3: ssh: connect to host h3 port 22: timed out\n");
	CHECK_CONTAINS(err.msg, "h1 and h2 are the same machine (10.77.0.11)");
	hosts_put(h, 3);
}

static void test_one_lan(void)
{
	struct multi_host h[2];
	struct sb_err err = SB_ERR_INIT;

	hosts_init(h, 2);
	h[0].facts = facts("10.77.0.11", 1000000, NULL);
	h[1].facts = facts("10.78.0.12", 1000000, NULL);
	CHECK(multi_preflight(h, 2, "sbx", true, false, &err) < 0);
	CHECK_CONTAINS(err.msg, "not on one LAN subnet: h1 10.77.0.0/24, h2 10.78.0.0/24");
	hosts_put(h, 2);
}

/* facts with macvlan networks on the engine (agent facts: docker.lan_networks) */
static struct json_object *facts_nets(const char *addr, const char *nets)
{
	char text[1024];

	snprintf(text, sizeof(text),
	         "{\"docker\": {" ENGINE
	         ", \"lan_networks\": %s}, \"uplink\": {\"ifname\": \"eth0\", "
	         "\"addr\": \"%s\", \"prefix\": 24, \"gateway\": \"10.77.0.1\"}, \"time\": 1}",
	         nets, addr);
	return json_tokener_parse(text);
}

static void test_lan_networks(void)
{
	struct multi_host h[3];
	struct sb_err err = SB_ERR_INIT;

	hosts_init(h, 3);
	/* ours (reused), another cluster's, a foreign one; on eth0.10 (a VLAN): fine */
	h[0].facts = facts_nets("10.77.0.11", "[{\"name\": \"sbx-net\", \"driver\": \"macvlan\", "
	                                      "\"parent\": \"eth0\", \"cluster\": \"sbx\"}]");
	h[1].facts = facts_nets("10.77.0.12",
	                        "[{\"name\": \"lab2-net\", \"driver\": \"macvlan\", \"parent\": "
	                        "\"eth0\", \"subnet\": \"10.77.0.0/24\", \"cluster\": \"lab2\"}]");
	h[2].facts = facts_nets("10.77.0.13",
	                        "[{\"name\": \"mine\", \"driver\": \"ipvlan\", \"parent\": "
	                        "\"eth0\", \"subnet\": \"192.168.5.0/24\"}, {\"name\": \"v10\", "
	                        "\"driver\": \"macvlan\", \"parent\": \"eth0.10\"}]");
	CHECK(multi_preflight(h, 3, "sbx", true, false, &err) < 0);
	CHECK(!strstr(err.msg, "h1:"));
	CHECK_CONTAINS(err.msg, "  h2: eth0 already carries the macvlan network 'lab2-net' "
	                        "(10.77.0.0/24) of slurmbox cluster 'lab2'");
	CHECK_CONTAINS(err.msg, "(slurmbox --name lab2 down)");
	CHECK_CONTAINS(err.msg, "  h3: eth0 already carries the ipvlan network 'mine' "
	                        "(192.168.5.0/24), which is not slurmbox's");
	CHECK(!strstr(err.msg, "v10"));
	hosts_put(h, 3);
}

/* facts of a host whose ssh user has (not) CAP_NET_ADMIN, with n nodes of the cluster */
static struct json_object *facts_cap(const char *addr, bool net_admin, int n_nodes)
{
	char text[512];

	snprintf(text, sizeof(text),
	         "{\"docker\": {" ENGINE "}, \"uplink\": {\"ifname\": \"eth0\", \"addr\": \"%s\", "
	         "\"prefix\": 24}, \"time\": 1, \"euid\": 1001, \"net_admin\": %s, "
	         "\"cluster\": {\"nodes\": [%s]}}",
	         addr, net_admin ? "true" : "false", n_nodes ? "{\"node\": \"worker-1\"}" : "");
	return json_tokener_parse(text);
}

static void test_shim_needs_net_admin(void)
{
	struct multi_host h[3];
	struct sb_err err = SB_ERR_INIT;

	hosts_init(h, 3);
	h[0].facts = facts_cap("10.77.0.11", true, 0);
	h[1].facts = facts_cap("10.77.0.12", false, 0); /* new to the cluster: said */
	h[2].facts = facts_cap("10.77.0.13", false, 1); /* has its nodes: got past it once */
	CHECK(multi_preflight(h, 3, "sbx", true, false, &err) < 0);
	CHECK_CONTAINS(err.msg, "  h2: the shim (this host's own link to its nodes on the LAN) "
	                        "needs CAP_NET_ADMIN, which uid 1001 there has not got");
	CHECK_CONTAINS(err.msg, "give --no-shim to go on without it (then h2 cannot reach its "
	                        "own nodes; the others can)");
	CHECK(!strstr(err.msg, "h1:"));
	CHECK(!strstr(err.msg, "h3:"));
	/* --no-shim: a warning, and up goes on */
	CHECK_INT(multi_preflight(h, 3, "sbx", true, true, &err), 0);
	hosts_put(h, 3);
}

/* A bridge network on one host needs no uplink, no CAP_NET_ADMIN, no LAN. */
static void test_bridge_needs_no_lan(void)
{
	struct multi_host h[1];
	struct sb_err err = SB_ERR_INIT;

	hosts_init(h, 1);
	h[0].facts = json_tokener_parse("{\"docker\": {" ENGINE "}, \"net_admin\": false, "
	                                "\"uplink\": {\"error\": \"no default route\"}}");
	CHECK_INT(multi_preflight(h, 1, "sbx", false, false, &err), 0);
	/* on the LAN, the same facts are a problem */
	CHECK(multi_preflight(h, 1, "sbx", true, false, &err) < 0);
	CHECK_CONTAINS(err.msg, "  h1: no default route");
	hosts_put(h, 1);
}

/* Answers no agent of this build gives: said as problems, never a crash (found by fuzz_facts). */
static void test_malformed_facts(void)
{
	static const char *bad[] = {
	    "{\"docker\": {}}",
	    "{\"docker\": {" ENGINE "}, \"uplink\": {\"ifname\": \"eth0\", \"addr\": "
	    "\"10.0.0.1\", \"prefix\": 40}}",
	    "{\"docker\": {" ENGINE ", \"lan_networks\": {}}, \"uplink\": {\"ifname\": "
	    "\"eth0\", \"addr\": \"10.0.0.1\", \"prefix\": 24}, \"net_admin\": false, "
	    "\"cluster\": {\"nodes\": 7}}",
	    "[]",
	};
	struct multi_host h[1];

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct sb_err err = SB_ERR_INIT;

		hosts_init(h, 1);
		h[0].facts = json_tokener_parse(bad[i]);
		CHECK(h[0].facts != NULL);
		if (i == 2) { /* lists that are not lists are ignored: --no-shim lets it pass */
			CHECK_INT(multi_preflight(h, 1, "sbx", true, true, &err), 0);
		} else {
			CHECK(multi_preflight(h, 1, "sbx", true, true, &err) < 0);
			CHECK_CONTAINS(err.msg, "  h1: ");
		}
		hosts_put(h, 1);
	}
}

int main(void)
{
	TAP_RUN(test_clocks_within_60s, test_every_problem_at_once, test_one_lan, test_lan_networks,
	        test_shim_needs_net_admin, test_bridge_needs_no_lan, test_malformed_facts);
}

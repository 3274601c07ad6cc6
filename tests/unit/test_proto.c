/* SPDX-License-Identifier: MIT */
/*
 * The agent's answers as the control machine lets them in (remote/proto.c):
 * what the host operations produce fits the schemas (so the two cannot
 * drift), and a member of the wrong type, out of range or missing is
 * refused whole, naming the member.
 */
#include "tap.h"
#include "../../launcher/host/ops.h"
#include "../../launcher/remote/proto.h"

#include <json-c/json.h>
#include <stdlib.h>

static int check_text(enum proto_msg msg, const char *text, struct sb_err *err)
{
	struct json_object *o = json_tokener_parse(text);
	int ret;

	CHECK(o != NULL);
	ret = proto_check(msg, o, err);
	json_object_put(o);
	return ret;
}

/* host_facts' own answer fits (here without a Docker engine: its error is inside). */
static void test_facts_of_this_host_fit(void)
{
	const char *images[] = {"slurmbox-master:x", "slurmbox-worker:x"};
	struct host_facts_req r = {
	    .cluster = "sbproto", .home = "/tmp", .images = images, .n_images = 2};
	struct sb_err err = SB_ERR_INIT;
	struct json_object *o = NULL;

	setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock", 1);
	CHECK_INT(host_facts(&r, &o, &err), 0);
	CHECK_INT(proto_check(PROTO_FACTS, o, &err), 0);
	CHECK_STR(err.msg, "");
	json_object_put(o);
	unsetenv("DOCKER_HOST");
}

static void test_answers_that_fit(void)
{
	struct sb_err err = SB_ERR_INIT;
	struct json_object *o = NULL;
	struct host_probe_req none = {.parent = "lo", .timeout_ms = 1};

	CHECK_INT(host_probe(&none, &o, &err), 0);
	CHECK_INT(proto_check(PROTO_PROBE, o, &err), 0);
	json_object_put(o);
	CHECK_INT(
	    check_text(PROTO_PROBE, "[{\"ip\":\"10.0.0.1\",\"in_use\":true,\"mac\":\"aa\"}]", &err),
	    0);
	CHECK_INT(check_text(PROTO_REPORT,
	                     "{\"ok\":true,\"created\":[{\"kind\":\"container\",\"id\":\"c1\"}],"
	                     "\"started\":3,\"shim\":false,\"key\":true,\"dir\":true,"
	                     "\"rolled_back\":false,\"kept\":false,\"newer\":1}",
	                     &err),
	          0);
	CHECK_INT(check_text(PROTO_DOWN,
	                     "{\"containers\":3,\"networks\":1,\"volumes\":0,\"links\":0}", &err),
	          0);
	CHECK_INT(check_text(PROTO_UNDO, "{\"removed\":2,\"failed\":0}", &err), 0);
	CHECK_INT(check_text(PROTO_CHECK,
	                     "{\"nodes\":[{\"node\":\"master\",\"state\":\"running\","
	                     "\"munge\":\"ok\"},{\"node\":\"worker-1\",\"state\":\"exited\"}]}",
	                     &err),
	          0);
}

static void refused(enum proto_msg msg, const char *text, const char *why)
{
	struct sb_err err = SB_ERR_INIT;

	CHECK_INT(check_text(msg, text, &err), -EPROTO);
	CHECK_CONTAINS(err.msg, why);
}

static void test_answers_that_do_not_fit(void)
{
	static const char facts_head[] =
	    "{\"version\":\"1\",\"arch\":\"x86_64\",\"euid\":0,\"time\":5,";

	refused(PROTO_FACTS, "[]", "facts: an object expected, got []");
	refused(PROTO_FACTS, "{\"version\":\"1\"}", "facts.arch: missing");
	refused(PROTO_FACTS, "{\"version\":\"1\",\"arch\":\"x\",\"euid\":4294968296,\"time\":1}",
	        "facts.euid: an integer from 0 to 4294967295 expected, got 4294968296");
	{
		_cleanup_free_ char *t =
		    xasprintf("%s\"docker\":{\"ncpus\":\"8\"},\"uplink\":{}}", facts_head);
		refused(PROTO_FACTS, t, "facts.docker.ncpus: an integer expected, got \"8\"");
	}
	{
		_cleanup_free_ char *t =
		    xasprintf("%s\"docker\":{\"lan_networks\":{}},\"uplink\":{}}", facts_head);
		refused(PROTO_FACTS, t, "facts.docker.lan_networks: a list expected");
	}
	{
		_cleanup_free_ char *t =
		    xasprintf("%s\"docker\":{},\"uplink\":{\"prefix\":33}}", facts_head);
		refused(PROTO_FACTS, t, "facts.uplink.prefix: an integer from 0 to 32");
	}
	{
		_cleanup_free_ char *t = xasprintf(
		    "%s\"docker\":{},\"uplink\":{},\"cluster\":{\"nodes\":[{\"node\":1}]}}",
		    facts_head);
		refused(PROTO_FACTS, t, "facts.cluster.nodes[0].node: a string expected, got 1");
	}
	{
		_cleanup_free_ char *t = xasprintf(
		    "%s\"docker\":{\"bridge\":{\"used\":[\"10.0.0.0/24\",null]}},\"uplink\":{}}",
		    facts_head);
		refused(PROTO_FACTS, t, "facts.docker.bridge.used[1]: a string expected, got null");
	}
	refused(PROTO_PROBE, "{}", "probe: a list expected");
	refused(PROTO_PROBE, "[{\"ip\":\"10.0.0.1\"}]", "probe[0].in_use: missing");
	refused(PROTO_REPORT, "{\"ok\":true,\"created\":null}", "apply report.created: missing");
	refused(PROTO_REPORT, "{\"ok\":true,\"created\":[{\"kind\":\"container\"}]}",
	        "apply report.created[0].id: missing");
	refused(PROTO_REPORT, "{\"ok\":true,\"created\":[],\"started\":-1}",
	        "apply report.started: an integer from 0 to 1048576 expected, got -1");
	refused(PROTO_DOWN, "{\"containers\":1.5,\"networks\":0,\"volumes\":0,\"links\":0}",
	        "down.containers: an integer expected, got 1.5");
	refused(PROTO_CHECK, "{\"nodes\":[{\"node\":\"m\",\"conf\":[]}]}",
	        "check.nodes[0].conf: a string expected, got []");
}

int main(void)
{
	TAP_RUN(test_facts_of_this_host_fit, test_answers_that_fit, test_answers_that_do_not_fit);
}

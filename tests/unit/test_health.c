/* SPDX-License-Identifier: MIT */
/* The pure parts of status's per-node checks: conf comparison, unmunge reasons, parsing, verdicts. */
#include "../../launcher/host/health.h"
#include "tap.h"
#include "../../launcher/util/json.h"

static const char conf[] = "ClusterName=demo\nSlurmctldHost=master(10.0.0.2)\nNodeName=worker-1 "
                           "CPUs=2\n";

static void test_conf_same(void)
{
	char where[256];

	CHECK(health_conf_same(conf, conf, "the plan", where, sizeof(where)));
	CHECK_STR(where, "");
	/* a line appended by hand */
	{
		_cleanup_free_ char *edited = xasprintf("%s# by hand\n", conf);
		CHECK(!health_conf_same(edited, conf, "the plan", where, sizeof(where)));
		CHECK_STR(where, "line 4: \"# by hand\", the plan: end of file");
	}
	/* a value changed in the middle */
	CHECK(!health_conf_same("ClusterName=demo\nSlurmctldHost=other\nNodeName=worker-1 CPUs=2\n",
	                        conf, "the plan", where, sizeof(where)));
	CHECK_STR(where, "line 2: \"SlurmctldHost=other\", the plan: "
	                 "\"SlurmctldHost=master(10.0.0.2)\"");
	/* a line removed at the end */
	CHECK(!health_conf_same("ClusterName=demo\nSlurmctldHost=master(10.0.0.2)\n", conf,
	                        "the master's", where, sizeof(where)));
	CHECK_STR(where, "line 3: end of file, the master's: \"NodeName=worker-1 CPUs=2\"");
	/* only the final newline */
	CHECK(!health_conf_same("a\nb", "a\nb\n", "the plan", where, sizeof(where)));
	CHECK_STR(where, "line 2: only the final newline differs");
	/* empty file */
	CHECK(!health_conf_same("", conf, "the plan", where, sizeof(where)));
	CHECK_STR(where, "line 1: end of file, the plan: \"ClusterName=demo\"");
	/* long lines are cut */
	{
		char longline[200];
		memset(longline, 'x', sizeof(longline) - 1);
		longline[sizeof(longline) - 1] = '\0';
		CHECK(!health_conf_same(longline, "y", "the plan", where, sizeof(where)));
		CHECK_CONTAINS(where, "xxx...\"");
		CHECK(strlen(where) < 120);
	}
}

static void test_munge_reason(void)
{
	_cleanup_free_ char *invalid =
	    health_munge_reason(14, "unmunge: Error: Invalid credential\n");
	_cleanup_free_ char *expired =
	    health_munge_reason(15, "unmunge: Error: Expired credential");
	_cleanup_free_ char *sock = health_munge_reason(
	    6, "unmunge: Error: Failed to access \"/run/munge/munge.socket.2\": No such file\n");
	_cleanup_free_ char *other = health_munge_reason(127, "sh: 1: unmunge: not found\n\n");
	_cleanup_free_ char *none = health_munge_reason(1, NULL);

	CHECK_STR(invalid, "credential rejected; the node's key differs from the master's");
	CHECK_STR(expired, "credential expired; the node's clock differs from the master's");
	CHECK_CONTAINS(sock, "munged does not answer on the node");
	CHECK_CONTAINS(sock, "munge.socket.2");
	CHECK_STR(other, "unmunge failed with status 127: sh: 1: unmunge: not found");
	CHECK_STR(none, "unmunge failed with status 1");
}

static void test_output_parse(void)
{
	struct health_node ok = {.node = xstrdup("worker-1")}, bad = {.node = xstrdup("worker-2")};
	struct health_node none = {0}, nocred = {0}, gone = {0};
	_cleanup_free_ char *out_ok = xasprintf("0\n\nworker-1\n%s", conf);

	health_output_parse(out_ok, 0, "", &ok);
	CHECK_INT(ok.munge, HEALTH_OK);
	CHECK_STR(ok.hostname, "worker-1");
	CHECK_STR(ok.conf, conf);
	CHECK(!ok.conf_error && !ok.munge_error);

	health_output_parse("14\nunmunge: Error: Invalid credential\nworker-2\n", 1,
	                    "cat: /etc/slurm/slurm.conf: No such file or directory\n", &bad);
	CHECK_INT(bad.munge, HEALTH_FAILED);
	CHECK_STR(bad.munge_error, "credential rejected; the node's key differs from the master's");
	CHECK_STR(bad.hostname, "worker-2");
	CHECK(!bad.conf);
	CHECK_STR(bad.conf_error, "cat: /etc/slurm/slurm.conf: No such file or directory");

	/* no credential was given: munge stays unknown */
	health_output_parse("-\n\nmaster\nX=1\n", 0, NULL, &nocred);
	CHECK_INT(nocred.munge, HEALTH_UNKNOWN);
	CHECK_STR(nocred.conf, "X=1\n");

	/* the shell never ran */
	health_output_parse(NULL, 126, "OCI runtime exec failed", &none);
	CHECK(!none.conf && !none.hostname);
	CHECK_CONTAINS(none.conf_error, "OCI runtime exec failed");
	health_output_parse("0\n", 1, "", &gone);
	CHECK_CONTAINS(gone.conf_error, "did not run");
	CHECK_INT(gone.munge, HEALTH_UNKNOWN);

	health_node_release(&ok);
	health_node_release(&bad);
	health_node_release(&none);
	health_node_release(&nocred);
	health_node_release(&gone);
	health_node_release(NULL);
}

static void test_judge(void)
{
	struct health_node good = {
	    .node = "worker-1", .hostname = "worker-1", .conf = (char *)conf, .munge = HEALTH_OK};
	struct health_node drift = {.node = "worker-2",
	                            .hostname = "wrong",
	                            .conf_path = HEALTH_CONF_WORKER,
	                            .conf = "ClusterName=demo\n",
	                            .munge = HEALTH_FAILED,
	                            .munge_error = "credential rejected"};
	struct health_node unread = {.node = "worker-3", .conf_error = "No such container"};
	struct health_node idle = {.node = "worker-4"};
	struct health_verdict v;
	char sum[64];

	health_judge(&good, conf, "the plan", &v);
	CHECK(health_verdict_ok(&v));
	CHECK(!v.problems.len);
	health_summary(&v, sum, sizeof(sum));
	CHECK_STR(sum, "ok");
	health_verdict_release(&v);

	health_judge(&drift, conf, "the master's", &v);
	CHECK(!health_verdict_ok(&v));
	CHECK_INT(v.conf, HEALTH_FAILED);
	CHECK_INT(v.munge, HEALTH_FAILED);
	CHECK_INT(v.hostname, HEALTH_FAILED);
	health_summary(&v, sum, sizeof(sum));
	CHECK_STR(sum, "drift,munge,hostname");
	CHECK_CONTAINS(v.problems.data,
	               "drift: /run/slurm/conf/slurm.conf differs from the master's (line 2");
	CHECK_CONTAINS(v.problems.data, "munge: credential rejected\n");
	CHECK_CONTAINS(v.problems.data, "hostname: the container calls itself 'wrong', its "
	                                "NodeName is 'worker-2'");
	{
		struct json_object *o = json_object_new_object(), *p;
		health_verdict_json_add(&v, o);
		CHECK_STR(util_json_str(o, "conf"), "drift");
		CHECK_STR(util_json_str(o, "munge"), "failed");
		CHECK_STR(util_json_str(o, "hostname_check"), "mismatch");
		CHECK(json_object_object_get_ex(o, "problems", &p));
		CHECK_INT(json_object_array_length(p), 3);
		json_object_put(o);
	}
	health_verdict_release(&v);

	/* no plan to compare with: the conf is unknown, not drift */
	health_judge(&good, NULL, "the plan", &v);
	CHECK_INT(v.conf, HEALTH_UNKNOWN);
	CHECK(health_verdict_ok(&v));
	health_verdict_release(&v);

	health_judge(&unread, conf, "the plan", &v);
	CHECK_INT(v.conf, HEALTH_FAILED);
	CHECK_CONTAINS(v.problems.data, "cannot be read (No such container)");
	health_verdict_release(&v);

	/* a node that was not checked (not running) */
	health_judge(&idle, conf, "the plan", &v);
	CHECK(health_verdict_ok(&v));
	health_summary(&v, sum, sizeof(sum));
	CHECK_STR(sum, "-");
	health_verdict_release(&v);
}

static void test_json_round_trip(void)
{
	struct health_node a = {.node = "worker-1",
	                        .container = "demo-worker-1",
	                        .hostname = "worker-1",
	                        .conf_path = HEALTH_CONF_WORKER,
	                        .conf = (char *)conf,
	                        .munge = HEALTH_FAILED,
	                        .munge_error = "credential rejected"};
	struct health_node b;
	struct json_object *o = health_node_to_json(&a);
	struct json_object *parsed = json_tokener_parse(json_object_to_json_string(o));

	health_node_from_json(parsed, &b);
	CHECK_STR(b.node, "worker-1");
	CHECK_STR(b.container, "demo-worker-1");
	CHECK_STR(b.hostname, "worker-1");
	CHECK_STR(b.conf_path, "/run/slurm/conf/slurm.conf");
	CHECK_STR(b.conf, conf);
	CHECK(!b.conf_error);
	CHECK_INT(b.munge, HEALTH_FAILED);
	CHECK_STR(b.munge_error, "credential rejected");
	health_node_release(&b);
	json_object_put(o);
	json_object_put(parsed);

	/* a node the agent did not check: only its name and state */
	parsed = json_tokener_parse("{\"node\":\"worker-2\",\"state\":\"exited\"}");
	health_node_from_json(parsed, &b);
	CHECK_STR(b.node, "worker-2");
	CHECK(!b.conf && !b.hostname);
	CHECK_INT(b.munge, HEALTH_UNKNOWN);
	health_node_release(&b);
	json_object_put(parsed);
}

int main(void)
{
	TAP_RUN(test_conf_same, test_munge_reason, test_output_parse, test_judge,
	        test_json_round_trip);
}

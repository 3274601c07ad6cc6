/* SPDX-License-Identifier: MIT */
/* API version negotiation and DOCKER_HOST parsing (pure). */
#include "../../launcher/docker/docker.h"
#include "tap.h"

static void test_negotiate_versions(void)
{
	struct sb_err err = SB_ERR_INIT;
	char v[16];

	CHECK_INT(docker_api_negotiate("1.41", NULL, v, &err), 0);
	CHECK_STR(v, "1.41");
	CHECK_INT(docker_api_negotiate("1.41", "1.12", v, &err), 0);
	CHECK_STR(v, "1.41");
	CHECK_INT(docker_api_negotiate("1.47", "1.24", v, &err), 0);
	CHECK_STR(v, DOCKER_API_MAX);
	CHECK_INT(docker_api_negotiate(DOCKER_API_MIN, NULL, v, &err), 0);
	CHECK_STR(v, DOCKER_API_MIN);
}

static void test_negotiate_refusals(void)
{
	struct sb_err err = SB_ERR_INIT;
	char v[16] = "unchanged";

	/* The daemon's minimum is above the newest we speak. */
	CHECK(docker_api_negotiate("1.52", "1.46", v, &err) < 0);
	CHECK_CONTAINS(err.msg, "1.46");
	CHECK_STR(v, "unchanged");

	err = (struct sb_err)SB_ERR_INIT;
	CHECK(docker_api_negotiate("1.39", NULL, v, &err) < 0);
	CHECK_CONTAINS(err.msg, "1.39");
	CHECK_CONTAINS(err.msg, "upgrade Docker");

	/* No Api-Version header means 1.24, below our minimum. */
	err = (struct sb_err)SB_ERR_INIT;
	CHECK(docker_api_negotiate(NULL, NULL, v, &err) < 0);
	CHECK_CONTAINS(err.msg, "1.24");

	err = (struct sb_err)SB_ERR_INIT;
	CHECK(docker_api_negotiate("banana", NULL, v, &err) < 0);
	CHECK_CONTAINS(err.msg, "banana");
	CHECK_STR(v, "unchanged");
}

static void test_compare(void)
{
	CHECK(docker_api_compare("1.9", "1.10") < 0);
	CHECK(docker_api_compare("1.10", "1.9") > 0);
	CHECK(docker_api_compare("1.41", "1.41") == 0);
	CHECK(docker_api_compare("1.41", "1.44") < 0);
	CHECK(docker_api_compare("2.0", "1.99") > 0);
	CHECK(docker_api_compare("1.4", "1.40") < 0);
}

static void test_host_parse(void)
{
	struct sb_err err = SB_ERR_INIT;
	char path[128];

	CHECK_INT(docker_host_parse(NULL, path, sizeof(path), &err), 0);
	CHECK_STR(path, "/var/run/docker.sock");
	CHECK_INT(docker_host_parse("unix:///run/user/1000/docker.sock", path, sizeof(path), &err),
	          0);
	CHECK_STR(path, "/run/user/1000/docker.sock");

	CHECK_INT(docker_host_parse("tcp://10.0.0.1:2375", path, sizeof(path), &err), -SB_EINPUT);
	CHECK_CONTAINS(err.msg, "not supported yet");
	CHECK_CONTAINS(err.msg, "unix://");
	CHECK_CONTAINS(err.msg, "--hosts");
	err = (struct sb_err)SB_ERR_INIT;
	CHECK_INT(docker_host_parse("ssh://me@node1", path, sizeof(path), &err), -SB_EINPUT);
	CHECK_CONTAINS(err.msg, "not supported yet");
	err = (struct sb_err)SB_ERR_INIT;
	CHECK(docker_host_parse("npipe:////./pipe/docker", path, sizeof(path), &err) < 0);
	err = (struct sb_err)SB_ERR_INIT;
	CHECK(docker_host_parse("unix://relative.sock", path, sizeof(path), &err) < 0);
	CHECK_CONTAINS(err.msg, "absolute");
}

static void test_open_missing_socket(void)
{
	struct sb_err err = SB_ERR_INIT;
	struct docker *d = (struct docker *)1;

	CHECK(docker_open("unix:///nonexistent/slurmbox-test.sock", &d, &err) < 0);
	CHECK(d == NULL);
	CHECK_CONTAINS(err.msg,
	               "Cannot reach the Docker daemon at /nonexistent/slurmbox-test.sock");
	CHECK_CONTAINS(err.msg, "no such file");
	CHECK_CONTAINS(err.msg, "systemctl start docker");
	CHECK_CONTAINS(err.msg, "DOCKER_HOST=unix://");
	docker_free(NULL);
}

int main(void)
{
	TAP_RUN(test_negotiate_versions, test_negotiate_refusals, test_compare, test_host_parse,
	        test_open_missing_socket);
}

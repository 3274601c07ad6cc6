/* SPDX-License-Identifier: MIT */
/* URL-encoded label filters and path escaping (pure). */
#include "../../launcher/docker/docker.h"
#include "tap.h"

static void test_filters_label(void)
{
	const char *one[] = {"io.slurmbox.cluster=demo"};
	const char *two[] = {"io.slurmbox.cluster=demo", "io.slurmbox.role=worker"};
	_cleanup_free_ char *a = docker_filters_label(one, 1);
	_cleanup_free_ char *b = docker_filters_label(two, 2);

	/* {"label":["io.slurmbox.cluster=demo"]} */
	CHECK_STR(a, "%7B%22label%22%3A%5B%22io.slurmbox.cluster%3Ddemo%22%5D%7D");
	/* {"label":["io.slurmbox.cluster=demo","io.slurmbox.role=worker"]} */
	CHECK_STR(b, "%7B%22label%22%3A%5B%22io.slurmbox.cluster%3Ddemo%22%2C%22io.slurmbox.role%"
	             "3Dworker%22%5D%7D");
}

static void test_filters_special(void)
{
	/* No "\/" from json-c (NOSLASHESCAPE), spaces and quotes encoded, key-only label. */
	const char *l[] = {"com.example/path=a b", "q=\"x\"", "io.slurmbox.cluster"};
	_cleanup_free_ char *f = docker_filters_label(l, 3);
	_cleanup_free_ char *none = docker_filters_label(NULL, 0);

	CHECK_STR(f, "%7B%22label%22%3A%5B%22com.example%2Fpath%3Da%20b%22%2C%22q%3D%5C%22x%5C%22%"
	             "22%2C%22io.slurmbox.cluster%22%5D%7D");
	CHECK_STR(none, "%7B%22label%22%3A%5B%5D%7D");
}

static void test_escape(void)
{
	_cleanup_free_ char *ref =
	    docker_escape("registry.local:5000/library/debian:bookworm", true);
	_cleanup_free_ char *all =
	    docker_escape("registry.local:5000/library/debian:bookworm", false);
	_cleanup_free_ char *name = docker_escape("demo-worker-1", false);
	_cleanup_free_ char *chg = docker_escape("CMD [\"/init\"]", false);

	CHECK_STR(ref, "registry.local%3A5000/library/debian%3Abookworm");
	CHECK_STR(all, "registry.local%3A5000%2Flibrary%2Fdebian%3Abookworm");
	CHECK_STR(name, "demo-worker-1");
	CHECK_STR(chg, "CMD%20%5B%22%2Finit%22%5D");
}

int main(void)
{
	TAP_RUN(test_filters_label, test_filters_special, test_escape);
}

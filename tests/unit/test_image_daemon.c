/* SPDX-License-Identifier: MIT */
/*
 * image_ensure and the offline rootfs against the real daemon on
 * $DOCKER_HOST or /var/run/docker.sock; skipped when none answers. Builds
 * the images when they are missing (debootstrap, ~45 s, needs root and the
 * Debian mirror); afterwards image_ensure must be a no-op. Nothing is pulled.
 * SLURMBOX_TEST_ROOTFS=1 adds the full debootstrap run (test_rootfs_full).
 */
#include "../../launcher/docker/docker_api.h"
#include "../../launcher/host/image.h"
#include "tap.h"

#include <glob.h>
#include <time.h>

static struct docker *d;

/* A TAP skip ("ok N - name # SKIP reason") and return; tests/run-all counts
 * every skip as a failure (SLURMBOX_TEST_STRICT, tests/lib/tap-summary). */
#define SKIP(...)                      \
	do {                           \
		TAP_SKIP(__VA_ARGS__); \
		return;                \
	} while (0)

static void count_line(const char *line, void *arg)
{
	(void)line;
	(*(int *)arg)++;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool exists(const char *ref)
{
	struct sb_err err = SB_ERR_INIT;
	bool have = false;

	return docker_image_exists(d, ref, &have, &err) == 0 && have;
}

static size_t tmp_rootfs_dirs(void)
{
	glob_t g;
	size_t n;

	if (glob("/var/tmp/slurmbox-rootfs.*", 0, NULL, &g) != 0)
		return 0;
	n = g.gl_pathc;
	globfree(&g);
	return n;
}

static void test_ensure_builds_then_noop(void)
{
	struct sb_err err = SB_ERR_INIT;
	struct image_set set, set2;
	bool present = false;
	int lines = 0, ret;
	double t;

	if (!d)
		SKIP("no docker daemon");
	image_set_tags(NULL, NULL, &set);
	if (!exists(set.master) || !exists(set.worker) || !exists(set.base)) {
		if (geteuid() != 0 && !exists(image_debian_ref()))
			SKIP("images missing and building them offline needs root");
		printf("# building %s, %s, %s\n", set.base, set.master, set.worker);
		fflush(stdout);
	}
	ret = image_ensure(d, NULL, NULL, count_line, &lines, &set2, &err);
	CHECK_INT(ret, 0);
	if (ret < 0)
		printf("# %s\n", err.msg);
	CHECK_STR(set2.base, set.base);
	CHECK_STR(set2.master, set.master);
	CHECK_STR(set2.worker, set.worker);
	CHECK_INT(image_present(d, &set2, &present, &err), 0);
	CHECK(present);

	lines = 0;
	t = now();
	CHECK_INT(image_ensure(d, NULL, NULL, count_line, &lines, &set2, &err), 0);
	t = now() - t;
	CHECK_INT(lines, 0); /* nothing built, nothing said */
	/* A no-op is a few inspects (milliseconds); 10 s leaves room for a
	 * loaded daemon under ASan and still rules out a silent rebuild by
	 * debootstrap (~40 s). */
	CHECK(t < 10.0);
	printf("# image_ensure with all three present: %.0f ms\n", t * 1000);
}

static void check_config(const char *ref, const char *role)
{
	struct sb_err err = SB_ERR_INIT;
	_cleanup_free_ char *path = xasprintf("/images/%s/json", ref);
	_cleanup_free_ char *env = xasprintf("SLURMBOX_ROLE=%s", role);
	struct json_object *img = NULL, *cfg, *v;
	const char *s;

	if (docker_call(d, "GET", path, NULL, &img, &err) < 0 || !img) {
		TAP_FAIL("inspect %s: %s", ref, err.msg);
		return;
	}
	CHECK(json_object_object_get_ex(img, "Config", &cfg));
	CHECK(json_object_object_get_ex(cfg, "Entrypoint", &v));
	s = json_object_to_json_string_ext(v,
	                                   JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	CHECK_STR(s, "[\"/usr/local/sbin/slurmbox-entrypoint\"]");
	CHECK(json_object_object_get_ex(cfg, "Env", &v));
	s = json_object_to_json_string_ext(v,
	                                   JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (strcmp(role, "base") != 0)
		CHECK_CONTAINS(s, env);
	CHECK(json_object_object_get_ex(cfg, "Labels", &v));
	s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
	_cleanup_free_ char *label = xasprintf("\"io.slurmbox.image\":\"%s\"", role);
	CHECK_CONTAINS(s, label);
	json_object_put(img);
}

static void test_image_config(void)
{
	struct image_set set;

	if (!d)
		SKIP("no docker daemon");
	image_set_tags(NULL, NULL, &set);
	if (!exists(set.master) || !exists(set.worker))
		SKIP("images not built");
	check_config(set.base, "base");
	check_config(set.master, "master");
	check_config(set.worker, "worker");
}

static void test_present_missing(void)
{
	struct sb_err err = SB_ERR_INIT;
	struct image_set set;
	bool present = true;

	if (!d)
		SKIP("no docker daemon");
	image_set_tags("sbtest-no-such-base:1", NULL, &set);
	CHECK_INT(image_present(d, &set, &present, &err), 0);
	CHECK(!present);
}

static void test_rootfs_bad_url(void)
{
	struct sb_err err = SB_ERR_INIT;
	size_t before = tmp_rootfs_dirs();

	if (!d)
		SKIP("no docker daemon");
	setenv("SLURMBOX_DEBIAN_MIRROR", "-oops", 1);
	CHECK_INT(image_rootfs_build(d, "sbtest-rootfs:bad", NULL, NULL, NULL, &err), -SB_EINPUT);
	CHECK_CONTAINS(err.msg, "SLURMBOX_DEBIAN_MIRROR");
	unsetenv("SLURMBOX_DEBIAN_MIRROR");
	CHECK_INT(tmp_rootfs_dirs(), before);
	CHECK(!exists("sbtest-rootfs:bad"));
}

static void test_rootfs_unreachable_mirror_cleans_up(void)
{
	struct sb_err err = SB_ERR_INIT;
	size_t before = tmp_rootfs_dirs();
	int lines = 0;

	if (!d)
		SKIP("no docker daemon");
	if (geteuid() != 0)
		SKIP("debootstrap needs root");
	if (system("command -v debootstrap >/dev/null 2>&1 || test -x /usr/sbin/debootstrap") != 0)
		SKIP("no debootstrap");
	/* port 9 (discard) on loopback: refused at once */
	setenv("SLURMBOX_DEBIAN_MIRROR", "http://127.0.0.1:9/debian", 1);
	CHECK(image_rootfs_build(d, "sbtest-rootfs:unreachable", NULL, count_line, &lines, &err) <
	      0);
	unsetenv("SLURMBOX_DEBIAN_MIRROR");
	printf("# %s\n", err.msg);
	CHECK_CONTAINS(err.msg, "Bootstrapping Debian trixie");
	CHECK_CONTAINS(err.msg, "SLURMBOX_DEBIAN_MIRROR");
	CHECK_CONTAINS(err.msg, "debootstrap failed");
	CHECK(lines > 0);
	CHECK_INT(tmp_rootfs_dirs(), before);
	CHECK(!exists("sbtest-rootfs:unreachable"));
}

/* The whole offline path (~40 s, network): in the plan only with SLURMBOX_TEST_ROOTFS=1. */
static void test_rootfs_full(void)
{
	struct sb_err err = SB_ERR_INIT;
	size_t before = tmp_rootfs_dirs();
	char ref[64];
	int lines = 0, ret;

	if (!d)
		SKIP("no docker daemon");
	if (geteuid() != 0)
		SKIP("debootstrap needs root");
	snprintf(ref, sizeof(ref), "sbtest-rootfs:%d", (int)getpid());
	ret = image_rootfs_build(d, ref, NULL, count_line, &lines, &err);
	CHECK_INT(ret, 0);
	if (ret < 0)
		printf("# %s\n", err.msg);
	CHECK(lines > 10);
	CHECK(exists(ref));
	CHECK_INT(tmp_rootfs_dirs(), before);
	err = (struct sb_err)SB_ERR_INIT;
	CHECK_INT(docker_image_remove(d, ref, &err), 0);
}

int main(void)
{
	struct sb_err err = SB_ERR_INIT;
	int rc;

	if (docker_open(NULL, &d, &err) < 0)
		d = NULL;
	{
		const tap_test_fn fns[] = {test_ensure_builds_then_noop,
		                           test_image_config,
		                           test_present_missing,
		                           test_rootfs_bad_url,
		                           test_rootfs_unreachable_mirror_cleans_up,
		                           test_rootfs_full};
		const char *names[] = {"test_ensure_builds_then_noop",
		                       "test_image_config",
		                       "test_present_missing",
		                       "test_rootfs_bad_url",
		                       "test_rootfs_unreachable_mirror_cleans_up",
		                       "test_rootfs_full"};
		const char *opt = getenv("SLURMBOX_TEST_ROOTFS");
		/* the opt-in full run (last) is left out of the plan, not skipped */
		int n = (int)ARRAY_SIZE(fns) - (opt && strcmp(opt, "1") == 0 ? 0 : 1);

		rc = tap_run(names, fns, n);
	}
	docker_free(d);
	return rc;
}

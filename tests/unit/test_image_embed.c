/* SPDX-License-Identifier: MIT */
/*
 * images/embed.sh: reproducible output, the right files and modes, hashes
 * that follow the files that define each image, output that compiles, and
 * the hashes linked into this binary match the recipes in images/ (a stale
 * build fails here). Run from the repository root (tests/run-unit does).
 */
#include "../../launcher/host/image.h"
#include "tap.h"

#include <sys/stat.h>

static char embed[4096]; /* absolute path of images/embed.sh; main bails out without it */
static char tmp[64];

/* Run a shell command, stdout into *out; returns its exit status. */
static int run(const char *cmd, struct sb_buf *out)
{
	char buf[4096];
	size_t n;
	FILE *p = popen(cmd, "r");
	int st;

	if (!p)
		return -1;
	sb_buf_reset(out);
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		sb_buf_add(out, buf, n);
	sb_buf_add(out, "", 0);
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void put(const char *rel, const char *text, mode_t mode)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", tmp, rel);
	_cleanup_free_ char *dir = xstrdup(path);
	FILE *f;

	*strrchr(dir, '/') = '\0';
	mkdir(dir, 0755);
	f = fopen(path, "w");
	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

/* The value of `const char NAME[] = "...";` in embed.sh output. */
static void hash_of(const char *out, const char *name, char h[13])
{
	_cleanup_free_ char *key = xasprintf("const char %s[] = \"", name);
	const char *p = strstr(out, key);

	snprintf(h, 13, "%s", p ? p + strlen(key) : "");
}

static int embed_tmp(struct sb_buf *out)
{
	_cleanup_free_ char *cmd = xasprintf("sh '%s' '%s'", embed, tmp);
	return run(cmd, out);
}

static void test_reproducible(void)
{
	struct sb_buf a = SB_BUF_INIT, b = SB_BUF_INIT;
	_cleanup_free_ char *from_root = NULL;

	CHECK_INT(run("sh images/embed.sh images", &a), 0);
	CHECK_INT(run("sh images/embed.sh images", &b), 0);
	CHECK(a.len > 1000 && strcmp(a.data, b.data) == 0);
	from_root = xasprintf("cd / && sh '%s' '%.*s'", embed, (int)(strlen(embed) - 9), embed);
	CHECK_INT(run(from_root, &b), 0); /* another working directory, absolute DIR */
	CHECK(strcmp(a.data, b.data) == 0);
	sb_buf_free(&a);
	sb_buf_free(&b);
}

static void test_linked_hashes_current(void)
{
	struct sb_buf out = SB_BUF_INIT;
	char h[13];

	CHECK_INT(run("sh images/embed.sh images", &out), 0);
	hash_of(out.data, "image_hash_rootfs", h);
	CHECK_STR(h, image_hash_rootfs);
	hash_of(out.data, "image_hash_base", h);
	CHECK_STR(h, image_hash_base);
	hash_of(out.data, "image_hash_master", h);
	CHECK_STR(h, image_hash_master);
	hash_of(out.data, "image_hash_worker", h);
	CHECK_STR(h, image_hash_worker);
	sb_buf_free(&out);
}

static void test_files_and_modes(void)
{
	struct sb_buf out = SB_BUF_INIT;

	CHECK_INT(embed_tmp(&out), 0);
	CHECK_CONTAINS(out.data, "{\"base/entrypoint.sh\", image_file_1, 12, 0755},");
	CHECK_CONTAINS(out.data, "{\"base/empty\", image_file_0, 0, 0644},");
	CHECK_CONTAINS(out.data, "{\"base/release\", image_file_3, 19, 0644},");
	CHECK_CONTAINS(out.data, "{\"master/Dockerfile\", image_file_4, 12, 0644},");
	CHECK_CONTAINS(out.data, "{\"worker/Dockerfile\", image_file_5, 12, 0644},");
	CHECK_CONTAINS(out.data, "{\"base/packages\", image_file_2, 7, 0644},");
	/* "#!/bin/sh\nx\n" as bytes */
	CHECK_CONTAINS(out.data,
	               "0x23,0x21,0x2f,0x62,0x69,0x6e,0x2f,0x73,0x68,0x0a,0x78,0x0a,\n0x00};");
	CHECK(!strstr(out.data, "NOTES"));
	CHECK(!strstr(out.data, "\"embed.sh\""));
	CHECK(!strstr(out.data, "image_file_6"));
	sb_buf_free(&out);
}

static void test_hashes_follow_files(void)
{
	struct sb_buf out = SB_BUF_INIT;
	char r0[13], b0[13], m0[13], w0[13], r[13], b[13], m[13], w[13];

	CHECK_INT(embed_tmp(&out), 0);
	hash_of(out.data, "image_hash_rootfs", r0);
	hash_of(out.data, "image_hash_base", b0);
	hash_of(out.data, "image_hash_master", m0);
	hash_of(out.data, "image_hash_worker", w0);
	/* four real hashes, or every "same" below would compare two empty strings */
	CHECK_INT(strlen(r0), 12);
	CHECK_INT(strlen(b0), 12);
	CHECK_INT(strlen(m0), 12);
	CHECK_INT(strlen(w0), 12);

	/* a new mtime and a README change nothing */
	put("README.md", "changed\n", 0644);
	put("master/Dockerfile", "FROM base\nX\n", 0644);
	CHECK_INT(embed_tmp(&out), 0);
	hash_of(out.data, "image_hash_master", m);
	CHECK_STR(m, m0);

	/* a master file: only master */
	put("master/Dockerfile", "FROM base\nY\n", 0644);
	CHECK_INT(embed_tmp(&out), 0);
	hash_of(out.data, "image_hash_rootfs", r);
	hash_of(out.data, "image_hash_base", b);
	hash_of(out.data, "image_hash_master", m);
	hash_of(out.data, "image_hash_worker", w);
	CHECK_STR(r, r0);
	CHECK_STR(b, b0);
	CHECK(strcmp(m, m0) != 0);
	CHECK_STR(w, w0);
	put("master/Dockerfile", "FROM base\nX\n", 0644);

	/* a mode change in base: base, master, worker; not the rootfs */
	put("base/entrypoint.sh", "#!/bin/sh\nx\n", 0644);
	CHECK_INT(embed_tmp(&out), 0);
	hash_of(out.data, "image_hash_rootfs", r);
	hash_of(out.data, "image_hash_base", b);
	hash_of(out.data, "image_hash_master", m);
	hash_of(out.data, "image_hash_worker", w);
	CHECK_STR(r, r0);
	CHECK(strcmp(b, b0) != 0 && strcmp(m, m0) != 0 && strcmp(w, w0) != 0);
	put("base/entrypoint.sh", "#!/bin/sh\nx\n", 0755);

	/* the package list: everything */
	put("base/packages", "slurmd\nmunge\n", 0644);
	CHECK_INT(embed_tmp(&out), 0);
	hash_of(out.data, "image_hash_rootfs", r);
	hash_of(out.data, "image_hash_base", b);
	CHECK(strcmp(r, r0) != 0 && strcmp(b, b0) != 0);
	put("base/packages", "slurmd\n", 0644);

	/* the release: everything too (another Debian underneath) */
	put("base/release", "bookworm\n", 0644);
	CHECK_INT(embed_tmp(&out), 0);
	hash_of(out.data, "image_hash_rootfs", r);
	hash_of(out.data, "image_hash_base", b);
	CHECK(strcmp(r, r0) != 0 && strcmp(b, b0) != 0);
	put("base/release", "# a comment\ntrixie\n", 0644);

	/* back to the start: the same hashes again */
	CHECK_INT(embed_tmp(&out), 0);
	hash_of(out.data, "image_hash_base", b);
	hash_of(out.data, "image_hash_rootfs", r);
	CHECK_STR(b, b0);
	CHECK_STR(r, r0);
	sb_buf_free(&out);
}

static void test_output_compiles(void)
{
	struct sb_buf out = SB_BUF_INIT;
	_cleanup_free_ char *cmd = NULL;

	if (system("command -v cc >/dev/null 2>&1") != 0) {
		TAP_SKIP("no C compiler (cc)");
		return;
	}
	cmd = xasprintf("sh '%s' '%s' | cc -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror "
	                "-Ilauncher/host -x c -c -o "
	                "/dev/null - 2>&1",
	                embed, tmp);
	CHECK_INT(run(cmd, &out), 0);
	CHECK_STR(out.data, "");
	sb_buf_free(&out);
}

static void test_bad_names_and_usage(void)
{
	struct sb_buf out = SB_BUF_INIT;
	_cleanup_free_ char *cmd = xasprintf("sh '%s' 2>/dev/null", embed);
	_cleanup_free_ char *bad = NULL;

	CHECK_INT(run(cmd, &out), 2);
	put("base/with space", "x", 0644);
	bad = xasprintf("sh '%s' '%s' 2>&1 >/dev/null", embed, tmp);
	CHECK(run(bad, &out) != 0);
	CHECK_CONTAINS(out.data, "unsupported character");
	sb_buf_free(&out);
}

int main(void)
{
	if (realpath("images/embed.sh", embed) == NULL) {
		/* every test needs it: not a skip, a test run from the wrong place */
		printf("Bail out! images/embed.sh not found: run from the repository root\n");
		return 1;
	}
	snprintf(tmp, sizeof(tmp), "/tmp/sbtest-embed.XXXXXX");
	if (!mkdtemp(tmp))
		abort();
	put("base/empty", "", 0644);
	put("base/entrypoint.sh", "#!/bin/sh\nx\n", 0755);
	put("base/packages", "slurmd\n", 0644);
	put("base/release", "# a comment\ntrixie\n", 0644);
	put("master/Dockerfile", "FROM base\nX\n", 0644);
	put("worker/Dockerfile", "FROM base\nW\n", 0644);
	put("README.md", "not embedded\n", 0644);
	put("embed.sh", "not embedded\n", 0755);
	int rc = 0;
	{
		const tap_test_fn fns[] = {test_reproducible,    test_linked_hashes_current,
		                           test_files_and_modes, test_hashes_follow_files,
		                           test_output_compiles, test_bad_names_and_usage};
		const char *names[] = {"test_reproducible",    "test_linked_hashes_current",
		                       "test_files_and_modes", "test_hashes_follow_files",
		                       "test_output_compiles", "test_bad_names_and_usage"};
		rc = tap_run(names, fns, (int)ARRAY_SIZE(fns));
	}
	_cleanup_free_ char *rm = xasprintf("rm -rf '%s'", tmp);
	if (system(rm) != 0)
		rc = 1;
	return rc;
}

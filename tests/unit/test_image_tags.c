/* SPDX-License-Identifier: MIT */
/*
 * Image tags come from the embedded recipe hashes, are stable, and valid
 * Docker references; the embedded file table is what embed.sh promises.
 */
#include "../../launcher/host/image.h"
#include "tap.h"

#include <ctype.h>

static bool is_hash(const char *h)
{
	if (strlen(h) != 12)
		return false;
	for (; *h; h++)
		if (!isxdigit((unsigned char)*h) || isupper((unsigned char)*h))
			return false;
	return true;
}

/* repo:tag with a tag of [A-Za-z0-9_.-], at most 128 characters. */
static bool is_ref(const char *ref, const char *repo)
{
	size_t n = strlen(repo);
	const char *t = ref + n + 1;

	if (strncmp(ref, repo, n) != 0 || ref[n] != ':' || !*t || strlen(t) > 128)
		return false;
	for (; *t; t++)
		if (!isalnum((unsigned char)*t) && !strchr("_.-", *t))
			return false;
	return true;
}

static void test_hashes_are_12_hex(void)
{
	CHECK(is_hash(image_hash_rootfs));
	CHECK(is_hash(image_hash_base));
	CHECK(is_hash(image_hash_master));
	CHECK(is_hash(image_hash_worker));
	CHECK(strcmp(image_hash_base, image_hash_master) != 0);
	CHECK(strcmp(image_hash_base, image_hash_worker) != 0);
	CHECK(strcmp(image_hash_master, image_hash_worker) != 0);
}

static void test_tags_from_hashes(void)
{
	struct image_set s;
	char want[128];

	image_set_tags(NULL, NULL, &s);
	snprintf(want, sizeof(want), "slurmbox-base:%s", image_hash_base);
	CHECK_STR(s.base, want);
	snprintf(want, sizeof(want), "slurmbox-master:%s", image_hash_master);
	CHECK_STR(s.master, want);
	snprintf(want, sizeof(want), "slurmbox-worker:%s", image_hash_worker);
	CHECK_STR(s.worker, want);
	CHECK(is_ref(s.base, "slurmbox-base"));
	CHECK(is_ref(s.master, "slurmbox-master"));
	CHECK(is_ref(s.worker, "slurmbox-worker"));
}

static void test_tags_stable(void)
{
	struct image_set a, b, c;

	image_set_tags(NULL, NULL, &a);
	image_set_tags(NULL, NULL, &b);
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	image_set_tags("", NULL, &c); /* an empty override is no override */
	CHECK_STR(c.base, a.base);
	CHECK_STR(c.master, a.master);
	CHECK_STR(c.worker, a.worker);
}

static void test_tags_with_override(void)
{
	struct image_set plain, a, b, other;
	char want[160];

	image_set_tags(NULL, NULL, &plain);
	image_set_tags("debian:bookworm-slim", NULL, &a);
	image_set_tags("debian:bookworm-slim", NULL, &b);
	image_set_tags("registry.example:5000/team/debian@sha256:0123", NULL, &other);
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	/* FNV-1a 32 of "debian:bookworm-slim", computed independently */
	snprintf(want, sizeof(want), "%s-71ecca46", plain.base);
	CHECK_STR(a.base, want);
	CHECK(strncmp(a.master, plain.master, strlen(plain.master)) == 0);
	CHECK(strcmp(a.master, plain.master) != 0);
	CHECK(strcmp(a.worker, other.worker) != 0);
	CHECK(is_ref(a.base, "slurmbox-base"));
	CHECK(is_ref(other.base, "slurmbox-base"));
	CHECK(is_ref(other.master, "slurmbox-master"));
	CHECK(is_ref(other.worker, "slurmbox-worker"));
	/* the same suffix on all three */
	CHECK_STR(a.base + strlen(a.base) - 9, a.master + strlen(a.master) - 9);
	CHECK_STR(a.base + strlen(a.base) - 9, a.worker + strlen(a.worker) - 9);
}

/* Another architecture: its own tags (suffix -ARCH), Docker's platform name; the engine's own needs none. */
static void test_arch(void)
{
	struct image_set plain, arm, both;
	struct sb_err err = SB_ERR_INIT;
	const char *out = "unset";
	char want[160];

	image_set_tags(NULL, NULL, &plain);
	image_set_tags(NULL, "arm64", &arm);
	snprintf(want, sizeof(want), "%s-arm64", plain.worker);
	CHECK_STR(arm.worker, want);
	snprintf(want, sizeof(want), "%s-arm64", plain.base);
	CHECK_STR(arm.base, want);
	CHECK(is_ref(arm.master, "slurmbox-master"));
	image_set_tags("debian:trixie-slim", "arm64", &both);
	CHECK(strncmp(both.base, arm.base, strlen(plain.base)) == 0);
	CHECK(strcmp(both.base + strlen(both.base) - 6, "-arm64") == 0);
	CHECK(strcmp(both.base, arm.base) != 0);

	CHECK_STR(image_arch_platform("arm64"), "linux/arm64");
	CHECK_STR(image_arch_platform("armhf"), "linux/arm/v7");
	CHECK_STR(image_arch_platform("amd64"), "linux/amd64");
	CHECK(image_arch_platform("aarch64") == NULL); /* Debian's names, not the kernel's */
	CHECK(image_arch_platform(NULL) == NULL);

	CHECK_INT(image_arch_resolve("arm64", "x86_64", &out, &err), 0);
	CHECK_STR(out, "arm64");
	CHECK_INT(image_arch_resolve("arm64", "aarch64", &out, &err), 0);
	CHECK(out == NULL); /* the engine's own: plain tags */
	CHECK_INT(image_arch_resolve("amd64", "x86_64", &out, &err), 0);
	CHECK(out == NULL);
	CHECK_INT(image_arch_resolve(NULL, "x86_64", &out, &err), 0);
	CHECK(out == NULL);
	CHECK_INT(image_arch_resolve("arm64", NULL, &out, &err), 0); /* only the name checked */
	CHECK_STR(out, "arm64");
	CHECK_INT(image_arch_resolve("aarch64", "x86_64", &out, &err), -SB_EINPUT);
	CHECK_CONTAINS(err.msg, "--arch 'aarch64'");
	CHECK_CONTAINS(err.msg, "arm64");
	/* an architecture this machine runs needs no emulator */
	err = (struct sb_err)SB_ERR_INIT;
#if defined(__x86_64__)
	CHECK_INT(image_arch_runnable("amd64", &err), 0);
#elif defined(__aarch64__)
	CHECK_INT(image_arch_runnable("arm64", &err), 0);
#endif
}

/* A bad --image-base is refused before the daemon is asked anything. */
static void test_override_refused(void)
{
	static const char *const bad[] = {"x\nRUN id", "-x", "a b", "debian:bookworm;rm", ""};
	struct image_set set;

	for (size_t i = 0; i + 1 < ARRAY_SIZE(bad); i++) {
		struct sb_err err = SB_ERR_INIT;

		CHECK_INT(image_ensure(NULL, bad[i], NULL, NULL, NULL, &set, &err), -SB_EINPUT);
		CHECK_CONTAINS(err.msg, "--image-base");
	}
}

static const struct image_file *find(const char *path)
{
	for (size_t i = 0; i < image_files_count; i++)
		if (strcmp(image_files[i].path, path) == 0)
			return &image_files[i];
	return NULL;
}

static void test_embedded_files(void)
{
	static const char *const want[] = {
	    "base/Dockerfile", "base/Dockerfile.rootfs", "base/entrypoint.sh", "base/finish.sh",
	    "base/packages",   "base/release",           "master/Dockerfile",  "worker/Dockerfile",
	};
	const struct image_file *f;

	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		CHECK(find(want[i]) != NULL);
	for (size_t i = 0; i < image_files_count; i++) {
		f = &image_files[i];
		CHECK(f->mode == 0644 || f->mode == 0755);
		CHECK(strstr(f->path, ".md") == NULL);
		CHECK(strstr(f->path, "embed.sh") == NULL);
		CHECK(f->data[f->len] == '\0'); /* embed.sh terminates every array */
		if (i)
			CHECK(strcmp(image_files[i - 1].path, f->path) < 0);
	}
	f = find("base/entrypoint.sh");
	CHECK(f && f->mode == 0755);
	CHECK(f && strncmp((const char *)f->data, "#!/bin/sh\n", 10) == 0);
	f = find("base/finish.sh");
	CHECK(f && f->mode == 0755);
	f = find("base/packages");
	CHECK(f && f->mode == 0644);
	CHECK(f && strstr((const char *)f->data, "\nslurmd\n"));
	CHECK(f && !strstr((const char *)f->data, "openssh-server"));
}

/* The Debian release comes from base/release: its one word, comments skipped. */
static void test_release(void)
{
	CHECK_STR(image_release(), "trixie");
	CHECK_STR(image_debian_ref(), "debian:trixie-slim");
}

int main(void)
{
	TAP_RUN(test_hashes_are_12_hex, test_tags_from_hashes, test_tags_stable,
	        test_tags_with_override, test_arch, test_override_refused, test_embedded_files,
	        test_release);
}

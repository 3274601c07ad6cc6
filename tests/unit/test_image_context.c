/* SPDX-License-Identifier: MIT */
/*
 * Build contexts: read back with libarchive, they hold exactly the recipe
 * directory's files with their modes, the chosen Dockerfile's FROM rewritten.
 */
#include "../../launcher/host/image.h"
#include "tap.h"

#include <archive.h>
#include <archive_entry.h>

struct member {
	char path[128];
	unsigned mode;
	long long uid, gid;
	struct sb_buf data;
};

struct ctx {
	struct member m[16];
	size_t n;
};

static void ctx_free(struct ctx *c)
{
	for (size_t i = 0; i < c->n; i++)
		sb_buf_free(&c->m[i].data);
	c->n = 0;
}

/* Build the context and read it back; false if either fails. */
static bool ctx_read(const char *dir, const char *dockerfile, const char *from, struct ctx *c,
                     struct sb_buf *raw)
{
	struct sb_err err = SB_ERR_INIT;
	struct archive *a;
	struct archive_entry *e;
	char buf[4096];
	la_ssize_t n;

	memset(c, 0, sizeof(*c));
	if (image_context_build(dir, dockerfile, from, raw, &err) < 0) {
		printf("# %s\n", err.msg);
		return false;
	}
	a = archive_read_new();
	archive_read_support_format_tar(a);
	if (archive_read_open_memory(a, raw->data, raw->len) != ARCHIVE_OK) {
		archive_read_free(a);
		return false;
	}
	while (archive_read_next_header(a, &e) == ARCHIVE_OK && c->n < ARRAY_SIZE(c->m)) {
		struct member *m = &c->m[c->n++];

		snprintf(m->path, sizeof(m->path), "%s", archive_entry_pathname(e));
		m->mode = archive_entry_perm(e);
		m->uid = archive_entry_uid(e);
		m->gid = archive_entry_gid(e);
		CHECK(archive_entry_filetype(e) == AE_IFREG);
		while ((n = archive_read_data(a, buf, sizeof(buf))) > 0)
			sb_buf_add(&m->data, buf, (size_t)n);
		sb_buf_add(&m->data, "", 0);
	}
	archive_read_free(a);
	return true;
}

static const struct member *ctx_find(const struct ctx *c, const char *path)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->m[i].path, path) == 0)
			return &c->m[i];
	return NULL;
}

static const struct image_file *embedded(const char *path)
{
	for (size_t i = 0; i < image_files_count; i++)
		if (strcmp(image_files[i].path, path) == 0)
			return &image_files[i];
	return NULL;
}

/* The embedded file with its first FROM line replaced, as image.c should. */
static char *expected_dockerfile(const char *path, const char *from)
{
	const struct image_file *f = embedded(path);
	const char *p = f ? strstr((const char *)f->data, "\nFROM ") : NULL;
	const char *eol = p ? strchr(p + 1, '\n') : NULL;

	if (!p || !eol)
		return xstrdup("(no FROM line)");
	return xasprintf("%.*s\nFROM %s%s", (int)(p - (const char *)f->data), (const char *)f->data,
	                 from, eol);
}

static void test_base_context(void)
{
	static const char *const names[] = {"Dockerfile", "Dockerfile.rootfs", "entrypoint.sh",
	                                    "finish.sh",  "packages",          "release"};
	static const unsigned modes[] = {0644, 0644, 0755, 0755, 0644, 0644};
	struct sb_buf raw = SB_BUF_INIT;
	struct ctx c;

	CHECK(ctx_read("base", "Dockerfile", "debian:bookworm-slim", &c, &raw));
	CHECK_INT(c.n, ARRAY_SIZE(names));
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		const struct member *m = ctx_find(&c, names[i]);
		char full[64];

		CHECK(m != NULL);
		if (!m)
			continue;
		CHECK_INT(m->mode, modes[i]);
		CHECK_INT(m->uid, 0);
		CHECK_INT(m->gid, 0);
		snprintf(full, sizeof(full), "base/%s", names[i]);
		if (strcmp(names[i], "Dockerfile") != 0) {
			const struct image_file *f = embedded(full);
			CHECK(f && m->data.len == f->len &&
			      memcmp(m->data.data, f->data, f->len) == 0);
		}
	}
	{
		_cleanup_free_ char *want =
		    expected_dockerfile("base/Dockerfile", "debian:bookworm-slim");
		const struct member *m = ctx_find(&c, "Dockerfile");
		CHECK(m && strcmp(m->data.data, want) == 0);
	}
	ctx_free(&c);
	sb_buf_free(&raw);
}

static void test_rootfs_dockerfile_rewritten(void)
{
	struct sb_buf raw = SB_BUF_INIT;
	_cleanup_free_ char *want =
	    expected_dockerfile("base/Dockerfile.rootfs", "slurmbox-rootfs:0123456789ab");
	const struct image_file *plain = embedded("base/Dockerfile");
	const struct member *m;
	struct ctx c;

	CHECK(ctx_read("base", "Dockerfile.rootfs", "slurmbox-rootfs:0123456789ab", &c, &raw));
	m = ctx_find(&c, "Dockerfile.rootfs");
	CHECK(m && strcmp(m->data.data, want) == 0);
	CHECK(m && strstr(m->data.data, "\nFROM slurmbox-rootfs:0123456789ab\n"));
	/* the other Dockerfile is left as embedded */
	m = ctx_find(&c, "Dockerfile");
	CHECK(m && plain && m->data.len == plain->len);
	ctx_free(&c);
	sb_buf_free(&raw);
}

static void test_master_worker_context(void)
{
	static const char *const dirs[] = {"master", "worker"};

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		struct sb_buf raw = SB_BUF_INIT;
		const struct member *m;
		char role[64];
		struct ctx c;

		CHECK(ctx_read(dirs[i], "Dockerfile", "slurmbox-base:0123456789ab", &c, &raw));
		CHECK_INT(c.n, 1);
		m = ctx_find(&c, "Dockerfile");
		CHECK(m && m->mode == 0644);
		CHECK(m && strstr(m->data.data, "\nFROM slurmbox-base:0123456789ab\n"));
		snprintf(role, sizeof(role), "ENV SLURMBOX_ROLE=%s\n", dirs[i]);
		CHECK(m && strstr(m->data.data, role));
		CHECK(m && !strstr(m->data.data, "FROM slurmbox-base\n"));
		ctx_free(&c);
		sb_buf_free(&raw);
	}
}

static void test_context_reproducible(void)
{
	struct sb_buf a = SB_BUF_INIT, b = SB_BUF_INIT;
	struct sb_err err = SB_ERR_INIT;

	CHECK_INT(image_context_build("base", "Dockerfile", "x:1", &a, &err), 0);
	CHECK_INT(image_context_build("base", "Dockerfile", "x:1", &b, &err), 0);
	CHECK(a.len == b.len && a.len > 0 && memcmp(a.data, b.data, a.len) == 0);
	CHECK_INT(a.len % 512, 0);
	sb_buf_free(&a);
	sb_buf_free(&b);
}

static void test_context_errors(void)
{
	struct sb_buf raw = SB_BUF_INIT;
	struct sb_err err = SB_ERR_INIT;

	CHECK_INT(image_context_build("nosuch", "Dockerfile", "x:1", &raw, &err), -ENOENT);
	CHECK_CONTAINS(err.msg, "nosuch/Dockerfile");
	err = (struct sb_err)SB_ERR_INIT;
	CHECK_INT(image_context_build("master", "Dockerfile.other", "x:1", &raw, &err), -ENOENT);
	CHECK_CONTAINS(err.msg, "rebuild");
	/* a prefix of a directory name is not that directory */
	err = (struct sb_err)SB_ERR_INIT;
	CHECK_INT(image_context_build("bas", "Dockerfile", "x:1", &raw, &err), -ENOENT);
	/* "packages" has no FROM line */
	err = (struct sb_err)SB_ERR_INIT;
	CHECK_INT(image_context_build("base", "packages", "x:1", &raw, &err), -EINVAL);
	CHECK_CONTAINS(err.msg, "FROM");
	sb_buf_free(&raw);
}

int main(void)
{
	TAP_RUN(test_base_context, test_rootfs_dockerfile_rewritten, test_master_worker_context,
	        test_context_reproducible, test_context_errors);
}

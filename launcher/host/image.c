/* SPDX-License-Identifier: MIT */
/*
 * image - tags, build contexts and builds of the node images from the
 * recipes embedded by images/embed.sh. The offline rootfs is in
 * image_rootfs.c.
 */
#include "image.h"
#include "../docker/docker_api.h"
#include "tarball.h"
#include "../util/json.h"

/* FNV-1a, 32 bits: a short, stable name for a --image-base value. */
static uint32_t image_fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

void image_set_tags(const char *base_override, const char *arch, struct image_set *out)
{
	char suffix[48] = "";

	memset(out, 0, sizeof(*out));
	if (base_override && *base_override)
		snprintf(suffix, sizeof(suffix), "-%08x", image_fnv1a(base_override));
	if (arch && *arch)
		snprintf(suffix + strlen(suffix), sizeof(suffix) - strlen(suffix), "-%.16s", arch);
	snprintf(out->base, sizeof(out->base), "slurmbox-base:%s%s", image_hash_base, suffix);
	snprintf(out->master, sizeof(out->master), "slurmbox-master:%s%s", image_hash_master,
	         suffix);
	snprintf(out->worker, sizeof(out->worker), "slurmbox-worker:%s%s", image_hash_worker,
	         suffix);
}

/* The Dockerfile text with its first FROM line replaced by "FROM <from>". */
static int image_dockerfile_rewrite(const struct image_file *f, const char *from,
                                    struct sb_buf *out, struct sb_err *err)
{
	const char *p = (const char *)f->data, *end = p + f->len;
	bool done = false;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);

		if (!done && n > 5 && strncasecmp(p, "FROM ", 5) == 0) {
			sb_buf_printf(out, "FROM %s\n", from);
			done = true;
		} else {
			sb_buf_add(out, p, n);
		}
		p += n;
	}
	if (!done)
		return sb_err_set(err, EINVAL, "Recipe '%s' has no FROM line: rebuild slurmbox",
		                  f->path);
	return 0;
}

int image_context_build(const char *dir, const char *dockerfile, const char *from,
                        struct sb_buf *out, struct sb_err *err)
{
	_cleanup_free_ struct tarball_entry *ents = xcalloc(image_files_count, sizeof(*ents));
	_cleanup_buf_ struct sb_buf df = SB_BUF_INIT;
	size_t dlen = strlen(dir), n = 0;
	bool have_df = false;
	int ret;

	for (size_t i = 0; i < image_files_count; i++) {
		const struct image_file *f = &image_files[i];
		const char *rel = f->path + dlen + 1;

		if (strncmp(f->path, dir, dlen) != 0 || f->path[dlen] != '/')
			continue;
		ents[n] = (struct tarball_entry){
		    .path = rel, .data = f->data, .len = f->len, .mode = f->mode};
		if (strcmp(rel, dockerfile) == 0) {
			ret = image_dockerfile_rewrite(f, from, &df, err);
			if (ret < 0)
				return ret;
			ents[n].data = df.data;
			ents[n].len = df.len;
			have_df = true;
		}
		n++;
	}
	if (!have_df)
		return sb_err_set(err, ENOENT,
		                  "No recipe '%s/%s' is embedded in slurmbox: rebuild it with make",
		                  dir, dockerfile);
	ret = tarball_build(ents, n, out, err);
	if (ret < 0)
		return sb_err_wrap(err, "Build context of '%s'", dir);
	return 0;
}

struct image_mem_reader {
	const char *data;
	size_t len, off;
};

static ssize_t image_mem_read(void *arg, char *buf, size_t len)
{
	struct image_mem_reader *r = arg;
	size_t n = r->len - r->off;

	if (n > len)
		n = len;
	memcpy(buf, r->data + r->off, n);
	r->off += n;
	return (ssize_t)n;
}

struct image_progress {
	image_progress_fn fn;
	void *arg;
	struct sb_buf line; /* a "stream" line not yet ended by '\n' */
};

static void image_progress_text(struct image_progress *p, const char *s)
{
	for (; *s; s++) {
		if (*s != '\n' && *s != '\r') {
			sb_buf_add(&p->line, s, 1);
			continue;
		}
		if (p->line.len && p->fn)
			p->fn(p->line.data, p->arg);
		sb_buf_reset(&p->line);
	}
}

/* One object of a build or pull stream: {"stream"} lines, {"status","id","progress"}. */
static int image_progress_msg(struct json_object *msg, void *arg, struct sb_err *err)
{
	struct image_progress *p = arg;
	struct json_object *v, *id = NULL, *prog = NULL;
	char line[512];

	(void)err;
	if (json_object_object_get_ex(msg, "stream", &v) &&
	    json_object_is_type(v, json_type_string)) {
		image_progress_text(p, json_object_get_string(v));
	} else if (json_object_object_get_ex(msg, "status", &v) && p->fn) {
		json_object_object_get_ex(msg, "id", &id);
		json_object_object_get_ex(msg, "progress", &prog);
		snprintf(line, sizeof(line), "%s%s%s %s", id ? json_object_get_string(id) : "",
		         id ? ": " : "", json_object_get_string(v),
		         prog ? json_object_get_string(prog) : "");
		p->fn(line, p->arg);
	}
	return 0;
}

static void image_say(image_progress_fn fn, void *arg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void image_say(image_progress_fn fn, void *arg, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!fn)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fn(line, arg);
}

/* Build `tag` from recipe directory `dir` with `dockerfile`, FROM `from`. */
static int image_build_one(struct docker *d, const char *tag, const char *dir,
                           const char *dockerfile, const char *from, const char *arch,
                           image_progress_fn fn, void *arg, struct sb_err *err)
{
	_cleanup_buf_ struct sb_buf ctx = SB_BUF_INIT;
	struct image_progress prog = {fn, arg, SB_BUF_INIT};
	struct image_mem_reader r;
	int ret;

	ret = image_context_build(dir, dockerfile, from, &ctx, err);
	if (ret < 0)
		return ret;
	image_say(fn, arg, "Building %s from %s%s%s", tag, from, arch ? " for " : "",
	          arch ? arch : "");
	r = (struct image_mem_reader){ctx.data, ctx.len, 0};
	ret = docker_image_build(d, tag, dockerfile, image_mem_read, &r, image_progress_msg, &prog,
	                         err);
	image_progress_text(&prog, "\n");
	sb_buf_free(&prog.line);
	if (ret < 0)
		return sb_err_wrap(err, "Building image %s", tag);
	return 0;
}

static int image_exists(struct docker *d, const char *ref, bool *exists, struct sb_err *err)
{
	int ret = docker_image_exists(d, ref, exists, err);

	if (ret < 0)
		return sb_err_wrap(err, "Looking for image %s", ref);
	return 0;
}

/* Build slurmbox-base: from base_override, a local debian:<release>-slim, or debootstrap. */
static int image_base_build(struct docker *d, const char *base_override, const char *arch,
                            const char *tag, image_progress_fn fn, void *arg, struct sb_err *err)
{
	struct image_progress prog = {fn, arg, SB_BUF_INIT};
	char rootfs[128];
	bool have;
	int ret;

	if (base_override && *base_override) {
		ret = image_exists(d, base_override, &have, err);
		if (ret < 0)
			return ret;
		if (!have) {
			image_say(fn, arg, "Pulling %s", base_override);
			ret = docker_image_pull(d, base_override, image_progress_msg, &prog, err);
			sb_buf_free(&prog.line);
			if (ret < 0)
				return sb_err_wrap(err,
				                   "Pulling --image-base %s (or load it with "
				                   "`docker load`, or leave --image-base out to "
				                   "build offline with debootstrap)",
				                   base_override);
		}
		return image_build_one(d, tag, "base", "Dockerfile", base_override, arch, fn, arg,
		                       err);
	}

	ret = arch ? 0 : image_exists(d, image_debian_ref(), &have, err);
	if (ret < 0)
		return ret;
	if (!arch && have)
		return image_build_one(d, tag, "base", "Dockerfile", image_debian_ref(), NULL, fn,
		                       arg, err);

	snprintf(rootfs, sizeof(rootfs), "%s:%s%s%s", IMAGE_ROOTFS_REPO, image_hash_rootfs,
	         arch ? "-" : "", arch ? arch : "");
	ret = image_exists(d, rootfs, &have, err);
	if (ret < 0)
		return ret;
	if (!have) {
		image_say(fn, arg, "No %s here: making %s with debootstrap", image_debian_ref(),
		          rootfs);
		ret = image_rootfs_build(d, rootfs, arch, fn, arg, err);
		if (ret < 0)
			return ret;
	}
	return image_build_one(d, tag, "base", "Dockerfile.rootfs", rootfs, arch, fn, arg, err);
}

int image_present(struct docker *d, const struct image_set *set, bool *present, struct sb_err *err)
{
	const char *tags[] = {set->base, set->master, set->worker};
	int ret;

	*present = true;
	for (size_t i = 0; i < ARRAY_SIZE(tags) && *present; i++) {
		ret = image_exists(d, tags[i], present, err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* An image reference goes into a FROM line: no spaces, newlines or options. */
static int image_ref_check(const char *ref, struct sb_err *err)
{
	size_t n =
	    strspn(ref, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/:@-");

	if (!*ref || ref[n] || *ref == '-' || strlen(ref) > 255)
		return sb_err_input(
		    err,
		    "--image-base '%s' is not an image reference: use NAME[:TAG] or "
		    "NAME@sha256:DIGEST, e.g. %s",
		    ref, image_debian_ref());
	return 0;
}

/*
 * Does this engine record the architecture an import asks for? Docker 20.10
 * records its own on whatever it imports or builds, so arm64 images made
 * there would claim amd64. One file imported and removed tells.
 */
static int image_arch_recorded(struct docker *d, const char *arch, const char *server,
                               struct sb_err *err)
{
	static const char text[] = "slurmbox: does an import keep its platform?\n";
	const struct tarball_entry ent = {"slurmbox-probe", text, sizeof(text) - 1, 0644, 0, 0};
	const char *platform = image_arch_platform(arch), *want = strchr(platform, '/') + 1;
	_cleanup_buf_ struct sb_buf tar = SB_BUF_INIT;
	_cleanup_free_ char *tag = xasprintf("probe-%s", arch);
	_cleanup_free_ char *ref = xasprintf("slurmbox-archprobe:%s", tag);
	_cleanup_free_ char *path = xasprintf("/images/%s/json", ref);
	struct image_mem_reader r;
	struct json_object *j = NULL;
	struct sb_err ignored = SB_ERR_INIT;
	const char *got;
	size_t wlen = strcspn(want, "/");
	bool same;
	int ret;

	if ((ret = tarball_build(&ent, 1, &tar, err)) < 0)
		return ret;
	r = (struct image_mem_reader){tar.data, tar.len, 0};
	ret = docker_image_import(d, "slurmbox-archprobe", tag, platform, NULL, 0, image_mem_read,
	                          &r, err);
	if (ret == 0)
		ret = docker_call(d, "GET", path, NULL, &j, err);
	docker_image_remove(d, ref, &ignored);
	if (ret < 0)
		return sb_err_wrap(err, "Asking Docker for an image of %s", platform);
	got = util_json_str(j, "Architecture") ?: "";
	same = strlen(got) == wlen && strncmp(got, want, wlen) == 0;
	if (!same) {
		_cleanup_free_ char *g = xstrdup(got);

		json_object_put(j);
		return sb_err_set(
		    err, ENOTSUP,
		    "This Docker (%s, API %s) records its own architecture (%s) on "
		    "the images it imports and builds, so %s images made here would "
		    "claim %s: build them with a newer Docker (Debian 13's 26.1 records "
		    "%s), or let each %s host build its own (slurmbox up does)",
		    server, docker_api_version(d), g, arch, g, platform, arch);
	}
	json_object_put(j);
	return 0;
}

int image_ensure(struct docker *d, const char *base_override, const char *arch,
                 image_progress_fn fn, void *arg, struct image_set *out, struct sb_err *err)
{
	bool have_base, have_master, have_worker;
	struct docker_info info = {.server_version = "?"};
	int ret;

	if (base_override && *base_override && (ret = image_ref_check(base_override, err)) < 0)
		return ret;
	if (arch && ((ret = docker_info_get(d, &info, err)) < 0 ||
	             (ret = image_arch_resolve(arch, info.arch, &arch, err)) < 0))
		return ret;
	image_set_tags(base_override, arch, out);
	if ((ret = image_exists(d, out->base, &have_base, err)) < 0 ||
	    (ret = image_exists(d, out->master, &have_master, err)) < 0 ||
	    (ret = image_exists(d, out->worker, &have_worker, err)) < 0)
		return ret;
	if (have_master && have_worker && have_base)
		return 0;
	if (arch && ((ret = image_arch_runnable(arch, err)) < 0 ||
	             (ret = image_arch_recorded(d, arch, info.server_version, err)) < 0))
		return ret;

	if (!have_base) {
		ret = image_base_build(d, base_override, arch, out->base, fn, arg, err);
		if (ret < 0)
			return ret;
	}
	if (!have_master) {
		ret = image_build_one(d, out->master, "master", "Dockerfile", out->base, arch, fn,
		                      arg, err);
		if (ret < 0)
			return ret;
	}
	if (!have_worker) {
		ret = image_build_one(d, out->worker, "worker", "Dockerfile", out->base, arch, fn,
		                      arg, err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * remote.c - the host interface (remote.h): this machine's host in-process,
 * any other over ssh (remote_ssh.c).
 */
#include "remote.h"
#include "remote_int.h"
#include "ssh.h"
#include "../docker/docker_api.h"
#include "../host/image.h"
#include "../host/objects.h"
#include "../util/io.h"

#include <fcntl.h>
#include <json-c/json.h>
#include <unistd.h>

#define FILE_MAX 4096

bool remote_is_self(const char *dest)
{
	return ssh_dest_is_local(dest);
}

static const struct remote_ops *ops_for(const char *dest)
{
	return remote_is_self(dest) ? &remote_local_ops : &remote_ssh_ops;
}

/* ---- this machine: host/ops.h's calls, in-process ---- */

/* The host's own progress is not shown: the caller prints one line per host. */
static struct sb_ctx ctx_quiet(const struct sb_ctx *ctx)
{
	struct sb_ctx q = *ctx;

	q.quiet = true;
	return q;
}

static int local_facts(const char *dest, const struct host_facts_req *r, struct json_object **out,
                       char **path, struct sb_err *err)
{
	const char *self;
	int ret;

	(void)dest;
	*path = NULL;
	ret = host_facts(r, out, err);
	if (ret == 0 && (self = json_object_get_string(json_object_object_get(*out, "self"))))
		*path = xstrdup(self);
	return ret;
}

static int local_probe(const char *dest, const struct host_probe_req *r, struct json_object **out,
                       struct sb_err *err)
{
	(void)dest;
	return host_probe(r, out, err);
}

static int local_apply(const char *dest, const struct sb_ctx *ctx, const struct host_apply_req *r,
                       struct json_object **report, struct sb_err *err)
{
	struct sb_ctx q = ctx_quiet(ctx);
	struct sb_err e = SB_ERR_INIT;
	int ret = host_apply(&q, r, report, &e);

	if (ret < 0)
		return sb_err_set(err, e.code, "Host '%s' failed: %s", dest, e.msg);
	return 0;
}

static int local_undo(const char *dest, const char *cluster, struct json_object *report,
                      struct sb_err *err)
{
	struct json_object *out = NULL;
	int ret = host_undo(cluster, report, &out, err);

	(void)dest;
	json_object_put(out);
	return ret;
}

static int local_wait(const char *dest, const struct sb_ctx *ctx, const struct spec_doc *doc,
                      unsigned timeout_sec, struct sb_err *err)
{
	(void)dest;
	return host_wait(ctx, doc, timeout_sec, err);
}

static int local_down(const char *dest, const struct sb_ctx *ctx, const char *cluster, bool purge,
                      bool keep_key, struct json_object **out, struct sb_err *err)
{
	struct sb_ctx q = ctx_quiet(ctx);

	(void)dest;
	return host_down(&q, cluster, purge, keep_key, out, err);
}

static int local_check(const char *dest, const char *cluster, const char *cred,
                       struct json_object **out, struct sb_err *err)
{
	(void)dest;
	return host_check(cluster, cred, out, err);
}

static void build_progress(const char *line, void *arg)
{
	(void)arg;
	fprintf(stderr, "    %s\n", line);
}

static int local_images_build(const char *dest, const struct sb_ctx *ctx, const char *image_base,
                              struct sb_err *err)
{
	_cleanup_docker_ struct docker *d = NULL;
	struct image_set set;
	int ret;

	(void)dest;
	(void)ctx;
	ret = docker_open(NULL, &d, err);
	if (ret == 0)
		ret = image_ensure(d, image_base, NULL, build_progress, NULL, &set, err);
	return ret;
}

static int local_node_capture(const char *dest, const char *cluster, const char *node,
                              const char *const *argv, int timeout_ms, struct sb_buf *out,
                              int *status, struct sb_err *err)
{
	_cleanup_docker_ struct docker *d = NULL;
	_cleanup_buf_ struct sb_buf errb = SB_BUF_INIT;
	struct host_node n = {0};
	bool found = false;
	int ret;

	(void)dest;
	*status = -1;
	ret = docker_open(NULL, &d, err);
	if (ret == 0)
		ret = host_node_find(d, cluster, node, &n, &found, err);
	if (ret == 0 && !found)
		ret = sb_err_set(err, ENOENT, "No container of node '%s' here", node);
	if (ret == 0)
		ret = docker_exec_capture(d, n.container, argv, -1, out, &errb, status, timeout_ms,
		                          err);
	if (ret == 0 && *status != 0 && errb.len)
		sb_err_set(err, EIO, "%.*s", (int)strcspn(errb.data, "\n"), errb.data);
	host_node_free(&n);
	return ret;
}

static int local_file_put(const char *dest, const char *path, const char *text, struct sb_err *err)
{
	_cleanup_close_ int fd =
	    open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);

	(void)dest;
	if (fd < 0 || util_write_all(fd, text, strlen(text)) < 0)
		return sb_err_set(err, errno, "%s: %s", path, strerror(errno));
	return 0;
}

static int local_file_get(const char *dest, const char *path, struct sb_buf *out,
                          struct sb_err *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	char buf[FILE_MAX];
	ssize_t n;

	(void)dest;
	if (fd < 0)
		return sb_err_set(err, errno, "%s: %s", path, strerror(errno));
	while ((n = read(fd, buf, sizeof(buf))) > 0 && out->len < FILE_MAX)
		sb_buf_add(out, buf, (size_t)n);
	if (n < 0)
		return sb_err_set(err, errno, "%s: %s", path, strerror(errno));
	return 0;
}

static void local_file_remove(const char *dest, const char *path)
{
	(void)dest;
	unlink(path);
}

const struct remote_ops remote_local_ops = {
    .facts = local_facts,
    .probe = local_probe,
    .apply = local_apply,
    .undo = local_undo,
    .wait = local_wait,
    .down = local_down,
    .check = local_check,
    .images_build = local_images_build,
    .node_capture = local_node_capture,
    .file_put = local_file_put,
    .file_get = local_file_get,
    .file_remove = local_file_remove,
};

/* ---- the interface ---- */

int remote_prepare(const char *dest, struct sb_err *err)
{
	_cleanup_free_ char *path = NULL;

	return remote_is_self(dest) ? 0 : ssh_slurmbox_ensure(dest, &path, err);
}

int remote_facts(const char *dest, const struct host_facts_req *r, struct json_object **out,
                 char **path, struct sb_err *err)
{
	return ops_for(dest)->facts(dest, r, out, path, err);
}

int remote_probe(const char *dest, const struct host_probe_req *r, struct json_object **out,
                 struct sb_err *err)
{
	return ops_for(dest)->probe(dest, r, out, err);
}

int remote_apply(const char *dest, const struct sb_ctx *ctx, const struct host_apply_req *r,
                 struct json_object **report, struct sb_err *err)
{
	return ops_for(dest)->apply(dest, ctx, r, report, err);
}

int remote_undo(const char *dest, const char *cluster, struct json_object *report,
                struct sb_err *err)
{
	return ops_for(dest)->undo(dest, cluster, report, err);
}

int remote_wait(const char *dest, const struct sb_ctx *ctx, const struct spec_doc *doc,
                unsigned timeout_sec, struct sb_err *err)
{
	return ops_for(dest)->wait(dest, ctx, doc, timeout_sec, err);
}

int remote_down(const char *dest, const struct sb_ctx *ctx, const char *cluster, bool purge,
                bool keep_key, struct json_object **out, struct sb_err *err)
{
	return ops_for(dest)->down(dest, ctx, cluster, purge, keep_key, out, err);
}

int remote_check(const char *dest, const char *cluster, const char *cred, struct json_object **out,
                 struct sb_err *err)
{
	return ops_for(dest)->check(dest, cluster, cred, out, err);
}

int remote_images_build(const char *dest, const struct sb_ctx *ctx, const char *image_base,
                        struct sb_err *err)
{
	return ops_for(dest)->images_build(dest, ctx, image_base, err);
}

int remote_node_capture(const char *dest, const char *cluster, const char *node,
                        const char *const *argv, int timeout_ms, struct sb_buf *out, int *status,
                        struct sb_err *err)
{
	return ops_for(dest)->node_capture(dest, cluster, node, argv, timeout_ms, out, status, err);
}

int remote_file_put(const char *dest, const char *path, const char *text, struct sb_err *err)
{
	return ops_for(dest)->file_put(dest, path, text, err);
}

int remote_file_get(const char *dest, const char *path, struct sb_buf *out, struct sb_err *err)
{
	return ops_for(dest)->file_get(dest, path, out, err);
}

void remote_file_remove(const char *dest, const char *path)
{
	ops_for(dest)->file_remove(dest, path);
}

/*
 * Images move between engines as a stream from one process to another
 * (`agent image-save` there into `agent image-load` here, or the other
 * way), whichever hosts they are.
 */
int remote_images_copy(const char *src, const char *dst, const char *const *tags,
                       struct sb_err *err)
{
	_cleanup_free_ char *src_path = NULL, *dst_path = NULL;
	const char *save[8] = {NULL, "agent", "image-save"};
	const char *load[] = {NULL, "agent", "image-load", NULL};
	size_t k = 3;
	int ret;

	for (size_t i = 0; tags[i] && k < ARRAY_SIZE(save) - 1; i++)
		save[k++] = tags[i];
	ret = ssh_slurmbox_ensure(src, &src_path, err);
	if (ret == 0)
		ret = ssh_slurmbox_ensure(dst, &dst_path, err);
	if (ret < 0)
		return ret;
	save[0] = src_path;
	load[0] = dst_path;
	return ssh_pipe(src, save, dst, load, 15 * 60 * 1000, err);
}

int remote_node_run(const char *dest, const char *cluster, char *const *argv, bool tty, int *status,
                    struct sb_err *err)
{
	return remote_ssh_node_run(dest, cluster, argv, tty, status, err);
}

void remote_abort_watch(volatile sig_atomic_t *flag)
{
	ssh_abort_watch(flag);
	docker_abort_watch(flag);
}

/* SPDX-License-Identifier: MIT */
/*
 * docker_api.c - typed Docker calls on top of docker_call/docker_stream.
 * Names and ids in paths are URL-encoded; label filters are exact matches.
 */
#include "docker_api.h"
#include "../util/io.h"

#include <ctype.h>
#include <curl/curl.h>

#define API_STOP_GRACE_S 60 /* on top of the stop timeout, before the request gives up */

/* ---- helpers ---- */

static inline void api_json_putp(struct json_object **o)
{
	json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(api_json_putp)

/* o.k1.k2...: borrowed, NULL if any step is missing. */
static struct json_object *api_get(struct json_object *o, const char *k1, const char *k2)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, k1, &v))
		return NULL;
	if (k2 && !json_object_object_get_ex(v, k2, &v))
		return NULL;
	return v;
}

static void api_copy_str(char *dst, size_t size, struct json_object *o, const char *key)
{
	struct json_object *v = api_get(o, key, NULL);

	snprintf(dst, size, "%s",
	         v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "");
}

/* A 404 on a remove means "already gone": success. */
static int api_gone_ok(struct docker *d, int r)
{
	return r == -ENOENT && docker_last_status(d) == 404 ? 0 : r;
}

/* The "Id" of a create reply into *id (may be NULL). */
static int api_take_id(struct json_object *reply, char **id, const char *what, struct sb_err *err)
{
	struct json_object *v = api_get(reply, "Id", NULL);

	if (!v || !json_object_is_type(v, json_type_string))
		return sb_err_set(err, EPROTO, "Docker did not return the id of the new %s", what);
	if (id)
		*id = xstrdup(json_object_get_string(v));
	return 0;
}

/* "?all=1" + "&filters=…" (or "?filters=…") when labels are given. */
static char *api_list_path(const char *base, const char *sep, const char *const *labels, size_t n)
{
	_cleanup_free_ char *f = NULL;

	if (!n)
		return xstrdup(base);
	f = docker_filters_label(labels, n);
	return xasprintf("%s%sfilters=%s", base, sep, f);
}

int docker_info_get(struct docker *d, struct docker_info *out, struct sb_err *err)
{
	_cleanup_json_ struct json_object *j = NULL;
	struct json_object *v;
	int r;

	memset(out, 0, sizeof(*out));
	r = docker_call(d, "GET", "/info", NULL, &j, err);
	if (r < 0)
		return r;
	if ((v = api_get(j, "NCPU", NULL)))
		out->ncpus = (unsigned)json_object_get_int(v);
	if ((v = api_get(j, "MemTotal", NULL)))
		out->mem_bytes = (uint64_t)json_object_get_int64(v);
	api_copy_str(out->arch, sizeof(out->arch), j, "Architecture");
	api_copy_str(out->server_version, sizeof(out->server_version), j, "ServerVersion");
	api_copy_str(out->os_type, sizeof(out->os_type), j, "OSType");
	api_copy_str(out->name, sizeof(out->name), j, "Name");
	return 0;
}

/* ---- images ---- */

int docker_image_exists(struct docker *d, const char *ref, bool *exists, struct sb_err *err)
{
	_cleanup_free_ char *e = docker_escape(ref, true);
	_cleanup_free_ char *path = xasprintf("/images/%s/json", e);
	struct sb_err tmp = SB_ERR_INIT;
	int r;

	*exists = false;
	r = docker_call(d, "GET", path, NULL, NULL, &tmp);
	if (r == -ENOENT && docker_last_status(d) == 404)
		return 0;
	if (r < 0) {
		*err = tmp;
		return r;
	}
	*exists = true;
	return 0;
}

int docker_image_pull(struct docker *d, const char *ref, docker_msg_fn msg_fn, void *arg,
                      struct sb_err *err)
{
	const char *slash = strrchr(ref, '/');
	const char *name_end = slash ? slash : ref;
	bool tagged = strchr(name_end, ':') || strchr(ref, '@');
	_cleanup_free_ char *e = docker_escape(ref, false);
	/* Without a tag the daemon would pull every tag: say "latest" as the CLI does. */
	_cleanup_free_ char *path =
	    xasprintf("/images/create?fromImage=%s%s", e, tagged ? "" : "&tag=latest");

	return docker_stream(d, "POST", path, NULL, NULL, NULL, msg_fn, arg, err);
}

int docker_image_import(struct docker *d, const char *repo, const char *tag, const char *platform,
                        const char *const *changes, size_t n_changes, docker_read_fn body_fn,
                        void *body_arg, struct sb_err *err)
{
	_cleanup_buf_ struct sb_buf path = SB_BUF_INIT;
	_cleanup_free_ char *er = docker_escape(repo, false);
	_cleanup_free_ char *et = docker_escape(tag ? tag : "latest", false);

	sb_buf_printf(&path, "/images/create?fromSrc=-&repo=%s&tag=%s", er, et);
	if (platform) {
		_cleanup_free_ char *ep = docker_escape(platform, false);

		sb_buf_printf(&path, "&platform=%s", ep);
	}
	for (size_t i = 0; changes && i < n_changes; i++) {
		_cleanup_free_ char *ec = docker_escape(changes[i], false);
		sb_buf_printf(&path, "&changes=%s", ec);
	}
	return docker_stream(d, "POST", path.data, "application/x-tar", body_fn, body_arg, NULL,
	                     NULL, err);
}

int docker_image_build(struct docker *d, const char *tag, const char *dockerfile,
                       docker_read_fn body_fn, void *body_arg, docker_msg_fn msg_fn, void *arg,
                       struct sb_err *err)
{
	_cleanup_buf_ struct sb_buf path = SB_BUF_INIT;
	_cleanup_free_ char *et = docker_escape(tag, false);

	sb_buf_printf(&path, "/build?t=%s&rm=1&forcerm=1&version=1", et);
	if (dockerfile) {
		_cleanup_free_ char *ef = docker_escape(dockerfile, false);
		sb_buf_printf(&path, "&dockerfile=%s", ef);
	}
	return docker_stream(d, "POST", path.data, "application/x-tar", body_fn, body_arg, msg_fn,
	                     arg, err);
}

int docker_image_save(struct docker *d, const char *ref, docker_data_fn data_fn, void *arg,
                      struct sb_err *err)
{
	_cleanup_free_ char *e = docker_escape(ref, true);
	_cleanup_free_ char *path = xasprintf("/images/%s/get", e);

	return docker_get_raw(d, path, data_fn, arg, err);
}

int docker_image_load(struct docker *d, docker_read_fn body_fn, void *body_arg, struct sb_err *err)
{
	return docker_stream(d, "POST", "/images/load?quiet=1", "application/x-tar", body_fn,
	                     body_arg, NULL, NULL, err);
}

int docker_image_remove(struct docker *d, const char *ref, struct sb_err *err)
{
	_cleanup_free_ char *e = docker_escape(ref, true);
	_cleanup_free_ char *path = xasprintf("/images/%s", e);

	return docker_call(d, "DELETE", path, NULL, NULL, err);
}

/* ---- containers ---- */

int docker_container_create(struct docker *d, const char *name, struct json_object *body, char **id,
                            struct sb_err *err)
{
	_cleanup_json_ struct json_object *reply = NULL;
	_cleanup_free_ char *e = name ? docker_escape(name, false) : NULL;
	_cleanup_free_ char *path =
	    e ? xasprintf("/containers/create?name=%s", e) : xstrdup("/containers/create");
	int r;

	if (id)
		*id = NULL;
	r = docker_call(d, "POST", path, body, &reply, err);
	if (r < 0)
		return r;
	return api_take_id(reply, id, "container", err);
}

/* POST /containers/{id}/<verb><query>. */
static int api_container_post(struct docker *d, const char *id, const char *verb, const char *query,
                              struct sb_err *err)
{
	_cleanup_free_ char *e = docker_escape(id, false);
	_cleanup_free_ char *path = xasprintf("/containers/%s/%s%s", e, verb, query ? query : "");

	return docker_call(d, "POST", path, NULL, NULL, err);
}

int docker_container_start(struct docker *d, const char *id, struct sb_err *err)
{
	return api_container_post(d, id, "start", NULL, err);
}

int docker_container_stop(struct docker *d, const char *id, int timeout_sec, struct sb_err *err)
{
	char q[32];
	int old, r;

	if (timeout_sec < 0)
		timeout_sec = 10;
	snprintf(q, sizeof(q), "?t=%d", timeout_sec);
	/* The daemon answers only after the grace period: allow for it. */
	old = docker_set_timeout(d, 0);
	if (old)
		docker_set_timeout(
		    d, old > timeout_sec + API_STOP_GRACE_S ? old : timeout_sec + API_STOP_GRACE_S);
	r = api_container_post(d, id, "stop", q, err);
	docker_set_timeout(d, old);
	return r;
}

int docker_container_kill(struct docker *d, const char *id, const char *signal, struct sb_err *err)
{
	_cleanup_free_ char *es = signal ? docker_escape(signal, false) : NULL;
	_cleanup_free_ char *q = es ? xasprintf("?signal=%s", es) : NULL;

	return api_container_post(d, id, "kill", q, err);
}

int docker_container_remove(struct docker *d, const char *id, struct sb_err *err)
{
	_cleanup_free_ char *e = docker_escape(id, false);
	_cleanup_free_ char *path = xasprintf("/containers/%s?force=1&v=1", e);
	struct sb_err tmp = SB_ERR_INIT;
	int r = api_gone_ok(d, docker_call(d, "DELETE", path, NULL, NULL, &tmp));

	if (r < 0)
		*err = tmp;
	return r;
}

int docker_container_inspect(struct docker *d, const char *id, struct json_object **out,
                             struct sb_err *err)
{
	_cleanup_free_ char *e = docker_escape(id, false);
	_cleanup_free_ char *path = xasprintf("/containers/%s/json", e);

	return docker_call(d, "GET", path, NULL, out, err);
}

int docker_container_list(struct docker *d, const char *const *labels, size_t n_labels,
                          struct json_object **out, struct sb_err *err)
{
	_cleanup_free_ char *path = api_list_path("/containers/json?all=1", "&", labels, n_labels);

	return docker_call(d, "GET", path, NULL, out, err);
}

int docker_container_put_archive(struct docker *d, const char *id, const char *dir, const void *tar,
                                 size_t len, struct sb_err *err)
{
	_cleanup_free_ char *e = docker_escape(id, false);
	_cleanup_free_ char *ed = docker_escape(dir, false);
	_cleanup_free_ char *path = xasprintf("/containers/%s/archive?path=%s", e, ed);
	struct docker_req req = {
	    .method = "PUT",
	    .path = path,
	    .content_type = "application/x-tar",
	    .body = tar ? tar : "",
	    .body_len = len,
	};

	return docker_request(d, &req, NULL, err);
}

struct api_logs {
	bool tty;
	struct docker_demux dm;
	int out_fd;
	int err_fd;
};

static int api_logs_frame(int stream, const char *buf, size_t len, void *arg)
{
	struct api_logs *l = arg;
	int fd = stream >= 2 ? l->err_fd : l->out_fd;

	return fd < 0 ? 0 : util_write_all(fd, buf, len);
}

static int api_logs_data(const char *buf, size_t len, void *arg)
{
	struct api_logs *l = arg;

	if (l->tty)
		return l->out_fd < 0 ? 0 : util_write_all(l->out_fd, buf, len);
	return docker_demux_feed(&l->dm, buf, len, api_logs_frame, l);
}

int docker_container_logs(struct docker *d, const char *id, bool follow, int tail, int out_fd,
                          int err_fd, struct sb_err *err)
{
	_cleanup_json_ struct json_object *info = NULL;
	_cleanup_free_ char *e = docker_escape(id, false);
	_cleanup_free_ char *path = NULL;
	struct api_logs l = {.out_fd = out_fd, .err_fd = err_fd};
	struct docker_req req = {.method = "GET", .data_fn = api_logs_data, .data_arg = &l};
	struct json_object *tty;
	char tailq[32] = "all";
	int r;

	/* A TTY container's log is raw bytes; otherwise it is framed. */
	r = docker_container_inspect(d, id, &info, err);
	if (r < 0)
		return r;
	tty = api_get(info, "Config", "Tty");
	l.tty = tty && json_object_get_boolean(tty);
	if (tail >= 0)
		snprintf(tailq, sizeof(tailq), "%d", tail);
	path = xasprintf("/containers/%s/logs?stdout=1&stderr=1&follow=%d&tail=%s", e,
	                 follow ? 1 : 0, tailq);
	req.path = path;
	req.no_timeout = follow;
	return docker_request(d, &req, NULL, err);
}

/* ---- networks and volumes ---- */

int docker_network_create(struct docker *d, struct json_object *body, char **id, struct sb_err *err)
{
	_cleanup_json_ struct json_object *reply = NULL;
	int r;

	if (id)
		*id = NULL;
	r = docker_call(d, "POST", "/networks/create", body, &reply, err);
	if (r < 0)
		return r;
	return api_take_id(reply, id, "network", err);
}

int docker_network_list(struct docker *d, const char *const *labels, size_t n_labels,
                        struct json_object **out, struct sb_err *err)
{
	_cleanup_free_ char *path = api_list_path("/networks", "?", labels, n_labels);

	return docker_call(d, "GET", path, NULL, out, err);
}

int docker_network_inspect(struct docker *d, const char *id, struct json_object **out,
                           struct sb_err *err)
{
	_cleanup_free_ char *e = docker_escape(id, false);
	_cleanup_free_ char *path = xasprintf("/networks/%s", e);

	return docker_call(d, "GET", path, NULL, out, err);
}

int docker_network_remove(struct docker *d, const char *id, struct sb_err *err)
{
	_cleanup_free_ char *e = docker_escape(id, false);
	_cleanup_free_ char *path = xasprintf("/networks/%s", e);
	struct sb_err tmp = SB_ERR_INIT;
	int r = api_gone_ok(d, docker_call(d, "DELETE", path, NULL, NULL, &tmp));

	if (r < 0)
		*err = tmp;
	return r;
}

int docker_volume_create(struct docker *d, const char *name, struct json_object *labels,
                         struct sb_err *err)
{
	_cleanup_json_ struct json_object *body = json_object_new_object();

	json_object_object_add(body, "Name", json_object_new_string(name));
	json_object_object_add(body, "Driver", json_object_new_string("local"));
	if (labels)
		json_object_object_add(body, "Labels", json_object_get(labels));
	return docker_call(d, "POST", "/volumes/create", body, NULL, err);
}

int docker_volume_list(struct docker *d, const char *const *labels, size_t n_labels,
                       struct json_object **out, struct sb_err *err)
{
	_cleanup_free_ char *path = api_list_path("/volumes", "?", labels, n_labels);
	_cleanup_json_ struct json_object *reply = NULL;
	struct json_object *v;
	int r;

	*out = NULL;
	r = docker_call(d, "GET", path, NULL, &reply, err);
	if (r < 0)
		return r;
	v = api_get(reply, "Volumes", NULL);
	*out = v && json_object_is_type(v, json_type_array) ? json_object_get(v)
	                                                    : json_object_new_array();
	return 0;
}

int docker_volume_inspect(struct docker *d, const char *name, struct json_object **out,
                          struct sb_err *err)
{
	_cleanup_free_ char *e = docker_escape(name, false);
	_cleanup_free_ char *path = xasprintf("/volumes/%s", e);

	return docker_call(d, "GET", path, NULL, out, err);
}

int docker_volume_remove(struct docker *d, const char *name, struct sb_err *err)
{
	_cleanup_free_ char *e = docker_escape(name, false);
	_cleanup_free_ char *path = xasprintf("/volumes/%s", e);
	struct sb_err tmp = SB_ERR_INIT;
	int r = api_gone_ok(d, docker_call(d, "DELETE", path, NULL, NULL, &tmp));

	if (r < 0)
		*err = tmp;
	return r;
}

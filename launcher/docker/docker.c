/* SPDX-License-Identifier: MIT */
/*
 * docker.c - the transport: one libcurl easy handle on the daemon's Unix
 * socket, URLs "http://localhost/v<version><path>", JSON bodies in and out,
 * streamed bodies. (The pure parts are in docker_pure.c; docker_escape
 * and the JSON message stream parser in docker_api.c.)
 */
#include "docker.h"

#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>

#ifndef SLURMBOX_VERSION
#define SLURMBOX_VERSION "dev"
#endif

#define DOCKER_CONNECT_TIMEOUT_MS 10000L
#define DOCKER_IDLE_TIMEOUT_S     300
#define DOCKER_ERRBODY_MAX        (64 * 1024)
#define DOCKER_FIX_HINT \
	"Is dockerd running? Start it (systemctl start docker) or set DOCKER_HOST=unix:///path"

struct docker {
	CURL *curl;
	char *socket;
	char version[16];
	char server_version[64]; /* from /version, by docker_version_check */
	long last_status;
	int idle_timeout_s;
	bool abort_ignored; /* docker_abort_ignore: this handle's requests go through */
	char errbuf[CURL_ERROR_SIZE];
};

/* One transfer's state, shared by the curl callbacks. */
struct xfer {
	struct docker *d;
	const struct docker_req *req;
	size_t body_off;
	struct sb_buf *resp;   /* 2xx body when there is no data_fn */
	struct sb_buf errbody; /* the body of an error response */
	bool status_known;
	long status;
	int data_ret;      /* data_fn failed */
	int body_ret;      /* body_fn failed */
	char *api_version; /* if set, the Api-Version header goes here (16 bytes) */
};

static pthread_once_t docker_curl_once = PTHREAD_ONCE_INIT;

static void docker_curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- connection ---- */

const char *docker_server_version(const struct docker *d)
{
	return d->server_version;
}

const char *docker_api_version(const struct docker *d)
{
	return d->version;
}

const char *docker_socket_path(const struct docker *d)
{
	return d->socket;
}

long docker_last_status(const struct docker *d)
{
	return d->last_status;
}

int docker_set_timeout(struct docker *d, int idle_seconds)
{
	int old = d->idle_timeout_s;

	d->idle_timeout_s = idle_seconds < 0 ? 0 : idle_seconds;
	return old;
}

static struct docker *docker_new(const char *socket, const char *version)
{
	struct docker *d = xzalloc(sizeof(*d));

	pthread_once(&docker_curl_once, docker_curl_init);
	d->curl = curl_easy_init();
	if (!d->curl)
		sb_oom();
	d->socket = xstrdup(socket);
	snprintf(d->version, sizeof(d->version), "%s", version);
	d->idle_timeout_s = DOCKER_IDLE_TIMEOUT_S;
	return d;
}

struct docker *docker_dup(const struct docker *d)
{
	struct docker *n = docker_new(d->socket, d->version);

	n->idle_timeout_s = d->idle_timeout_s;
	return n;
}

void docker_free(struct docker *d)
{
	if (!d)
		return;
	curl_easy_cleanup(d->curl);
	free(d->socket);
	free(d);
}

/* ---- one transfer ---- */

static size_t xfer_write(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;

	if (!x->status_known) {
		curl_easy_getinfo(x->d->curl, CURLINFO_RESPONSE_CODE, &x->status);
		x->status_known = true;
	}
	if (x->status >= 300 && x->status != 304) {
		if (x->errbody.len < DOCKER_ERRBODY_MAX)
			sb_buf_add(&x->errbody, p, len);
		return len;
	}
	if (x->req->data_fn) {
		int r = x->req->data_fn(p, len, x->req->data_arg);
		if (r < 0) {
			x->data_ret = r;
			return 0;
		}
	} else if (x->resp) {
		sb_buf_add(x->resp, p, len);
	}
	return len;
}

static size_t xfer_read(char *buf, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;

	if (x->req->body_fn) {
		ssize_t r = x->req->body_fn(x->req->body_arg, buf, len);
		if (r < 0) {
			x->body_ret = (int)r;
			return CURL_READFUNC_ABORT;
		}
		return (size_t)r;
	}
	if (len > x->req->body_len - x->body_off)
		len = x->req->body_len - x->body_off;
	memcpy(buf, (const char *)x->req->body + x->body_off, len);
	x->body_off += len;
	return len;
}

static size_t xfer_header(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;
	static const char name[] = "api-version:";

	if (x->api_version && len > sizeof(name) && !strncasecmp(p, name, sizeof(name) - 1)) {
		const char *v = p + sizeof(name) - 1;
		size_t vl = len - (sizeof(name) - 1);

		while (vl && isspace((unsigned char)*v))
			v++, vl--;
		while (vl && isspace((unsigned char)v[vl - 1]))
			vl--;
		snprintf(x->api_version, 16, "%.*s", (int)(vl < 15 ? vl : 15), v);
	}
	return len;
}

/* A failed connect: name the socket and the fix. */
static int docker_connect_error(struct docker *d, CURLcode rc, struct sb_err *err)
{
	long os_errno = 0;
	struct stat st;

	curl_easy_getinfo(d->curl, CURLINFO_OS_ERRNO, &os_errno);
	if (stat(d->socket, &st) < 0 && errno == ENOENT)
		os_errno = ENOENT;
	if (os_errno == ENOENT)
		return sb_err_set(
		    err, ECONNREFUSED,
		    "Cannot reach the Docker daemon at %s: no such file. " DOCKER_FIX_HINT,
		    d->socket);
	if (os_errno == EACCES || os_errno == EPERM)
		return sb_err_set(
		    err, EACCES,
		    "Permission denied on the Docker socket %s: run slurmbox as root "
		    "(sudo), or add your user to the docker group (usermod -aG docker "
		    "$USER, then log in again)",
		    d->socket);
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return sb_err_set(
		    err, ETIMEDOUT,
		    "The Docker daemon at %s did not accept a connection within %ld s. "
		    "Is dockerd stuck? Check `systemctl status docker`",
		    d->socket, DOCKER_CONNECT_TIMEOUT_MS / 1000);
	return sb_err_set(err, ECONNREFUSED,
	                  "Cannot reach the Docker daemon at %s: %s. " DOCKER_FIX_HINT, d->socket,
	                  os_errno ? strerror((int)os_errno) : curl_easy_strerror(rc));
}

/* HTTP >= 300: Docker's {"message"} (or the text) with a mapped errno. */
static int docker_http_error(long status, const char *method, const char *path, struct sb_buf *body,
                             struct sb_err *err)
{
	struct json_object *j = NULL, *m;
	int code = status == 404   ? ENOENT
	           : status == 409 ? EEXIST
	           : status == 400 ? EINVAL
	           : status == 403 ? EPERM
	                           : EIO;
	int r;

	if (body->len)
		j = json_tokener_parse(body->data);
	if (j && json_object_object_get_ex(j, "message", &m) && json_object_get_string_len(m)) {
		r = sb_err_set(err, code, "%s", json_object_get_string(m));
	} else if (body->len) {
		size_t n = body->len;

		while (n && isspace((unsigned char)body->data[n - 1]))
			n--;
		r = sb_err_set(err, code, "Docker %s %s: HTTP %ld: %.*s", method, path, status,
		               (int)(n > 400 ? 400 : n), body->data);
	} else {
		r = sb_err_set(err, code, "Docker %s %s: HTTP %ld", method, path, status);
	}
	json_object_put(j);
	return r;
}

/* Perform one request; versioned: prefix the path with /v<version>. */

static volatile sig_atomic_t *docker_abort_flag;

void docker_abort_watch(volatile sig_atomic_t *flag)
{
	docker_abort_flag = flag;
}

bool docker_aborted(void)
{
	volatile sig_atomic_t *f = docker_abort_flag;

	return f && *f;
}

void docker_abort_ignore(struct docker *d)
{
	d->abort_ignored = true;
}

static bool handle_aborted(const struct docker *d)
{
	return !d->abort_ignored && docker_aborted();
}

/* libcurl calls this about once a second, and on every chunk: a way out. */
static int xfer_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                         curl_off_t ulnow)
{
	const struct xfer *x = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return handle_aborted(x->d) ? 1 : 0;
}

/*
 * libcurl's own socket() lacks SOCK_CLOEXEC, and the connection stays open
 * between requests: every program slurmbox starts (ssh, debootstrap) would
 * hold the Docker socket, root's equivalent, for as long as it runs.
 */
static curl_socket_t docker_socket_open(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	(void)arg;
	(void)purpose;
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

void docker_curl_socket_set(void *curl, const char *path)
{
	curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, path);
	curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, docker_socket_open);
}

static int docker_perform(struct docker *d, const struct docker_req *req, bool versioned,
                          struct sb_buf *resp, char *api_version, struct sb_err *err)
{
	struct xfer x = {.d = d, .req = req, .resp = resp, .api_version = api_version};
	bool has_body = req->body || req->body_fn;
	curl_off_t size = req->body_fn ? -1 : (curl_off_t)req->body_len;
	struct curl_slist *hdr = NULL;
	_cleanup_free_ char *url = NULL;
	_cleanup_free_ char *ctype = NULL;
	curl_off_t pretransfer = 0;
	CURL *c = d->curl;
	CURLcode rc;
	int r = 0;

	url = versioned ? xasprintf("http://localhost/v%s%s", d->version, req->path)
	                : xasprintf("http://localhost%s", req->path);
	curl_easy_reset(c);
	docker_curl_socket_set(c, d->socket);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "slurmbox/" SLURMBOX_VERSION);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, d->errbuf);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, DOCKER_CONNECT_TIMEOUT_MS);
	if (!req->no_timeout && d->idle_timeout_s > 0) {
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)d->idle_timeout_s);
	}
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, xfer_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, &x);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, xfer_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, xfer_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, xfer_read);
	curl_easy_setopt(c, CURLOPT_READDATA, &x);

	if (!strcmp(req->method, "HEAD")) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(req->method, "PUT")) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, has_body ? size : (curl_off_t)0);
	} else if (!strcmp(req->method, "POST") || has_body) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, has_body ? size : (curl_off_t)0);
		if (strcmp(req->method, "POST"))
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	} else if (strcmp(req->method, "GET")) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	}
	if (req->content_type || has_body || !strcmp(req->method, "POST")) {
		ctype = xasprintf("Content-Type: %s",
		                  req->content_type ? req->content_type : "application/json");
		hdr = curl_slist_append(hdr, ctype);
	}
	hdr = curl_slist_append(hdr, "Expect:");
	if (!hdr)
		sb_oom();
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);

	d->errbuf[0] = '\0';
	if (handle_aborted(d)) {
		curl_slist_free_all(hdr);
		return sb_err_set(err, EINTR, "Interrupted");
	}
	rc = curl_easy_perform(c);
	curl_slist_free_all(hdr);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &d->last_status);
	curl_easy_getinfo(c, CURLINFO_PRETRANSFER_TIME_T, &pretransfer); /* 0: never connected */

	if (rc == CURLE_WRITE_ERROR && x.data_ret < 0)
		r = sb_err_set(err, -x.data_ret, "Docker %s %s: reading the reply failed: %s",
		               req->method, req->path, strerror(-x.data_ret));
	else if (rc == CURLE_ABORTED_BY_CALLBACK && x.body_ret >= 0 && handle_aborted(d))
		r = sb_err_set(err, EINTR, "Interrupted during Docker %s %s", req->method,
		               req->path);
	else if (rc == CURLE_ABORTED_BY_CALLBACK && x.body_ret < 0)
		r = sb_err_set(err, -x.body_ret,
		               "Docker %s %s: reading the request body failed: %s", req->method,
		               req->path, strerror(-x.body_ret));
	else if (d->last_status >= 300 && d->last_status != 304) /* even if the upload broke off */
		r = docker_http_error(d->last_status, req->method, req->path, &x.errbody, err);
	else if (rc == CURLE_COULDNT_CONNECT || (rc == CURLE_OPERATION_TIMEDOUT && !pretransfer))
		r = docker_connect_error(d, rc, err);
	else if (rc == CURLE_OPERATION_TIMEDOUT)
		r = sb_err_set(err, ETIMEDOUT,
		               "Docker %s %s: the daemon at %s made no progress for %d s",
		               req->method, req->path, d->socket, d->idle_timeout_s);
	else if (rc != CURLE_OK)
		r = sb_err_set(err, EIO, "Docker %s %s on %s failed: %s", req->method, req->path,
		               d->socket, d->errbuf[0] ? d->errbuf : curl_easy_strerror(rc));
	sb_buf_free(&x.errbody);
	return r;
}

int docker_request(struct docker *d, const struct docker_req *req, struct sb_buf *resp,
                   struct sb_err *err)
{
	return docker_perform(d, req, true, resp, NULL, err);
}

static int docker_parse_reply(const char *method, const char *path, struct sb_buf *b,
                              struct json_object **out, struct sb_err *err)
{
	enum json_tokener_error je;
	const char *p = b->data ? b->data : "";

	*out = NULL;
	while (isspace((unsigned char)*p))
		p++;
	if (!*p)
		return 0;
	*out = json_tokener_parse_verbose(p, &je);
	if (!*out)
		return sb_err_set(err, EPROTO, "Docker %s %s: the reply is not JSON (%s): %.200s",
		                  method, path, json_tokener_error_desc(je), p);
	return 0;
}

int docker_call(struct docker *d, const char *method, const char *path, struct json_object *body,
                struct json_object **out, struct sb_err *err)
{
	struct docker_req req = {.method = method, .path = path};
	_cleanup_buf_ struct sb_buf resp = SB_BUF_INIT;
	int r;

	if (out)
		*out = NULL;
	if (body) {
		req.body = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
		                                                    JSON_C_TO_STRING_NOSLASHESCAPE);
		req.body_len = strlen(req.body);
		req.content_type = "application/json";
	}
	r = docker_perform(d, &req, true, &resp, NULL, err);
	if (r < 0 || !out)
		return r;
	return docker_parse_reply(method, path, &resp, out, err);
}

/* docker_stream's response sink: the JSON parser and its first error. */
struct docker_streamctx {
	struct docker_jsonstream js;
	struct sb_err err;
	bool failed;
};

static int docker_stream_data(const char *buf, size_t len, void *arg)
{
	struct docker_streamctx *s = arg;
	int r = docker_jsonstream_feed(&s->js, buf, len, &s->err);

	if (r < 0)
		s->failed = true;
	return r;
}

int docker_stream(struct docker *d, const char *method, const char *path, const char *content_type,
                  docker_read_fn body_fn, void *body_arg, docker_msg_fn msg_fn, void *msg_arg,
                  struct sb_err *err)
{
	struct docker_streamctx s = {.err = SB_ERR_INIT};
	struct docker_req req = {
	    .method = method,
	    .path = path,
	    .content_type = body_fn ? content_type : NULL,
	    .body_fn = body_fn,
	    .body_arg = body_arg,
	    .data_fn = docker_stream_data,
	    .data_arg = &s,
	    .no_timeout = true,
	};
	int r;

	docker_jsonstream_init(&s.js, msg_fn, msg_arg);
	r = docker_perform(d, &req, true, NULL, NULL, err);
	if (s.failed) {
		*err = s.err;
		r = -s.err.code;
	} else if (r == 0) {
		r = docker_jsonstream_end(&s.js, err);
	}
	docker_jsonstream_release(&s.js);
	return r;
}

int docker_get_raw(struct docker *d, const char *path, docker_data_fn data_fn, void *arg,
                   struct sb_err *err)
{
	struct docker_req req = {
	    .method = "GET", .path = path, .data_fn = data_fn, .data_arg = arg};

	return docker_perform(d, &req, true, NULL, NULL, err);
}

/* ---- open ---- */

static int docker_ping(struct docker *d, char *api_version, bool *have, struct sb_err *err)
{
	struct docker_req req = {.method = "HEAD", .path = "/_ping"};
	int r;

	api_version[0] = '\0';
	r = docker_perform(d, &req, false, NULL, api_version, err);
	if (r < 0 && d->last_status >= 400) {
		/* Old daemons without HEAD: fall back to GET, as the Docker CLI does. */
		req.method = "GET";
		r = docker_perform(d, &req, false, NULL, api_version, err);
	}
	*have = api_version[0] != '\0';
	return r;
}

int docker_open(const char *host, struct docker **out, struct sb_err *err)
{
	_cleanup_docker_ struct docker *d = NULL;
	char path[128], server[16];
	bool have;
	int r;

	*out = NULL;
	if (!host)
		host = getenv("DOCKER_HOST");
	r = docker_host_parse(host, path, sizeof(path), err);
	if (r < 0)
		return r;
	d = docker_new(path, DOCKER_API_MAX);
	r = docker_ping(d, server, &have, err);
	if (r < 0)
		return r;
	r = docker_api_negotiate(have ? server : NULL, NULL, d->version, err);
	if (r < 0)
		return r;
	*out = steal_ptr(&d);
	return 0;
}

int docker_version_check(struct docker *d, struct sb_err *err)
{
	struct json_object *ver = NULL, *v;
	const char *server_min = NULL, *server_max = NULL;
	char version[sizeof(d->version)];
	int r;

	/* /version tells the oldest API the daemon still accepts. */
	r = docker_call(d, "GET", "/version", NULL, &ver, err);
	if (r < 0) {
		char inner[sizeof(err->msg)];

		memcpy(inner, err->msg, sizeof(inner));
		return sb_err_set(err, err->code, "Docker daemon at %s refused API %s: %s",
		                  d->socket, d->version, inner);
	}
	if (json_object_object_get_ex(ver, "ApiVersion", &v))
		server_max = json_object_get_string(v);
	if (json_object_object_get_ex(ver, "MinAPIVersion", &v))
		server_min = json_object_get_string(v);
	if (json_object_object_get_ex(ver, "Version", &v) &&
	    json_object_is_type(v, json_type_string))
		snprintf(d->server_version, sizeof(d->server_version), "%s",
		         json_object_get_string(v));
	r = docker_api_negotiate(server_max, server_min, version, err);
	json_object_put(ver);
	if (r < 0)
		return r;
	memcpy(d->version, version, sizeof(version));
	return 0;
}

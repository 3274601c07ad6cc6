/* SPDX-License-Identifier: MIT */
/*
 * docker - a Docker Engine API client over the Unix socket (libcurl + json-c).
 *
 * One `struct docker` is one connection's worth of state (a curl easy handle,
 * the socket path, the negotiated API version). It is not thread-safe; use
 * docker_dup() to get another for a thread.
 *
 * Errors: HTTP >= 400 becomes a negative errno with Docker's {"message"}
 * in err->msg: 404 -ENOENT, 409 -EEXIST, 400 -EINVAL, 403 -EPERM, 304 is
 * success, anything else -EIO. Transport errors name the socket and the fix.
 */
#ifndef SLURMBOX_DOCKER_H
#define SLURMBOX_DOCKER_H

#include "../../compose/base.h"
#include <json-c/json.h>
#include <signal.h>
#include <sys/types.h>

/* The newest API version slurmbox speaks; negotiated down to the daemon's. */
#define DOCKER_API_MAX "1.45"
/* The oldest it accepts (Debian's 20.10 speaks 1.41). */
#define DOCKER_API_MIN "1.40"

struct docker;

/*
 * Connect to the daemon: `host` is a DOCKER_HOST value ("unix:///path") or
 * NULL for $DOCKER_HOST, else unix:///var/run/docker.sock. Pings it and
 * negotiates the API version. Fails with a fix hint on a missing socket,
 * "permission denied", or an unsupported API version.
 */
int docker_open(const char *host, struct docker **out, struct sb_err *err);
/*
 * Check the negotiated version against the daemon's /version (its
 * MinAPIVersion), for commands that are about to change things. docker_open
 * alone only pings, so that `exec` costs one request less.
 */
int docker_version_check(struct docker *d, struct sb_err *err);
/* The daemon's version ("26.1.5+dfsg1") once docker_version_check read it, else "". */
const char *docker_server_version(const struct docker *d);
/* Another connection to the same daemon, same version; for another thread. */
struct docker *docker_dup(const struct docker *d);
void docker_free(struct docker *d);
static inline void docker_freep(struct docker **d)
{
	docker_free(*d);
}
#define _cleanup_docker_ _cleanup_(docker_freep)

/*
 * Interruption (process-wide): while *flag is non-zero, every request fails
 * at once, and transfers and execs under way stop, with -EINTR. NULL: never.
 */
void docker_abort_watch(volatile sig_atomic_t *flag);
bool docker_aborted(void);
/*
 * From now on d's requests go through an interrupt: what a rollback removes
 * must be removed. Only this handle; the process's flag stays as it is.
 */
void docker_abort_ignore(struct docker *d);

const char *docker_api_version(const struct docker *d);
const char *docker_socket_path(const struct docker *d);
/*
 * Point a libcurl easy handle (a CURL *) at the daemon's Unix socket, which
 * it then opens O_CLOEXEC: no program slurmbox starts holds the connection.
 */
void docker_curl_socket_set(void *curl, const char *path);

/*
 * Pure: the socket path of a DOCKER_HOST value ("unix:///run/docker.sock")
 * into path[size]. tcp://, ssh:// and other schemes are refused with a hint.
 */
int docker_host_parse(const char *host, char *path, size_t size, struct sb_err *err);

/*
 * How long a request may go without any progress before it fails with
 * -ETIMEDOUT (default 300 s; 0: no limit). Streams (docker_stream, logs -f)
 * are never bounded. Returns the previous value.
 */
int docker_set_timeout(struct docker *d, int idle_seconds);

/*
 * Pure: the version to speak, min(DOCKER_API_MAX, server_max); refuses when it
 * is below server_min or below DOCKER_API_MIN. server_max NULL means "1.24"
 * (no Api-Version header). out holds at least 16 bytes.
 */
int docker_api_negotiate(const char *server_max, const char *server_min, char *out,
                         struct sb_err *err);
/* Pure: compare "1.41" and "1.44" numerically (<0, 0, >0). */
int docker_api_compare(const char *a, const char *b);

/*
 * A JSON request. `path` excludes the version prefix ("/containers/json?all=1").
 * `body` (may be NULL) is sent as application/json. *out (may be NULL) gets
 * the parsed response, or NULL for an empty body. Returns 0 for 2xx and 304.
 */
int docker_call(struct docker *d, const char *method, const char *path, struct json_object *body,
                struct json_object **out, struct sb_err *err);
/* The HTTP status of the last call on this handle. */
long docker_last_status(const struct docker *d);

/* Source of a streamed request body: returns bytes written to buf, 0 at EOF, <0 on error. */
typedef ssize_t (*docker_read_fn)(void *arg, char *buf, size_t len);
/* One object of a streamed JSON response (build, pull, import, load). Return <0 to abort. */
typedef int (*docker_msg_fn)(struct json_object *msg, void *arg, struct sb_err *err);
/* Raw bytes of a response body. Return <0 to abort. */
typedef int (*docker_data_fn)(const char *buf, size_t len, void *arg);

/*
 * A request whose body is streamed (chunked) from `body_fn` with the given
 * content type (NULL body_fn: no body), and whose response is a stream of
 * JSON objects. Every object is checked for "error"/"errorDetail": the first
 * one fails the call with that message. `msg_fn` may be NULL.
 */
int docker_stream(struct docker *d, const char *method, const char *path, const char *content_type,
                  docker_read_fn body_fn, void *body_arg, docker_msg_fn msg_fn, void *msg_arg,
                  struct sb_err *err);

/* A GET whose raw response body goes to data_fn (image save, archive get). */
int docker_get_raw(struct docker *d, const char *path, docker_data_fn data_fn, void *arg,
                   struct sb_err *err);

/*
 * The general request behind docker_call, docker_stream and docker_get_raw.
 * The body is either in memory (body, body_len) or streamed chunked from
 * body_fn; both NULL: none. A 2xx/304 response body goes to data_fn, or is
 * collected into *resp when data_fn is NULL (resp may be NULL). Errors
 * (HTTP >= 400, transport) are mapped as for docker_call.
 */
struct docker_req {
	const char *method; /* "GET", "POST", "PUT", "DELETE", "HEAD" */
	const char *path;   /* without the version prefix */
	const char *content_type;
	const void *body;
	size_t body_len;
	docker_read_fn body_fn;
	void *body_arg;
	docker_data_fn data_fn;
	void *data_arg;
	bool no_timeout; /* a stream that may stay silent for long (build, logs -f) */
};
int docker_request(struct docker *d, const struct docker_req *req, struct sb_buf *resp,
                   struct sb_err *err);

/* URL-encode a path segment or query value; keep_slash leaves '/' as is (image refs). Caller frees. */
char *docker_escape(const char *s, bool keep_slash);

/*
 * Pure: the incremental parser behind docker_stream. Feed any chunking of a
 * stream of concatenated JSON objects; each complete object is checked for
 * "error"/"errorDetail" (which fails the feed with Docker's message) and
 * otherwise handed to fn (may be NULL). end() fails if an object is cut off.
 */
struct docker_jsonstream {
	struct json_tokener *tok;
	docker_msg_fn fn;
	void *arg;
	bool partial; /* bytes of an unfinished object are pending */
	size_t count; /* objects parsed */
};
void docker_jsonstream_init(struct docker_jsonstream *js, docker_msg_fn fn, void *arg);
int docker_jsonstream_feed(struct docker_jsonstream *js, const char *buf, size_t len,
                           struct sb_err *err);
int docker_jsonstream_end(struct docker_jsonstream *js, struct sb_err *err);
void docker_jsonstream_release(struct docker_jsonstream *js);

/*
 * Pure: demultiplex Docker's 8-byte-header stream framing incrementally.
 * Feed any chunking of the stream; payload bytes are delivered to
 * `fn(stream, payload, len, arg)` as they arrive, so a frame cut across
 * feeds comes in several pieces (stream 0 stdin echo, 1 stdout, 2 stderr,
 * 3 systemerr). Empty frames are skipped. A header with an unknown stream
 * type gives -EPROTO; fn's negative return is passed back.
 */
struct docker_demux {
	unsigned char hdr[8];
	size_t hdr_len;
	uint32_t remaining;
	int stream;
};
typedef int (*docker_frame_fn)(int stream, const char *buf, size_t len, void *arg);
int docker_demux_feed(struct docker_demux *dm, const char *buf, size_t len, docker_frame_fn fn,
                      void *arg);

/* Pure: URL-encoded JSON filters, e.g. {"label":["io.slurmbox.cluster=x"]}. Caller frees. */
char *docker_filters_label(const char *const *labels, size_t n);

#endif

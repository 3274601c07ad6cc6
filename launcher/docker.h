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

#include "../compose/base.h"
#include <json-c/json.h>
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
/* Another connection to the same daemon, same version; for another thread. */
struct docker *docker_dup(const struct docker *d);
void docker_free(struct docker *d);
static inline void docker_freep(struct docker **d)
{
	docker_free(*d);
}
#define _cleanup_docker_ _cleanup_(docker_freep)

const char *docker_api_version(const struct docker *d);
const char *docker_socket_path(const struct docker *d);

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
 * Pure: demultiplex Docker's 8-byte-header stream framing incrementally.
 * Feed any chunking of the stream; complete frames are delivered to
 * `fn(stream, payload, len, arg)` (stream 1 stdout, 2 stderr, 3 systemerr).
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

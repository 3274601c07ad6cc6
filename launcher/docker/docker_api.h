/* SPDX-License-Identifier: MIT */
/*
 * docker_api - typed calls on top of docker_call/docker_stream, and exec.
 * Same error convention as docker.h: -ENOENT for "no such ...".
 */
#ifndef SLURMBOX_DOCKER_API_H
#define SLURMBOX_DOCKER_API_H

#include "docker.h"

struct docker_info {
	unsigned ncpus;
	uint64_t mem_bytes;
	char arch[32];           /* "x86_64", "aarch64" */
	char server_version[64]; /* "20.10.24+dfsg1" */
	char os_type[16];        /* "linux" */
	char name[256];          /* daemon host name */
};

int docker_info_get(struct docker *d, struct docker_info *out, struct sb_err *err);

/* ---- images ---- */

/* *exists false on 404. */
int docker_image_exists(struct docker *d, const char *ref, bool *exists, struct sb_err *err);
/* POST /images/create?fromImage=...; progress objects go to msg_fn (may be NULL). */
int docker_image_pull(struct docker *d, const char *ref, docker_msg_fn msg_fn, void *arg,
                      struct sb_err *err);
/* POST /images/create?fromSrc=-&repo=&tag=; body is a tar from body_fn. `changes` are Dockerfile lines (may be NULL). */
int docker_image_import(struct docker *d, const char *repo, const char *tag, const char *platform,
                        const char *const *changes, size_t n_changes, docker_read_fn body_fn,
                        void *body_arg, struct sb_err *err);
/*
 * POST /build?t=tag&rm=1&version=1 with a tar context; "stream" lines go to
 * msg_fn. The image has its FROM image's platform: no platform is asked for
 * (20.10's builder then commits a LABEL step as its own platform and stops).
 */
int docker_image_build(struct docker *d, const char *tag, const char *dockerfile,
                       docker_read_fn body_fn, void *body_arg, docker_msg_fn msg_fn, void *arg,
                       struct sb_err *err);
/* GET /images/{ref}/get: the image as a tar, to data_fn. */
int docker_image_save(struct docker *d, const char *ref, docker_data_fn data_fn, void *arg,
                      struct sb_err *err);
/* POST /images/load?quiet=1 with a tar body. */
int docker_image_load(struct docker *d, docker_read_fn body_fn, void *body_arg, struct sb_err *err);
int docker_image_remove(struct docker *d, const char *ref, struct sb_err *err);

/* ---- containers ---- */

/* POST /containers/create?name=; *id (may be NULL) gets the new id, caller frees. */
int docker_container_create(struct docker *d, const char *name, struct json_object *body, char **id,
                            struct sb_err *err);
int docker_container_start(struct docker *d, const char *id, struct sb_err *err);
int docker_container_stop(struct docker *d, const char *id, int timeout_sec, struct sb_err *err);
int docker_container_kill(struct docker *d, const char *id, const char *signal, struct sb_err *err);
/* DELETE ?force=1&v=1; 404 is success (already gone). */
int docker_container_remove(struct docker *d, const char *id, struct sb_err *err);
int docker_container_inspect(struct docker *d, const char *id, struct json_object **out,
                             struct sb_err *err);
/* GET /containers/json?all=1&filters=label...; *out is a JSON array, caller puts. */
int docker_container_list(struct docker *d, const char *const *labels, size_t n_labels,
                          struct json_object **out, struct sb_err *err);
/* PUT /containers/{id}/archive?path=dir with a tar held in memory. */
int docker_container_put_archive(struct docker *d, const char *id, const char *dir, const void *tar,
                                 size_t len, struct sb_err *err);
/* GET /containers/{id}/logs?stdout=1&stderr=1[&follow=1][&tail=N]: demuxed (or raw for TTY containers) to the fds. tail < 0: all. */
int docker_container_logs(struct docker *d, const char *id, bool follow, int tail, int out_fd,
                          int err_fd, struct sb_err *err);

/* ---- networks and volumes ---- */

int docker_network_create(struct docker *d, struct json_object *body, char **id,
                          struct sb_err *err);
int docker_network_list(struct docker *d, const char *const *labels, size_t n_labels,
                        struct json_object **out, struct sb_err *err);
int docker_network_inspect(struct docker *d, const char *id, struct json_object **out,
                           struct sb_err *err);
/* 404 is success. */
int docker_network_remove(struct docker *d, const char *id, struct sb_err *err);

/* `labels` is a JSON object of label -> value (ownership stays with the caller). */
int docker_volume_create(struct docker *d, const char *name, struct json_object *labels,
                         struct sb_err *err);
/* *out is the "Volumes" array (possibly empty), caller puts. */
int docker_volume_list(struct docker *d, const char *const *labels, size_t n_labels,
                       struct json_object **out, struct sb_err *err);
int docker_volume_inspect(struct docker *d, const char *name, struct json_object **out,
                          struct sb_err *err);
/* 404 is success. */
int docker_volume_remove(struct docker *d, const char *name, struct sb_err *err);

/* ---- exec ---- */

struct docker_exec_opts {
	const char *const *argv; /* NULL-terminated; passed verbatim, never through a shell */
	const char *user;        /* NULL: the image's user */
	const char *workdir;     /* NULL: the image's */
	const char *const *env;  /* NULL-terminated "K=V" or NULL */
	bool tty;   /* allocate a TTY; in_fd is then put in raw mode if it is a terminal */
	int in_fd;  /* -1: no stdin; else copied until EOF, then write side shut */
	int out_fd; /* -1: discard, unless out_buf */
	int err_fd; /* -1: discard, unless err_buf */
	struct sb_buf *out_buf; /* if set, stdout is collected here instead */
	struct sb_buf *err_buf;
	int timeout_ms; /* 0: none; else the exec is abandoned with -ETIMEDOUT */
};

/*
 * Run a command in a running container over the hijacked connection and
 * return its exit code in *exit_code (read from /exec/{id}/json at once).
 * With tty: raw bytes and SIGWINCH resizes; without: 8-byte framing,
 * stdout and stderr kept apart.
 */
int docker_exec(struct docker *d, const char *container, const struct docker_exec_opts *o,
                int *exit_code, struct sb_err *err);
/*
 * docker_exec with no TTY, stdin from in_fd (-1: none), stdout into out and
 * stderr into err_out (either NULL: discarded): what a check or a wait runs.
 */
int docker_exec_capture(struct docker *d, const char *container, const char *const *argv, int in_fd,
                        struct sb_buf *out, struct sb_buf *err_out, int *exit_code, int timeout_ms,
                        struct sb_err *err);

#endif

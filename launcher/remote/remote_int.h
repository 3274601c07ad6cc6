/* SPDX-License-Identifier: MIT */
/* remote_int.h - the two ways to reach a host (remote.h): in-process and over ssh. */
#ifndef SLURMBOX_REMOTE_INT_H
#define SLURMBOX_REMOTE_INT_H

#include "../host/ops.h"
#include "../util/ctx.h"

struct sb_buf;

struct remote_ops {
	int (*facts)(const char *dest, const struct host_facts_req *r, struct json_object **out,
	             char **path, struct sb_err *err);
	int (*probe)(const char *dest, const struct host_probe_req *r, struct json_object **out,
	             struct sb_err *err);
	int (*apply)(const char *dest, const struct sb_ctx *ctx, const struct host_apply_req *r,
	             struct json_object **report, struct sb_err *err);
	int (*undo)(const char *dest, const char *cluster, struct json_object *report,
	            struct sb_err *err);
	int (*wait)(const char *dest, const struct sb_ctx *ctx, const struct spec_doc *doc,
	            unsigned timeout_sec, struct sb_err *err);
	int (*down)(const char *dest, const struct sb_ctx *ctx, const char *cluster, bool purge,
	            bool keep_key, struct json_object **out, struct sb_err *err);
	int (*check)(const char *dest, const char *cluster, const char *cred,
	             struct json_object **out, struct sb_err *err);
	int (*images_build)(const char *dest, const struct sb_ctx *ctx, const char *image_base,
	                    struct sb_err *err);
	int (*node_capture)(const char *dest, const char *cluster, const char *node,
	                    const char *const *argv, int timeout_ms, struct sb_buf *out,
	                    int *status, struct sb_err *err);
	int (*file_put)(const char *dest, const char *path, const char *text, struct sb_err *err);
	int (*file_get)(const char *dest, const char *path, struct sb_buf *out, struct sb_err *err);
	void (*file_remove)(const char *dest, const char *path);
};

extern const struct remote_ops remote_local_ops, remote_ssh_ops;

/* remote_node_run for a host over ssh (this machine's nodes are run by cli/ itself). */
int remote_ssh_node_run(const char *dest, const char *cluster, char *const *argv, bool tty,
                        int *status, struct sb_err *err);

#endif

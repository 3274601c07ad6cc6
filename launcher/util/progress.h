/* SPDX-License-Identifier: MIT */
/* progress - one ✓ line per step with its time on a TTY, plain lines when piped. */
#ifndef SLURMBOX_UTIL_PROGRESS_H
#define SLURMBOX_UTIL_PROGRESS_H

#include "ctx.h"

struct util_step {
	const struct sb_ctx *ctx;
	char text[256];
	double t0;
};
double util_now(void);
void util_step_begin(struct util_step *s, const struct sb_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void util_step_end(struct util_step *s, const char *detail_fmt, ...)
    __attribute__((format(printf, 2, 3)));
void util_step_fail(struct util_step *s);
void util_info(const struct sb_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void util_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

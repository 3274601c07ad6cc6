/* SPDX-License-Identifier: MIT */
/* progress - one ✓ line per step with its time on a TTY, plain lines when piped. */
#ifndef SLURMBOX_UTIL_PROGRESS_H
#define SLURMBOX_UTIL_PROGRESS_H

#include "ctx.h"

struct cli_step {
	const struct cli_ctx *ctx;
	char text[256];
	double t0;
};
double cli_now(void);
void cli_step_begin(struct cli_step *s, const struct cli_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cli_step_end(struct cli_step *s, const char *detail_fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cli_step_fail(struct cli_step *s);
void cli_info(const struct cli_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

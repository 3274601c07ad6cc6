/* SPDX-License-Identifier: MIT */
/* progress.c - step lines, information and warnings on stderr. */
#include "progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

double util_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void util_step_begin(struct util_step *s, const struct sb_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	s->ctx = ctx;
	va_start(ap, fmt);
	vsnprintf(s->text, sizeof(s->text), fmt, ap);
	va_end(ap);
	s->t0 = util_now();
	if (ctx->stderr_tty && !ctx->quiet) {
		fprintf(stderr, "  … %s", s->text);
		fflush(stderr);
	}
}

void util_step_end(struct util_step *s, const char *detail_fmt, ...)
{
	char detail[256] = "";
	double dt = util_now() - s->t0;

	if (s->ctx->quiet)
		return;
	if (detail_fmt) {
		va_list ap;
		va_start(ap, detail_fmt);
		vsnprintf(detail, sizeof(detail), detail_fmt, ap);
		va_end(ap);
	}
	if (s->ctx->stderr_tty)
		fprintf(stderr, "\r\033[K  \033[32m✓\033[0m %s%s%s \033[2m(%.2fs)\033[0m\n",
		        s->text, *detail ? ": " : "", detail, dt);
	else
		fprintf(stderr, "slurmbox: %s%s%s (%.2fs)\n", s->text, *detail ? ": " : "", detail,
		        dt);
}

void util_step_fail(struct util_step *s)
{
	if (s->ctx->quiet)
		return;
	if (s->ctx->stderr_tty)
		fprintf(stderr, "\r\033[K  \033[31m✗\033[0m %s\n", s->text);
	else
		fprintf(stderr, "slurmbox: %s: failed\n", s->text);
}

void util_info(const struct sb_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (ctx && ctx->quiet)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void util_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("slurmbox: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

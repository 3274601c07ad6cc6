/* SPDX-License-Identifier: MIT */
/*
 * base.h - the one header every module shares: errors, allocation, cleanup,
 * a growable string buffer. Header-only, so it adds no link-time dependency.
 *
 * Error convention (crun's shape): a function that can fail returns int, 0 on
 * success and a negative value on failure, and takes `struct sb_err *err` as
 * its last parameter. On failure it fills *err and returns -err->code; on
 * success it leaves *err alone. main() prints the error once.
 */
#ifndef SLURMBOX_BASE_H
#define SLURMBOX_BASE_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Error codes are positive errno values, plus two of our own that select
 * the exit status: bad input (exit 2) and a partial result (exit 3).
 */
enum {
	SB_EINPUT = 10001,   /* bad usage or bad input: exit 2, nothing was changed */
	SB_EPARTIAL = 10002, /* done where reachable, something left: exit 3 */
};

struct sb_err {
	int code;
	char msg[2048];
};

#define SB_ERR_INIT       \
	{                 \
		0,        \
		{         \
			0 \
		}         \
	}

static inline int sb_err_vset(struct sb_err *err, int code, const char *fmt, va_list ap)
{
	if (code <= 0)
		code = EIO;
	err->code = code;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	return -code;
}

/* Fill *err and return -code: `return sb_err_set(err, EINVAL, "...", ...);` */
__attribute__((format(printf, 3, 4))) static inline int sb_err_set(struct sb_err *err, int code,
                                                                   const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = sb_err_vset(err, code, fmt, ap);
	va_end(ap);
	return ret;
}

/* Bad input: exit status 2. The message names the field, the value and the fix. */
__attribute__((format(printf, 2, 3))) static inline int sb_err_input(struct sb_err *err,
                                                                     const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = sb_err_vset(err, SB_EINPUT, fmt, ap);
	va_end(ap);
	return ret;
}

/* Prefix context: "outer: inner". Keeps the code. Returns -err->code. */
__attribute__((format(printf, 2, 3))) static inline int sb_err_wrap(struct sb_err *err,
                                                                    const char *fmt, ...)
{
	char inner[sizeof(err->msg)];
	size_t used, n;
	va_list ap;
	int r;

	memcpy(inner, err->msg, sizeof(inner));
	inner[sizeof(inner) - 1] = '\0';
	va_start(ap, fmt);
	r = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	used = r < 0 ? 0 : (size_t)r;
	if (used > sizeof(err->msg) - 1)
		used = sizeof(err->msg) - 1;
	/* append ": inner", truncated to fit */
	for (const char *p = ": "; *p && used < sizeof(err->msg) - 1; p++)
		err->msg[used++] = *p;
	n = strlen(inner);
	if (n > sizeof(err->msg) - 1 - used)
		n = sizeof(err->msg) - 1 - used;
	memcpy(err->msg + used, inner, n);
	err->msg[used + n] = '\0';
	if (err->code <= 0)
		err->code = EIO;
	return -err->code;
}

/* Exit status for an error code: 2 bad input, 3 partial, 1 anything else. */
static inline int sb_err_exit_status(const struct sb_err *err)
{
	if (err->code == SB_EINPUT)
		return 2;
	if (err->code == SB_EPARTIAL)
		return 3;
	return 1;
}

/* Allocation aborts on OOM, so callers never check. */
static inline void sb_oom(void)
{
	fputs("slurmbox: out of memory\n", stderr);
	abort();
}

static inline void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		sb_oom();
	return p;
}

static inline void *xzalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);
	if (!p)
		sb_oom();
	return p;
}

static inline void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (!p)
		sb_oom();
	return p;
}

static inline void *xrealloc(void *old, size_t n)
{
	void *p = realloc(old, n ? n : 1);
	if (!p)
		sb_oom();
	return p;
}

/* Grow an array of `size`-byte elements to hold at least `need`. */
static inline void *xreallocarray(void *old, size_t need, size_t size)
{
	if (size && need > SIZE_MAX / size)
		sb_oom();
	return xrealloc(old, need * size);
}

static inline char *xstrdup(const char *s)
{
	char *p;

	if (!s)
		return NULL;
	p = strdup(s);
	if (!p)
		sb_oom();
	return p;
}

static inline char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (!p)
		sb_oom();
	return p;
}

__attribute__((format(printf, 1, 2))) static inline char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (r < 0)
		sb_oom();
	return p;
}

/* Cleanup attributes (crun, lxc). Each free function accepts NULL. */
static inline void sb_freep(void *p)
{
	free(*(void **)p);
}

static inline void sb_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

static inline void sb_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

/* A string that held a secret (the munge key, its hex): wiped, then freed. */
static inline void sb_free_secret(char **p)
{
	if (*p) {
		explicit_bzero(*p, strlen(*p));
		free(*p);
		*p = NULL;
	}
}

/* s and a newline, copied once (s may be a secret: no growing buffer). */
static inline char *sb_strdup_line(const char *s)
{
	size_t n = strlen(s);
	char *p = xmalloc(n + 2);

	memcpy(p, s, n);
	p[n] = '\n';
	p[n + 1] = '\0';
	return p;
}

#define _cleanup_(f)     __attribute__((cleanup(f)))
#define _cleanup_free_   _cleanup_(sb_freep)
#define _cleanup_close_  _cleanup_(sb_closep)
#define _cleanup_fclose_ _cleanup_(sb_fclosep)
#define _cleanup_secret_ _cleanup_(sb_free_secret)

/* Hand ownership out of a cleanup variable (bubblewrap's steal_pointer). */
#define steal_ptr(pp)                         \
	({                                    \
		__typeof__(*(pp)) _p = *(pp); \
		*(pp) = NULL;                 \
		_p;                           \
	})

static inline int steal_fd(int *fd)
{
	int r = *fd;
	*fd = -1;
	return r;
}

/*
 * A growable, always NUL-terminated byte buffer, for rendering text and
 * collecting response bodies.
 */
struct sb_buf {
	char *data;
	size_t len;
	size_t cap;
};

#define SB_BUF_INIT        \
	{                  \
		NULL, 0, 0 \
	}

static inline void sb_buf_reserve(struct sb_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need <= b->cap)
		return;
	if (b->cap * 2 > need)
		need = b->cap * 2;
	if (need < 64)
		need = 64;
	b->data = xrealloc(b->data, need);
	b->cap = need;
}

static inline void sb_buf_add(struct sb_buf *b, const void *p, size_t n)
{
	sb_buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static inline void sb_buf_puts(struct sb_buf *b, const char *s)
{
	sb_buf_add(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static inline void sb_buf_printf(struct sb_buf *b,
                                                                       const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		sb_oom();
	sb_buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static inline void sb_buf_reset(struct sb_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

/* Take the string out; the buffer is empty afterwards. Never NULL. */
static inline char *sb_buf_steal(struct sb_buf *b)
{
	char *p;

	sb_buf_reserve(b, 0);
	b->data[b->len] = '\0'; /* a buffer never written to holds "" too */
	p = b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

static inline void sb_buf_free(struct sb_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

#define _cleanup_buf_ _cleanup_(sb_buf_free)

/*
 * sb_buf_add for a buffer that holds a secret: it grows into a new buffer
 * and wipes the old one (realloc would free it as it is); sb_buf_free_secret
 * wipes it all before freeing.
 */
static inline void sb_buf_add_secret(struct sb_buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap * 2 > b->len + n + 1 ? b->cap * 2 : b->len + n + 1;
		char *data = xmalloc(cap < 64 ? 64 : cap);

		if (b->len)
			memcpy(data, b->data, b->len);
		if (b->data)
			explicit_bzero(b->data, b->cap);
		free(b->data);
		b->data = data;
		b->cap = cap < 64 ? 64 : cap;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static inline void sb_buf_free_secret(struct sb_buf *b)
{
	if (b->data)
		explicit_bzero(b->data, b->cap);
	sb_buf_free(b);
}

#define _cleanup_buf_secret_ _cleanup_(sb_buf_free_secret)

#endif

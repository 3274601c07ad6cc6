/* SPDX-License-Identifier: MIT */
/*
 * ssh_proc.h - what ssh.c uses of ssh_proc.c: the processes that run ssh (or,
 * for localhost, the command itself), fed and drained by one poll loop.
 */
#ifndef SLURMBOX_SSH_PROC_H
#define SLURMBOX_SSH_PROC_H

#include "../../compose/base.h"

#include <signal.h>

/*
 * Every ssh child from now on is stopped when *flag becomes non-zero (see
 * ssh_run_opts.abort); NULL stops watching.
 */
void ssh_abort_watch(volatile sig_atomic_t *flag);

#define SSH_FD_NULL (-1) /* the child's fd is /dev/null */
#define SSH_FD_PIPE (-2) /* a pipe to us */

/*
 * One child. The caller sets dest and argv, and for SSH_FD_PIPE fds in and
 * in_len (stdin bytes), out and errb (err_bounded); the rest is ssh_proc.c's.
 */
struct ssh_proc {
	const char *dest;
	const char *const *argv; /* the command as the caller gave it */
	pid_t pid;
	int in_w, out_r, err_r; /* our ends of its pipes, -1: none */
	const char *in;
	size_t in_len, in_off;
	struct sb_buf *out, *errb;
	bool err_bounded; /* keep only the last 64 KiB (SSH_ERR_KEEP) of stderr */
	bool hold_in;     /* keep stdin open after `in` until it exits or an abort (ssh_run_opts) */
	volatile sig_atomic_t *abort; /* this command's own abort flag, or NULL */
	int wstatus;
	bool reaped;
};

/* "host 'h1'" or "localhost", for messages. */
const char *ssh_dest_describe(const char *dest, char *buf, size_t size);
/* The command's first words, for messages. */
const char *ssh_argv_describe(const char *const *argv, char *buf, size_t size);

/*
 * Start exec_argv (searched in PATH) with fds 0, 1, 2 each from `fds`: a
 * caller's fd, SSH_FD_NULL or SSH_FD_PIPE (a non-blocking pipe end in p).
 * p->dest and p->argv name it in the message when it cannot be started.
 */
int ssh_proc_spawn(struct ssh_proc *p, char *const *exec_argv, const int fds[3],
                   struct sb_err *err);

/*
 * Feed and drain the pipes of ps[0..n) (n <= 2), then reap them all. A
 * timeout_ms > 0 bounds the whole: then every child still running is sent
 * SIGTERM, and SIGKILL 2 s later, and -ETIMEDOUT is returned, naming ps[0].
 * p->wstatus holds each child's wait status. On an abort (ssh_abort_watch or
 * p->abort) a hold_in child has its stdin closed and SSH_ABORT_GRACE_MS to
 * exit by itself (then 0 is returned as usual); any other child is stopped
 * at once, and -EINTR returned.
 */
int ssh_proc_wait(struct ssh_proc *ps, size_t n, int timeout_ms, struct sb_err *err);

/* Close our pipe ends, stop the child at once (SIGTERM, then SIGKILL) and reap it. */
void ssh_proc_kill(struct ssh_proc *p);

#endif

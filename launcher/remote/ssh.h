/* SPDX-License-Identifier: MIT */
/*
 * ssh - the transport to the hosts of `--hosts`: the system ssh client with
 * BatchMode, a connect timeout, keep-alives and ControlMaster reuse. The
 * slurmbox binary on each host does that host's part locally; this module
 * runs it there, feeds it stdin (where secrets travel: never argv or env),
 * and copies the binary over when a host lacks it.
 *
 * "localhost" is the local engine: commands run as local processes, no ssh.
 */
#ifndef SLURMBOX_SSH_H
#define SLURMBOX_SSH_H

#include "../../compose/base.h"
#include "ssh_dest.h"
#include "ssh_proc.h"

#include <signal.h>

struct ssh_run_opts {
	const void *in; /* bytes for stdin (may be NULL) ... */
	size_t in_len;
	int in_fd; /* ... or a fd to copy to stdin; -1 none. Otherwise stdin is /dev/null */
	struct sb_buf *out;    /* collect stdout here, or */
	int out_fd;            /* pass it to this fd (-1 or 0: discard) */
	struct sb_buf *errbuf; /* collect stderr here, or */
	int err_fd;            /* pass it to this fd (-1 or 0: discard) */
	int timeout_ms;        /* 0: none; else the command is killed and -ETIMEDOUT returned */
	bool tty;              /* ssh -t (interactive exec); in/out are then the caller's fds */
	/*
	 * Keep stdin open after `in` until the command exits: closing it is
	 * how an abort tells the command to stop (`agent apply` rolls back
	 * and exits). Needs `out` or `errbuf`.
	 */
	bool hold_in;
	/*
	 * When *abort becomes non-zero (or the flag of ssh_abort_watch): a
	 * hold_in command gets its stdin closed and 60 s to exit by itself,
	 * and its status is returned as usual; any other is stopped at once,
	 * and -EINTR returned.
	 */
	volatile sig_atomic_t *abort;
};

/*
 * Run argv on dest (every word quoted for the remote shell; argv[0] may be a
 * remote path). *status gets the command's exit status (255: ssh itself
 * failed, with its message in errbuf or on err_fd). Returns <0 only when the
 * command could not be run at all or timed out; the message names the host
 * and what it was waiting for.
 */
int ssh_run(const char *dest, const char *const *argv, const struct ssh_run_opts *o, int *status,
            struct sb_err *err);

/*
 * Make sure dest can run this very slurmbox: `slurmbox version --short` in
 * the per-user cache (~/.cache/slurmbox/slurmbox-<version>-<machine>) or on PATH must
 * print our version. Otherwise copy /proc/self/exe there over ssh stdin
 * (mkdir -p, write to a temp name, chmod 755, rename) when `uname -m`
 * matches ours; else fail with what to install. *path (caller frees) is what
 * to run on dest. For localhost it is /proc/self/exe's target. Answers are
 * cached per dest; thread-safe. SLURMBOX_SELF=<path> names the binary to
 * copy (and to run locally) instead of /proc/self/exe (for the tests).
 */
int ssh_slurmbox_ensure(const char *dest, char **path, struct sb_err *err);

/* dest runs this very slurmbox at path (it answered as this version): cache it. */
void ssh_slurmbox_known(const char *dest, const char *path);

/*
 * Stream one host's command output into another host's command input,
 * e.g. `slurmbox agent image-save TAGS` on src into `slurmbox agent
 * image-load` on dst, without holding it in memory. Both statuses must be 0.
 */
int ssh_pipe(const char *src, const char *const *src_argv, const char *dst,
             const char *const *dst_argv, int timeout_ms, struct sb_err *err);

/*
 * Close the ControlMaster connections this process used (ssh -O stop: the
 * master takes no new sessions and exits when its open ones end, so another
 * slurmbox process's exec on the same master is not cut). Also forgets
 * ssh_slurmbox_ensure's answers.
 */
void ssh_close_all(void);

#endif

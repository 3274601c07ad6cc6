/* SPDX-License-Identifier: MIT */
/*
 * ssh_proc - the processes behind ssh.c (ssh_proc.h): started, fed, drained,
 * timed out and reaped.
 *
 * Children are started with posix_spawn, which is safe in a threaded
 * process (no code runs in a forked copy of it), resets SIGPIPE to its
 * default, clears the signal mask and closes every fd above 2 in the child.
 * Every fd made here is O_CLOEXEC, so parallel runs in other threads never
 * inherit each other's pipes. One poll loop feeds stdin bytes and drains
 * stdout and stderr, so a large input never deadlocks against output.
 */
#include "ssh_proc.h"
#include "ssh_dest.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>

#define SSH_GRACE_MS       2000        /* SIGTERM, then this long before SIGKILL */
#define SSH_ABORT_GRACE_MS (60 * 1000) /* a hold_in child's time to roll back */
#define SSH_ERR_KEEP       (64 * 1024)
#define SSH_CHUNK          (64 * 1024)
#define SSH_WATCH_MS       50 /* how often an abort flag is looked at */

enum ssh_pump_end {
	SSH_PUMP_DONE,    /* every pipe closed */
	SSH_PUMP_TIMEOUT, /* the caller's deadline */
	SSH_PUMP_ABORT,   /* an abort: stop what still runs */
};

extern char **environ;

static pthread_once_t ssh_sigpipe_once = PTHREAD_ONCE_INIT;
static volatile sig_atomic_t *volatile ssh_abort_flag;

void ssh_abort_watch(volatile sig_atomic_t *flag)
{
	ssh_abort_flag = flag;
}

static bool ssh_proc_aborted(const struct ssh_proc *p)
{
	volatile sig_atomic_t *g = ssh_abort_flag;

	return (g && *g) || (p->abort && *p->abort);
}

/* ---- messages ---- */

/* "host 'h1'" or "localhost", for messages. */
const char *ssh_dest_describe(const char *dest, char *buf, size_t size)
{
	if (ssh_dest_is_local(dest))
		return "localhost";
	snprintf(buf, size, "host '%s'", dest ? dest : "(none)");
	return buf;
}

/* The command's first words, for messages. */
const char *ssh_argv_describe(const char *const *argv, char *buf, size_t size)
{
	size_t used = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; argv[i] && i < 4; i++) {
		int n = snprintf(buf + used, size - used, "%s%s", i ? " " : "", argv[i]);
		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
	if (argv[i] && used + 4 < size)
		strcpy(buf + used, " ...");
	return buf;
}

/* ---- processes ---- */

static void ssh_sigpipe_ignore(void)
{
	struct sigaction sa;

	/* A child that exits early must give us EPIPE, not kill us. */
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
		sa.sa_handler = SIG_IGN;
		sigaction(SIGPIPE, &sa, NULL);
	}
}

static int64_t ssh_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void ssh_fd_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * Start exec_argv (searched in PATH) with fds 0, 1, 2 each from `fds`: a
 * caller's fd, SSH_FD_NULL or SSH_FD_PIPE (a non-blocking pipe end in p).
 */
int ssh_proc_spawn(struct ssh_proc *p, char *const *exec_argv, const int fds[3], struct sb_err *err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int child[3] = {-1, -1, -1}, *ours[3] = {&p->in_w, &p->out_r, &p->err_r};
	char where[300], what[200];
	sigset_t none, dfl;
	bool own_group;
	int r = 0;

	p->in_w = p->out_r = p->err_r = -1;
	p->reaped = false;
	pthread_once(&ssh_sigpipe_once, ssh_sigpipe_ignore);
	for (int i = 0; i < 3; i++) {
		int pfd[2];

		if (fds[i] != SSH_FD_PIPE)
			continue;
		if (pipe2(pfd, O_CLOEXEC) < 0) {
			r = -errno;
			break;
		}
		child[i] = i == 0 ? pfd[0] : pfd[1];
		*ours[i] = i == 0 ? pfd[1] : pfd[0];
		fcntl(*ours[i], F_SETFL, O_NONBLOCK);
	}
	if (r == 0) {
		posix_spawn_file_actions_init(&fa);
		for (int i = 0; i < 3; i++) {
			if (fds[i] == SSH_FD_PIPE)
				posix_spawn_file_actions_adddup2(&fa, child[i], i);
			else if (fds[i] >= 0)
				posix_spawn_file_actions_adddup2(&fa, fds[i], i);
			else
				posix_spawn_file_actions_addopen(&fa, i, "/dev/null",
				                                 i ? O_WRONLY : O_RDONLY, 0);
		}
		/* Nothing else: ssh's ControlPersist master outlives us by 60 s and
		 * must not hold a caller's fd (a lock, a socket) that lacks O_CLOEXEC. */
		posix_spawn_file_actions_addclosefrom_np(&fa, 3);
		sigemptyset(&none);
		sigemptyset(&dfl);
		sigaddset(&dfl, SIGPIPE);
		posix_spawnattr_init(&attr);
		posix_spawnattr_setsigmask(&attr, &none);
		posix_spawnattr_setsigdefault(&attr, &dfl);
		/*
		 * Its own process group when the caller handles interrupts (an
		 * abort is watched: `up` rolls back through these very children),
		 * so a terminal's Ctrl-C reaches only us and we decide. Otherwise
		 * (exec, status) Ctrl-C stops the child with us, as before. Never
		 * when it reads the terminal itself: a background group reading
		 * it would be stopped by SIGTTIN.
		 */
		own_group = (ssh_abort_flag || p->abort) && !(fds[0] >= 0 && isatty(fds[0]));
		posix_spawnattr_setpgroup(&attr, 0);
		posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
		                                    (own_group ? POSIX_SPAWN_SETPGROUP : 0));
		r = -posix_spawnp(&p->pid, exec_argv[0], &fa, &attr, exec_argv, environ);
		posix_spawnattr_destroy(&attr);
		posix_spawn_file_actions_destroy(&fa);
	}
	for (int i = 0; i < 3; i++)
		ssh_fd_close(&child[i]);
	if (r == 0)
		return 0;
	for (int i = 0; i < 3; i++)
		ssh_fd_close(ours[i]);
	p->reaped = true;
	if (ssh_dest_is_local(p->dest))
		return sb_err_set(err, -r, "Cannot run '%s' on localhost: %s",
		                  ssh_argv_describe(p->argv, what, sizeof(what)), strerror(-r));
	return sb_err_set(
	    err, -r, "Cannot run ssh to reach %s: %s%s",
	    ssh_dest_describe(p->dest, where, sizeof(where)), strerror(-r),
	    r == -ENOENT ? ": install the OpenSSH client (apt-get install openssh-client)" : "");
}

static void ssh_proc_read(int *fd, struct sb_buf *b, bool bounded)
{
	ssize_t n;

	sb_buf_reserve(b, SSH_CHUNK);
	n = read(*fd, b->data + b->len, SSH_CHUNK);
	if (n > 0)
		b->len += (size_t)n;
	b->data[b->len] = '\0';
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		ssh_fd_close(fd);
	if (bounded && b->len > 2 * SSH_ERR_KEEP) {
		memmove(b->data, b->data + b->len - SSH_ERR_KEEP, SSH_ERR_KEEP);
		b->len = SSH_ERR_KEEP;
		b->data[b->len] = '\0';
	}
}

static void ssh_proc_write(struct ssh_proc *p)
{
	size_t left = p->in_len - p->in_off;
	ssize_t n = write(p->in_w, p->in + p->in_off, left < SSH_CHUNK ? left : SSH_CHUNK);

	if (n > 0)
		p->in_off += (size_t)n;
	if ((p->in_off == p->in_len && !p->hold_in) || (n < 0 && errno != EAGAIN && errno != EINTR))
		ssh_fd_close(&p->in_w); /* done, or the child stopped reading (EPIPE) */
}

/*
 * An abort: a hold_in child gets its stdin closed (that is its signal to
 * stop) and until *grace to exit; any other makes the pump stop at once.
 */
static bool ssh_procs_abort_check(struct ssh_proc *ps, size_t n, int64_t *grace)
{
	for (size_t i = 0; i < n; i++) {
		if (!ssh_proc_aborted(&ps[i]))
			continue;
		if (!ps[i].hold_in)
			return true;
		ssh_fd_close(&ps[i].in_w);
		if (!*grace)
			*grace = ssh_now_ms() + SSH_ABORT_GRACE_MS;
	}
	return *grace && ssh_now_ms() >= *grace;
}

/* Feed and drain every pipe until all are closed, the deadline, or an abort. */
static enum ssh_pump_end ssh_procs_pump(struct ssh_proc *ps, size_t n, int64_t deadline)
{
	int64_t grace = 0;

	for (;;) {
		struct pollfd pfd[6];
		int *which[6];
		struct ssh_proc *owner[6];
		bool watch = ssh_abort_flag != NULL;
		nfds_t k = 0;
		int wait = -1;

		if (ssh_procs_abort_check(ps, n, &grace))
			return SSH_PUMP_ABORT;
		for (size_t i = 0; i < n && i < 2; i++) {
			int *fds[3] = {&ps[i].in_w, &ps[i].out_r, &ps[i].err_r};

			watch = watch || ps[i].abort;
			for (int j = 0; j < 3; j++) {
				if (*fds[j] < 0 || (j == 0 && ps[i].in_off == ps[i].in_len))
					continue; /* a held stdin with nothing left to write */
				pfd[k] = (struct pollfd){*fds[j], j ? POLLIN : POLLOUT, 0};
				which[k] = fds[j];
				owner[k++] = &ps[i];
			}
		}
		if (!k)
			return SSH_PUMP_DONE;
		if (deadline || grace) {
			int64_t end = !deadline          ? grace
			              : !grace           ? deadline
			              : grace < deadline ? grace
			                                 : deadline;
			int64_t left = end - ssh_now_ms();

			if (left <= 0)
				return end == grace ? SSH_PUMP_ABORT : SSH_PUMP_TIMEOUT;
			wait = left > INT_MAX ? INT_MAX : (int)left;
		}
		if (watch && (wait < 0 || wait > SSH_WATCH_MS))
			wait = SSH_WATCH_MS;
		if (poll(pfd, k, wait) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return SSH_PUMP_DONE; /* cannot happen; the caller closes and reaps */
		}
		for (nfds_t i = 0; i < k; i++) {
			struct ssh_proc *p = owner[i];

			if (!pfd[i].revents)
				continue;
			if (which[i] == &p->in_w)
				ssh_proc_write(p);
			else if (which[i] == &p->out_r)
				ssh_proc_read(&p->out_r, p->out, false);
			else
				ssh_proc_read(&p->err_r, p->errb, p->err_bounded);
		}
	}
}

/*
 * Close our pipe ends and reap every child: kill_now (a timeout) sends
 * SIGTERM at once; a child still running at `deadline` gets SIGTERM, and
 * SIGKILL SSH_GRACE_MS later. Returns true when something had to be killed.
 */
static bool ssh_procs_reap(struct ssh_proc *ps, size_t n, int64_t deadline, bool kill_now,
                           bool *aborted)
{
	bool termed = false, killed = false, watch = ssh_abort_flag != NULL;
	int64_t nap_us = 100;

	for (size_t i = 0; i < n; i++)
		watch = watch || ps[i].abort;

	for (size_t i = 0; i < n; i++) {
		ssh_fd_close(&ps[i].in_w);
		ssh_fd_close(&ps[i].out_r);
		ssh_fd_close(&ps[i].err_r);
	}
	for (;;) {
		bool all = true;
		int64_t now;

		for (size_t i = 0; i < n; i++) {
			struct ssh_proc *p = &ps[i];
			pid_t r;

			if (p->reaped)
				continue;
			do
				r = waitpid(p->pid, &p->wstatus,
				            !deadline && !kill_now && !watch ? 0 : WNOHANG);
			while (r < 0 && errno == EINTR);
			if (r == p->pid || r < 0) {
				if (r < 0)
					p->wstatus = 255
					             << 8; /* not ours to reap any more (ECHILD) */
				p->reaped = true;
			} else {
				all = false;
			}
		}
		if (all)
			return killed || termed;
		now = ssh_now_ms();
		/* a child whose output is not ours (no pipes) is stopped here on an abort */
		for (size_t i = 0; i < n && !termed && !kill_now; i++)
			if (!ps[i].reaped && !ps[i].hold_in && ssh_proc_aborted(&ps[i]))
				kill_now = *aborted = true;
		if (kill_now || (deadline && now >= deadline)) {
			int sig = termed ? SIGKILL : SIGTERM;

			for (size_t i = 0; i < n; i++)
				if (!ps[i].reaped)
					kill(ps[i].pid, sig);
			killed = termed;
			termed = true;
			kill_now = false;
			deadline = now + (killed ? 60 * 1000 : SSH_GRACE_MS);
		}
		usleep((useconds_t)nap_us);
		nap_us = nap_us * 2 > 10000 ? 10000 : nap_us * 2;
	}
}

static int ssh_proc_timeout_error(const struct ssh_proc *p, int timeout_ms, struct sb_err *err)
{
	char where[300], what[200];

	return sb_err_set(err, ETIMEDOUT,
	                  "Timed out after %d.%d s waiting for '%s' on %s (stopped it)",
	                  timeout_ms / 1000, timeout_ms % 1000 / 100,
	                  ssh_argv_describe(p->argv, what, sizeof(what)),
	                  ssh_dest_describe(p->dest, where, sizeof(where)));
}

int ssh_proc_wait(struct ssh_proc *ps, size_t n, int timeout_ms, struct sb_err *err)
{
	int64_t deadline = timeout_ms > 0 ? ssh_now_ms() + timeout_ms : 0;
	enum ssh_pump_end end;
	bool killed, aborted = false;

	end = ssh_procs_pump(ps, n, deadline);
	killed = ssh_procs_reap(ps, n, deadline, end != SSH_PUMP_DONE, &aborted);
	if (end == SSH_PUMP_ABORT || aborted) {
		char where[300], what[200];

		return sb_err_set(err, EINTR, "Interrupted: stopped '%s' on %s",
		                  ssh_argv_describe(ps->argv, what, sizeof(what)),
		                  ssh_dest_describe(ps->dest, where, sizeof(where)));
	}
	if (killed)
		return ssh_proc_timeout_error(ps, timeout_ms, err);
	return 0;
}

void ssh_proc_kill(struct ssh_proc *p)
{
	bool aborted = false;

	ssh_procs_reap(p, 1, 0, true, &aborted);
}

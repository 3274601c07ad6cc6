/* SPDX-License-Identifier: MIT */
/*
 * ssh - the system ssh client as the transport to the other hosts (ssh.h).
 *
 * The processes themselves (spawning, feeding and draining their pipes,
 * timeouts, aborts, reaping) are ssh_proc.c's; destination checks and
 * quoting are ssh_dest.c's.
 *
 * SLURMBOX_SELF=<path>: the slurmbox binary to copy to hosts (and to run
 * locally) instead of /proc/self/exe; the unit tests point it at
 * build/slurmbox.
 */
#include "ssh.h"
#include "ssh_proc.h"
#include "ssh_arch.h"

#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#define SSH_TAIL     1200 /* bytes of stderr quoted in an error */
#define SSH_PROBE_MS (60 * 1000)
#define SSH_COPY_MS  (600 * 1000)
#define SSH_CLOSE_MS 5000
#define SSH_CTL_MAX  46 /* sun_path 108 - "/cm-" - 40 (%C) - ssh's 17-byte temp suffix */

static pthread_mutex_t ssh_lock = PTHREAD_MUTEX_INITIALIZER;
static char ssh_ctl_dir[64]; /* under ssh_lock */
static char **ssh_used;      /* remote dests that may have a master; under ssh_lock */
static size_t ssh_n_used;
static struct ssh_cached {
	char *dest, *path;
} * ssh_cache; /* ssh_slurmbox_ensure's answers; under ssh_lock */
static size_t ssh_n_cache;

/* The last bytes of a stderr buffer, trimmed, for an error message. */
static const char *ssh_tail(struct sb_buf *b)
{
	const char *s, *e;

	if (!b->len)
		return "(no message)";
	s = b->data + (b->len > SSH_TAIL ? b->len - SSH_TAIL : 0);
	e = b->data + b->len;
	while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' '))
		e--;
	b->data[e - b->data] = '\0';
	while (*s == '\n' || *s == ' ')
		s++;
	return *s ? s : "(no message)";
}

/* ---- the ControlMaster directory ---- */

static int ssh_ctl_dir_make(const char *dir, struct sb_err *err)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return sb_err_set(err, errno, "Cannot create the ssh control directory %s: %s", dir,
		                  strerror(errno));
	if (lstat(dir, &st) < 0)
		return sb_err_set(err, errno, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077))
		return sb_err_set(
		    err, EPERM,
		    "The ssh control directory %s is not a private directory of yours "
		    "(mode %03o, owner %u): remove it and run again",
		    dir, (unsigned)(st.st_mode & 0777), (unsigned)st.st_uid);
	return 0;
}

static int ssh_ctl_dir_get(char *out, size_t size, struct sb_err *err)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char dir[sizeof(ssh_ctl_dir)];
	int r = 0;

	pthread_mutex_lock(&ssh_lock);
	if (!ssh_ctl_dir[0]) {
		struct sb_err ignored = SB_ERR_INIT;

		if (xdg && xdg[0] == '/' && strlen(xdg) + strlen("/slurmbox") <= SSH_CTL_MAX &&
		    snprintf(dir, sizeof(dir), "%s/slurmbox", xdg) > 0 &&
		    ssh_ctl_dir_make(dir, &ignored) == 0) {
			strcpy(ssh_ctl_dir, dir);
		} else {
			snprintf(dir, sizeof(dir), "/tmp/slurmbox-%u", (unsigned)geteuid());
			r = ssh_ctl_dir_make(dir, err);
			if (r == 0)
				strcpy(ssh_ctl_dir, dir);
		}
	}
	snprintf(out, size, "%s", ssh_ctl_dir);
	pthread_mutex_unlock(&ssh_lock);
	return r;
}

static void ssh_used_add(const char *dest)
{
	pthread_mutex_lock(&ssh_lock);
	for (size_t i = 0; i < ssh_n_used; i++) {
		if (!strcmp(ssh_used[i], dest)) {
			pthread_mutex_unlock(&ssh_lock);
			return;
		}
	}
	ssh_used = xreallocarray(ssh_used, ssh_n_used + 1, sizeof(*ssh_used));
	ssh_used[ssh_n_used++] = xstrdup(dest);
	pthread_mutex_unlock(&ssh_lock);
}

/* ---- ssh_run ---- */

static int ssh_exit_status(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 255;
}

/* The argv to exec for running argv on dest; *keep holds what to free. */
static int ssh_exec_argv(const char *dest, const char *const *argv, bool tty, char ***out,
                         struct sb_buf *keep, struct sb_err *err)
{
	/* strict host keys: an unknown or changed key is refused, never learnt */
	static const char *const opts[] = {"BatchMode=yes",         "StrictHostKeyChecking=yes",
	                                   "ConnectTimeout=10",     "ServerAliveInterval=5",
	                                   "ServerAliveCountMax=3", "ControlMaster=auto",
	                                   "ControlPersist=60"};
	char dir[sizeof(ssh_ctl_dir)], **v;
	size_t k = 0, cmd_at;
	int r;

	if (ssh_dest_is_local(dest)) {
		*out = (char **)argv;
		return 0;
	}
	r = ssh_ctl_dir_get(dir, sizeof(dir), err);
	if (r < 0)
		return r;
	/* keep: "ControlPath=...\0quoted command\0" */
	sb_buf_printf(keep, "ControlPath=%s/cm-%%C", dir);
	sb_buf_add(keep, "", 1);
	cmd_at = keep->len;
	for (size_t i = 0; argv[i]; i++) {
		_cleanup_free_ char *q = ssh_quote(argv[i]);

		sb_buf_printf(keep, "%s%s", i ? " " : "", q);
	}
	v = xcalloc(2 * ARRAY_SIZE(opts) + 12,
	            sizeof(*v)); /* + ssh -o CP LogLevel -t -- dest cmd NULL */
	v[k++] = "ssh";
	for (size_t i = 0; i < ARRAY_SIZE(opts); i++) {
		v[k++] = "-o";
		v[k++] = (char *)opts[i];
	}
	v[k++] = "-o";
	v[k++] = keep->data; /* ControlPath= */
	if (tty)             /* no "Shared connection to h1 closed." after an interactive exec */
		v[k++] = "-oLogLevel=ERROR";
	v[k++] = tty ? "-t" : "-T";
	v[k++] = "--";
	v[k++] = (char *)dest;
	v[k++] = keep->data + cmd_at;
	v[k] = NULL;
	*out = v;
	ssh_used_add(dest);
	return 0;
}

/* Start argv on dest with the given fds (see ssh_proc_spawn). */
static int ssh_start(struct ssh_proc *p, const char *dest, const char *const *argv, bool tty,
                     const int fds[3], struct sb_err *err)
{
	struct sb_buf keep = SB_BUF_INIT;
	char **v = NULL;
	int r;

	p->dest = dest;
	p->argv = argv;
	r = ssh_dest_check("host", dest, err);
	if (r < 0)
		return r;
	if (!argv || !argv[0])
		return sb_err_set(err, EINVAL, "Nothing to run on %s", dest);
	r = ssh_exec_argv(dest, argv, tty, &v, &keep, err);
	if (r == 0)
		r = ssh_proc_spawn(p, v, fds, err);
	if (v != (char **)argv)
		free(v);
	sb_buf_free(&keep);
	return r;
}

int ssh_run(const char *dest, const char *const *argv, const struct ssh_run_opts *o, int *status,
            struct sb_err *err)
{
	static const struct ssh_run_opts none = {.in_fd = -1, .out_fd = -1, .err_fd = -1};
	struct ssh_proc p = {0};
	int fds[3], r;

	if (!o)
		o = &none;
	*status = 255;
	fds[0] = o->in && o->in_len && !o->tty ? SSH_FD_PIPE
	         : o->in_fd >= 0               ? o->in_fd
	                                       : SSH_FD_NULL;
	/* an output fd 0 is a zeroed field, not a wish to write to stdin */
	fds[1] = o->out ? SSH_FD_PIPE : o->out_fd > 0 ? o->out_fd : SSH_FD_NULL;
	fds[2] = o->errbuf ? SSH_FD_PIPE : o->err_fd > 0 ? o->err_fd : SSH_FD_NULL;
	p.in = o->in;
	p.in_len = o->in_len;
	p.hold_in = o->hold_in && fds[0] == SSH_FD_PIPE;
	p.abort = o->abort;
	p.out = o->out;
	p.errb = o->errbuf;
	r = ssh_start(&p, dest, argv, o->tty, fds, err);
	if (r < 0)
		return r;
	r = ssh_proc_wait(&p, 1, o->timeout_ms, err);
	if (r < 0)
		return r;
	*status = ssh_exit_status(p.wstatus);
	return 0;
}

/* ---- ssh_pipe ---- */

static void ssh_pipe_describe(struct sb_buf *m, struct ssh_proc *p)
{
	char where[300], what[200];
	int st = ssh_exit_status(p->wstatus);

	sb_buf_printf(m, "%s'%s' on %s %s %d: %s", m->len ? "; " : "",
	              ssh_argv_describe(p->argv, what, sizeof(what)),
	              ssh_dest_describe(p->dest, where, sizeof(where)),
	              WIFSIGNALED(p->wstatus) ? "was killed by signal" : "exited with status",
	              WIFSIGNALED(p->wstatus) ? WTERMSIG(p->wstatus) : st, ssh_tail(p->errb));
}

int ssh_pipe(const char *src, const char *const *src_argv, const char *dst,
             const char *const *dst_argv, int timeout_ms, struct sb_err *err)
{
	struct sb_buf e0 = SB_BUF_INIT, e1 = SB_BUF_INIT, m = SB_BUF_INIT;
	struct ssh_proc ps[2] = {{.errb = &e0, .err_bounded = true},
	                         {.errb = &e1, .err_bounded = true}};
	char wsrc[300], wdst[300];
	int pfd[2], r;
	bool src_first;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return sb_err_set(err, errno, "pipe: %s", strerror(errno));
	r = ssh_start(&ps[0], src, src_argv, false, (int[3]){SSH_FD_NULL, pfd[1], SSH_FD_PIPE},
	              err);
	if (r == 0) {
		r = ssh_start(&ps[1], dst, dst_argv, false,
		              (int[3]){pfd[0], SSH_FD_NULL, SSH_FD_PIPE}, err);
		if (r < 0)
			ssh_proc_kill(&ps[0]);
	}
	close(pfd[0]);
	close(pfd[1]);
	if (r < 0) {
		sb_buf_free(&e0);
		sb_buf_free(&e1);
		return r;
	}
	r = ssh_proc_wait(ps, 2, timeout_ms, err); /* < 0: timed out */
	/* The cause first: a source killed by SIGPIPE only saw its reader go. */
	src_first = !(WIFSIGNALED(ps[0].wstatus) && WTERMSIG(ps[0].wstatus) == SIGPIPE);
	for (int k = 0; k < 2; k++) {
		struct ssh_proc *p = &ps[src_first ? k : 1 - k];

		if (p->wstatus != 0 && r == 0)
			ssh_pipe_describe(&m, p);
	}
	if (r == 0 && m.len)
		r = sb_err_set(err, EIO, "Streaming from %s to %s failed: %s",
		               ssh_dest_describe(src, wsrc, sizeof(wsrc)),
		               ssh_dest_describe(dst, wdst, sizeof(wdst)), m.data);
	sb_buf_free(&m);
	sb_buf_free(&e0);
	sb_buf_free(&e1);
	return r;
}

/* ---- the slurmbox binary on a host ---- */

static int ssh_self_path(char **out, struct sb_err *err)
{
	const char *env = getenv("SLURMBOX_SELF");
	char buf[PATH_MAX];
	ssize_t n;

	if (env && *env) {
		if (!realpath(env, buf) || access(buf, X_OK) < 0)
			return sb_err_input(err, "SLURMBOX_SELF: '%s' is not an executable: %s",
			                    env, strerror(errno));
		*out = xstrdup(buf);
		return 0;
	}
	n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n < 0)
		return sb_err_set(err, errno,
		                  "Cannot find this slurmbox binary (/proc/self/exe): %s",
		                  strerror(errno));
	buf[n] = '\0';
	*out = xstrdup(buf);
	return 0;
}

static char *ssh_cache_get(const char *dest)
{
	char *r = NULL;

	pthread_mutex_lock(&ssh_lock);
	for (size_t i = 0; i < ssh_n_cache && !r; i++)
		if (!strcmp(ssh_cache[i].dest, dest))
			r = xstrdup(ssh_cache[i].path);
	pthread_mutex_unlock(&ssh_lock);
	return r;
}

static void ssh_cache_put(const char *dest, const char *path)
{
	pthread_mutex_lock(&ssh_lock);
	for (size_t i = 0; i < ssh_n_cache; i++) {
		if (!strcmp(ssh_cache[i].dest, dest)) {
			pthread_mutex_unlock(&ssh_lock);
			return;
		}
	}
	ssh_cache = xreallocarray(ssh_cache, ssh_n_cache + 1, sizeof(*ssh_cache));
	ssh_cache[ssh_n_cache].dest = xstrdup(dest);
	ssh_cache[ssh_n_cache++].path = xstrdup(path);
	pthread_mutex_unlock(&ssh_lock);
}

/* The path after "ok " on a line of out, or NULL. */
static char *ssh_answer(const char *out, const char *key)
{
	size_t kl = strlen(key);

	for (const char *l = out; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		if (!strncmp(l, key, kl) && l[kl] == ' ')
			return xstrndup(l + kl + 1, strcspn(l + kl + 1, "\n"));
	}
	return NULL;
}

/*
 * A one-line POSIX sh script (run as `sh -c` so the login shell only sees
 * quoted words). The cached copy is named for the machine too: hosts of two
 * architectures may share one home (NFS).
 */
static const char ssh_probe_sh[] =
    "V=$1; m=$(uname -m); for p in \"$HOME/.cache/slurmbox/slurmbox-$V-$m\" \"$(command -v "
    "slurmbox)\"; do "
    "if [ -n \"$p\" ] && [ -x \"$p\" ] && [ \"$(\"$p\" version --short 2>/dev/null)\" = \"$V\" ]; "
    "then echo \"ok $p\"; exit 0; fi; done; echo \"arch $m\"";

static const char ssh_copy_sh[] =
    "V=$1; d=\"$HOME/.cache/slurmbox\"; f=\"$d/slurmbox-$V-$(uname -m)\"; "
    "t=\"$d/.slurmbox-$V.tmp.$$\"; "
    "mkdir -p \"$d\" && cat > \"$t\" && s=$(wc -c < \"$t\") && [ $s = \"$2\" ] && "
    "chmod 755 \"$t\" && mv -f \"$t\" \"$f\" || { rm -f \"$t\"; exit 1; }; "
    "echo \"copied $f\"; v=$(\"$f\" version --short); echo \"version $v\"; "
    "[ \"$v\" = \"$V\" ] && echo \"ok $f\"";

/* Copy the binary `self` (this one, or a build of it for the host's architecture) there. */
static int ssh_copy_self(const char *dest, const char *where, const char *self, char **path,
                         struct sb_err *err)
{
	_cleanup_buf_ struct sb_buf out = SB_BUF_INIT, eb = SB_BUF_INIT;
	_cleanup_free_ char *size = NULL, *copied = NULL, *version = NULL;
	_cleanup_close_ int fd = -1;
	const char *argv[] = {"sh", "-c", ssh_copy_sh, "sh", SLURMBOX_VERSION, NULL, NULL};
	struct ssh_run_opts o = {
	    .in_fd = -1, .out = &out, .errbuf = &eb, .err_fd = -1, .timeout_ms = SSH_COPY_MS};
	struct stat st;
	int r, status;

	fd = open(self, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return sb_err_set(err, errno, "Cannot read %s: %s", self, strerror(errno));
	size = xasprintf("%lld", (long long)st.st_size);
	argv[5] = size;
	o.in_fd = fd;

	r = ssh_run(dest, argv, &o, &status, err);
	if (r < 0)
		return sb_err_wrap(err, "Copying slurmbox to %s", where);
	*path = ssh_answer(out.data ? out.data : "", "ok");
	if (*path)
		return 0;
	copied = ssh_answer(out.data ? out.data : "", "copied");
	version = ssh_answer(out.data ? out.data : "", "version");
	if (copied && eb.len)
		return sb_err_set(
		    err, ENOEXEC,
		    "The slurmbox copied to %s as %s does not run there: %s: install its "
		    "libraries there (make deps) or install slurmbox %s on it",
		    where, copied, ssh_tail(&eb), SLURMBOX_VERSION);
	if (copied)
		return sb_err_set(err, ENOEXEC,
		                  "The slurmbox copied to %s as %s does not run there: `version "
		                  "--short` printed '%s', not '%s' (is SLURMBOX_SELF a slurmbox?)",
		                  where, copied, version ? version : "", SLURMBOX_VERSION);
	return sb_err_set(err, EIO, "Copying slurmbox to %s failed (status %d): %s", where, status,
	                  ssh_tail(&eb));
}

void ssh_slurmbox_known(const char *dest, const char *path)
{
	ssh_cache_put(dest, path);
}

/* No slurmbox for the host's machine: say which command makes one, and where it is looked for. */
static int ssh_arch_missing(const char *dest, const char *arch, const char *mine, const char *self,
                            struct sb_err *err)
{
	const char *deb = ssh_arch_debian(arch);
	_cleanup_free_ char *copy = xstrdup(self);
	const char *dir = dirname(copy);

	if (!deb)
		return sb_err_set(err, ENOEXEC,
		                  "Host '%s' is %s and this slurmbox is %s: install slurmbox %s on "
		                  "%s, or put a slurmbox built for %s beside this one as "
		                  "%s/slurmbox-%s",
		                  dest, arch, mine, SLURMBOX_VERSION, dest, arch, dir, arch);
	return sb_err_set(err, ENOEXEC,
	                  "Host '%s' is %s and this slurmbox is %s: build slurmbox for it in this "
	                  "source tree with `make ARCH=%s` (it writes build-%s/slurmbox, which "
	                  "slurmbox copies to the %s hosts), or put a slurmbox %s built for %s "
	                  "beside this one as %s/slurmbox-%s",
	                  dest, arch, mine, deb, deb, arch, SLURMBOX_VERSION, arch, dir, arch);
}

int ssh_slurmbox_ensure(const char *dest, char **path, struct sb_err *err)
{
	_cleanup_buf_ struct sb_buf out = SB_BUF_INIT, eb = SB_BUF_INIT;
	_cleanup_free_ char *p = NULL, *arch = NULL, *self = NULL;
	const char *argv[] = {"sh", "-c", ssh_probe_sh, "sh", SLURMBOX_VERSION, NULL};
	struct ssh_run_opts o = {
	    .in_fd = -1, .out = &out, .errbuf = &eb, .err_fd = -1, .timeout_ms = SSH_PROBE_MS};
	char where[300];
	struct utsname u;
	int r, status;

	*path = NULL;
	r = ssh_dest_check("host", dest, err);
	if (r < 0)
		return r;
	p = ssh_cache_get(dest);
	if (p) {
		*path = steal_ptr(&p);
		return 0;
	}
	ssh_dest_describe(dest, where, sizeof(where));
	if (ssh_dest_is_local(dest)) {
		r = ssh_self_path(&p, err);
	} else {
		r = ssh_run(dest, argv, &o, &status, err);
		if (r < 0)
			return r;
		if (status == 255 && ssh_host_key_refused(eb.data))
			return sb_err_set(err, EHOSTUNREACH, "%s",
			                  ssh_host_key_hint(dest, eb.data));
		if (status == 255)
			return sb_err_set(
			    err, EHOSTUNREACH,
			    "Cannot reach %s over ssh: %s: check that `ssh %s true` works "
			    "without a password (a key, and its host key in known_hosts)",
			    where, ssh_tail(&eb), dest);
		p = ssh_answer(out.data ? out.data : "", "ok");
		arch = ssh_answer(out.data ? out.data : "", "arch");
		uname(&u);
		if (!p && !arch)
			return sb_err_set(err, EPROTO, "Unexpected answer from %s (status %d): %s",
			                  where, status, out.len ? out.data : ssh_tail(&eb));
		if (!p)
			r = ssh_self_path(&self, err);
		if (!p && r == 0 && strcmp(arch, u.machine)) {
			/* another architecture: a build of this slurmbox for it, or the way to make one */
			_cleanup_free_ char *other = ssh_arch_binary(self, arch);

			if (!other)
				return ssh_arch_missing(dest, arch, u.machine, self, err);
			free(self);
			self = steal_ptr(&other);
		}
		if (!p && r == 0)
			r = ssh_copy_self(dest, where, self, &p, err);
	}
	if (r < 0)
		return r;
	ssh_cache_put(dest, p);
	*path = steal_ptr(&p);
	return 0;
}

void ssh_close_all(void)
{
	char **used, dir[sizeof(ssh_ctl_dir)];
	size_t n;

	pthread_mutex_lock(&ssh_lock);
	used = ssh_used;
	n = ssh_n_used;
	ssh_used = NULL;
	ssh_n_used = 0;
	for (size_t i = 0; i < ssh_n_cache; i++) {
		free(ssh_cache[i].dest);
		free(ssh_cache[i].path);
	}
	free(ssh_cache);
	ssh_cache = NULL;
	ssh_n_cache = 0;
	snprintf(dir, sizeof(dir), "%s", ssh_ctl_dir);
	pthread_mutex_unlock(&ssh_lock);

	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *ctl = xasprintf("ControlPath=%s/cm-%%C", dir);
		/* stop, not exit: exit would cut the sessions another slurmbox
		 * process has on the same master (an interactive exec) */
		char *v[] = {"ssh", "-O", "stop", "-o",    "BatchMode=yes",
		             "-o",  ctl,  "--",   used[i], NULL};
		const char *argv[] = {"ssh", "-O", "stop", NULL};
		struct ssh_proc p = {.dest = "localhost", .argv = argv};
		struct sb_err ignored = SB_ERR_INIT;

		if (dir[0] && ssh_proc_spawn(&p, v, (int[3]){SSH_FD_NULL, SSH_FD_NULL, SSH_FD_NULL},
		                             &ignored) == 0)
			ssh_proc_wait(&p, 1, SSH_CLOSE_MS, &ignored);
		free(used[i]);
	}
	free(used);
}

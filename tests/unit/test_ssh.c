/* SPDX-License-Identifier: MIT */
/*
 * ssh: destination checks, quoting (through a real /bin/sh), and ssh_run /
 * ssh_pipe on "localhost", which runs local processes.
 *
 * With SLURMBOX_TEST_SSH_HOST=h1 (and optionally SLURMBOX_TEST_SSH_HOST2=h2)
 * the same runs go over real ssh; SLURMBOX_SELF=build/slurmbox also tests
 * copying the binary there (tests/run-all sets all three once the lab is
 * up, for both builds). Without a host the remote cases are not in the plan.
 */
#include "tap.h"
#include "../../launcher/remote/ssh.h"

#include <fcntl.h>
#include <stdlib.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

static const char *const nasty[] = {"plain", "a b", "it's", "\"dq\"", "$HOME", "`id`", "$(id)",
                                    "a\nb",  "*",   "",     "\\",     "'",     "''",   "~",
                                    "-n",    "a=b", "!x",   ";|&<>",  "\t",    "%s",   "x y  z"};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *remote(void)
{
	const char *h = getenv("SLURMBOX_TEST_SSH_HOST");

	return h && *h ? h : NULL;
}

/* Run argv on dest; stdout into *out (may be NULL), returns the status or -1. */
static int run(const char *dest, const char *const *argv, struct sb_buf *out, struct sb_buf *eb)
{
	struct ssh_run_opts o = {
	    .in_fd = -1, .out = out, .out_fd = -1, .errbuf = eb, .err_fd = -1, .timeout_ms = 30000};
	struct sb_err err = SB_ERR_INIT;
	int status = -1;

	if (ssh_run(dest, argv, &o, &status, &err) < 0) {
		TAP_FAIL("ssh_run %s %s: %s", dest, argv[0], err.msg);
		return -1;
	}
	return status;
}

static void test_dest_bad(void)
{
	const char *bad[] = {"",      "-oProxyCommand=x",
	                     "a;b",   "a b",
	                     "$(x)",  "a`b`",
	                     "h|x",   "h&",
	                     "h'",    "h\"x",
	                     "h\nx",  "a@",
	                     "@h",    "a@b@c",
	                     "u@-oX", "h>x",
	                     "h*",    "h/x",
	                     "h\\x"};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct sb_err err = SB_ERR_INIT;

		CHECK_INT(ssh_dest_check("--hosts", bad[i], &err), -SB_EINPUT);
		CHECK_CONTAINS(err.msg, "--hosts");
		if (bad[i][0] && !strchr(bad[i], '\n'))
			CHECK_CONTAINS(err.msg, bad[i]);
		CHECK_INT(sb_err_exit_status(&err), 2);
	}
}

static void test_dest_port(void)
{
	struct sb_err err = SB_ERR_INIT;

	CHECK_INT(ssh_dest_check("--hosts", "host:22", &err), -SB_EINPUT);
	CHECK_CONTAINS(err.msg, "'host:22'");
	CHECK_CONTAINS(err.msg, "~/.ssh/config");
	CHECK_CONTAINS(err.msg, "Port 22");
	CHECK_INT(ssh_dest_check("--hosts", "fe80::1", &err), -SB_EINPUT);
	CHECK_CONTAINS(err.msg, "~/.ssh/config");
}

static void test_dest_good(void)
{
	const char *good[] = {"rpi1", "pi@rpi1.lan", "10.0.0.5", "h1", "localhost", "a_b-c.d"};

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		struct sb_err err = SB_ERR_INIT;

		CHECK_INT(ssh_dest_check("--hosts", good[i], &err), 0);
		CHECK_INT(err.code, 0);
	}
	CHECK(ssh_dest_is_local("localhost"));
	CHECK(ssh_dest_is_local("LocalHost"));
	CHECK(!ssh_dest_is_local("h1"));
	CHECK(!ssh_dest_is_local("root@localhost"));
	CHECK(!ssh_dest_is_local(NULL));
}

static void test_quote_forms(void)
{
	char *q;

	CHECK_STR(q = ssh_quote("plain-word_1.2/x:y@z"), "plain-word_1.2/x:y@z");
	free(q);
	CHECK_STR(q = ssh_quote(""), "''");
	free(q);
	CHECK_STR(q = ssh_quote("it's"), "'it'\\''s'");
	free(q);
	CHECK_STR(q = ssh_quote("a=b"), "'a=b'");
	free(q);
	CHECK_STR(q = ssh_quote("~"), "'~'");
	free(q);
}

/* printf '[%s]\n' WORDS... through the shell on dest gives each word back. */
static void check_words_roundtrip(const char *dest, bool via_sh)
{
	struct sb_buf script = SB_BUF_INIT, out = SB_BUF_INIT, want = SB_BUF_INIT;
	const char *argv[ARRAY_SIZE(nasty) + 4];
	size_t k = 0;

	for (size_t i = 0; i < ARRAY_SIZE(nasty); i++)
		sb_buf_printf(&want, "[%s]\n", nasty[i]);
	if (via_sh) {
		sb_buf_puts(&script, "printf '[%s]\\n'");
		for (size_t i = 0; i < ARRAY_SIZE(nasty); i++) {
			char *q = ssh_quote(nasty[i]);

			sb_buf_printf(&script, " %s", q);
			free(q);
		}
		argv[k++] = "/bin/sh";
		argv[k++] = "-c";
		argv[k++] = script.data;
	} else {
		argv[k++] = "printf";
		argv[k++] = "[%s]\\n";
		for (size_t i = 0; i < ARRAY_SIZE(nasty); i++)
			argv[k++] = nasty[i];
	}
	argv[k] = NULL;
	CHECK_INT(run(dest, argv, &out, NULL), 0);
	CHECK_STR(out.data, want.data);
	sb_buf_free(&script);
	sb_buf_free(&out);
	sb_buf_free(&want);
}

static void test_quote_roundtrip_sh(void)
{
	check_words_roundtrip("localhost", true);
}

static void check_cat_1mib(const char *dest)
{
	struct sb_buf out = SB_BUF_INIT;
	const char *argv[] = {"cat", NULL};
	size_t n = 1 << 20;
	unsigned char *in = xmalloc(n);
	uint32_t x = 2463534242u;
	struct ssh_run_opts o = {
	    .in = in, .in_len = n, .in_fd = -1, .out = &out, .err_fd = -1, .timeout_ms = 60000};
	struct sb_err err = SB_ERR_INIT;
	int status = -1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		in[i] = (unsigned char)(i % 4096 ? x : 0);
	}
	CHECK_INT(ssh_run(dest, argv, &o, &status, &err), 0);
	CHECK_INT(status, 0);
	CHECK_INT(out.len, n);
	CHECK(out.len == n && memcmp(out.data, in, n) == 0);
	free(in);
	sb_buf_free(&out);
}

static void test_run_cat_1mib(void)
{
	check_cat_1mib("localhost");
}

static void check_status_stderr(const char *dest)
{
	struct sb_buf out = SB_BUF_INIT, eb = SB_BUF_INIT;
	const char *argv[] = {"sh", "-c", "echo out; echo err >&2; exit 3", NULL};
	const char *sig[] = {"sh", "-c", "kill -9 $$", NULL};

	CHECK_INT(run(dest, argv, &out, &eb), 3);
	CHECK_STR(out.data, "out\n");
	CHECK_STR(eb.data, "err\n");
	sb_buf_reset(&out);
	CHECK_INT(run(dest, (const char *[]){"true", NULL}, &out, NULL), 0);
	CHECK_INT(out.len, 0);
	CHECK_INT(run(dest, (const char *[]){"false", NULL}, NULL, NULL), 1);
	/* local: 128 + 9; ssh reports a remote signal as 255 */
	CHECK(run(dest, sig, NULL, NULL) == (ssh_dest_is_local(dest) ? 137 : 255));
	sb_buf_free(&out);
	sb_buf_free(&eb);
}

static void test_run_status_stderr(void)
{
	check_status_stderr("localhost");
}

static void test_run_fds(void)
{
	char in_path[] = "/tmp/test_ssh_in.XXXXXX", out_path[] = "/tmp/test_ssh_out.XXXXXX";
	int in = mkstemp(in_path), out = mkstemp(out_path), status = -1;
	const char *argv[] = {"sh", "-c", "tr a-z A-Z; echo e >&2", NULL};
	struct ssh_run_opts o = {.in_fd = in, .out_fd = out, .err_fd = out};
	struct sb_err err = SB_ERR_INIT;
	char buf[64] = {0};

	CHECK(in >= 0 && out >= 0);
	CHECK_INT(write(in, "hello\n", 6), 6);
	lseek(in, 0, SEEK_SET);
	CHECK_INT(ssh_run("localhost", argv, &o, &status, &err), 0);
	CHECK_INT(status, 0);
	CHECK(pread(out, buf, sizeof(buf) - 1, 0) > 0);
	CHECK_STR(buf, "HELLO\ne\n");
	/* stdin is /dev/null when nothing is given */
	struct sb_buf b = SB_BUF_INIT;
	CHECK_INT(run("localhost", (const char *[]){"wc", "-c", NULL}, &b, NULL), 0);
	CHECK_STR(b.data, "0\n");
	sb_buf_free(&b);
	close(in);
	close(out);
	unlink(in_path);
	unlink(out_path);
}

/* The child gets fds 0, 1, 2 only, even of fds without O_CLOEXEC. */
static void test_run_no_inherited_fds(void)
{
	int fd = open("/dev/null", O_RDONLY);
	char script[80];

	CHECK(fd >= 0 && dup2(fd, 77) == 77);
	snprintf(script, sizeof(script), "[ -e /proc/$$/fd/2 ] && [ ! -e /proc/$$/fd/77 ]");
	CHECK_INT(run("localhost", (const char *[]){"sh", "-c", script, NULL}, NULL, NULL), 0);
	close(77);
	close(fd);
}

/* tty: the command sees a terminal (ssh -t for a remote host). */
static void check_tty(const char *dest)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), sl = -1, status = -1;
	const char *argv[] = {"sh", "-c", "tty; exit 7", NULL};
	struct sb_err err = SB_ERR_INIT;
	char buf[256] = {0};
	ssize_t n;

	CHECK(m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0);
	sl = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC);
	CHECK(sl >= 0);
	struct ssh_run_opts o = {
	    .in_fd = sl, .out_fd = sl, .err_fd = sl, .tty = true, .timeout_ms = 30000};
	CHECK_INT(ssh_run(dest, argv, &o, &status, &err), 0);
	CHECK_INT(status, 7);
	n = read(m, buf, sizeof(buf) - 1);
	CHECK(n > 0);
	CHECK_CONTAINS(buf, "/dev/pts/");
	close(sl);
	close(m);
}

static void test_run_tty(void)
{
	check_tty("localhost");
}

static void check_timeout(const char *dest)
{
	const char *argv[] = {"sleep", "30", NULL};
	struct sb_buf eb = SB_BUF_INIT;
	struct ssh_run_opts o = {.in_fd = -1, .errbuf = &eb, .err_fd = -1, .timeout_ms = 1500};
	struct sb_err err = SB_ERR_INIT;
	int status = -1;
	double t0 = now_s(), dt;

	CHECK_INT(ssh_run(dest, argv, &o, &status, &err), -ETIMEDOUT);
	dt = now_s() - t0;
	/* not cut short, and the timeout (not the command's end at 30 s) stopped
	 * it: 10 s is room for ssh and ASan on loaded cores, 20 s short of that */
	CHECK(dt >= 1.4);
	CHECK(dt < 10.0);
	CHECK_CONTAINS(err.msg, "sleep 30");
	CHECK_CONTAINS(err.msg, ssh_dest_is_local(dest) ? "localhost" : dest);
	sb_buf_free(&eb);
}

static void test_run_timeout(void)
{
	check_timeout("localhost");
}

/* A child that never reads a large stdin: no deadlock, the timeout wins. */
static void test_run_timeout_unread_stdin(void)
{
	const char *argv[] = {"sleep", "10", NULL};
	size_t n = 8 << 20;
	char *in = xzalloc(n);
	struct ssh_run_opts o = {
	    .in = in, .in_len = n, .in_fd = -1, .err_fd = -1, .timeout_ms = 300};
	struct sb_err err = SB_ERR_INIT;
	int status;

	CHECK_INT(ssh_run("localhost", argv, &o, &status, &err), -ETIMEDOUT);
	/* a child that exits without reading: EPIPE, not SIGPIPE, and its status */
	argv[0] = "true";
	argv[1] = NULL;
	o.timeout_ms = 10000;
	CHECK_INT(ssh_run("localhost", argv, &o, &status, &err), 0);
	CHECK_INT(status, 0);
	free(in);
}

static void test_run_errors(void)
{
	struct sb_err err = SB_ERR_INIT;
	struct ssh_run_opts o = {.in_fd = -1, .out_fd = -1, .err_fd = -1};
	int status;

	CHECK(ssh_run("localhost", (const char *[]){"/nonexistent/cmd", NULL}, &o, &status, &err) <
	      0);
	CHECK_CONTAINS(err.msg, "/nonexistent/cmd");
	CHECK_CONTAINS(err.msg, "localhost");
	CHECK_INT(ssh_run("a;b", (const char *[]){"true", NULL}, &o, &status, &err), -SB_EINPUT);
	CHECK_INT(ssh_run("-oProxyCommand=x", (const char *[]){"true", NULL}, &o, &status, &err),
	          -SB_EINPUT);
}

static void check_pipe(const char *src, const char *dst)
{
	char path[] = "/tmp/test_ssh_pipe.XXXXXX";
	int fd = mkstemp(path);
	const char *s[] = {"head", "-c", "5000000", "/dev/zero", NULL};
	const char *d[] = {"sh", "-c", "wc -c > \"$1\"", "sh", path, NULL};
	struct sb_buf out = SB_BUF_INIT;
	struct sb_err err = SB_ERR_INIT;

	close(fd);
	if (ssh_pipe(src, s, dst, d, 60000, &err) < 0)
		TAP_FAIL("ssh_pipe: %s", err.msg);
	CHECK_INT(run(dst, (const char *[]){"cat", path, NULL}, &out, NULL), 0);
	CHECK_STR(out.data, "5000000\n");
	run(dst, (const char *[]){"rm", "-f", path, NULL}, NULL, NULL);
	unlink(path);
	sb_buf_free(&out);
}

static void test_pipe_local(void)
{
	check_pipe("localhost", "localhost");
}

static void test_pipe_failures(void)
{
	const char *ok_src[] = {"head", "-c", "100000", "/dev/zero", NULL};
	const char *bad_src[] = {"sh", "-c", "echo boom-src >&2; exit 4", NULL};
	const char *ok_dst[] = {"sh", "-c", "cat >/dev/null", NULL};
	const char *bad_dst[] = {"sh", "-c", "cat >/dev/null; echo nope-dst >&2; exit 5", NULL};
	const char *early_dst[] = {"sh", "-c", "head -c 10 >/dev/null; echo gone >&2; exit 6",
	                           NULL};
	const char *big_src[] = {"head", "-c", "100000000", "/dev/zero", NULL};
	struct sb_err err = SB_ERR_INIT;

	CHECK_INT(ssh_pipe("localhost", bad_src, "localhost", ok_dst, 10000, &err), -EIO);
	CHECK_CONTAINS(err.msg, "boom-src");
	CHECK_CONTAINS(err.msg, "status 4");
	CHECK_INT(ssh_pipe("localhost", ok_src, "localhost", bad_dst, 10000, &err), -EIO);
	CHECK_CONTAINS(err.msg, "nope-dst");
	CHECK_CONTAINS(err.msg, "status 5");
	/* the reader goes early: its failure first, the writer's SIGPIPE after */
	CHECK_INT(ssh_pipe("localhost", big_src, "localhost", early_dst, 10000, &err), -EIO);
	CHECK_CONTAINS(err.msg, "gone");
	CHECK(strstr(err.msg, "status 6") && strstr(err.msg, "signal 13") &&
	      strstr(err.msg, "status 6") < strstr(err.msg, "signal 13"));
	CHECK_INT(ssh_pipe("localhost", (const char *[]){"sleep", "10", NULL}, "localhost", ok_dst,
	                   500, &err),
	          -ETIMEDOUT);
	CHECK_CONTAINS(err.msg, "sleep 10");
	CHECK(ssh_pipe("localhost", ok_src, "localhost", (const char *[]){"/nonexistent", NULL},
	               10000, &err) < 0);
	CHECK_CONTAINS(err.msg, "/nonexistent");
	CHECK_INT(ssh_pipe("a|b", ok_src, "localhost", ok_dst, 10000, &err), -SB_EINPUT);
}

static void test_ensure_local(void)
{
	struct sb_err err = SB_ERR_INIT;
	char *p = NULL, *q = NULL, want[4096];
	const char *self = getenv("SLURMBOX_SELF");
	ssize_t n;

	CHECK_INT(ssh_slurmbox_ensure("localhost", &p, &err), 0);
	if (self && *self) {
		CHECK(realpath(self, want) != NULL);
	} else {
		n = readlink("/proc/self/exe", want, sizeof(want) - 1);
		want[n < 0 ? 0 : n] = '\0';
	}
	CHECK_STR(p, want);
	CHECK_INT(ssh_slurmbox_ensure("localhost", &q, &err), 0);
	CHECK_STR(q, want);
	free(q);
	CHECK_INT(ssh_slurmbox_ensure("a b", &q, &err), -SB_EINPUT);
	CHECK(q == NULL);
	free(p);
}

static void *thread_run(void *arg)
{
	const char *dest = arg;
	struct sb_buf out = SB_BUF_INIT;
	int bad = 0;

	for (int i = 0; i < 10; i++) {
		sb_buf_reset(&out);
		if (run(dest, (const char *[]){"echo", "hi", NULL}, &out, NULL) != 0 || !out.data ||
		    strcmp(out.data, "hi\n"))
			bad++;
	}
	sb_buf_free(&out);
	return (void *)(intptr_t)bad;
}

static void check_threads(const char *dest)
{
	pthread_t t[8];
	void *bad;

	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		CHECK_INT(pthread_create(&t[i], NULL, thread_run, (void *)dest), 0);
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		pthread_join(t[i], &bad);
		CHECK_INT((intptr_t)bad, 0);
	}
}

static void test_threads_local(void)
{
	check_threads("localhost");
}

/* ---- over real ssh (SLURMBOX_TEST_SSH_HOST; main runs these only then) ---- */

static void test_remote_run(void)
{
	struct sb_buf out = SB_BUF_INIT;

	CHECK_INT(run(remote(), (const char *[]){"echo", "hello", NULL}, &out, NULL), 0);
	CHECK_STR(out.data, "hello\n");
	check_status_stderr(remote());
	check_cat_1mib(remote());
	sb_buf_free(&out);
}

static void test_remote_quoting(void)
{
	check_words_roundtrip(remote(), false);
	check_words_roundtrip(remote(), true);
}

static void test_remote_bad_host(void)
{
	struct sb_buf eb = SB_BUF_INIT;
	struct sb_err err = SB_ERR_INIT;
	char *p = NULL;

	CHECK_INT(run("nosuchhost.invalid", (const char *[]){"true", NULL}, NULL, &eb), 255);
	CHECK_CONTAINS(eb.data, "nosuchhost.invalid");
	CHECK_INT(ssh_slurmbox_ensure("nosuchhost.invalid", &p, &err), -EHOSTUNREACH);
	CHECK_CONTAINS(err.msg, "nosuchhost.invalid");
	CHECK(p == NULL);
	sb_buf_free(&eb);
}

static void test_remote_timeout(void)
{
	check_timeout(remote());
}

static void test_remote_tty(void)
{
	check_tty(remote());
}

static void test_remote_ensure(void)
{
	struct sb_buf out = SB_BUF_INIT;
	struct sb_err err = SB_ERR_INIT;
	char *p = NULL, *q = NULL;
	const char *rm[] = {
	    "sh", "-c", "rm -f \"$HOME/.cache/slurmbox/slurmbox-$1-\"*", "sh", SLURMBOX_VERSION,
	    NULL};

	if (!getenv("SLURMBOX_SELF")) {
		TAP_SKIP("set SLURMBOX_SELF to a slurmbox binary to copy");
		return;
	}
	CHECK_INT(run(remote(), rm, NULL, NULL), 0);
	if (ssh_slurmbox_ensure(remote(), &p, &err) < 0)
		TAP_FAIL("ensure: %s", err.msg);
	CHECK_CONTAINS(p, "/.cache/slurmbox/slurmbox-" SLURMBOX_VERSION);
	if (p) {
		CHECK_INT(
		    run(remote(), (const char *[]){p, "version", "--short", NULL}, &out, NULL), 0);
		CHECK_STR(out.data, SLURMBOX_VERSION "\n");
	}
	/* cached: the second answer asks nothing of the host, so a copy removed
	 * behind its back stays removed (a probe would have copied it again) */
	CHECK_INT(run(remote(), rm, NULL, NULL), 0);
	CHECK_INT(ssh_slurmbox_ensure(remote(), &q, &err), 0);
	CHECK_STR(q, p);
	if (p)
		CHECK_INT(run(remote(), (const char *[]){"test", "-e", p, NULL}, NULL, NULL), 1);
	free(p);
	free(q);
	sb_buf_free(&out);
}

/* A copy that does not answer `version --short` with our version is an error. */
static void test_remote_ensure_broken_copy(void)
{
	const char *rm[] = {
	    "sh", "-c", "rm -f \"$HOME/.cache/slurmbox/slurmbox-$1-\"*", "sh", SLURMBOX_VERSION,
	    NULL};
	char *old = getenv("SLURMBOX_SELF") ? xstrdup(getenv("SLURMBOX_SELF")) : NULL;
	struct sb_err err = SB_ERR_INIT;
	char *p = NULL;
	int r;

	CHECK_INT(run(remote(), rm, NULL, NULL), 0);
	ssh_close_all(); /* forgets the cached answers too */
	setenv("SLURMBOX_SELF", "/nonexistent/slurmbox", 1);
	CHECK_INT(ssh_slurmbox_ensure("localhost", &p, &err), -SB_EINPUT);
	CHECK_CONTAINS(err.msg, "SLURMBOX_SELF");
	setenv("SLURMBOX_SELF", "/bin/true", 1);
	r = ssh_slurmbox_ensure(remote(), &p, &err);
	if (r == 0) {
		TAP_SKIP("%s has slurmbox %s on its PATH", remote(), SLURMBOX_VERSION);
	} else {
		CHECK_INT(r, -ENOEXEC);
		CHECK_CONTAINS(err.msg, "does not run there");
		CHECK_CONTAINS(err.msg, remote());
	}
	free(p);
	if (old)
		setenv("SLURMBOX_SELF", old, 1);
	else
		unsetenv("SLURMBOX_SELF");
	free(old);
	CHECK_INT(run(remote(), rm, NULL, NULL), 0);
}

static void test_remote_pipe(void)
{
	const char *h2 = getenv("SLURMBOX_TEST_SSH_HOST2");

	check_pipe(remote(), h2 && *h2 ? h2 : remote());
	check_pipe("localhost", remote());
	check_pipe(remote(), "localhost");
}

static void test_remote_threads(void)
{
	check_threads(remote());
}

/* ssh_close_all stops the ControlMaster it used: `ssh -O check` finds none. */
static void test_remote_close(void)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char ctl[256], dir[128];
	struct sb_buf eb = SB_BUF_INIT;
	struct stat st;
	int status;

	CHECK_INT(run(remote(), (const char *[]){"true", NULL}, NULL, NULL), 0);
	snprintf(dir, sizeof(dir), "%s/slurmbox", xdg ? xdg : "");
	if (!xdg || stat(dir, &st) < 0)
		snprintf(dir, sizeof(dir), "/tmp/slurmbox-%u", (unsigned)geteuid());
	snprintf(ctl, sizeof(ctl), "ControlPath=%s/cm-%%C", dir);
	CHECK_INT(run("localhost",
	              (const char *[]){"ssh", "-O", "check", "-o", ctl, remote(), NULL}, NULL,
	              NULL),
	          0);
	ssh_close_all();
	/* `ssh -O stop` returns once the master took the request; it exits
	 * after: wait for `-O check` to find none (255), at most 10 s */
	for (double t0 = now_s();; usleep(50 * 1000)) {
		sb_buf_reset(&eb);
		status = run("localhost",
		             (const char *[]){"ssh", "-O", "check", "-o", ctl, remote(), NULL},
		             NULL, &eb);
		if (status != 0 || now_s() - t0 > 10.0)
			break;
	}
	CHECK_INT(status, 255);
	sb_buf_free(&eb);
}

/* Last: every child was reaped, and ssh_close_all frees what it kept. */
static void test_no_zombies(void)
{
	ssh_close_all();
	errno = 0;
	CHECK_INT(waitpid(-1, NULL, WNOHANG), -1);
	CHECK_INT(errno, ECHILD);
}

#define LOCAL_TESTS                                                                               \
	test_dest_bad, test_dest_port, test_dest_good, test_quote_forms, test_quote_roundtrip_sh, \
	    test_run_cat_1mib, test_run_status_stderr, test_run_fds, test_run_no_inherited_fds,   \
	    test_run_tty, test_run_timeout, test_run_timeout_unread_stdin, test_run_errors,       \
	    test_pipe_local, test_pipe_failures, test_ensure_local, test_threads_local
#define REMOTE_TESTS                                                                               \
	test_remote_run, test_remote_quoting, test_remote_bad_host, test_remote_timeout,           \
	    test_remote_tty, test_remote_ensure_broken_copy, test_remote_ensure, test_remote_pipe, \
	    test_remote_threads, test_remote_close

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* the remote cases are in the plan only with a host to run them on */
	if (remote())
		TAP_RUN(LOCAL_TESTS, REMOTE_TESTS, test_no_zombies);
	TAP_RUN(LOCAL_TESTS, test_no_zombies);
}

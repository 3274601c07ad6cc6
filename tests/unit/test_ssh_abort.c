/* SPDX-License-Identifier: MIT */
/*
 * ssh_run's aborts, on "localhost" (local processes, the same code as over
 * ssh): a held stdin closed on an abort so the command stops by itself and
 * its output still arrives; any other command stopped at once with -EINTR;
 * the global watch (interrupt_catch's); children in their own process
 * group, so a terminal's Ctrl-C reaches only slurmbox.
 */
#include "tap.h"
#include "../../launcher/remote/ssh.h"

#include <pthread.h>
#include <time.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct setter {
	volatile sig_atomic_t *flag;
	int after_ms;
	pthread_t th;
};

static void *set_later(void *arg)
{
	struct setter *s = arg;

	usleep((useconds_t)s->after_ms * 1000);
	*s->flag = 1;
	return NULL;
}

static void setter_start(struct setter *s, volatile sig_atomic_t *flag, int after_ms)
{
	s->flag = flag;
	s->after_ms = after_ms;
	pthread_create(&s->th, NULL, set_later, s);
}

/* The abort closes the held stdin: `cat` ends, the script goes on and its output arrives. */
static void test_hold_in_abort_closes_stdin(void)
{
	static volatile sig_atomic_t stop;
	const char *argv[] = {"sh", "-c", "cat; echo got-eof", NULL};
	_cleanup_buf_ struct sb_buf out = SB_BUF_INIT, eb = SB_BUF_INIT;
	struct ssh_run_opts o = {.in = "line\n",
	                         .in_len = 5,
	                         .in_fd = -1,
	                         .out = &out,
	                         .errbuf = &eb,
	                         .timeout_ms = 20000,
	                         .hold_in = true,
	                         .abort = &stop};
	struct sb_err err = SB_ERR_INIT;
	struct setter s;
	int status = -1;
	double t0 = now_s(), dt;

	stop = 0;
	setter_start(&s, &stop, 300);
	CHECK_INT(ssh_run("localhost", argv, &o, &status, &err), 0);
	dt = now_s() - t0;
	pthread_join(s.th, NULL);
	CHECK_INT(status, 0);
	CHECK_STR(out.data ? out.data : "", "line\ngot-eof\n");
	CHECK(dt >= 0.25); /* stdin stayed open until the abort */
	CHECK(dt < 5);
}

/* A held stdin does not keep a command that is done from ending. */
static void test_hold_in_command_ends_by_itself(void)
{
	const char *argv[] = {"sh", "-c", "read l; echo \"$l\"; exit 3", NULL};
	_cleanup_buf_ struct sb_buf out = SB_BUF_INIT;
	struct ssh_run_opts o = {.in = "hello\n",
	                         .in_len = 6,
	                         .in_fd = -1,
	                         .out = &out,
	                         .err_fd = -1,
	                         .timeout_ms = 20000,
	                         .hold_in = true};
	struct sb_err err = SB_ERR_INIT;
	int status = -1;
	double t0 = now_s();

	CHECK_INT(ssh_run("localhost", argv, &o, &status, &err), 0);
	CHECK_INT(status, 3);
	CHECK_STR(out.data ? out.data : "", "hello\n");
	CHECK(now_s() - t0 < 5);
}

/* Without hold_in an abort stops the command at once: -EINTR, naming it. */
static void test_abort_stops_at_once(void)
{
	static volatile sig_atomic_t stop;
	const char *argv[] = {"sleep", "30", NULL};
	_cleanup_buf_ struct sb_buf out = SB_BUF_INIT;
	struct ssh_run_opts o = {
	    .in_fd = -1, .out = &out, .err_fd = -1, .timeout_ms = 60000, .abort = &stop};
	struct sb_err err = SB_ERR_INIT;
	struct setter s;
	int status = -1;
	double t0 = now_s();

	stop = 0;
	setter_start(&s, &stop, 100);
	CHECK_INT(ssh_run("localhost", argv, &o, &status, &err), -EINTR);
	pthread_join(s.th, NULL);
	CHECK(now_s() - t0 < 5);
	CHECK_CONTAINS(err.msg, "Interrupted: stopped 'sleep 30' on localhost");
}

/* The global watch (SIGINT/SIGTERM in slurmbox) reaches every command. */
static void test_global_watch(void)
{
	static volatile sig_atomic_t interrupted;
	const char *argv[] = {"sleep", "30", NULL};
	struct ssh_run_opts o = {.in_fd = -1, .out_fd = -1, .err_fd = -1, .timeout_ms = 60000};
	struct sb_err err = SB_ERR_INIT;
	struct setter s;
	int status = -1;
	double t0 = now_s();

	interrupted = 0;
	ssh_abort_watch(&interrupted);
	setter_start(&s, &interrupted, 100);
	CHECK_INT(ssh_run("localhost", argv, &o, &status, &err), -EINTR);
	pthread_join(s.th, NULL);
	ssh_abort_watch(NULL);
	CHECK(now_s() - t0 < 5);
	/* and once unwatched, commands run again */
	CHECK_INT(ssh_run("localhost", (const char *[]){"true", NULL}, &o, &status, &err), 0);
	CHECK_INT(status, 0);
}

/*
 * Watched for aborts, a child leads its own process group: a terminal's
 * Ctrl-C is slurmbox's to handle. Unwatched (exec), it stays in ours.
 */
static void test_own_process_group(void)
{
	const char *argv[] = {"sh", "-c",
	                      "set -- $(cat /proc/$$/stat); [ \"$5\" = \"$$\" ] && echo own", NULL};
	_cleanup_buf_ struct sb_buf out = SB_BUF_INIT;
	static volatile sig_atomic_t never;
	struct ssh_run_opts o = {
	    .in_fd = -1, .out = &out, .err_fd = -1, .timeout_ms = 20000, .abort = &never};
	struct sb_err err = SB_ERR_INIT;
	int status = -1;

	CHECK_INT(ssh_run("localhost", argv, &o, &status, &err), 0);
	CHECK_STR(out.data ? out.data : "", "own\n");
	sb_buf_reset(&out);
	o.abort = NULL;
	CHECK_INT(ssh_run("localhost", argv, &o, &status, &err), 0);
	CHECK_STR(out.data ? out.data : "", "");
}

int main(void)
{
	TAP_RUN(test_hold_in_abort_closes_stdin, test_hold_in_command_ends_by_itself,
	        test_abort_stops_at_once, test_global_watch, test_own_process_group);
}

/* SPDX-License-Identifier: MIT */
/*
 * util: the one thread fan-out (every item runs once, items apart or one
 * shared, a start/join pair with work between) and the one write-all loop
 * (a non-blocking pipe fuller than its buffer; a closed reader).
 */
#include "tap.h"
#include "../../compose/base.h"
#include "../../launcher/util/fanout.h"
#include "../../launcher/util/io.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

struct item {
	size_t index;
	int runs;
	pthread_t self;
};

static void *item_run(void *arg)
{
	struct item *it = arg;

	it->runs++;
	it->self = pthread_self();
	return NULL;
}

static void test_fanout_each_once(void)
{
	struct item items[64] = {{0}};

	for (size_t i = 0; i < ARRAY_SIZE(items); i++)
		items[i].index = i;
	util_fanout(ARRAY_SIZE(items), item_run, items, sizeof(items[0]));
	for (size_t i = 0; i < ARRAY_SIZE(items); i++) {
		CHECK_INT(items[i].runs, 1);
		CHECK_INT((int)items[i].index, (int)i);
		CHECK(!pthread_equal(items[i].self, pthread_self()));
	}
	util_fanout(0, item_run, NULL, sizeof(items[0])); /* nothing to do */
}

struct pool {
	pthread_mutex_t lock;
	int next, done[100];
};

static void *pool_worker(void *arg)
{
	struct pool *p = arg;

	for (;;) {
		int i;

		pthread_mutex_lock(&p->lock);
		i = p->next < 100 ? p->next++ : -1;
		pthread_mutex_unlock(&p->lock);
		if (i < 0)
			return NULL;
		p->done[i]++;
	}
}

static void test_fanout_shared(void)
{
	struct pool p = {.lock = PTHREAD_MUTEX_INITIALIZER};

	util_fanout(4, pool_worker, &p, 0);
	for (int i = 0; i < 100; i++)
		CHECK_INT(p.done[i], 1);
}

static void test_fanout_start_join(void)
{
	struct item items[3] = {{0}};
	struct util_fanout *f = util_fanout_start(3, item_run, items, sizeof(items[0]));

	util_fanout_join(f);
	for (size_t i = 0; i < 3; i++)
		CHECK_INT(items[i].runs, 1);
	util_fanout_join(NULL);
}

struct drain {
	int fd;
	size_t got;
};

static void *drain_run(void *arg)
{
	struct drain *d = arg;
	char buf[4096];
	ssize_t n;

	while ((n = read(d->fd, buf, sizeof(buf))) > 0)
		d->got += (size_t)n;
	return NULL;
}

static void test_write_all(void)
{
	size_t len = 1 << 20; /* far more than a pipe holds */
	char *buf = xcalloc(len, 1);
	int p[2];
	struct drain d;
	pthread_t th;

	CHECK_INT(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	fcntl(p[0], F_SETFL, 0); /* the reader blocks; the writer does not */
	d = (struct drain){.fd = p[0]};
	CHECK_INT(pthread_create(&th, NULL, drain_run, &d), 0);
	CHECK_INT(util_write_all(p[1], buf, len), 0);
	close(p[1]);
	pthread_join(th, NULL);
	CHECK_INT((int)d.got, (int)len);
	close(p[0]);

	/* nobody reads any more: -EPIPE, not a signal */
	signal(SIGPIPE, SIG_IGN);
	CHECK_INT(pipe2(p, O_CLOEXEC), 0);
	close(p[0]);
	CHECK_INT(util_write_all(p[1], "x", 1), -EPIPE);
	close(p[1]);
	CHECK_INT(util_write_all(-1, "x", 1), -EBADF);
	CHECK_INT(util_write_all(-1, "", 0), 0);
	free(buf);
}

int main(void)
{
	TAP_RUN(test_fanout_each_once, test_fanout_shared, test_fanout_start_join, test_write_all);
}

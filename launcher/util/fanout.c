/* SPDX-License-Identifier: MIT */
/* fanout.c - a thread per item, and the join (see fanout.h). */
#include "fanout.h"
#include "../../compose/base.h"

#include <pthread.h>

struct util_fanout {
	size_t n;
	void *(*fn)(void *);
	char *items;
	size_t size;
	pthread_t *th;
	bool *started;
};

static void *item(const struct util_fanout *f, size_t i)
{
	return f->items + i * f->size;
}

struct util_fanout *util_fanout_start(size_t n, void *(*fn)(void *), void *items, size_t size)
{
	struct util_fanout *f = xcalloc(1, sizeof(*f));

	*f = (struct util_fanout){.n = n, .fn = fn, .items = items, .size = size};
	f->th = xcalloc(n ? n : 1, sizeof(*f->th));
	f->started = xcalloc(n ? n : 1, sizeof(*f->started));
	for (size_t i = 0; i < n; i++)
		f->started[i] = pthread_create(&f->th[i], NULL, fn, item(f, i)) == 0;
	return f;
}

void util_fanout_join(struct util_fanout *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++) {
		if (f->started[i])
			pthread_join(f->th[i], NULL);
		else
			f->fn(item(f, i));
	}
	free(f->th);
	free(f->started);
	free(f);
}

void util_fanout(size_t n, void *(*fn)(void *), void *items, size_t size)
{
	util_fanout_join(util_fanout_start(n, fn, items, size));
}

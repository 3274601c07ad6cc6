/* SPDX-License-Identifier: MIT */
/*
 * fanout - one thread per item, then wait for them all: the hosts of a
 * cluster, the containers of a host, the addresses of a probe.
 */
#ifndef SLURMBOX_UTIL_FANOUT_H
#define SLURMBOX_UTIL_FANOUT_H

#include <stddef.h>

struct util_fanout;

/*
 * Start fn(item) on a thread for each of the n items, which lie `size`
 * bytes apart from `items` (size 0: every call gets `items` itself, for
 * workers that share one queue). An item whose thread cannot be started
 * runs in the caller's thread at util_fanout_join, so nothing is left out
 * and nothing runs before what the caller does between the two.
 */
struct util_fanout *util_fanout_start(size_t n, void *(*fn)(void *), void *items, size_t size);
/* Wait for every item's fn (running those not started) and free f. */
void util_fanout_join(struct util_fanout *f);
/* util_fanout_start, then util_fanout_join. */
void util_fanout(size_t n, void *(*fn)(void *), void *items, size_t size);

#endif

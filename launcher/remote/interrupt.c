/* SPDX-License-Identifier: MIT */
/*
 * interrupt.c - SIGINT and SIGTERM stop Docker requests and ssh children
 * instead of killing us (see interrupt.h).
 */
#include "interrupt.h"
#include "ssh.h"
#include "../docker/docker.h"

#include <string.h>

volatile sig_atomic_t interrupt_signal;

static void interrupt_on_signal(int sig)
{
	interrupt_signal = sig;
}

void interrupt_catch(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = interrupt_on_signal; /* no SA_RESTART: blocking calls return EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	docker_abort_watch(&interrupt_signal);
	ssh_abort_watch(&interrupt_signal);
}

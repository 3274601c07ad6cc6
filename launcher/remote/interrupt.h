/* SPDX-License-Identifier: MIT */
#ifndef SLURMBOX_REMOTE_INTERRUPT_H
#define SLURMBOX_REMOTE_INTERRUPT_H

#include <signal.h>

/*
 * SIGINT and SIGTERM set interrupt_signal (the signal) instead of killing us,
 * so `up` can roll back what it created; Docker requests then fail with
 * -EINTR (docker_abort_watch), and ssh children are stopped (or, for an
 * agent holding its stdin, told to stop: ssh_abort_watch). main exits 128 +
 * the signal.
 */
extern volatile sig_atomic_t interrupt_signal;
void interrupt_catch(void);

#endif

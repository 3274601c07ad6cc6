/* SPDX-License-Identifier: MIT */
/* io - writing to a file descriptor. */
#ifndef SLURMBOX_UTIL_IO_H
#define SLURMBOX_UTIL_IO_H

#include <stddef.h>

/*
 * Write all of buf to fd, through EINTR, short writes and a non-blocking fd
 * (which is waited for). 0, or -errno (-EPIPE when the reader is gone).
 */
int util_write_all(int fd, const void *buf, size_t len);

#endif

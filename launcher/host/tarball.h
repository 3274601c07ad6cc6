/* SPDX-License-Identifier: MIT */
/*
 * tarball - small in-memory tar archives (libarchive), for files copied into
 * containers and for build contexts.
 */
#ifndef SLURMBOX_TARBALL_H
#define SLURMBOX_TARBALL_H

#include "../../compose/base.h"

struct tarball_entry {
	const char *path; /* relative, e.g. "etc/slurm/slurm.conf" */
	const void *data;
	size_t len;
	unsigned mode;
	uint32_t uid;
	uint32_t gid;
};

/* A ustar/pax archive of the entries, appended to *out. Parent directories are implied. */
int tarball_build(const struct tarball_entry *entries, size_t n, struct sb_buf *out,
                  struct sb_err *err);

#endif

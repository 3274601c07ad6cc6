/* SPDX-License-Identifier: MIT */
/*
 * ssh_arch - which slurmbox binary a host of another architecture gets (see
 * ssh_arch.c). Pure but for reading the candidates' ELF headers.
 */
#ifndef SLURMBOX_SSH_ARCH_H
#define SLURMBOX_SSH_ARCH_H

#include "../../compose/base.h"

/* Debian's name of a `uname -m` machine ("aarch64" -> "arm64"), or NULL if unknown. */
const char *ssh_arch_debian(const char *machine);
/*
 * A slurmbox built for `machine` found from this binary's path `self`:
 * <dir>/slurmbox-<machine>, else <dir>/../build-<debian>/slurmbox (a cross
 * build beside a build/ tree). Only an executable whose ELF header names
 * that machine counts. NULL if none (caller frees the path).
 */
char *ssh_arch_binary(const char *self, const char *machine);

#endif

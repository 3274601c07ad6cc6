/* SPDX-License-Identifier: MIT */
/*
 * ssh_arch.c - the slurmbox binary for a host of another architecture: a
 * Raspberry Pi (aarch64) driven from a PC (x86_64). A cross build (`make
 * ARCH=arm64`, build-arm64/slurmbox) or a binary installed beside this one
 * as slurmbox-<machine> is copied there instead of this one; its ELF header
 * must say it is for that machine.
 */
#include "ssh_arch.h"

#include <elf.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

static const struct ssh_arch {
	const char *machine; /* uname -m */
	const char *debian;  /* Debian's name: make ARCH=... */
	uint16_t elf;        /* the ELF header's e_machine */
} ssh_arches[] = {
    {"x86_64", "amd64", EM_X86_64}, {"aarch64", "arm64", EM_AARCH64},
    {"arm64", "arm64", EM_AARCH64}, {"armv7l", "armhf", EM_ARM},
    {"armv8l", "armhf", EM_ARM},
};

static const struct ssh_arch *arch_find(const char *machine)
{
	for (size_t i = 0; machine && i < ARRAY_SIZE(ssh_arches); i++)
		if (strcmp(ssh_arches[i].machine, machine) == 0)
			return &ssh_arches[i];
	return NULL;
}

const char *ssh_arch_debian(const char *machine)
{
	const struct ssh_arch *a = arch_find(machine);

	return a ? a->debian : NULL;
}

/* A regular executable file whose ELF header names `elf` as its machine? */
static bool binary_for(const char *path, uint16_t elf)
{
	unsigned char h[20];
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return false;
	ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111) &&
	     read(fd, h, sizeof(h)) == (ssize_t)sizeof(h) && memcmp(h, ELFMAG, SELFMAG) == 0 &&
	     h[EI_DATA] == ELFDATA2LSB && (uint16_t)(h[18] | h[19] << 8) == elf;
	close(fd);
	return ok;
}

char *ssh_arch_binary(const char *self, const char *machine)
{
	const struct ssh_arch *a = arch_find(machine);
	_cleanup_free_ char *copy = xstrdup(self);
	const char *dir;
	char *cand[2], *found = NULL;

	if (!a)
		return NULL;
	dir = dirname(copy);
	cand[0] = xasprintf("%s/slurmbox-%s", dir, machine);
	cand[1] = xasprintf("%s/../build-%s/slurmbox", dir, a->debian);
	for (size_t i = 0; i < ARRAY_SIZE(cand) && !found; i++)
		if (binary_for(cand[i], a->elf) && !(found = realpath(cand[i], NULL)))
			found = xstrdup(cand[i]);
	for (size_t k = 0; k < ARRAY_SIZE(cand); k++)
		free(cand[k]);
	return found;
}

/* SPDX-License-Identifier: MIT */
/* ssh_arch: which binary a host of another architecture gets, by name and ELF header. */
#include "tap.h"
#include "../../launcher/remote/ssh_arch.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>

static char dir[] = "/tmp/test_ssh_arch.XXXXXX";

/* An executable whose ELF header names `machine` (a header is all ssh_arch reads). */
static void elf_write(const char *path, uint16_t machine, mode_t mode)
{
	unsigned char h[64] = {0x7f, 'E', 'L', 'F', ELFCLASS64, ELFDATA2LSB, EV_CURRENT};
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	h[18] = (unsigned char)(machine & 0xff);
	h[19] = (unsigned char)(machine >> 8);
	if (fd < 0 || write(fd, h, sizeof(h)) != (ssize_t)sizeof(h))
		TAP_FAIL("cannot write %s", path);
	if (fd >= 0)
		close(fd);
	chmod(path, mode);
}

static void test_names(void)
{
	CHECK_STR(ssh_arch_debian("aarch64"), "arm64");
	CHECK_STR(ssh_arch_debian("armv7l"), "armhf");
	CHECK_STR(ssh_arch_debian("x86_64"), "amd64");
	CHECK(ssh_arch_debian("riscv64") == NULL);
	CHECK(ssh_arch_debian(NULL) == NULL);
}

static void test_binary_found(void)
{
	_cleanup_free_ char *build = xasprintf("%s/build", dir), *self = NULL,
	                    *cross_dir = xasprintf("%s/build-arm64", dir), *cross = NULL,
	                    *beside = NULL;
	char *found;

	mkdir(build, 0755);
	mkdir(cross_dir, 0755);
	self = xasprintf("%s/slurmbox", build);
	cross = xasprintf("%s/slurmbox", cross_dir);
	beside = xasprintf("%s/slurmbox-aarch64", build);
	elf_write(self, EM_X86_64, 0755);

	/* none yet */
	CHECK(ssh_arch_binary(self, "aarch64") == NULL);
	/* a cross build beside the build tree */
	elf_write(cross, EM_AARCH64, 0755);
	found = ssh_arch_binary(self, "aarch64");
	CHECK_STR(found, cross);
	free(found);
	/* slurmbox-<machine> beside this binary comes first */
	elf_write(beside, EM_AARCH64, 0755);
	found = ssh_arch_binary(self, "aarch64");
	CHECK_STR(found, beside);
	free(found);
	/* a file of another machine, or not executable, does not count */
	elf_write(beside, EM_X86_64, 0755);
	elf_write(cross, EM_AARCH64, 0644);
	CHECK(ssh_arch_binary(self, "aarch64") == NULL);
	/* an unknown machine has no candidates */
	CHECK(ssh_arch_binary(self, "riscv64") == NULL);
	unlink(self);
	unlink(beside);
	unlink(cross);
	rmdir(cross_dir);
	rmdir(build);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	TAP_RUN(test_names, test_binary_found);
	rmdir(dir);
}

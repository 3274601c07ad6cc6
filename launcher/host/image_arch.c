/* SPDX-License-Identifier: MIT */
/*
 * image_arch - images for another architecture than the engine's own
 * (`slurmbox images build --arch arm64`): Debian's architecture names, the
 * Docker platform of each, the kernel machine names they run on, and whether
 * this machine can run them (binfmt_misc and qemu-user-static).
 */
#include "image.h"

#include <sys/utsname.h>

static const struct image_arch {
	const char *debian;   /* debootstrap --arch */
	const char *platform; /* Docker's */
	const char *machine;  /* uname -m, and Docker's Architecture */
	const char *qemu;     /* the binfmt_misc entry of qemu-user-static */
} image_archs[] = {
    {"amd64", "linux/amd64", "x86_64", "qemu-x86_64"},
    {"arm64", "linux/arm64", "aarch64", "qemu-aarch64"},
    {"armhf", "linux/arm/v7", "armv7l", "qemu-arm"},
    {"i386", "linux/386", "i686", "qemu-i386"},
    {"ppc64el", "linux/ppc64le", "ppc64le", "qemu-ppc64le"},
    {"riscv64", "linux/riscv64", "riscv64", "qemu-riscv64"},
    {"s390x", "linux/s390x", "s390x", "qemu-s390x"},
};

static const struct image_arch *arch_by_debian(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(image_archs); i++)
		if (strcmp(image_archs[i].debian, name) == 0)
			return &image_archs[i];
	return NULL;
}

static const struct image_arch *arch_by_machine(const char *machine)
{
	for (size_t i = 0; machine && i < ARRAY_SIZE(image_archs); i++)
		if (strcmp(image_archs[i].machine, machine) == 0)
			return &image_archs[i];
	return NULL;
}

const char *image_arch_platform(const char *arch)
{
	const struct image_arch *a = arch_by_debian(arch);

	return a ? a->platform : NULL;
}

int image_arch_resolve(const char *arch, const char *engine_machine, const char **out,
                       struct sb_err *err)
{
	const struct image_arch *a = arch_by_debian(arch), *own = arch_by_machine(engine_machine);

	*out = NULL;
	if (!arch || !*arch)
		return 0;
	if (!a) {
		_cleanup_buf_ struct sb_buf names = SB_BUF_INIT;

		for (size_t i = 0; i < ARRAY_SIZE(image_archs); i++)
			sb_buf_printf(&names, "%s%s", i ? ", " : "", image_archs[i].debian);
		return sb_err_input(err,
		                    "--arch '%s' is not an architecture the images are built for: "
		                    "use Debian's name, one of %s (arm64 for a Raspberry Pi 3, 4 "
		                    "or 5 with a 64-bit OS)",
		                    arch, names.data);
	}
	if (a != own)
		*out = a->debian;
	return 0;
}

int image_arch_runnable(const char *arch, struct sb_err *err)
{
	const struct image_arch *a = arch_by_debian(arch);
	_cleanup_free_ char *path = NULL;
	struct utsname u = {0};
	char state[16] = "";
	bool registered = false;
	FILE *f;

	if (!a || (uname(&u) == 0 && strcmp(u.machine, a->machine) == 0))
		return 0;
	path = xasprintf("/proc/sys/fs/binfmt_misc/%s", a->qemu);
	f = fopen(path, "re");
	if (f) {
		registered = true;
		if (!fgets(state, sizeof(state), f))
			state[0] = '\0';
		fclose(f);
	}
	if (strncmp(state, "enabled", 7) == 0)
		return 0;
	return sb_err_set(err, ENOEXEC,
	                  "Building %s images on this %s machine runs %s programs under "
	                  "emulation, and %s: apt-get install qemu-user-static binfmt-support "
	                  "(then update-binfmts --enable %s)",
	                  arch, u.machine, arch,
	                  registered ? "binfmt_misc has the emulator, but it is disabled"
	                             : "binfmt_misc has no emulator for them",
	                  a->qemu);
}

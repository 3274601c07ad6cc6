/* SPDX-License-Identifier: MIT */
/*
 * image - the node images, built from the recipes in images/ that are
 * embedded into the binary (build/images_embed.c, made by images/embed.sh).
 *
 * Three images, each tagged with a content hash of its recipe, so `up`
 * builds only when a recipe changed:
 *   slurmbox-base:<hash>    Debian (base/release) + slurm + munge. Pulled
 *                           debian:<release>-slim
 *                           plus apt-get when a registry answers; else a
 *                           debootstrap rootfs imported with fromSrc=-.
 *   slurmbox-master:<hash>  FROM base, runs slurmctld.
 *   slurmbox-worker:<hash>  FROM base, runs slurmd.
 */
#ifndef SLURMBOX_IMAGE_H
#define SLURMBOX_IMAGE_H

#include "../docker/docker.h"

struct image_set {
	char base[128];
	char master[128];
	char worker[128];
};

/* One embedded recipe file. */
struct image_file {
	const char *path; /* relative to images/, e.g. "node/entrypoint.sh" */
	const unsigned char *data;
	size_t len;
	unsigned mode;
};
extern const struct image_file image_files[];
extern const size_t image_files_count;

/*
 * Recipe hashes from embed.sh, 12 hex digits each: rootfs covers
 * base/packages, base all of base/, master and worker base's hash plus
 * their own directory.
 */
extern const char image_hash_rootfs[];
extern const char image_hash_base[];
extern const char image_hash_master[];
extern const char image_hash_worker[];

/* The Debian release of the images: the word in the embedded base/release ("trixie"). */
const char *image_release(void);
/* The parent image of the base on the pull path: "debian:<release>-slim". */
const char *image_debian_ref(void);
/* ... and on the offline path: a debootstrap imported as slurmbox-rootfs:<hash>. */
#define IMAGE_ROOTFS_REPO "slurmbox-rootfs"

/*
 * Pure: the build context of one recipe directory ("base", "master",
 * "worker") as a tar appended to *out: its embedded files, relative to the
 * directory, with their modes, owned by 0:0; in `dockerfile` (a file of that
 * directory) the first FROM line becomes "FROM <from>".
 */
int image_context_build(const char *dir, const char *dockerfile, const char *from,
                        struct sb_buf *out, struct sb_err *err);

/*
 * Pure: the tags for the embedded recipes (and base_override, if any):
 * slurmbox-{base,master,worker}:<hash>, with "-<8 hex of the override's
 * FNV-1a>" appended to each when base_override is set, and "-<arch>" when
 * arch (a Debian architecture other than the engine's own) is.
 */
void image_set_tags(const char *base_override, const char *arch, struct image_set *out);

/*
 * Images for another architecture (image_arch.c). `arch` is Debian's name
 * (amd64, arm64, armhf, ...). image_arch_platform: Docker's platform for it
 * ("linux/arm64"), NULL if unknown. image_arch_resolve: an unknown arch is
 * bad input; *out is arch, or NULL when it is the engine's own (its machine
 * name, "x86_64") or none was given. image_arch_runnable: can this machine
 * run its programs (its own, or qemu-user-static in binfmt_misc)?
 */
const char *image_arch_platform(const char *arch);
int image_arch_resolve(const char *arch, const char *engine_machine, const char **out,
                       struct sb_err *err);
int image_arch_runnable(const char *arch, struct sb_err *err);

/* Progress lines ("Building slurmbox-base ..."), NULL for none. */
typedef void (*image_progress_fn)(const char *line, void *arg);

/*
 * Make sure the images exist on this engine, building what is missing.
 * base_override: start from this image instead of the pull/debootstrap base
 * (--image-base); it must be Debian-like with apt (the release of base/release). It is pulled
 * only when missing. Without it the base is built FROM debian:<release>-slim
 * when that is present locally (never pulled), else from a debootstrap
 * rootfs (image_rootfs_build). When all three tags exist this is three
 * image inspects and nothing else. arch (NULL: the engine's own) builds
 * them for another architecture, under emulation: from base_override, or
 * from a debootstrap of that architecture (never from debian:<release>-slim,
 * which is the engine's).
 */
int image_ensure(struct docker *d, const char *base_override, const char *arch,
                 image_progress_fn fn, void *arg, struct image_set *out, struct sb_err *err);

/*
 * The offline path: debootstrap the packages of base/packages into a
 * directory under /var/tmp (removed afterwards, also on failure), apply
 * <release>-security, and import it as `tag`. Needs root and debootstrap.
 * Environment: SLURMBOX_DEBIAN_MIRROR (default http://deb.debian.org/debian),
 * SLURMBOX_DEBIAN_SECURITY_MIRROR (default http://deb.debian.org/debian-security;
 * "none" skips the security updates).
 */
/*
 * Run argv (in `root` as its root directory, if set; env: "NAME=value"
 * strings added), its output lines to fn; fail with its last lines. The
 * child gets /dev/null, the output pipe twice and no other fd.
 */
int image_rootfs_run(char *const argv[], const char *root, const char *const *env,
                     image_progress_fn fn, void *arg, struct sb_err *err);
int image_rootfs_build(struct docker *d, const char *tag, const char *arch, image_progress_fn fn,
                       void *arg, struct sb_err *err);

/* Are all three present? (No building.) */
int image_present(struct docker *d, const struct image_set *set, bool *present, struct sb_err *err);

#endif

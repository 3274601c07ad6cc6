/* SPDX-License-Identifier: MIT */
/*
 * cmd_images.c - `slurmbox images build|list` and `slurmbox version`.
 */
#include "cli.h"
#include "../docker/docker_api.h"
#include "../host/image.h"

#include <getopt.h>

static const char images_usage[] =
    "Usage: slurmbox images build [--image-base IMAGE] [--arch ARCH]\n"
    "       slurmbox images list [--image-base IMAGE] [--arch ARCH]\n"
    "\n"
    "build: build the base, master and worker images on the local engine when missing.\n"
    "       The base comes from IMAGE (pulled if missing), else a local debian:trixie-slim,\n"
    "       else a debootstrap of Debian 13 trixie (needs root and the debootstrap package).\n"
    "       --arch ARCH builds them for another architecture (Debian's name: arm64 for a\n"
    "       Raspberry Pi), under emulation (qemu-user-static); their tags end in -ARCH.\n"
    "list:  the image tags this slurmbox uses, and whether each is present.\n";

static void progress(const char *line, void *arg)
{
	(void)arg;
	fprintf(stderr, "    %s\n", line);
}

int cmd_images(struct sb_ctx *ctx, int argc, char **argv, struct sb_err *err)
{
	enum { OPT_BASE = 256, OPT_ARCH };
	static const struct option opts[] = {
	    {"image-base", required_argument, NULL, OPT_BASE},
	    {"arch", required_argument, NULL, OPT_ARCH},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	_cleanup_docker_ struct docker *d = NULL;
	const char *base = NULL, *arch = NULL, *tag_arch = NULL, *verb;
	struct image_set set;
	struct util_step step;
	int c, ret;

	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		fputs(images_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? sb_err_input(err, "images: give a verb: build or list") : 0;
	}
	verb = argv[1];
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc - 1, argv + 1, "+h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_BASE:
			base = optarg;
			break;
		case OPT_ARCH:
			arch = optarg;
			break;
		case 'h':
			fputs(images_usage, stdout);
			return 0;
		default:
			return util_usage_error("images", argv[optind], err);
		}
	}
	if (strcmp(verb, "build") != 0 && strcmp(verb, "list") != 0)
		return sb_err_input(err, "images: unknown verb '%s'; use build or list", verb);
	if ((ret = image_arch_resolve(arch, NULL, &tag_arch, err)) < 0) /* a known name? */
		return ret;

	ret = docker_open(NULL, &d, err);
	if (ret == 0)
		ret = docker_version_check(d, err);
	if (ret < 0)
		return ret;
	if (strcmp(verb, "list") == 0) {
		const char *tags[3];
		struct docker_info info;

		/* the engine's own architecture needs no suffix */
		if (arch && ((ret = docker_info_get(d, &info, err)) < 0 ||
		             (ret = image_arch_resolve(arch, info.arch, &tag_arch, err)) < 0))
			return ret;
		image_set_tags(base, tag_arch, &set);
		tags[0] = set.base;
		tags[1] = set.master;
		tags[2] = set.worker;
		for (size_t i = 0; i < ARRAY_SIZE(tags); i++) {
			bool present = false;
			ret = docker_image_exists(d, tags[i], &present, err);
			if (ret < 0)
				return ret;
			printf("%-40s %s\n", tags[i], present ? "present" : "missing");
		}
		return 0;
	}
	util_step_begin(&step, ctx, "Building images");
	if (ctx->stderr_tty)
		fputc('\n', stderr);
	ret = image_ensure(d, base, arch, progress, NULL, &set, err);
	if (ret < 0) {
		util_step_fail(&step);
		return ret;
	}
	util_step_end(&step, "%s, %s", set.master, set.worker);
	return 0;
}

int cmd_version(struct sb_ctx *ctx, int argc, char **argv, struct sb_err *err)
{
	_cleanup_docker_ struct docker *d = NULL;
	struct sb_err ignored = SB_ERR_INIT;
	struct image_set set;

	(void)ctx;
	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		puts("Usage: slurmbox version\n\nThe slurmbox version, its image tags, and the "
		     "Docker engine's API version when one answers.");
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "--short") == 0) {
		puts(SLURMBOX_VERSION); /* what another host checks before it runs us */
		return 0;
	}
	if (argc > 1)
		return sb_err_input(err, "version: unexpected argument '%s'", argv[1]);
	image_set_tags(NULL, NULL, &set);
	printf("slurmbox %s\n", SLURMBOX_VERSION);
	printf("images   %s %s\n", set.master, set.worker);
	if (docker_open(NULL, &d, &ignored) == 0)
		printf("docker   API %s at %s\n", docker_api_version(d), docker_socket_path(d));
	else
		printf("docker   not reachable (%s)\n", ignored.msg);
	return 0;
}

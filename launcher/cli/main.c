/* SPDX-License-Identifier: MIT */
/*
 * main.c - global options, the command table, and the one place errors are
 * printed. Exit status: 0 ok, 1 failure, 2 bad usage or input, 3 partial;
 * `exec` passes its command's status through.
 */
#include "cli.h"
#include "../remote/agent.h"
#include "../../compose/compose.h"

#include <curl/curl.h>
#include <getopt.h>
#include <signal.h>

static const char usage_text[] =
    "Usage: slurmbox [--name NAME] COMMAND [OPTIONS]\n"
    "\n"
    "A real Slurm cluster in Docker containers, in one command.\n"
    "\n"
    "Commands:\n"
    "  up        Create the cluster (or heal it) and wait until every node is idle\n"
    "  exec      Run a command on a node: slurmbox exec worker-1 hostname\n"
    "  shell     An interactive shell on a node (default: master)\n"
    "  status    Every node: container state, IP, Slurm state (--json)\n"
    "  logs      A node's logs (-f to follow)\n"
    "  down      Remove the cluster (--purge: also /home and the munge key)\n"
    "  images    Build the node images (images build)\n"
    "  version   Print the version\n"
    "\n"
    "Global options:\n"
    "  -n, --name NAME   The cluster (default $SLURMBOX_CLUSTER, else \"slurmbox\")\n"
    "  -h, --help        This help; `slurmbox COMMAND --help` for a command\n"
    "  -V, --version     Print the version\n"
    "\n"
    "Exit status: 0 ok, 1 failure, 2 bad usage or input, 3 partial; exec returns its command's.\n";

struct cli_command {
	const char *name;
	cli_cmd_fn fn;
};

static const struct cli_command commands[] = {
    {"up", cmd_up},
    {"down", cmd_down},
    {"exec", cmd_exec},
    {"shell", cmd_shell},
    {"status", cmd_status},
    {"logs", cmd_logs},
    {"images", cmd_images},
    {"version", cmd_version},
    /* what the control machine runs on each host; not in --help */
    {"agent", cmd_agent},
};

static int run(int argc, char **argv, struct sb_err *err)
{
	static const struct option opts[] = {
	    {"name", required_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {"local", no_argument, NULL, 'L'},
	    {NULL, 0, NULL, 0},
	};
	struct sb_ctx ctx = {
	    .cluster = COMPOSE_DEFAULT_CLUSTER,
	    .stderr_tty = isatty(STDERR_FILENO),
	    .argv0 = argv[0],
	};
	const char *env = getenv("SLURMBOX_CLUSTER");
	int c, ret;

	if (env && *env) {
		ret = cli_set_cluster(&ctx, env, err);
		if (ret < 0)
			return sb_err_wrap(err, "SLURMBOX_CLUSTER");
	}

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+n:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			ret = cli_set_cluster(&ctx, optarg, err);
			if (ret < 0)
				return ret;
			break;
		case 'L':
			ctx.local = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			return cmd_version(&ctx, 1, (char *[]){"version", NULL}, err);
		default:
			return util_usage_error(NULL, argv[optind - 1], err);
		}
	}
	if (optind >= argc) {
		fputs(usage_text, stderr);
		return sb_err_input(err, "No command given; try `slurmbox up`");
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(argv[optind], commands[i].name) == 0)
			return commands[i].fn(&ctx, argc - optind, argv + optind, err);
	}
	if (strcmp(argv[optind], "help") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	return sb_err_input(err, "Unknown command '%s'; run `slurmbox --help` for the list",
	                    argv[optind]);
}

int main(int argc, char **argv)
{
	struct sb_err err = SB_ERR_INIT;
	int ret, status;

	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	ret = run(argc, argv, &err);
	curl_global_cleanup();

	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "slurmbox: error writing to standard output\n");
		return 1;
	}
	if (ret < 0) {
		fprintf(stderr, "slurmbox: %s\n", err.msg);
		if (err.code == EINTR && interrupt_signal)
			return 128 + interrupt_signal;
		return sb_err_exit_status(&err);
	}
	if (util_exit_status >= 0)
		return util_exit_status;
	status = 0;
	return status;
}

/* SPDX-License-Identifier: MIT */
/*
 * cmd_exec.c - `slurmbox exec [-u USER] [-w DIR] NODE CMD [ARG...]` and
 * `slurmbox shell [NODE]`. Arguments go to the container verbatim (never
 * through a shell), stdout and stderr stay apart, a TTY is allocated when
 * stdin and stdout are terminals, and CMD's exit status is ours.
 */
#include "cli.h"
#include "../docker/docker_api.h"
#include "../cluster/multi.h"

#include <getopt.h>

static const char exec_usage[] =
    "Usage: slurmbox exec [-u USER] [-w DIR] NODE CMD [ARG...]\n"
    "\n"
    "Run CMD on NODE (master, worker-1, ...) as the cluster user, in its home directory.\n"
    "The arguments arrive verbatim; the exit status is CMD's.\n"
    "\n"
    "  -n, --name NAME     The cluster (default \"slurmbox\")\n"
    "  -u, --user USER     Run as USER instead (e.g. -u root)\n"
    "  -w, --workdir DIR   Working directory (default: the cluster user's home)\n"
    "  -t, --tty / -T, --no-tty  Force a TTY on or off (default: on when stdin and stdout are "
    "terminals)\n"
    "  -h, --help          This help\n";

static const char shell_usage[] =
    "Usage: slurmbox shell [-u USER] [NODE]\n"
    "\n"
    "An interactive login shell on NODE (default: master) as the cluster user.\n"
    "\n"
    "  -n, --name NAME   The cluster (default \"slurmbox\")\n"
    "  -u, --user USER   Log in as USER instead (e.g. -u root)\n"
    "  -h, --help        This help\n";

struct exec_req {
	const char *node;
	const char *user;
	const char *workdir;
	int tty; /* -1 auto */
	char *const *argv;
};

static int exec_run(struct sb_ctx *ctx, const struct exec_req *r, struct sb_err *err)
{
	_cleanup_docker_ struct docker *d = NULL;
	_cleanup_free_ char *home = NULL;
	struct host_cluster have = {0};
	struct host_node node = {0};
	const struct host_node *n;
	const char *user;
	bool tty, found, here = false;
	int status = -1, ret;

	tty = r->tty >= 0 ? r->tty : (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO));
	if (cli_routed(ctx)) {
		/* on the node's host, as the same command line */
		size_t argc = 0, k = 0;
		_cleanup_free_ const char **v = NULL;

		while (r->argv[argc])
			argc++;
		v = xcalloc(argc + 8, sizeof(*v));
		v[k++] = "exec";
		if (r->user) {
			v[k++] = "-u";
			v[k++] = r->user;
		}
		if (r->workdir) {
			v[k++] = "-w";
			v[k++] = r->workdir;
		}
		v[k++] = tty ? "-t" : "-T";
		v[k++] = r->node;
		for (size_t i = 0; i < argc; i++)
			v[k++] = r->argv[i];
		ret = multi_node_run(ctx, r->node, (char *const *)v, tty, &here, err);
		if (ret < 0 || !here)
			return ret;
	}
	ret = docker_open(NULL, &d, err);
	if (ret < 0)
		return ret;
	ret = host_node_find(d, ctx->cluster, r->node, &node, &found, err);
	if (ret < 0)
		return ret;
	if (!found) {
		/* the slow path, only to list the nodes there are */
		ret = host_cluster_load(d, ctx->cluster, &have, err);
		if (ret == 0)
			ret = host_node_unknown(&have, ctx->cluster, r->node, err);
		goto out;
	}
	n = &node;
	if (strcmp(n->state, "running") != 0) {
		ret = sb_err_set(err, EAGAIN,
		                 "Node '%s' is %s, not running; `slurmbox up` starts it again",
		                 r->node, *n->state ? n->state : "not running");
		goto out;
	}
	user = r->user ? r->user : (*n->user ? n->user : NULL);
	if (!r->workdir && user && !r->user)
		home = xasprintf("/home/%s", user);
	{
		struct docker_exec_opts o = {
		    .argv = (const char *const *)r->argv,
		    .user = user,
		    .workdir = r->workdir ? r->workdir : home,
		    .tty = tty,
		    /* stdin is passed on when interactive or when it is a pipe or file */
		    .in_fd = tty || !isatty(STDIN_FILENO) ? STDIN_FILENO : -1,
		    .out_fd = STDOUT_FILENO,
		    .err_fd = STDERR_FILENO,
		};
		ret = docker_exec(d, n->container, &o, &status, err);
	}
	if (ret < 0)
		goto out;
	util_exit_status = status;
out:
	host_node_free(&node);
	host_cluster_free(&have);
	return ret;
}

int cmd_exec(struct sb_ctx *ctx, int argc, char **argv, struct sb_err *err)
{
	static const struct option opts[] = {
	    {"name", required_argument, NULL, 'n'},
	    {"user", required_argument, NULL, 'u'},
	    {"workdir", required_argument, NULL, 'w'},
	    {"tty", no_argument, NULL, 't'},
	    {"no-tty", no_argument, NULL, 'T'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct exec_req r = {.tty = -1};
	int c, ret;

	opterr = 0;
	optind = 0;
	/* '+': options end at NODE, so CMD's own options are left alone */
	while ((c = getopt_long(argc, argv, "+n:u:w:tTh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			ret = cli_set_cluster(ctx, optarg, err);
			if (ret < 0)
				return ret;
			break;
		case 'u':
			if (!*optarg)
				return sb_err_input(err,
				                    "exec: -u needs a user name, e.g. -u root");
			r.user = optarg;
			break;
		case 'w':
			if (*optarg != '/')
				return sb_err_input(err, "exec: -w '%s' must be an absolute path",
				                    optarg);
			r.workdir = optarg;
			break;
		case 't':
			r.tty = 1;
			break;
		case 'T':
			r.tty = 0;
			break;
		case 'h':
			fputs(exec_usage, stdout);
			return 0;
		default:
			return util_usage_error("exec", argv[optind - 1], err);
		}
	}
	if (optind < argc && strcmp(argv[optind], "--") == 0)
		optind++;
	if (argc - optind < 2)
		return sb_err_input(err, "exec: give a node and a command, e.g. `slurmbox exec "
		                         "master sinfo`; see `slurmbox exec --help`");
	r.node = argv[optind];
	r.argv = argv + optind + 1;
	return exec_run(ctx, &r, err);
}

int cmd_shell(struct sb_ctx *ctx, int argc, char **argv, struct sb_err *err)
{
	static const struct option opts[] = {
	    {"name", required_argument, NULL, 'n'},
	    {"user", required_argument, NULL, 'u'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	static char *const shell_argv[] = {"bash", "-l", NULL};
	struct exec_req r = {.tty = -1, .node = "master", .argv = shell_argv};
	int c, ret;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+n:u:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			ret = cli_set_cluster(ctx, optarg, err);
			if (ret < 0)
				return ret;
			break;
		case 'u':
			r.user = optarg;
			break;
		case 'h':
			fputs(shell_usage, stdout);
			return 0;
		default:
			return util_usage_error("shell", argv[optind - 1], err);
		}
	}
	if (optind < argc)
		r.node = argv[optind++];
	if (optind < argc)
		return sb_err_input(err,
		                    "shell: unexpected argument '%s'; to run a command use "
		                    "`slurmbox exec NODE CMD`",
		                    argv[optind]);
	return exec_run(ctx, &r, err);
}

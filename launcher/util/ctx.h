/* SPDX-License-Identifier: MIT */
/*
 * ctx - the run's context, which every room may read: the cluster's name,
 * whether stderr is a terminal, and the exit status a verb passes up.
 */
#ifndef SLURMBOX_UTIL_CTX_H
#define SLURMBOX_UTIL_CTX_H

#include "../../compose/base.h"

struct sb_ctx {
	const char *cluster; /* --name, $SLURMBOX_CLUSTER, or "slurmbox" */
	bool name_given;     /* --name seen (or env) */
	bool stderr_tty;     /* progress with ✓ lines when true */
	const char *argv0;
	bool local; /* --local: this engine only, never routed to the hosts of a record */
	bool quiet; /* no step lines or information (a host's part run in-process) */
};

/*
 * A subcommand's exit status when it is not 0/1/2/3 from an error: exec
 * passes its command's exit code up through this.
 */
extern int util_exit_status;

/*
 * " --name C" when the cluster was named (--name or $SLURMBOX_CLUSTER), else
 * "": what goes after "slurmbox" in a command a message tells the user to run.
 */
const char *sb_ctx_name_arg(const struct sb_ctx *ctx);

#endif

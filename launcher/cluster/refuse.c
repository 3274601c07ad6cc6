/* SPDX-License-Identifier: MIT */
/* refuse.c - `up` refused: the diff, and the fix as a command to paste (see refuse.h). */
#include "refuse.h"
#include "../remote/ssh_dest.h"

#include <string.h>

int reconcile_refuse(const struct sb_ctx *ctx, const char *diff_text, const char *note,
                     const char *old_hash, const char *new_hash, int argc, char **argv,
                     struct sb_err *err)
{
	_cleanup_buf_ struct sb_buf cmd = SB_BUF_INIT, lines = SB_BUF_INIT;
	bool name_in_argv = false;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "-n") == 0 || strncmp(argv[i], "--name", 6) == 0)
			name_in_argv = true;
	sb_buf_puts(&cmd, "slurmbox up");
	if (ctx->name_given && !name_in_argv) {
		_cleanup_free_ char *q = ssh_quote(ctx->cluster);
		sb_buf_printf(&cmd, " --name %s", q);
	}
	for (int i = 1; i < argc; i++) {
		_cleanup_free_ char *q = ssh_quote(argv[i]); /* pasteable into a shell */
		sb_buf_printf(&cmd, " %s", q);
	}
	sb_buf_puts(&cmd, " --recreate");

	/* "  field: old -> new" per line, without the last newline */
	for (const char *p = diff_text; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		sb_buf_puts(&lines, "\n  ");
		sb_buf_add(&lines, p, len);
		p += len + (nl ? 1 : 0);
	}
	if (!lines.len)
		sb_buf_printf(&lines,
		              "\n  rendered configuration: %s -> %s (the settings are the same; "
		              "this slurmbox renders them differently)",
		              old_hash ? old_hash : "?", new_hash ? new_hash : "?");
	return sb_err_input(err,
	                    "Cluster '%s' exists with other settings (old -> new):%s\n"
	                    "%sNothing was changed. Run `%s` to re-create the containers that "
	                    "differ (your /home, key and %s are kept), or `slurmbox%s down` first",
	                    ctx->cluster, lines.data, note ? note : "", cmd.data,
	                    note && *note ? "job numbers" : "Slurm state", sb_ctx_name_arg(ctx));
}

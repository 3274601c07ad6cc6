/* SPDX-License-Identifier: MIT */
/* opt.c - usage errors and bounded numbers in options. */
#include "opt.h"

#include <errno.h>
#include <stdlib.h>

int util_usage_error(const char *cmd, const char *what, struct sb_err *err)
{
	if (cmd)
		return sb_err_input(
		    err, "%s: bad option or missing argument '%s'; see `slurmbox %s --help`", cmd,
		    what ? what : "", cmd);
	return sb_err_input(err, "Bad option or missing argument '%s'; see `slurmbox --help`",
	                    what ? what : "");
}

int util_uint_parse(const char *opt, const char *text, unsigned min, unsigned max, unsigned *out,
                    struct sb_err *err)
{
	char *end = NULL;
	unsigned long v;

	errno = 0;
	if (!text || !*text || *text == '-' || *text == '+')
		goto bad;
	v = strtoul(text, &end, 10);
	if (errno || *end || v < min || v > max)
		goto bad;
	*out = (unsigned)v;
	return 0;
bad:
	return sb_err_input(err, "%s '%s' is not valid: give a whole number from %u to %u", opt,
	                    text ? text : "", min, max);
}

/* SPDX-License-Identifier: MIT */
/* opt - option helpers shared by the verbs and the agent's verbs. */
#ifndef SLURMBOX_UTIL_OPT_H
#define SLURMBOX_UTIL_OPT_H

#include "../../compose/base.h"

/* Exit-2 error for an unknown option or missing argument, pointing at --help. */
int util_usage_error(const char *cmd, const char *what, struct sb_err *err);
/* Parse an unsigned within [min,max] for option `opt`. */
int util_uint_parse(const char *opt, const char *text, unsigned min, unsigned max, unsigned *out,
                    struct sb_err *err);

#endif

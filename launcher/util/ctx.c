/* SPDX-License-Identifier: MIT */
/* ctx.c - the exit status a verb passes up (see ctx.h). */
#include "ctx.h"

int util_exit_status = -1;

/* SPDX-License-Identifier: MIT */
/* sinfo.c - reading Slurm's view of the nodes (see sinfo.h). */
#include "sinfo.h"

#include <stdio.h>
#include <string.h>

void sinfo_node_state(const char *sinfo, const char *node, char *st, size_t len)
{
	size_t nl = strlen(node);

	*st = '\0';
	for (const char *p = sinfo; p && *p;) {
		const char *e = strchr(p, '\n');
		size_t ll = e ? (size_t)(e - p) : strlen(p);

		if (ll > nl + 1 && strncmp(p, node, nl) == 0 && p[nl] == ' ') {
			snprintf(st, len, "%.*s", (int)(ll - nl - 1), p + nl + 1);
			return;
		}
		p = e ? e + 1 : NULL;
	}
}

bool sinfo_state_ok(const char *st)
{
	return *st && !strchr(st, '*') && strncmp(st, "down", 4) != 0 &&
	       strncmp(st, "drain", 5) != 0 && strncmp(st, "fail", 4) != 0 &&
	       strncmp(st, "unk", 3) != 0;
}

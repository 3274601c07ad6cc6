/* SPDX-License-Identifier: MIT */
/* shim.c - the shim's name (see shim.h). */
#include "shim.h"
#include "../../compose/compose.h"

#include <stdio.h>
#include <string.h>

void host_shim_name(const char *cluster, char out[16])
{
	char hex[17];

	compose_hash_hex(cluster, strlen(cluster), hex);
	snprintf(out, 16, "sb-%.12s", hex);
}

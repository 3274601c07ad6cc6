/* SPDX-License-Identifier: MIT */
#ifndef SLURMBOX_HOST_USER_H
#define SLURMBOX_HOST_USER_H

#include "../../compose/base.h"

/* --user NAME[:UID[:GID]] (a NAME known here without UID takes its local ids). */
struct compose_user;
int user_parse(const char *text, struct compose_user *u, struct sb_err *err);
/* The invoking user (sudo-aware); root becomes slurmbox:1000:1000. */
void user_default(struct compose_user *u);

#endif

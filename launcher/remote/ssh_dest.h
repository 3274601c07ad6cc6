/* SPDX-License-Identifier: MIT */
/* ssh_dest - ssh destinations: which are valid, which is this machine, and quoting for a remote shell. */
#ifndef SLURMBOX_SSH_DEST_H
#define SLURMBOX_SSH_DEST_H

#include "../../compose/base.h"

/*
 * A --hosts entry must be an ssh destination as ssh understands it
 * ([user@]host, an alias of ~/.ssh/config, host:port is NOT ssh syntax):
 * refused (exit 2) when empty, starting with '-', or holding anything but
 * [A-Za-z0-9._@-] (no shell metacharacters, no spaces), before ssh is ever
 * spawned. `field` names the option in the message ("--hosts").
 */
int ssh_dest_check(const char *field, const char *dest, struct sb_err *err);
bool ssh_dest_is_local(const char *dest);

/*
 * ssh's stderr says it refused the host's key (changed, or unknown with
 * strict checking): the caller names the host and what to do.
 */
bool ssh_host_key_refused(const char *ssh_stderr);
/* The message for that: names dest and the fix (a per-thread buffer). */
const char *ssh_host_key_hint(const char *dest, const char *ssh_stderr);

/* Quote one word for a POSIX shell ('it'\''s'). Caller frees. */
char *ssh_quote(const char *word);

#endif

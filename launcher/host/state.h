/* SPDX-License-Identifier: MIT */
#ifndef SLURMBOX_HOST_STATE_H
#define SLURMBOX_HOST_STATE_H

#include "../../compose/base.h"

/*
 * ---- state directory: /var/lib/slurmbox/<cluster> as root, else
 * $XDG_STATE_HOME/slurmbox/hosts/<host name>/<cluster> (one home shared by many hosts) ----
 */

/* munge's limits on a key's size, in bytes; slurmbox makes STATE_KEY_MAX. */
#define STATE_KEY_MIN 32
#define STATE_KEY_MAX 1024

/*
 * *dir: the path (caller frees). $SLURMBOX_STATE_DIR overrides the parent
 * directory. With no HOME (and no XDG_STATE_HOME) a user has none: bad input.
 * Every directory on the way is checked (owned by the user or root, writable
 * by no one else but a sticky one's own entries) before the key is touched.
 */
int state_dir(const char *cluster, char **dir, struct sb_err *err);
/*
 * The directory under which both live: $SLURMBOX_STATE_DIR, /var/lib/slurmbox
 * as root, else $XDG_STATE_HOME/slurmbox or ~/.local/state/slurmbox, where
 * each host keeps its part under hosts/<host name>/ (*per_host). The control
 * machine's record of a cluster is <base>/<cluster>.json.
 */
int state_base(char **base, bool *per_host, struct sb_err *err);
/*
 * state_base, made if it is missing (0755; the way to it checked as for
 * the state directory: owned by the user or root, not writable by others).
 */
int state_base_make(char **base, struct sb_err *err);
/*
 * The cluster's munge key: created once (1024 bytes from getrandom, 0400,
 * owned by the image's munge uid when root, in a 0700 directory), reused
 * afterwards. *path is set (caller frees); *created tells whether it is new.
 */
int state_key_ensure(const char *cluster, char **path, bool *created, struct sb_err *err);
/*
 * Write a key received from the control machine (same checks and modes).
 * *replaced: another key was there (a node started since still holds it).
 */
int state_key_write(const char *cluster, const unsigned char *key, size_t len, bool *replaced,
                    struct sb_err *err);
/* Replace path with text atomically: a 0600 temporary file, fsync, rename. */
int state_file_replace(const char *path, const char *text, const char *what, struct sb_err *err);
int state_key_read(const char *path, unsigned char *key, size_t cap, size_t *len,
                   struct sb_err *err);
/*
 * Only one slurmbox changes a cluster at a time: an exclusive, non-blocking
 * lock ("control" on the control machine, "host" for an agent), held until
 * the process exits. -EBUSY with a clear message when another holds it.
 */
int state_lock_take(const char *cluster, const char *what, int *fd, struct sb_err *err);
/* With no state directory left (nothing kept), the cluster's lock files go too. */
void state_lock_drop_unused(const char *cluster);
/* Remove the state directory (key and all). Absent is fine. */
int state_remove(const char *cluster, struct sb_err *err);

#endif

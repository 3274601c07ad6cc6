/* SPDX-License-Identifier: MIT */
/*
 * user.c - the cluster user: the same name, UID and GID in every container.
 * By default the invoking user (sudo-aware); as plain root, slurmbox:1000,
 * because jobs must not run as root.
 */
#include "user.h"
#include "../util/opt.h"
#include "../../compose/compose.h"

#include <pwd.h>

/* --user NAME[:UID[:GID]]; a NAME known here without UID takes its local ids. */
int user_parse(const char *text, struct compose_user *u, struct sb_err *err)
{
	_cleanup_free_ char *copy = xstrdup(text);
	char *name = copy, *uid_s = NULL, *gid_s = NULL;
	unsigned uid = 1000, gid;
	struct passwd *pw;
	int ret;

	uid_s = strchr(name, ':');
	if (uid_s) {
		*uid_s++ = '\0';
		gid_s = strchr(uid_s, ':');
		if (gid_s)
			*gid_s++ = '\0';
	}
	ret = compose_user_name_check(name, err);
	if (ret < 0)
		return ret;
	pw = uid_s ? NULL : getpwnam(name);
	if (pw && pw->pw_uid != 0) {
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	} else {
		if (uid_s) {
			ret = util_uint_parse("--user UID", uid_s, 1, 65533, &uid, err);
			if (ret < 0)
				return ret;
		}
		gid = uid;
		if (gid_s) {
			ret = util_uint_parse("--user GID", gid_s, 1, 65533, &gid, err);
			if (ret < 0)
				return ret;
		}
	}
	u->name = xstrdup(name);
	u->uid = uid;
	u->gid = gid;
	return 0;
}

/* The invoking user (sudo-aware); root becomes slurmbox:1000:1000. */
void user_default(struct compose_user *u)
{
	const char *sudo = getenv("SUDO_USER");
	struct passwd *pw = NULL;
	struct sb_err ignored = SB_ERR_INIT;

	if (geteuid() == 0 && sudo && *sudo)
		pw = getpwnam(sudo);
	else if (getuid() != 0)
		pw = getpwuid(getuid());
	if (pw && pw->pw_uid != 0 && pw->pw_uid <= 65533 && pw->pw_gid != 0 &&
	    compose_user_name_check(pw->pw_name, &ignored) == 0) {
		u->name = xstrdup(pw->pw_name);
		u->uid = pw->pw_uid;
		u->gid = pw->pw_gid;
		return;
	}
	u->name = xstrdup("slurmbox");
	u->uid = 1000;
	u->gid = 1000;
}

/* SPDX-License-Identifier: MIT */
/*
 * state.c - the cluster's state directory on this host and its munge key.
 *
 * The key is the root of trust of the whole cluster: anyone holding it can
 * mint credentials for any uid. It is made here from the kernel's CSPRNG,
 * written 0400 into a 0700 directory, owned by whoever runs slurmbox (root,
 * or a user in the docker group), and never printed, put in an env var, an
 * argument or an image. Each container's entrypoint installs its own copy
 * for munged, owned by munge, in memory (compose/plan.c).
 */
#include "state.h"
#include "../util/io.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/random.h>
#include <sys/file.h>
#include <sys/stat.h>

int state_base(char **base, bool *per_host, struct sb_err *err)
{
	const char *env = getenv("SLURMBOX_STATE_DIR");
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	*base = NULL;
	*per_host = false;
	if (env && *env) {
		*base = xstrdup(env);
		return 0;
	}
	if (geteuid() == 0) {
		*base = xstrdup("/var/lib/slurmbox");
		return 0;
	}
	/*
	 * A user's home is often one NFS share across the lab's machines: each
	 * host keeps its part (its key copy, its locks) under its own name.
	 */
	*per_host = true;
	if (xdg && *xdg == '/') {
		*base = xasprintf("%s/slurmbox", xdg);
		return 0;
	}
	/* never a guess such as /tmp, where anyone could have made the path first */
	if (!home || *home != '/')
		return sb_err_input(err,
		                    "%s%s%s, so slurmbox has no directory of yours for its state "
		                    "(the cluster's record and munge key): set HOME to your home "
		                    "directory, or XDG_STATE_HOME or SLURMBOX_STATE_DIR to a "
		                    "directory only you can write",
		                    home && *home ? "HOME=\"" : "HOME is not set",
		                    home && *home ? home : "",
		                    home && *home ? "\" is not an absolute path" : "");
	*base = xasprintf("%s/.local/state/slurmbox", home);
	return 0;
}

int state_dir(const char *cluster, char **dir, struct sb_err *err)
{
	_cleanup_free_ char *base = NULL;
	char host[HOST_NAME_MAX + 1];
	bool per_host;
	int ret;

	*dir = NULL;
	ret = state_base(&base, &per_host, err);
	if (ret < 0)
		return ret;
	if (!per_host) {
		*dir = xasprintf("%s/%s", base, cluster);
		return 0;
	}
	if (gethostname(host, sizeof(host)) < 0 || !*host)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	*dir = xasprintf("%s/hosts/%s/%s", base, host, cluster);
	return 0;
}

/* Who may own a directory on the way to the key: whoever runs slurmbox, or root. */
static bool owner_trusted(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

/*
 * Directory dir (st, followed) holds the entry child (cst, not followed).
 * Only its owner, who must be us or root, may write it; a sticky one (/tmp)
 * may be writable by others too when the entry is ours (or root's): then no
 * one else can remove, rename or replace it.
 */
static int dir_entry_check(const char *dir, const struct stat *st, const char *child,
                           const struct stat *cst, struct sb_err *err)
{
	if (!owner_trusted(st->st_uid))
		return sb_err_input(
		    err,
		    "Directory '%s' on the path to the munge key is owned by uid %u, "
		    "neither you (uid %u) nor root, so its owner could replace the "
		    "key: chown %u '%s', or set SLURMBOX_STATE_DIR to a directory "
		    "of yours",
		    dir, (unsigned)st->st_uid, (unsigned)geteuid(), (unsigned)geteuid(), dir);
	if (!(st->st_mode & (S_IWGRP | S_IWOTH)))
		return 0;
	if ((st->st_mode & S_ISVTX) && owner_trusted(cst->st_uid))
		return 0;
	if (st->st_mode & S_ISVTX)
		return sb_err_input(
		    err,
		    "Directory '%s' on the path to the munge key is writable by "
		    "everyone (mode %04o), and '%s' in it is owned by uid %u, neither "
		    "you (uid %u) nor root, so they could replace it: remove it, or "
		    "set SLURMBOX_STATE_DIR to a directory only you can write",
		    dir, (unsigned)(st->st_mode & 07777), child, (unsigned)cst->st_uid,
		    (unsigned)geteuid());
	return sb_err_input(err,
	                    "Directory '%s' on the path to the munge key is writable by %s "
	                    "(mode %04o), who could replace '%s': chmod go-w '%s' (or make it "
	                    "sticky, chmod +t, as /tmp is), or set SLURMBOX_STATE_DIR to a "
	                    "directory only you can write",
	                    dir, st->st_mode & S_IWOTH ? "everyone" : "its group",
	                    (unsigned)(st->st_mode & 07777), child, dir);
}

enum {
	DIRS_CREATE = 1, /* make what is missing */
	DIRS_OWN = 2,    /* the last one is the cluster's own: ours, mode exactly `mode` */
};

/*
 * mkdir -p that trusts nothing on the way: each directory from / (or .) down
 * to path is checked by dir_entry_check before anything is made in it. A
 * missing one is made with `mode` if it is the last, 0755 otherwise (less
 * the umask). One already there keeps its mode: it may be a shared one (/tmp,
 * /var/lib, $XDG_STATE_HOME's parent). A symbolic link on the way must be
 * ours or root's; where it leads is checked by state_dirs on the real path.
 */
static int dirs_walk(const char *path, mode_t mode, int flags, struct sb_err *err)
{
	_cleanup_free_ char *p = xstrdup(path);
	_cleanup_free_ char *dir = xstrdup(*path == '/' ? "/" : ".");
	struct stat st, cst;
	char *s = p;
	int ret;

	if (stat(dir, &st) < 0)
		return sb_err_set(err, errno, "Reading directory '%s': %s", dir, strerror(errno));
	for (;;) {
		char *end;
		bool last;

		s += strspn(s, "/");
		if (!*s)
			break;
		end = s + strcspn(s, "/");
		last = !end[strspn(end, "/")];
		*end = '\0';
		if ((flags & DIRS_CREATE) && lstat(p, &cst) < 0 && errno == ENOENT) {
			/* made by us, the entry will be ours: is dir fit to hold it? */
			cst.st_uid = geteuid();
			ret = dir_entry_check(dir, &st, p, &cst, err);
			if (ret < 0)
				return ret;
			if (mkdir(p, last ? mode : 0755) < 0 && errno != EEXIST)
				return sb_err_set(err, errno, "Creating directory '%s': %s", p,
				                  strerror(errno));
		}
		if (lstat(p, &cst) < 0)
			return sb_err_set(err, errno, "Reading directory '%s': %s", p,
			                  strerror(errno));
		ret = dir_entry_check(dir, &st, p, &cst, err);
		if (ret < 0)
			return ret;
		if (S_ISLNK(cst.st_mode) && !owner_trusted(cst.st_uid))
			return sb_err_input(
			    err,
			    "'%s' on the path to the munge key is a symbolic link "
			    "owned by uid %u, neither you nor root: remove it, or set "
			    "SLURMBOX_STATE_DIR to a directory of yours",
			    p, (unsigned)cst.st_uid);
		if (S_ISLNK(cst.st_mode) && stat(p, &cst) < 0)
			return sb_err_set(err, errno, "Reading directory '%s': %s", p,
			                  strerror(errno));
		if (!S_ISDIR(cst.st_mode))
			return sb_err_input(
			    err,
			    "'%s' is not a directory; slurmbox keeps the cluster's "
			    "state under it: move it away, or set SLURMBOX_STATE_DIR",
			    p);
		free(dir);
		dir = xstrdup(p);
		st = cst;
		if (!last)
			*end = '/';
		s = end + !last;
	}
	if (!owner_trusted(st.st_uid))
		return sb_err_input(err,
		                    "Directory '%s' is owned by uid %u, neither you (uid %u) nor "
		                    "root: chown %u '%s', or set SLURMBOX_STATE_DIR to a "
		                    "directory of yours",
		                    dir, (unsigned)st.st_uid, (unsigned)geteuid(),
		                    (unsigned)geteuid(), dir);
	if (!(flags & DIRS_OWN)) /* the locks' directory: they are made with O_NOFOLLOW */
		return (st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)
		           ? dir_entry_check(dir, &st, "the cluster's locks", &st, err)
		           : 0;
	/*
	 * Ours alone. Looser than `mode` but writable by no one else: tightened,
	 * nothing in it can have been changed. Writable by others: refused, as
	 * what is in it may no longer be what slurmbox put there.
	 */
	if (st.st_uid != geteuid())
		return sb_err_input(err,
		                    "State directory '%s' is owned by uid %u, not by you (uid %u), "
		                    "who runs slurmbox: chown -R %u '%s'",
		                    dir, (unsigned)st.st_uid, (unsigned)geteuid(),
		                    (unsigned)geteuid(), dir);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return sb_err_input(err,
		                    "State directory '%s' is writable by %s (mode %04o), so its "
		                    "munge key may not be the one slurmbox made: check it and "
		                    "chmod 700 '%s', or remove it (slurmbox down --purge)",
		                    dir, st.st_mode & S_IWOTH ? "everyone" : "its group",
		                    (unsigned)(st.st_mode & 07777), dir);
	if ((st.st_mode & 07777) != mode && chmod(dir, mode) < 0)
		return sb_err_set(err, errno, "Setting mode of '%s': %s", dir, strerror(errno));
	return 0;
}

/* dirs_walk on path, then on its real path when links or ".." lead elsewhere. */
static int state_dirs(const char *path, mode_t mode, int flags, struct sb_err *err)
{
	_cleanup_free_ char *real = NULL;
	int ret;

	ret = dirs_walk(path, mode, flags, err);
	if (ret < 0)
		return ret;
	real = realpath(path, NULL);
	if (!real)
		return sb_err_set(err, errno, "Resolving '%s': %s", path, strerror(errno));
	if (strcmp(real, path) == 0)
		return 0;
	return dirs_walk(real, mode, flags & ~DIRS_CREATE, err);
}

int state_base_make(char **base, struct sb_err *err)
{
	bool per_host;
	int ret = state_base(base, &per_host, err);

	if (ret == 0)
		ret = state_dirs(*base, 0755, DIRS_CREATE, err);
	if (ret < 0) {
		free(*base);
		*base = NULL;
	}
	return ret;
}

/* munged's own checks, so a bad key is refused here with a clear reason. */
static int key_check(const char *path, int fd, struct sb_err *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return sb_err_set(err, errno, "Reading munge key '%s': %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return sb_err_set(err, EINVAL,
		                  "Munge key '%s' is not a regular file; remove it "
		                  "(slurmbox down --purge) to make a new one",
		                  path);
	if (st.st_mode & (S_IRWXG | S_IRWXO))
		return sb_err_set(
		    err, EPERM,
		    "Munge key '%s' is readable by others (mode %04o); it must be 0400: "
		    "chmod 400 '%s'",
		    path, (unsigned)(st.st_mode & 07777), path);
	if (st.st_size < STATE_KEY_MIN)
		return sb_err_set(err, EINVAL,
		                  "Munge key '%s' is only %lld bytes (munge needs at least 32); "
		                  "remove it with `slurmbox down --purge`",
		                  path, (long long)st.st_size);
	if (st.st_uid != geteuid())
		return sb_err_set(
		    err, EPERM,
		    "Munge key '%s' is owned by uid %u, not by you (uid %u), who runs "
		    "slurmbox: chown %u '%s'",
		    path, (unsigned)st.st_uid, (unsigned)geteuid(), (unsigned)geteuid(), path);
	return 0;
}

static int key_create(const char *path, struct sb_err *err)
{
	unsigned char key[STATE_KEY_MAX];
	_cleanup_close_ int fd = -1;
	size_t got = 0;
	int ret;

	while (got < sizeof(key)) {
		ssize_t n = getrandom(key + got, sizeof(key) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sb_err_set(err, errno, "Reading the kernel's random source: %s",
			                  strerror(errno));
		got += (size_t)n;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0400);
	if (fd < 0) {
		explicit_bzero(key, sizeof(key));
		return sb_err_set(err, errno, "Creating munge key '%s': %s", path, strerror(errno));
	}
	ret = util_write_all(fd, key, sizeof(key));
	if (ret < 0) {
		explicit_bzero(key, sizeof(key));
		unlink(path);
		return sb_err_set(err, -ret, "Writing munge key '%s': %s", path, strerror(-ret));
	}
	explicit_bzero(key, sizeof(key));
	if (fsync(fd) < 0) {
		int e = errno;
		unlink(path);
		return sb_err_set(err, e, "Writing munge key '%s': %s", path, strerror(e));
	}
	return 0;
}

int state_key_ensure(const char *cluster, char **path, bool *created, struct sb_err *err)
{
	_cleanup_free_ char *dir = NULL, *p = NULL;
	_cleanup_close_ int fd = -1;
	int ret;

	*created = false;
	ret = state_dir(cluster, &dir, err);
	if (ret == 0)
		ret = state_dirs(dir, 0700, DIRS_CREATE | DIRS_OWN, err);
	if (ret < 0)
		return ret;
	p = xasprintf("%s/munge.key", dir);
	fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ELOOP)
		return sb_err_set(
		    err, ELOOP, "Munge key '%s' is a symbolic link; munge refuses those. Remove it",
		    p);
	if (fd < 0 && errno == ENOENT) {
		ret = key_create(p, err);
		if (ret < 0)
			return ret;
		*created = true;
		fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	}
	if (fd < 0)
		return sb_err_set(err, errno, "Opening munge key '%s': %s", p, strerror(errno));
	ret = key_check(p, fd, err);
	if (ret < 0)
		return ret;
	*path = steal_ptr(&p);
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* Unlinking a lock that is held is safe: state_lock_take checks what it locked. */
static void lock_files_unlink(const char *cluster, const char *dir)
{
	for (const char *const *what = (const char *const[]){"control", "host", NULL}; *what;
	     what++) {
		_cleanup_free_ char *lock = xasprintf(
		    "%.*s/.%s.%s.lock", (int)(strrchr(dir, '/') - dir), dir, cluster, *what);
		unlink(lock);
	}
}

int state_remove(const char *cluster, struct sb_err *err)
{
	_cleanup_free_ char *dir = NULL, *parent = NULL;
	int ret;

	ret = state_dir(cluster, &dir, err);
	if (ret < 0)
		return ret;
	/* nothing is removed through a path others could redirect */
	parent = xstrndup(dir, (size_t)(strrchr(dir, '/') - dir));
	if (access(parent, F_OK) < 0 && errno == ENOENT)
		return 0;
	ret = state_dirs(parent, 0755, 0, err);
	if (ret < 0)
		return ret;
	/* the lock files beside it go too (see state_lock_take) */
	lock_files_unlink(cluster, dir);
	if (access(dir, F_OK) < 0 && errno == ENOENT)
		return 0;
	if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
		return sb_err_set(err, errno, "Removing state directory '%s': %s", dir,
		                  strerror(errno));
	return 0;
}

int state_key_write(const char *cluster, const unsigned char *key, size_t len, bool *replaced,
                    struct sb_err *err)
{
	_cleanup_free_ char *dir = NULL, *p = NULL, *tmp = NULL;
	_cleanup_close_ int fd = -1;
	unsigned char have[STATE_KEY_MAX + 1];
	ssize_t n;
	int ret;

	*replaced = false;
	ret = state_dir(cluster, &dir, err);
	if (ret == 0)
		ret = state_dirs(dir, 0700, DIRS_CREATE | DIRS_OWN, err);
	if (ret < 0)
		return ret;
	p = xasprintf("%s/munge.key", dir);
	tmp = xasprintf("%s/.munge.key.%d", dir, (int)getpid());
	/* the same key already there: nothing to do (the file is not touched) */
	fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		n = read(fd, have, sizeof(have));
		if (n == (ssize_t)len && memcmp(have, key, len) == 0) {
			explicit_bzero(have, sizeof(have));
			return key_check(p, fd, err);
		}
		explicit_bzero(have, sizeof(have));
		close(steal_fd(&fd));
		*replaced = true; /* another key was there: the nodes' munged still hold it */
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0400);
	if (fd < 0)
		return sb_err_set(err, errno, "Creating munge key '%s': %s", tmp, strerror(errno));
	ret = util_write_all(fd, key, len);
	if (ret < 0) {
		ret = sb_err_set(err, -ret, "Writing munge key '%s': %s", tmp, strerror(-ret));
		goto fail;
	}
	if (fsync(fd) < 0 || rename(tmp, p) < 0) {
		ret = sb_err_set(err, errno, "Writing munge key '%s': %s", p, strerror(errno));
		goto fail;
	}
	return 0;
fail:
	unlink(tmp);
	return ret;
}

int state_file_replace(const char *path, const char *text, const char *what, struct sb_err *err)
{
	_cleanup_free_ char *tmp = xasprintf("%s.tmp", path);
	size_t len = strlen(text);
	int fd, ret = 0;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) < 0)
		ret = sb_err_set(err, errno, "Writing %s '%s': %s", what, tmp, strerror(errno));
	if (fd >= 0 && close(fd) < 0 && ret == 0)
		ret = sb_err_set(err, errno, "Writing %s '%s': %s", what, tmp, strerror(errno));
	if (ret == 0 && rename(tmp, path) < 0)
		ret = sb_err_set(err, errno, "Renaming %s '%s': %s", what, tmp, strerror(errno));
	if (ret < 0)
		unlink(tmp);
	return ret;
}

int state_key_read(const char *path, unsigned char *key, size_t cap, size_t *len,
                   struct sb_err *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	size_t got = 0;

	if (fd < 0)
		return sb_err_set(err, errno, "Opening munge key '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) < 0)
		return sb_err_set(err, errno, "Reading munge key '%s': %s", path, strerror(errno));
	if (st.st_size < STATE_KEY_MIN || (unsigned long long)st.st_size > cap)
		return sb_err_input(
		    err,
		    "Munge key '%s' is %lld bytes; munge takes %d to %zu, and a key "
		    "is never cut short: remove it (slurmbox down --purge) to make "
		    "a new one, or put a key of the right size there",
		    path, (long long)st.st_size, STATE_KEY_MIN, cap);
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, key + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			explicit_bzero(key, got);
			return sb_err_set(err, e, "Reading munge key '%s': %s", path,
			                  n < 0 ? strerror(e) : "it became shorter");
		}
		got += (size_t)n;
	}
	*len = got;
	return 0;
}

/* The directory the first lock of this process had to make, if any. */
static char *lock_parent_made;

int state_lock_take(const char *cluster, const char *what, int *fd, struct sb_err *err)
{
	_cleanup_free_ char *dir = NULL, *parent = NULL, *path = NULL;
	int ret;

	ret = state_dir(cluster, &dir, err);
	if (ret < 0)
		return ret;
	/* next to the state directory, which `down --purge` removes */
	parent = xstrndup(dir, (size_t)(strrchr(dir, '/') - dir));
	path = xasprintf("%s/.%s.%s.lock", parent, cluster, what);
	if (access(parent, F_OK) < 0 && errno == ENOENT && !lock_parent_made)
		lock_parent_made = xstrdup(parent);
	ret = state_dirs(parent, 0755, DIRS_CREATE, err);
	if (ret < 0)
		return ret;
	/*
	 * The holder may unlink the file when it removes the cluster. A lock
	 * taken on a file that is no longer at `path` guards nothing: open the
	 * path again until the locked file is the one there.
	 */
	for (int tries = 0;; tries++) {
		struct stat held, there;

		*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (*fd < 0)
			return sb_err_set(err, errno, "Opening lock '%s': %s", path,
			                  strerror(errno));
		if (flock(*fd, LOCK_EX | LOCK_NB) < 0) {
			int e = errno;
			close(steal_fd(fd));
			if (e == EWOULDBLOCK)
				return sb_err_set(
				    err, EBUSY,
				    "Another slurmbox is changing cluster '%s' right now (lock "
				    "'%s'); wait for it to finish",
				    cluster, path);
			return sb_err_set(err, e, "Locking '%s': %s", path, strerror(e));
		}
		if (fstat(*fd, &held) == 0 && stat(path, &there) == 0 &&
		    held.st_ino == there.st_ino && held.st_dev == there.st_dev)
			return 0;
		close(steal_fd(fd));
		if (tries == 100)
			return sb_err_set(err, EAGAIN, "Locking '%s': it keeps being replaced",
			                  path);
	}
}

void state_lock_drop_unused(const char *cluster)
{
	struct sb_err ignored = SB_ERR_INIT;
	_cleanup_free_ char *dir = NULL;

	if (state_dir(cluster, &dir, &ignored) == 0 && access(dir, F_OK) < 0 && errno == ENOENT) {
		lock_files_unlink(cluster, dir);
		/* the directory this process made for the lock goes too, if nothing else is in it */
		if (lock_parent_made)
			rmdir(lock_parent_made);
	}
}

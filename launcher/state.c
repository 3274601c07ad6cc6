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
#include "cli.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/random.h>
#include <sys/file.h>
#include <sys/stat.h>

#define KEY_BYTES 1024

char *cli_state_dir(const char *cluster)
{
	const char *base = getenv("SLURMBOX_STATE_DIR");
	const char *xdg, *home;
	char host[HOST_NAME_MAX + 1];

	if (base && *base)
		return xasprintf("%s/%s", base, cluster);
	if (geteuid() == 0)
		return xasprintf("/var/lib/slurmbox/%s", cluster);
	/*
	 * A user's home is often one NFS share across the lab's machines: each
	 * host keeps its part (its key copy, its locks) under its own name.
	 */
	if (gethostname(host, sizeof(host)) < 0 || !*host)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	xdg = getenv("XDG_STATE_HOME");
	if (xdg && *xdg == '/')
		return xasprintf("%s/slurmbox/hosts/%s/%s", xdg, host, cluster);
	home = getenv("HOME");
	return xasprintf("%s/.local/state/slurmbox/hosts/%s/%s", home && *home ? home : "/tmp",
	                 host, cluster);
}

/*
 * mkdir -p: a missing directory is made with `mode` if it is the last one,
 * 0755 otherwise (less the umask). A directory already there keeps its mode:
 * it may be a shared one (/tmp, /var/lib, $XDG_STATE_HOME's parent). Only
 * `own`, the cluster's state directory (slurmbox's alone), is set to `mode`.
 */
static int mkdir_p(const char *path, mode_t mode, bool own, struct sb_err *err)
{
	_cleanup_free_ char *p = xstrdup(path);
	struct stat st;

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return sb_err_set(err, errno, "Creating directory '%s': %s", p,
			                  strerror(errno));
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return sb_err_set(err, errno, "Creating directory '%s': %s", p, strerror(errno));
	if (!own)
		return 0;
	if (lstat(p, &st) < 0)
		return sb_err_set(err, errno, "Reading directory '%s': %s", p, strerror(errno));
	if ((st.st_mode & 07777) != mode && chmod(p, mode) < 0)
		return sb_err_set(err, errno, "Setting mode of '%s': %s", p, strerror(errno));
	return 0;
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
	if (st.st_size < 32)
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
	unsigned char key[KEY_BYTES];
	_cleanup_close_ int fd = -1;
	size_t got = 0;

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
	for (size_t off = 0; off < sizeof(key);) {
		ssize_t n = write(fd, key + off, sizeof(key) - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			explicit_bzero(key, sizeof(key));
			unlink(path);
			return sb_err_set(err, e, "Writing munge key '%s': %s", path, strerror(e));
		}
		off += (size_t)n;
	}
	explicit_bzero(key, sizeof(key));
	if (fsync(fd) < 0) {
		int e = errno;
		unlink(path);
		return sb_err_set(err, e, "Writing munge key '%s': %s", path, strerror(e));
	}
	return 0;
}

int cli_key_ensure(const char *cluster, char **path, bool *created, struct sb_err *err)
{
	_cleanup_free_ char *dir = cli_state_dir(cluster);
	_cleanup_free_ char *p = xasprintf("%s/munge.key", dir);
	_cleanup_close_ int fd = -1;
	int ret;

	*created = false;
	ret = mkdir_p(dir, 0700, true, err);
	if (ret < 0)
		return ret;
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

/* Unlinking a lock that is held is safe: cli_lock_take checks what it locked. */
static void lock_files_unlink(const char *cluster, const char *dir)
{
	for (const char *const *what = (const char *const[]){"control", "host", NULL}; *what;
	     what++) {
		_cleanup_free_ char *lock = xasprintf(
		    "%.*s/.%s.%s.lock", (int)(strrchr(dir, '/') - dir), dir, cluster, *what);
		unlink(lock);
	}
}

int cli_state_remove(const char *cluster, struct sb_err *err)
{
	_cleanup_free_ char *dir = cli_state_dir(cluster);

	/* the lock files beside it go too (see cli_lock_take) */
	lock_files_unlink(cluster, dir);
	if (access(dir, F_OK) < 0 && errno == ENOENT)
		return 0;
	if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
		return sb_err_set(err, errno, "Removing state directory '%s': %s", dir,
		                  strerror(errno));
	return 0;
}

int cli_key_write(const char *cluster, const unsigned char *key, size_t len, bool *replaced,
                  struct sb_err *err)
{
	_cleanup_free_ char *dir = cli_state_dir(cluster);
	_cleanup_free_ char *p = xasprintf("%s/munge.key", dir);
	_cleanup_free_ char *tmp = xasprintf("%s/.munge.key.%d", dir, (int)getpid());
	_cleanup_close_ int fd = -1;
	unsigned char have[KEY_BYTES + 1];
	ssize_t n;
	int ret;

	*replaced = false;
	ret = mkdir_p(dir, 0700, true, err);
	if (ret < 0)
		return ret;
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
	for (size_t off = 0; off < len;) {
		n = write(fd, key + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = sb_err_set(err, errno, "Writing munge key '%s': %s", tmp,
			                 strerror(errno));
			goto fail;
		}
		off += (size_t)n;
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

int cli_file_replace(const char *path, const char *text, const char *what, struct sb_err *err)
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

int cli_key_read(const char *path, unsigned char *key, size_t cap, size_t *len, struct sb_err *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;

	if (fd < 0)
		return sb_err_set(err, errno, "Opening munge key '%s': %s", path, strerror(errno));
	n = read(fd, key, cap);
	if (n < 32)
		return sb_err_set(err, EIO, "Reading munge key '%s': too short", path);
	*len = (size_t)n;
	return 0;
}

int cli_lock_take(const char *cluster, const char *what, int *fd, struct sb_err *err)
{
	_cleanup_free_ char *dir = cli_state_dir(cluster);
	_cleanup_free_ char *parent = NULL, *path = NULL;
	char *slash;
	int ret;

	/* next to the state directory, which `down --purge` removes */
	slash = strrchr(dir, '/');
	parent = xstrndup(dir, (size_t)(slash - dir));
	path = xasprintf("%s/.%s.%s.lock", parent, cluster, what);
	ret = mkdir_p(parent, 0755, false, err);
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

void cli_lock_drop_unused(const char *cluster)
{
	_cleanup_free_ char *dir = cli_state_dir(cluster);

	if (access(dir, F_OK) < 0 && errno == ENOENT)
		lock_files_unlink(cluster, dir);
}

/* SPDX-License-Identifier: MIT */
/*
 * image_rootfs - the offline base: debootstrap the release of
 * images/base/release with the packages of images/base/packages into a
 * directory under /var/tmp, apply <release>-security in a chroot, and stream the tree as a tar (libarchive,
 * numeric owners, no device nodes) through a socket pair into
 * POST /images/create?fromSrc=-. The directory is removed on every path.
 */
#include "image.h"
#include "../docker/docker_api.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define ROOTFS_MIRROR_DEFAULT   "http://deb.debian.org/debian"
#define ROOTFS_SECURITY_DEFAULT "http://deb.debian.org/debian-security"
#define ROOTFS_TAIL             6 /* output lines kept for an error message */

/* Run in the chroot: security updates (when $SEC is set), then drop apt's caches. */
static const char rootfs_chroot_script[] =
    "set -eu\n"
    "if [ -n \"$SEC\" ]; then\n"
    "  echo \"deb $SEC $SUITE-security main\" "
    ">/etc/apt/sources.list.d/slurmbox-security.list\n"
    "  apt-get -q update\n"
    "  apt-get -q -y -o Dpkg::Options::=--force-confold upgrade\n"
    "fi\n"
    "apt-get clean\n"
    "rm -rf /var/lib/apt/lists/*\n";

/*
 * SIGINT/SIGTERM/SIGHUP while the rootfs is made: remember it, stop the
 * child's process group, and unwind so the directory is removed.
 */
static volatile sig_atomic_t rootfs_signal;
static volatile pid_t rootfs_child;

static void rootfs_on_signal(int sig)
{
	rootfs_signal = sig;
	if (rootfs_child > 0)
		kill(-rootfs_child, SIGTERM);
}

static const int rootfs_signals[] = {SIGINT, SIGTERM, SIGHUP};

struct rootfs_sigsave {
	struct sigaction old[ARRAY_SIZE(rootfs_signals)];
	bool set;
};

static void rootfs_signals_catch(struct rootfs_sigsave *s)
{
	struct sigaction sa = {.sa_handler = rootfs_on_signal};

	rootfs_signal = 0;
	rootfs_child = 0;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(rootfs_signals); i++)
		sigaction(rootfs_signals[i], &sa, &s->old[i]);
	s->set = true;
}

static void rootfs_signals_restore(struct rootfs_sigsave *s)
{
	if (!s->set)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(rootfs_signals); i++)
		sigaction(rootfs_signals[i], &s->old[i], NULL);
	s->set = false;
}

static int rootfs_interrupted(struct sb_err *err)
{
	return sb_err_set(err, EINTR, "Interrupted by signal %d: the partial rootfs is removed",
	                  (int)rootfs_signal);
}

static int rootfs_url_check(const char *name, const char *url, struct sb_err *err)
{
	bool scheme = strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0 ||
	              strncmp(url, "file:/", 6) == 0;

	for (const char *p = url; scheme && *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			scheme = false;
	if (!scheme || strlen(url) > 500)
		return sb_err_input(err,
		                    "%s '%s' is not a mirror URL: give http://, https:// or file:/ "
		                    "without spaces, e.g. " ROOTFS_MIRROR_DEFAULT,
		                    name, url);
	return 0;
}

/* debootstrap's path, searched in $PATH and the sbin directories. */
static char *rootfs_find_debootstrap(void)
{
	const char *env = getenv("PATH");
	_cleanup_free_ char *path =
	    xasprintf("%s:/usr/sbin:/sbin:/usr/local/sbin", env ? env : "/usr/bin:/bin");
	char *save = NULL;

	for (char *dir = strtok_r(path, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char *p = xasprintf("%s/debootstrap", *dir ? dir : ".");
		if (access(p, X_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}

/* The package list as "a,b,c" from the embedded base/packages. */
static char *rootfs_packages(void)
{
	struct sb_buf out = SB_BUF_INIT;

	for (size_t i = 0; i < image_files_count; i++) {
		const struct image_file *f = &image_files[i];
		const char *p, *end;
		size_t n;

		if (strcmp(f->path, "base/packages") != 0)
			continue;
		for (p = (const char *)f->data, end = p + f->len; p < end; p += n + (p + n < end)) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t len;

			n = nl ? (size_t)(nl - p) : (size_t)(end - p);
			len = n;
			while (len &&
			       (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\r'))
				len--;
			if (len && *p != '#') {
				if (out.len)
					sb_buf_add(&out, ",", 1);
				sb_buf_add(&out, p, len);
			}
		}
	}
	return sb_buf_steal(&out);
}

/*
 * In a forked child: nothing of ours beyond 0, 1 and 2 reaches the program
 * (an fd a library opened without O_CLOEXEC, another thread's pipe made
 * between its pipe2 and a fork). Async-signal-safe calls only.
 */
static void fds_close_from(unsigned first)
{
	struct rlimit rl;

	if (close_range(first, ~0U, 0) == 0)
		return;
	/* kernels before 5.9 */
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur > 1u << 20)
		rl.rlim_cur = 1u << 20;
	for (unsigned fd = first; fd < rl.rlim_cur; fd++)
		close((int)fd);
}

/* Run argv as image.h says; the child is forked (it may chroot). */
int image_rootfs_run(char *const argv[], const char *root, const char *const *env,
                     image_progress_fn fn, void *arg, struct sb_err *err)
{
	char *tail[ROOTFS_TAIL] = {0};
	_cleanup_free_ char *line = NULL;
	struct sb_buf msg = SB_BUF_INIT;
	size_t cap = 0, nlines = 0;
	int pfd[2], status = 0;
	ssize_t n;
	FILE *f;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return sb_err_set(err, errno, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return sb_err_set(err, errno, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

		setpgid(0, 0); /* a group of its own: signals reach it through us */

		if (null < 0 || dup2(null, 0) < 0 || dup2(pfd[1], 1) < 0 || dup2(pfd[1], 2) < 0)
			_exit(127);
		fds_close_from(3);
		for (; env && *env; env++)
			putenv((char *)*env);
		if (root && (chroot(root) < 0 || chdir("/") < 0)) {
			dprintf(2, "chroot %s: %s\n", root, strerror(errno));
			_exit(127);
		}
		execv(argv[0], argv);
		dprintf(2, "Cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	rootfs_child = pid;
	if (rootfs_signal)
		kill(-pid, SIGTERM);
	close(pfd[1]);
	f = fdopen(pfd[0], "r");
	if (!f)
		sb_oom();
	while ((n = getline(&line, &cap, f)) >= 0) {
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (fn && n)
			fn(line, arg);
		free(tail[nlines % ROOTFS_TAIL]);
		tail[nlines++ % ROOTFS_TAIL] = xstrdup(line);
	}
	fclose(f);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	rootfs_child = 0;
	for (size_t i = nlines > ROOTFS_TAIL ? nlines - ROOTFS_TAIL : 0; i < nlines; i++)
		sb_buf_printf(&msg, "\n  %s", tail[i % ROOTFS_TAIL]);
	for (size_t i = 0; i < ROOTFS_TAIL; i++)
		free(tail[i]);
	if (rootfs_signal || (WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		sb_buf_free(&msg);
		return rootfs_signal ? rootfs_interrupted(err) : 0;
	}
	sb_err_set(err, EIO, "%s failed (%s %d); its last output:%s", argv[0],
	           WIFEXITED(status) ? "exit status" : "signal",
	           WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
	           msg.len ? msg.data : " none");
	sb_buf_free(&msg);
	return -EIO;
}

/* ---- the tar stream ---- */

struct rootfs_tar {
	const char *root;
	int fd;
	int ret;
	struct sb_err err;
};

static la_ssize_t rootfs_tar_send(struct archive *a, void *arg, const void *buf, size_t len)
{
	const int *fd = arg;
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(*fd, (const char *)buf + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			archive_set_error(a, errno, "the import stopped reading: %s",
			                  strerror(errno));
			return -1;
		}
		off += (size_t)n;
	}
	return (la_ssize_t)len;
}

/* Skip what a container must not inherit from the build host. */
static bool rootfs_tar_skip(const char *rel, unsigned type)
{
	if (type == AE_IFCHR || type == AE_IFBLK || type == AE_IFIFO || type == AE_IFSOCK)
		return true;
	return strcmp(rel, "etc/resolv.conf") == 0 || strcmp(rel, "etc/hostname") == 0;
}

/* The data of the current file (no holes: the reader runs with NO_SPARSE). */
static int rootfs_tar_copy(struct archive *disk, struct archive *w, struct sb_err *err)
{
	const void *buf;
	size_t size;
	la_int64_t off, pos = 0;
	int r;

	while ((r = archive_read_data_block(disk, &buf, &size, &off)) == ARCHIVE_OK) {
		if (off != pos)
			return sb_err_set(err, EIO, "unexpected hole at offset %lld",
			                  (long long)pos);
		if (archive_write_data(w, buf, size) < 0)
			return sb_err_set(err, EIO, "%s", archive_error_string(w));
		pos += (la_int64_t)size;
	}
	if (r != ARCHIVE_EOF)
		return sb_err_set(err, EIO, "%s", archive_error_string(disk));
	return 0;
}

static int rootfs_tar_write(const char *root, int fd, struct sb_err *err)
{
	struct archive *disk = archive_read_disk_new(), *w = archive_write_new();
	struct archive_entry_linkresolver *lr = archive_entry_linkresolver_new();
	size_t rlen = strlen(root);
	int ret = 0, r;

	if (!disk || !w || !lr)
		sb_oom();
	archive_read_disk_set_symlink_physical(disk);
	archive_read_disk_set_behavior(disk,
	                               ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS |
	                                   ARCHIVE_READDISK_NO_XATTR | ARCHIVE_READDISK_NO_ACL |
	                                   ARCHIVE_READDISK_NO_FFLAGS | ARCHIVE_READDISK_NO_SPARSE);
	if (archive_write_set_format_pax_restricted(w) != ARCHIVE_OK ||
	    archive_write_open(w, &fd, NULL, rootfs_tar_send, NULL) != ARCHIVE_OK) {
		ret = sb_err_set(err, EIO, "%s", archive_error_string(w));
		goto out;
	}
	archive_entry_linkresolver_set_strategy(lr, archive_format(w));
	if (archive_read_disk_open(disk, root) != ARCHIVE_OK) {
		ret = sb_err_set(err, EIO, "%s", archive_error_string(disk));
		goto out;
	}
	for (;;) {
		struct archive_entry *e = archive_entry_new(), *spare = NULL;
		const char *rel;

		if (rootfs_signal) {
			ret = rootfs_interrupted(err);
			archive_entry_free(e);
			break;
		}
		r = archive_read_next_header2(disk, e);
		if (r == ARCHIVE_EOF || r < ARCHIVE_WARN) {
			if (r != ARCHIVE_EOF)
				ret = sb_err_set(err, EIO, "%s", archive_error_string(disk));
			archive_entry_free(e);
			break;
		}
		archive_read_disk_descend(disk);
		rel = archive_entry_pathname(e) + rlen;
		while (*rel == '/')
			rel++;
		if (!*rel || rootfs_tar_skip(rel, archive_entry_filetype(e))) {
			archive_entry_free(e);
			continue;
		}
		archive_entry_copy_pathname(e, rel);
		archive_entry_linkify(lr, &e, &spare);
		if (archive_write_header(w, e) < ARCHIVE_WARN) {
			ret = sb_err_set(err, EIO, "%s: %s", rel, archive_error_string(w));
		} else if (archive_entry_filetype(e) == AE_IFREG && archive_entry_size(e) > 0) {
			ret = rootfs_tar_copy(disk, w, err);
			if (ret < 0)
				sb_err_wrap(err, "%s", archive_entry_pathname(e));
		}
		archive_entry_free(e);
		archive_entry_free(spare);
		if (ret < 0)
			break;
	}
	if (ret == 0 && archive_write_close(w) != ARCHIVE_OK)
		ret = sb_err_set(err, EIO, "%s", archive_error_string(w));
out:
	archive_entry_linkresolver_free(lr);
	archive_read_free(disk);
	archive_write_free(w);
	return ret;
}

static void *rootfs_tar_thread(void *arg)
{
	struct rootfs_tar *t = arg;

	t->ret = rootfs_tar_write(t->root, t->fd, &t->err);
	shutdown(t->fd, SHUT_WR);
	return NULL;
}

static ssize_t rootfs_sock_read(void *arg, char *buf, size_t len)
{
	const int *fd = arg;
	ssize_t n;

	while ((n = read(*fd, buf, len)) < 0 && errno == EINTR)
		;
	return n;
}

/* Import the tree at root as repo:tag, the tar made by a thread. */
static int rootfs_import(struct docker *d, const char *root, const char *ref, const char *arch,
                         struct sb_err *err)
{
	static const char *const changes[] = {
	    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	    "CMD [\"bash\"]",
	    "LABEL io.slurmbox.image=rootfs",
	};
	const char *colon = strrchr(ref, ':');
	_cleanup_free_ char *repo = xstrndup(ref, colon ? (size_t)(colon - ref) : strlen(ref));
	struct rootfs_tar t = {.root = root, .err = SB_ERR_INIT};
	pthread_t th;
	int sv[2], ret;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return sb_err_set(err, errno, "socketpair: %s", strerror(errno));
	t.fd = sv[1];
	ret = pthread_create(&th, NULL, rootfs_tar_thread, &t);
	if (ret) {
		close(sv[0]);
		close(sv[1]);
		return sb_err_set(err, ret, "pthread_create: %s", strerror(ret));
	}
	ret = docker_image_import(d, repo, colon ? colon + 1 : "latest", image_arch_platform(arch),
	                          changes, ARRAY_SIZE(changes), rootfs_sock_read, &sv[0], err);
	close(sv[0]); /* a writer still sending gets EPIPE and stops */
	pthread_join(th, NULL);
	close(sv[1]);
	if (t.ret < 0) {
		*err = t.err;
		return sb_err_wrap(err, "Packing %s as a tar", root);
	}
	if (ret < 0)
		return sb_err_wrap(err, "Importing %s as %s", root, ref);
	return 0;
}

/* ---- the temporary directory ---- */

static int rootfs_rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	remove(path);
	return 0;
}

/* Unmount whatever a failed debootstrap left mounted below dir, then remove dir. */
static void rootfs_dir_remove(char **dirp)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	char *dir = *dirp, mnt[4096];
	size_t cap = 0, dlen;

	if (!dir)
		return;
	dlen = strlen(dir);
	for (int pass = 0; pass < 8; pass++) {
		bool found = false;

		f = fopen("/proc/self/mountinfo", "re");
		while (f && getline(&line, &cap, f) >= 0) {
			/* "id parent major:minor root mountpoint ..."; octal escapes for spaces */
			if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1 &&
			    strncmp(mnt, dir, dlen) == 0 && mnt[dlen] == '/') {
				umount2(mnt, MNT_DETACH);
				found = true;
			}
		}
		if (f)
			fclose(f);
		f = NULL;
		if (!found)
			break;
	}
	nftw(dir, rootfs_rm_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	free(dir);
	*dirp = NULL;
}

int image_rootfs_build(struct docker *d, const char *tag, const char *arch, image_progress_fn fn,
                       void *arg, struct sb_err *err)
{
	const char *mirror = getenv("SLURMBOX_DEBIAN_MIRROR");
	const char *sec = getenv("SLURMBOX_DEBIAN_SECURITY_MIRROR");
	/* declared first, so signals are restored after the directory is gone */
	_cleanup_(rootfs_signals_restore) struct rootfs_sigsave sigs = {.set = false};
	_cleanup_(rootfs_dir_remove) char *dir = NULL;
	_cleanup_free_ char *debootstrap = NULL, *pkgs = NULL, *include = NULL, *target = NULL;
	_cleanup_free_ char *sec_env = NULL, *suite_env = NULL, *arch_opt = NULL;
	char tmpl[] = "/var/tmp/slurmbox-rootfs.XXXXXX";
	int ret;

	if (!mirror || !*mirror)
		mirror = ROOTFS_MIRROR_DEFAULT;
	if (!sec || !*sec)
		sec = ROOTFS_SECURITY_DEFAULT;
	if ((ret = rootfs_url_check("SLURMBOX_DEBIAN_MIRROR", mirror, err)) < 0)
		return ret;
	if (strcmp(sec, "none") != 0 &&
	    (ret = rootfs_url_check("SLURMBOX_DEBIAN_SECURITY_MIRROR", sec, err)) < 0)
		return ret;
	if (geteuid() != 0)
		return sb_err_set(err, EPERM,
		                  "Building the base image offline needs debootstrap, which needs "
		                  "root: run slurmbox as root once, or make %s available to Docker "
		                  "(docker load), or give --image-base IMAGE",
		                  image_debian_ref());
	debootstrap = rootfs_find_debootstrap();
	if (!debootstrap)
		return sb_err_set(err, ENOENT,
		                  "debootstrap is not installed: apt-get install debootstrap (or "
		                  "make %s available to Docker, or give --image-base IMAGE)",
		                  image_debian_ref());
	rootfs_signals_catch(&sigs);
	if (!mkdtemp(tmpl))
		return sb_err_set(err, errno, "Creating a directory in /var/tmp: %s",
		                  strerror(errno));
	dir = xstrdup(tmpl);
	target = xasprintf("%s/rootfs", dir);
	pkgs = rootfs_packages();
	include = xasprintf("--include=%s", pkgs);

	if (fn) {
		_cleanup_free_ char *l =
		    arch ? xasprintf("debootstrap %s for %s from %s into %s (under emulation: "
		                     "about 5 min)",
		                     image_release(), arch, mirror, target)
		         : xasprintf("debootstrap %s from %s into %s (about 90 s)", image_release(),
		                     mirror, target);
		fn(l, arg);
	}
	{
		char *argv[8];
		size_t k = 0;

		argv[k++] = debootstrap;
		argv[k++] = "--variant=minbase";
		/* another architecture: debootstrap's second stage runs under qemu (binfmt_misc) */
		if (arch)
			argv[k++] = arch_opt = xasprintf("--arch=%s", arch);
		argv[k++] = include;
		argv[k++] = (char *)image_release();
		argv[k++] = target;
		argv[k++] = (char *)mirror;
		argv[k] = NULL;
		static const char *const env[] = {"LC_ALL=C", NULL};

		ret = image_rootfs_run(argv, NULL, env, fn, arg, err);
		if (ret == -EINTR)
			return ret;
		if (ret < 0)
			return sb_err_wrap(err,
			                   "Bootstrapping Debian %s (is %s reachable? set "
			                   "SLURMBOX_DEBIAN_MIRROR)",
			                   image_release(), mirror);
	}
	{
		char *argv[] = {"/bin/sh", "-c", (char *)rootfs_chroot_script, NULL};
		const char *env[] = {
		    "LC_ALL=C",
		    "DEBIAN_FRONTEND=noninteractive",
		    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		    sec_env = xasprintf("SEC=%s", strcmp(sec, "none") == 0 ? "" : sec),
		    suite_env = xasprintf("SUITE=%s", image_release()),
		    NULL};

		if (fn) {
			_cleanup_free_ char *l =
			    strcmp(sec, "none") == 0
			        ? xstrdup("Skipping the security updates")
			        : xasprintf("Applying %s-security updates", image_release());
			fn(l, arg);
		}
		ret = image_rootfs_run(argv, target, env, fn, arg, err);
		if (ret == -EINTR)
			return ret;
		if (ret < 0)
			return sb_err_wrap(err,
			                   "Updating the rootfs from %s (set "
			                   "SLURMBOX_DEBIAN_SECURITY_MIRROR=none to skip)",
			                   sec);
	}
	if (fn) {
		_cleanup_free_ char *l = xasprintf("Importing the rootfs as %s", tag);
		fn(l, arg);
	}
	return rootfs_import(d, target, tag, arch, err);
}

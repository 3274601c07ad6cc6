/* SPDX-License-Identifier: MIT */
/*
 * A child gets fds 0, 1 and 2 and nothing else: not the Docker connection
 * libcurl keeps open between requests, not a caller's fd that lacks
 * O_CLOEXEC. Both ways slurmbox starts programs are run on
 * `ls /proc/$$/fd` (the shell's own fds, which it got from us) while a
 * Docker handle is open. The "daemon" is a fake on a Unix socket in a
 * temporary directory that answers every request with 200 and keeps the
 * connection, so docker_open needs no dockerd.
 */
#include "tap.h"
#include "../../launcher/docker/docker.h"
#include "../../launcher/host/image.h"
#include "../../launcher/remote/ssh.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>

static char dir[] = "/tmp/sbtest-fds-XXXXXX";
static struct sockaddr_un addr = {.sun_family = AF_UNIX};
static int listen_fd = -1;
static struct docker *d;
static int leak = -1; /* a caller's fd without O_CLOEXEC */

/* Each request (headers only: HEAD /_ping) gets a 200; the connection stays. */
static void *fake_daemon(void *arg)
{
	static const char reply[] = "HTTP/1.1 200 OK\r\nApi-Version: 1.43\r\n"
	                            "Content-Length: 0\r\n\r\n";
	int c;

	(void)arg;
	while ((c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		char buf[4096];
		size_t have = 0;
		ssize_t n;

		while ((n = read(c, buf + have, sizeof(buf) - 1 - have)) > 0) {
			char *end;

			have += (size_t)n;
			buf[have] = '\0';
			while ((end = strstr(buf, "\r\n\r\n"))) {
				size_t used = (size_t)(end + 4 - buf);

				if (write(c, reply, sizeof(reply) - 1) < 0)
					break;
				memmove(buf, buf + used, have - used + 1);
				have -= used;
			}
			if (have == sizeof(buf) - 1)
				have = 0;
		}
		close(c);
	}
	return NULL;
}

static void fixture_end(void)
{
	docker_free(d);
	if (listen_fd >= 0)
		shutdown(listen_fd, SHUT_RDWR);
	unlink(addr.sun_path);
	rmdir(dir);
}

static int fixture_start(void)
{
	struct sb_err err = SB_ERR_INIT;
	char host[160];
	pthread_t th;

	if (!mkdtemp(dir))
		return -1;
	atexit(fixture_end);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/docker.sock", dir);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(listen_fd, 4) < 0 || pthread_create(&th, NULL, fake_daemon, NULL) != 0)
		return -1;
	pthread_detach(th);
	snprintf(host, sizeof(host), "unix://%s", addr.sun_path);
	if (docker_open(host, &d, &err) < 0) {
		printf("# docker_open: %s\n", err.msg);
		return -1;
	}
	leak = open("/dev/null", O_RDONLY);
	return leak < 0 ? -1 : 0;
}

/* Is fd our end of a connection to the fake daemon (libcurl's)? */
static bool is_docker_conn(int fd)
{
	struct sockaddr_un peer;
	socklen_t len = sizeof(peer);

	memset(&peer, 0, sizeof(peer));
	return getpeername(fd, (struct sockaddr *)&peer, &len) == 0 && peer.sun_family == AF_UNIX &&
	       strcmp(peer.sun_path, addr.sun_path) == 0;
}

/* libcurl's connection to the daemon, kept open after a request, is O_CLOEXEC. */
static void test_docker_connection_is_cloexec(void)
{
	DIR *dd = opendir("/proc/self/fd");
	struct dirent *e;
	int conns = 0;

	CHECK(d != NULL);
	CHECK(dd != NULL);
	while (dd && (e = readdir(dd))) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] == '.' || fd == dirfd(dd) || !is_docker_conn(fd))
			continue;
		conns++;
		if (!(fcntl(fd, F_GETFD) & FD_CLOEXEC))
			TAP_FAIL("fd %d, the Docker connection, lacks FD_CLOEXEC", fd);
	}
	if (dd)
		closedir(dd);
	CHECK_INT(conns, 1);
}

/* The shell's fds as `ls` lists them, one a line: "0\n1\n2\n" is the whole answer. */
#define FDS_ARGV "/bin/sh", "-c", "ls /proc/$$/fd"

static void line_add(const char *line, void *arg)
{
	sb_buf_printf(arg, "%s\n", line);
}

/* image_rootfs_run: debootstrap's and chroot's runner. */
static void test_rootfs_run_passes_0_1_2_only(void)
{
	char *argv[] = {FDS_ARGV, NULL};
	_cleanup_buf_ struct sb_buf out = SB_BUF_INIT;
	struct sb_err err = SB_ERR_INIT;

	CHECK_INT(image_rootfs_run(argv, NULL, NULL, line_add, &out, &err), 0);
	CHECK_STR(out.data, "0\n1\n2\n");
}

/* ssh_run on localhost: the same spawn as ssh itself. */
static void test_ssh_run_passes_0_1_2_only(void)
{
	const char *argv[] = {FDS_ARGV, NULL};
	_cleanup_buf_ struct sb_buf out = SB_BUF_INIT;
	struct ssh_run_opts o = {.in_fd = -1, .out = &out, .err_fd = STDERR_FILENO};
	struct sb_err err = SB_ERR_INIT;
	int status = -1;

	CHECK_INT(ssh_run("localhost", argv, &o, &status, &err), 0);
	CHECK_INT(status, 0);
	CHECK_STR(out.data, "0\n1\n2\n");
}

int main(void)
{
	if (fixture_start() < 0) {
		printf("Bail out! no fake Docker daemon in %s: %s\n", dir, strerror(errno));
		return 1;
	}
	TAP_RUN(test_docker_connection_is_cloexec, test_rootfs_run_passes_0_1_2_only,
	        test_ssh_run_passes_0_1_2_only);
}

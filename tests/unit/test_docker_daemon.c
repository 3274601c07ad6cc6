/* SPDX-License-Identifier: MIT */
/*
 * The Docker client against the real daemon on $DOCKER_HOST or
 * /var/run/docker.sock; every test is skipped when none answers. Objects are
 * labelled io.slurmbox.test=docker-client, named sbtest-<pid>-*, and removed
 * at the end even when checks fail. Container tests need the local image
 * slurmbox-testbox:latest (a static busybox), never pulled.
 */
#include "../../launcher/docker/docker_api.h"
#include "../../launcher/docker/docker_body.h"
#include "tap.h"
#include "../../launcher/host/tarball.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#define TEST_IMAGE "slurmbox-testbox:latest"
#define TEST_LABEL "io.slurmbox.test"

static struct docker *d;
static char tag[32];              /* sbtest-<pid> */
static char cluster_lbl[96];      /* io.slurmbox.cluster=sbtest-<pid> */
static bool have_image, imported; /* imported: by this run, so removed at the end */

/* A TAP skip ("ok N - name # SKIP reason") and return; tests/run-all counts
 * every skip as a failure (SLURMBOX_TEST_STRICT, tests/lib/tap-summary). */
#define SKIP(...)                      \
	do {                           \
		TAP_SKIP(__VA_ARGS__); \
		return;                \
	} while (0)
#define NEED_DOCKER()                             \
	do {                                      \
		if (!d)                           \
			SKIP("no docker socket"); \
	} while (0)
#define NEED_IMAGE()                                        \
	do {                                                \
		NEED_DOCKER();                              \
		if (!have_image)                            \
			SKIP("no local image " TEST_IMAGE); \
	} while (0)

/* ---- small helpers: an in-memory tar writer and body source ---- */

static void tar_add(struct sb_buf *t, const char *name, const char *data, size_t len, unsigned mode)
{
	char h[512] = {0};
	unsigned sum = 0;

	snprintf(h, 100, "%s", name);
	snprintf(h + 100, 8, "%07o", mode);
	snprintf(h + 108, 8, "%07o", 0);
	snprintf(h + 116, 8, "%07o", 0);
	snprintf(h + 124, 12, "%011zo", len);
	snprintf(h + 136, 12, "%011o", 1700000000);
	memset(h + 148, ' ', 8);
	h[156] = '0';
	memcpy(h + 257,
	       "ustar\0"
	       "00",
	       8);
	for (int i = 0; i < 512; i++)
		sum += (unsigned char)h[i];
	snprintf(h + 148, 8, "%06o", sum);
	sb_buf_add(t, h, 512);
	sb_buf_add(t, data, len);
	memset(h, 0, sizeof(h));
	if (len % 512)
		sb_buf_add(t, h, 512 - len % 512);
}

static void tar_end(struct sb_buf *t)
{
	char z[1024] = {0};

	sb_buf_add(t, z, sizeof(z));
}

struct memsrc {
	const char *p;
	size_t len, off;
};

static ssize_t memsrc_read(void *arg, char *buf, size_t len)
{
	struct memsrc *m = arg;

	if (len > m->len - m->off)
		len = m->len - m->off;
	if (len > 3000) /* several chunks, to exercise chunked upload */
		len = 3000;
	memcpy(buf, m->p + m->off, len);
	m->off += len;
	return (ssize_t)len;
}

static int collect_data(const char *buf, size_t len, void *arg)
{
	sb_buf_add(arg, buf, len);
	return 0;
}

static int collect_msgs(struct json_object *msg, void *arg, struct sb_err *err)
{
	struct json_object *v;

	(void)err;
	if (json_object_object_get_ex(msg, "stream", &v) ||
	    json_object_object_get_ex(msg, "status", &v))
		sb_buf_puts(arg, json_object_get_string(v));
	return 0;
}

static char *fd_slurp(int fd)
{
	struct sb_buf b = SB_BUF_INIT;
	char buf[4096];
	ssize_t n;

	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		sb_buf_add(&b, buf, (size_t)n);
	return sb_buf_steal(&b);
}

/* ---- tests ---- */

/*
 * No test image yet: make one from the static busybox (Debian's
 * busybox-static, which the test runner installs), so the container and
 * exec tests run on a fresh machine too. Each command is a copy of busybox,
 * which picks the applet from argv[0]. Never pulled.
 */
static void testbox_import(void)
{
	static const char *const applets[] = {"busybox", "sh",   "cat",  "printf", "sleep", "true",
	                                      "wc",      "echo", "head", "pwd",    "id",    "env"};
	static const char *const changes[] = {"LABEL " TEST_LABEL "=docker-client",
	                                      "ENV PATH=/bin"};
	struct tarball_entry e[ARRAY_SIZE(applets) + 1];
	char paths[ARRAY_SIZE(applets)][32];
	struct sb_buf bb = SB_BUF_INIT, tar = SB_BUF_INIT;
	struct sb_err err = SB_ERR_INIT;
	struct memsrc src;
	FILE *f = fopen("/bin/busybox", "rb");
	char buf[65536];
	size_t n;

	if (!f)
		return; /* the tests that need it say so */
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		sb_buf_add(&bb, buf, n);
	fclose(f);
	for (size_t i = 0; i < ARRAY_SIZE(applets); i++) {
		snprintf(paths[i], sizeof(paths[i]), "bin/%s", applets[i]);
		e[i] = (struct tarball_entry){paths[i], bb.data, bb.len, 0755, 0, 0};
	}
	/* the exec tests use /tmp as a working directory */
	e[ARRAY_SIZE(applets)] = (struct tarball_entry){"tmp/.keep", "", 0, 0644, 0, 0};
	if (tarball_build(e, ARRAY_SIZE(e), &tar, &err) == 0) {
		src = (struct memsrc){tar.data, tar.len, 0};
		if (docker_image_import(d, "slurmbox-testbox", "latest", NULL, changes,
		                        ARRAY_SIZE(changes), memsrc_read, &src, &err) == 0)
			have_image = imported = true;
		else
			printf("# importing %s: %s\n", TEST_IMAGE, err.msg);
	}
	sb_buf_free(&bb);
	sb_buf_free(&tar);
}

static void test_open(void)
{
	struct sb_err err = SB_ERR_INIT;
	struct docker_info info;
	struct docker *dup;
	struct json_object *v = NULL;

	if (docker_open(NULL, &d, &err) < 0) {
		d = NULL;
		/* no daemon answering is a skip; a daemon we cannot use is a failure */
		if (err.code != ECONNREFUSED && err.code != EACCES && err.code != ETIMEDOUT &&
		    err.code != SB_EINPUT)
			TAP_FAIL("docker_open: %s", err.msg);
		else
			SKIP("no docker socket (%s)", err.msg);
		return;
	}
	CHECK_INT(docker_version_check(d, &err), 0);
	printf("# docker API %s on %s\n", docker_api_version(d), docker_socket_path(d));
	CHECK(docker_api_compare(docker_api_version(d), DOCKER_API_MIN) >= 0);
	CHECK(docker_api_compare(docker_api_version(d), DOCKER_API_MAX) <= 0);
	CHECK_INT(docker_info_get(d, &info, &err), 0);
	CHECK(info.ncpus > 0);
	CHECK(info.mem_bytes > 0);
	CHECK_STR(info.os_type, "linux");
	CHECK(info.arch[0] && info.server_version[0]);

	dup = docker_dup(d);
	CHECK_STR(docker_api_version(dup), docker_api_version(d));
	CHECK_INT(docker_call(dup, "GET", "/version", NULL, &v, &err), 0);
	CHECK(v && json_object_object_get_ex(v, "ApiVersion", NULL));
	CHECK_INT(docker_last_status(dup), 200);
	json_object_put(v);
	docker_free(dup);

	CHECK_INT(docker_image_exists(d, TEST_IMAGE, &have_image, &err), 0);
	if (!have_image)
		testbox_import();
}

static void test_errors(void)
{
	struct sb_err err = SB_ERR_INIT;
	struct json_object *o = NULL;
	char name[96];
	bool exists = true;

	NEED_DOCKER();
	snprintf(name, sizeof(name), "%s-nonexistent", tag);
	CHECK_INT(docker_container_inspect(d, name, &o, &err), -ENOENT);
	CHECK(o == NULL);
	CHECK_INT(docker_last_status(d), 404);
	CHECK_CONTAINS(err.msg, "No such container: ");
	CHECK_CONTAINS(err.msg, name);

	/* removing what is already gone succeeds */
	CHECK_INT(docker_container_remove(d, name, &err), 0);
	CHECK_INT(docker_network_remove(d, name, &err), 0);
	CHECK_INT(docker_volume_remove(d, name, &err), 0);
	CHECK_INT(docker_image_exists(d, "sbtest-no-such-image:none", &exists, &err), 0);
	CHECK(!exists);

	err = (struct sb_err)SB_ERR_INIT;
	CHECK_INT(docker_call(d, "GET",
	                      "/containers/json?filters=%7B%22bogus%22%3A%5B%22x%22%5D%7D", NULL,
	                      &o, &err),
	          -EINVAL);
	/* the daemon's words, which differ by version: 20.10 "Invalid filter", 26 "invalid filter" */
	CHECK_CONTAINS(err.msg, "filter 'bogus'");

	/* exec in a container that does not exist */
	err = (struct sb_err)SB_ERR_INIT;
	CHECK(docker_exec(d, name,
	                  &(struct docker_exec_opts){.argv = (const char *[]){"true", NULL},
	                                             .in_fd = -1,
	                                             .out_fd = -1,
	                                             .err_fd = -1},
	                  &(int){0}, &err) == -ENOENT);
	CHECK_CONTAINS(err.msg, "No such container");
}

static void test_volume(void)
{
	struct sb_err err = SB_ERR_INIT;
	struct json_object *labels;
	struct json_object *list = NULL, *v;
	const char *filter[] = {cluster_lbl, TEST_LABEL "=docker-client"};
	char name[96];

	NEED_DOCKER();
	labels = json_object_new_object();
	snprintf(name, sizeof(name), "%s-vol", tag);
	json_object_object_add(labels, TEST_LABEL, json_object_new_string("docker-client"));
	json_object_object_add(labels, "io.slurmbox.cluster", json_object_new_string(tag));
	CHECK_INT(docker_volume_create(d, name, labels, &err), 0);
	json_object_put(labels);

	CHECK_INT(docker_volume_list(d, filter, 2, &list, &err), 0);
	CHECK(list && json_object_array_length(list) == 1);
	if (list && json_object_array_length(list) == 1) {
		CHECK(json_object_object_get_ex(json_object_array_get_idx(list, 0), "Name", &v));
		CHECK_STR(json_object_get_string(v), name);
	}
	json_object_put(list);

	CHECK_INT(docker_volume_remove(d, name, &err), 0);
	CHECK_INT(docker_volume_list(d, filter, 2, &list, &err), 0);
	CHECK(list && json_object_array_length(list) == 0);
	json_object_put(list);
	CHECK_INT(docker_volume_remove(d, name, &err), 0);
}

/* Run argv in the container, collecting output; returns docker_exec's result. */
static int run(const char *ctr, const char *const *argv, int in_fd, struct sb_buf *out,
               struct sb_buf *errb, int *code, struct sb_err *err)
{
	struct docker_exec_opts o = {
	    .argv = argv,
	    .in_fd = in_fd,
	    .out_fd = -1,
	    .err_fd = -1,
	    .out_buf = out,
	    .err_buf = errb,
	    .timeout_ms = 30000,
	};

	sb_buf_reset(out);
	sb_buf_reset(errb);
	return docker_exec(d, ctr, &o, code, err);
}

static void exec_checks(const char *ctr)
{
	_cleanup_buf_ struct sb_buf out = SB_BUF_INIT;
	_cleanup_buf_ struct sb_buf errb = SB_BUF_INIT;
	struct sb_err err = SB_ERR_INIT;
	int code = -1, p[2];

	CHECK_INT(run(ctr, (const char *[]){"sh", "-c", "echo out; echo err >&2; exit 7", NULL}, -1,
	              &out, &errb, &code, &err),
	          0);
	CHECK_INT(code, 7);
	CHECK_STR(out.data, "out\n");
	CHECK_STR(errb.data, "err\n");

	/* argv is passed verbatim: spaces and quotes arrive as they are */
	CHECK_INT(run(ctr, (const char *[]){"printf", "%s\\n", "a b", "\"c\"", "it's", NULL}, -1,
	              &out, &errb, &code, &err),
	          0);
	CHECK_INT(code, 0);
	CHECK_STR(out.data, "a b\n\"c\"\nit's\n");

	/* stdin through a pipe, then EOF */
	CHECK_INT(pipe(p), 0);
	CHECK_INT(write(p[1], "hello", 5), 5);
	close(p[1]);
	CHECK_INT(run(ctr, (const char *[]){"cat", NULL}, p[0], &out, &errb, &code, &err), 0);
	close(p[0]);
	CHECK_INT(code, 0);
	CHECK_STR(out.data, "hello");

	/* the node's identity from the container body */
	CHECK_INT(run(ctr, (const char *[]){"cat", "/etc/hostname", "/mnt/ro/file", NULL}, -1, &out,
	              &errb, &code, &err),
	          0);
	CHECK_STR(out.data, "master\nfrom the host\n");
	CHECK_INT(run(ctr, (const char *[]){"sh", "-c", "echo x > /mnt/ro/new", NULL}, -1, &out,
	              &errb, &code, &err),
	          0);
	CHECK(code != 0); /* the bind mount is read-only */
	CHECK_CONTAINS(errb.data, "Read-only");
	CHECK_INT(
	    run(ctr, (const char *[]){"cat", "/etc/hosts", NULL}, -1, &out, &errb, &code, &err), 0);
	CHECK_CONTAINS(out.data, "worker-1");
	CHECK_INT(run(ctr, (const char *[]){"sh", "-c", "echo $SLURMBOX_NODE", NULL}, -1, &out,
	              &errb, &code, &err),
	          0);
	CHECK_STR(out.data, "master\n");
}

static void exec_checks_more(const char *ctr)
{
	_cleanup_buf_ struct sb_buf out = SB_BUF_INIT;
	_cleanup_buf_ struct sb_buf errb = SB_BUF_INIT;
	struct sb_err err = SB_ERR_INIT;
	char path[] = "/tmp/sbtest-stdin-XXXXXX";
	_cleanup_free_ char *big = xmalloc(1 << 20);
	int code = -1, fd;
	struct timespec t0, t1;

	/* 1 MiB of stdin from a file, 2000 lines of output */
	for (size_t i = 0; i < (1 << 20); i++)
		big[i] = (char)('a' + i % 26);
	fd = mkstemp(path);
	CHECK(fd >= 0);
	CHECK_INT(write(fd, big, 1 << 20), 1 << 20);
	lseek(fd, 0, SEEK_SET);
	unlink(path);
	CHECK_INT(run(ctr, (const char *[]){"wc", "-c", NULL}, fd, &out, &errb, &code, &err), 0);
	close(fd);
	CHECK_CONTAINS(out.data, "1048576");
	CHECK_INT(run(ctr,
	              (const char *[]){"sh", "-c",
	                               "i=0; while [ $i -lt 2000 ]; do echo line $i; echo e$i >&2; "
	                               "i=$((i+1)); done",
	                               NULL},
	              -1, &out, &errb, &code, &err),
	          0);
	CHECK_CONTAINS(out.data, "line 0\nline 1\n");
	CHECK_CONTAINS(out.data, "line 1999\n");
	CHECK(!strstr(out.data, "e5\n"));
	CHECK_CONTAINS(errb.data, "e1999\n");

	/* env, workdir, user */
	struct docker_exec_opts o = {
	    .argv = (const char *[]){"sh", "-c", "echo $FOO; pwd; id -u", NULL},
	    .env = (const char *[]){"FOO=bar baz", NULL},
	    .workdir = "/tmp",
	    .user = "1234",
	    .in_fd = -1,
	    .out_fd = -1,
	    .err_fd = -1,
	    .out_buf = &out,
	    .err_buf = &errb,
	};
	sb_buf_reset(&out);
	CHECK_INT(docker_exec(d, ctr, &o, &code, &err), 0);
	CHECK_STR(out.data, "bar baz\n/tmp\n1234\n");

	/* TTY: raw bytes, one stream */
	o = (struct docker_exec_opts){
	    .argv = (const char *[]){"sh", "-c", "echo hi; echo there >&2; exit 3", NULL},
	    .tty = true,
	    .in_fd = -1,
	    .out_fd = -1,
	    .err_fd = -1,
	    .out_buf = &out,
	};
	sb_buf_reset(&out);
	CHECK_INT(docker_exec(d, ctr, &o, &code, &err), 0);
	CHECK_INT(code, 3);
	CHECK_CONTAINS(out.data, "hi\r\n");
	CHECK_CONTAINS(out.data, "there\r\n");

	/* a command that does not exist: Docker's exit code 126/127 */
	CHECK_INT(run(ctr, (const char *[]){"/no/such/binary", NULL}, -1, &out, &errb, &code, &err),
	          0);
	CHECK(code == 126 || code == 127);

	/* the timeout bounds the whole exec */
	o = (struct docker_exec_opts){
	    .argv = (const char *[]){"sleep", "20", NULL},
	    .in_fd = -1,
	    .out_fd = -1,
	    .err_fd = -1,
	    .timeout_ms = 300,
	};
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_INT(docker_exec(d, ctr, &o, &code, &err), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(t1.tv_sec - t0.tv_sec < 5);
	CHECK_CONTAINS(err.msg, "300 ms");
}

static void logs_archive_checks(const char *ctr)
{
	_cleanup_buf_ struct sb_buf out = SB_BUF_INIT;
	_cleanup_buf_ struct sb_buf errb = SB_BUF_INIT;
	_cleanup_buf_ struct sb_buf tar = SB_BUF_INIT;
	struct sb_err err = SB_ERR_INIT;
	FILE *fo = tmpfile(), *fe = tmpfile();
	int code = -1;

	CHECK_INT(docker_container_logs(d, ctr, false, -1, fileno(fo), fileno(fe), &err), 0);
	_cleanup_free_ char *lo = fd_slurp(fileno(fo));
	_cleanup_free_ char *le = fd_slurp(fileno(fe));
	CHECK_STR(lo, "log out\n");
	CHECK_STR(le, "log err\n");
	fclose(fo);
	fclose(fe);

	tar_add(&tar, "etc/slurm/slurm.conf", "ClusterName=sbtest\n", 19, 0644);
	tar_end(&tar);
	CHECK_INT(docker_container_put_archive(d, ctr, "/", tar.data, tar.len, &err), 0);
	CHECK_INT(run(ctr, (const char *[]){"cat", "/etc/slurm/slurm.conf", NULL}, -1, &out, &errb,
	              &code, &err),
	          0);
	CHECK_STR(out.data, "ClusterName=sbtest\n");
	CHECK_INT(docker_container_put_archive(d, ctr, "/no/such/dir", tar.data, tar.len, &err),
	          -ENOENT);
}

static void test_container(void)
{
	struct sb_err err = SB_ERR_INIT;
	char net[96], ctr[96], vol[96], dir[] = "/tmp/sbtest-bind-XXXXXX", file[128];
	_cleanup_free_ char *ctr_id = NULL, *net_id = NULL;
	struct json_object *body = NULL, *labels, *list = NULL, *vlabels;
	const char *filter[] = {cluster_lbl};
	bool net_ok = false;

	NEED_IMAGE();
	snprintf(net, sizeof(net), "%s-net", tag);
	snprintf(ctr, sizeof(ctr), "%s-master", tag);
	snprintf(vol, sizeof(vol), "%s-state", tag);
	CHECK(mkdtemp(dir) != NULL);
	snprintf(file, sizeof(file), "%s/file", dir);
	FILE *f = fopen(file, "w");
	if (f) {
		fputs("from the host\n", f);
		fclose(f);
	}

	/* A plan by hand, as compose would make it, on a free private /24. */
	struct compose_mount mounts[] = {
	    {COMPOSE_MOUNT_BIND, dir, "/mnt/ro", true},
	    {COMPOSE_MOUNT_VOLUME, vol, "/var/spool/slurmctld", false},
	};
	char *env[] = {"SLURMBOX_NODE=master"};
	char *hosts[] = {"master:10.250.0.2", "worker-1:10.250.0.3"};
	struct compose_volume v = {.name = vol, .kind = "state"};
	struct compose_node node = {.name = "master",
	                            .container = ctr,
	                            .role = COMPOSE_ROLE_MASTER,
	                            .image = TEST_IMAGE,
	                            .mounts = mounts,
	                            .n_mounts = 2,
	                            .env = env,
	                            .n_env = 1,
	                            .hash = "0123456789abcdef"};
	struct compose_plan plan = {.cluster = tag,
	                            .nodes = &node,
	                            .n_nodes = 1,
	                            .extra_hosts = hosts,
	                            .n_extra_hosts = 2,
	                            .config_hash = "0123456789abcdef"};
	plan.network.name = net;
	plan.network.mode = COMPOSE_NET_BRIDGE;

	vlabels = docker_body_volume_labels(&plan, &v);
	json_object_object_add(vlabels, TEST_LABEL, json_object_new_string("docker-client"));
	CHECK_INT(docker_volume_create(d, vol, vlabels, &err), 0);
	json_object_put(vlabels);

	for (int i = 0; i < 20 && !net_ok; i++) {
		struct json_object *nb;
		unsigned x = (unsigned)(getpid() + i) % 200 + 20;

		plan.network.subnet =
		    (struct compose_cidr){(10u << 24) | (250u << 16) | (x << 8), 24};
		plan.network.gateway = plan.network.subnet.addr + 1;
		node.ip = plan.network.subnet.addr + 2;
		nb = docker_body_network(&plan, NULL, NULL, docker_api_version(d));
		json_object_object_get_ex(nb, "Labels", &labels);
		json_object_object_add(labels, TEST_LABEL, json_object_new_string("docker-client"));
		err = (struct sb_err)SB_ERR_INIT;
		net_ok = docker_network_create(d, nb, &net_id, &err) == 0;
		json_object_put(nb);
	}
	CHECK(net_ok);
	if (!net_ok) {
		printf("# network create: %s\n", err.msg);
		goto out;
	}
	/* the same name again: a 409, asked for (CheckDuplicate) below API 1.44, the rule since */
	struct json_object *again = docker_body_network(&plan, NULL, NULL, docker_api_version(d));
	err = (struct sb_err)SB_ERR_INIT;
	CHECK_INT(docker_network_create(d, again, NULL, &err), -EEXIST);
	CHECK_CONTAINS(err.msg, "already exists");
	json_object_put(again);

	body = docker_body_container(&plan, &node, docker_api_version(d));
	json_object_object_get_ex(body, "Labels", &labels);
	json_object_object_add(labels, TEST_LABEL, json_object_new_string("docker-client"));
	json_object_object_add(
	    body, "Cmd",
	    json_tokener_parse("[\"sh\",\"-c\",\"echo log out; echo log err >&2; "
	                       "exec sleep 3600\"]"));
	CHECK_INT(docker_container_create(d, ctr, body, &ctr_id, &err), 0);
	CHECK(ctr_id && strlen(ctr_id) == 64);
	CHECK_INT(docker_container_create(d, ctr, body, NULL, &err), -EEXIST);
	CHECK_CONTAINS(err.msg, "already in use");
	CHECK_INT(docker_container_start(d, ctr, &err), 0);
	CHECK_INT(docker_container_start(d, ctr, &err), 0); /* 304: already running */
	CHECK_INT(docker_last_status(d), 304);

	CHECK_INT(docker_container_list(d, filter, 1, &list, &err), 0);
	CHECK(list && json_object_array_length(list) == 1);
	json_object_put(list);
	CHECK_INT(docker_network_list(d, filter, 1, &list, &err), 0);
	CHECK(list && json_object_array_length(list) == 1);
	json_object_put(list);

	exec_checks(ctr);
	exec_checks_more(ctr);
	logs_archive_checks(ctr);

	CHECK_INT(docker_container_stop(d, ctr, 1, &err), 0);
	CHECK_INT(docker_container_kill(d, ctr, "SIGKILL", &err), -EEXIST); /* 409: not running */
out:
	CHECK_INT(docker_container_remove(d, ctr, &err), 0);
	CHECK_INT(docker_container_inspect(d, ctr, &list, &err), -ENOENT);
	CHECK_INT(docker_network_remove(d, net, &err), 0);
	CHECK_INT(docker_volume_remove(d, vol, &err), 0);
	json_object_put(body);
	unlink(file);
	rmdir(dir);
}

static void test_images(void)
{
	_cleanup_buf_ struct sb_buf saved = SB_BUF_INIT;
	_cleanup_buf_ struct sb_buf tar = SB_BUF_INIT;
	_cleanup_buf_ struct sb_buf msgs = SB_BUF_INIT;
	struct sb_err err = SB_ERR_INIT;
	char ref[96], repo[] = "slurmbox-testbox", itag[64];
	const char *changes[] = {"LABEL " TEST_LABEL "=docker-client", "CMD [\"/bin/sh\"]"};
	struct memsrc src;
	bool exists = false;

	NEED_IMAGE();
	/* save, then load the same bytes back (idempotent) */
	CHECK_INT(docker_image_save(d, TEST_IMAGE, collect_data, &saved, &err), 0);
	CHECK(saved.len > 100000);
	src = (struct memsrc){saved.data, saved.len, 0};
	CHECK_INT(docker_image_load(d, memsrc_read, &src, &err), 0);
	CHECK_INT(src.off, saved.len);

	/* import a one-file rootfs, chunked */
	snprintf(itag, sizeof(itag), "%s-import", tag);
	snprintf(ref, sizeof(ref), "%s:%s", repo, itag);
	tar_add(&tar, "hello.txt", "imported\n", 9, 0644);
	tar_end(&tar);
	src = (struct memsrc){tar.data, tar.len, 0};
	CHECK_INT(docker_image_import(d, repo, itag, NULL, changes, 2, memsrc_read, &src, &err), 0);
	CHECK_INT(docker_image_exists(d, ref, &exists, &err), 0);
	CHECK(exists);
	CHECK_INT(docker_image_remove(d, ref, &err), 0);
	CHECK_INT(docker_image_remove(d, ref, &err), -ENOENT);

	/* errors before any output come back as HTTP errors, mapped like docker_call's */
	src = (struct memsrc){tar.data, tar.len, 0};
	err = (struct sb_err)SB_ERR_INIT;
	CHECK_INT(docker_image_import(d, "Bad_Repo", "x", NULL, NULL, 0, memsrc_read, &src, &err),
	          -EINVAL);
	/* 26 says "invalid reference format: repository name (library/Bad_Repo) must be lowercase" */
	CHECK_CONTAINS(err.msg, "must be lowercase");
	CHECK_INT(docker_last_status(d), 400);
	src = (struct memsrc){tar.data, tar.len, 0};
	err = (struct sb_err)SB_ERR_INIT;
	CHECK_INT(docker_image_build(d, "sbtest:nope", "nope", memsrc_read, &src, NULL, NULL, &err),
	          -EIO);
	CHECK_STR(err.msg, "Cannot locate specified Dockerfile: nope");
	CHECK_INT(docker_last_status(d), 500);

	/* build: the stream arrives; a failing RUN gives Docker's message */
	snprintf(itag, sizeof(itag), "%s-build", tag);
	snprintf(ref, sizeof(ref), "%s:%s", repo, itag);
	sb_buf_reset(&tar);
	static const char df[] = "FROM " TEST_IMAGE "\nLABEL " TEST_LABEL "=docker-client\n"
	                         "RUN echo built here\n";
	tar_add(&tar, "Dockerfile.sb", df, sizeof(df) - 1, 0644);
	tar_end(&tar);
	src = (struct memsrc){tar.data, tar.len, 0};
	CHECK_INT(docker_image_build(d, ref, "Dockerfile.sb", memsrc_read, &src, collect_msgs,
	                             &msgs, &err),
	          0);
	CHECK_CONTAINS(msgs.data, "built here\n");
	CHECK_CONTAINS(msgs.data, "Successfully tagged");
	CHECK_INT(docker_image_remove(d, ref, &err), 0);

	sb_buf_reset(&tar);
	static const char bad[] = "FROM " TEST_IMAGE "\nRUN echo failing; exit 3\n";
	tar_add(&tar, "Dockerfile", bad, sizeof(bad) - 1, 0644);
	tar_end(&tar);
	src = (struct memsrc){tar.data, tar.len, 0};
	err = (struct sb_err)SB_ERR_INIT;
	CHECK_INT(docker_image_build(d, ref, NULL, memsrc_read, &src, NULL, NULL, &err), -EIO);
	CHECK_CONTAINS(err.msg, "returned a non-zero code: 3");
	CHECK_INT(docker_image_exists(d, ref, &exists, &err), 0);
	CHECK(!exists);
}

static void test_close(void)
{
	struct sb_err err = SB_ERR_INIT;

	/* the image this run imported goes too (the leak audit counts it) */
	if (d && imported) {
		bool exists = true;

		CHECK_INT(docker_image_remove(d, TEST_IMAGE, &err), 0);
		CHECK_INT(docker_image_exists(d, TEST_IMAGE, &exists, &err), 0);
		CHECK(!exists);
	}
	docker_free(d);
	d = NULL;
}

int main(void)
{
	snprintf(tag, sizeof(tag), "sbtest-%d", (int)getpid());
	snprintf(cluster_lbl, sizeof(cluster_lbl), "io.slurmbox.cluster=%s", tag);
	TAP_RUN(test_open, test_errors, test_volume, test_container, test_images, test_close);
}

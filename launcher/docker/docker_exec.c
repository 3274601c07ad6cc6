/* SPDX-License-Identifier: MIT */
/*
 * docker_exec.c - docker exec over a hijacked connection.
 *
 * POST /containers/{id}/exec creates the exec; POST /exec/{id}/start is sent
 * by hand on a libcurl CONNECT_ONLY connection with "Connection: Upgrade,
 * Upgrade: tcp", because libcurl cannot hand over a connection after a 101
 * (CONNECT_ONLY=2 eats the stream on 7.88). After the 101 header the socket
 * is a raw two-way pipe: stdin goes in, framed (or, with a TTY, raw) output
 * comes out. The exit code is read from /exec/{id}/json right after.
 */
#include "docker_api.h"
#include "../util/io.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>

#define EXEC_CONNECT_TIMEOUT_MS 10000L
#define EXEC_HEADER_TIMEOUT_MS  60000L /* the daemon answers /start at once */
#define EXEC_HEADER_MAX         16384
#define EXEC_EXIT_WAIT_MS       5000 /* Running may stay true briefly after the stream ends */

struct exec_session {
	const struct docker_exec_opts *o;
	CURL *curl;
	curl_socket_t sock;
	struct docker_demux dm;
	bool out_dead, err_dead; /* EPIPE on the fd: discard the rest */
	int64_t deadline;        /* CLOCK_MONOTONIC ms, 0: none */
	/* TTY state */
	int term_fd; /* -1: no terminal to size */
	bool raw;
	struct termios saved_tio;
	bool winch;
	struct sigaction old_winch;
	struct sigaction old_pipe;
};

/* The SIGWINCH self-pipe: the handler only writes a byte. One TTY exec at a time. */
static int exec_winch_pipe[2] = {-1, -1};

static void exec_winch_handler(int sig)
{
	int saved = errno;
	ssize_t n;

	(void)sig;
	n = write(exec_winch_pipe[1], "w", 1);
	(void)n;
	errno = saved;
}

static int64_t exec_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left before `deadline` (-1: none), at least 0. */
static int exec_left(int64_t deadline)
{
	int64_t left;

	if (!deadline)
		return -1;
	left = deadline - exec_now_ms();
	return left < 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

static void exec_sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int exec_wait(curl_socket_t fd, short events, int64_t deadline)
{
	struct pollfd p = {.fd = fd, .events = events};
	int r;

	do {
		r = poll(&p, 1, exec_left(deadline));
	} while (r < 0 && errno == EINTR);
	return r > 0 ? 0 : r == 0 ? -ETIMEDOUT : -errno;
}

/* ---- create and start ---- */

/* The terminal to take the size from: stdout's, else stdin's (TTY execs only). */
static void exec_term_pick(struct exec_session *s)
{
	const struct docker_exec_opts *o = s->o;

	s->term_fd = -1;
	if (!o->tty)
		return;
	if (o->out_fd >= 0 && isatty(o->out_fd))
		s->term_fd = o->out_fd;
	else if (o->in_fd >= 0 && isatty(o->in_fd))
		s->term_fd = o->in_fd;
}

/*
 * "ConsoleSize":[rows,cols] for create and start (API 1.42+), so the command
 * starts with the right size instead of racing the first resize.
 */
static void exec_console_size(struct exec_session *s, struct docker *d, struct json_object *body)
{
	struct winsize ws;
	struct json_object *a;

	if (s->term_fd < 0 || docker_api_compare(docker_api_version(d), "1.42") < 0 ||
	    ioctl(s->term_fd, TIOCGWINSZ, &ws) < 0 || !ws.ws_row)
		return;
	a = json_object_new_array();
	json_object_array_add(a, json_object_new_int(ws.ws_row));
	json_object_array_add(a, json_object_new_int(ws.ws_col));
	json_object_object_add(body, "ConsoleSize", a);
}

static struct json_object *exec_strv(const char *const *v)
{
	struct json_object *a = json_object_new_array();

	for (; v && *v; v++)
		json_object_array_add(a, json_object_new_string(*v));
	return a;
}

static int exec_create(struct exec_session *s, struct docker *d, const char *container, char **id,
                       struct sb_err *err)
{
	const struct docker_exec_opts *o = s->o;
	struct json_object *body = json_object_new_object();
	struct json_object *reply = NULL, *v;
	_cleanup_free_ char *e = docker_escape(container, false);
	_cleanup_free_ char *path = xasprintf("/containers/%s/exec", e);
	int r;

	json_object_object_add(body, "AttachStdin", json_object_new_boolean(o->in_fd >= 0));
	json_object_object_add(body, "AttachStdout", json_object_new_boolean(1));
	json_object_object_add(body, "AttachStderr", json_object_new_boolean(1));
	json_object_object_add(body, "Tty", json_object_new_boolean(o->tty));
	json_object_object_add(body, "Cmd", exec_strv(o->argv));
	if (o->user)
		json_object_object_add(body, "User", json_object_new_string(o->user));
	if (o->workdir)
		json_object_object_add(body, "WorkingDir", json_object_new_string(o->workdir));
	if (o->env)
		json_object_object_add(body, "Env", exec_strv(o->env));
	exec_console_size(s, d, body);
	r = docker_call(d, "POST", path, body, &reply, err);
	json_object_put(body);
	if (r == 0 && json_object_object_get_ex(reply, "Id", &v) &&
	    json_object_is_type(v, json_type_string))
		*id = xstrdup(json_object_get_string(v));
	else if (r == 0)
		r = sb_err_set(err, EPROTO, "Docker did not return an exec id for container %s",
		               container);
	json_object_put(reply);
	return r;
}

static int exec_send_all(struct exec_session *s, const char *buf, size_t len, struct sb_err *err)
{
	while (len) {
		size_t n = 0;
		CURLcode rc = curl_easy_send(s->curl, buf, len, &n);

		if (rc == CURLE_AGAIN) {
			int r = exec_wait(s->sock, POLLOUT, s->deadline);
			if (r < 0)
				return sb_err_set(err, -r, "Sending to the Docker daemon: %s",
				                  strerror(-r));
			continue;
		}
		if (rc != CURLE_OK)
			return sb_err_set(err, EIO, "Sending to the Docker daemon: %s",
			                  curl_easy_strerror(rc));
		buf += n;
		len -= n;
	}
	return 0;
}

/* Receive into b (up to `max` bytes in all); 0 bytes added means EOF. */
static int exec_recv_some(struct exec_session *s, struct sb_buf *b, size_t max, int64_t deadline,
                          struct sb_err *err)
{
	for (;;) {
		size_t n = 0;
		CURLcode rc;

		sb_buf_reserve(b, 4096);
		rc = curl_easy_recv(s->curl, b->data + b->len,
		                    max - b->len < 4096 ? max - b->len : 4096, &n);
		if (rc == CURLE_AGAIN) {
			int r = exec_wait(s->sock, POLLIN, deadline);
			if (r < 0)
				return sb_err_set(err, -r, "Waiting for the Docker daemon: %s",
				                  strerror(-r));
			continue;
		}
		if (rc != CURLE_OK)
			return sb_err_set(err, EIO, "Reading from the Docker daemon: %s",
			                  curl_easy_strerror(rc));
		b->len += n;
		b->data[b->len] = '\0';
		return (int)n;
	}
}

/* A non-101 answer to /start: Docker's {"message"} with the usual errno. */
static int exec_start_error(struct exec_session *s, int status, struct sb_buf *b, size_t hdr_end,
                            struct sb_err *err)
{
	const char *cl = strcasestr(b->data, "\r\ncontent-length:");
	size_t want = cl ? strtoul(cl + 17, NULL, 10) : 0;
	int64_t deadline = exec_now_ms() + 2000;
	struct json_object *j, *m;
	struct sb_err tmp = SB_ERR_INIT;
	int code = status == 404   ? ENOENT
	           : status == 409 ? EEXIST
	           : status == 400 ? EINVAL
	           : status == 403 ? EPERM
	                           : EIO;
	int r;

	while (b->len - hdr_end < want && b->len < EXEC_HEADER_MAX * 4 &&
	       exec_recv_some(s, b, EXEC_HEADER_MAX * 4, deadline, &tmp) > 0)
		;
	j = json_tokener_parse(b->data + hdr_end);
	if (j && json_object_object_get_ex(j, "message", &m))
		r = sb_err_set(err, code, "%s", json_object_get_string(m));
	else
		r = sb_err_set(err, code, "Docker refused to start the exec: HTTP %d", status);
	json_object_put(j);
	return r;
}

/*
 * Connect, send POST /exec/{id}/start with the Upgrade headers and read the
 * answer's header. Bytes after it are stream data, left in *rest.
 */
static int exec_start(struct exec_session *s, struct docker *d, const char *id, struct sb_buf *rest,
                      struct sb_err *err)
{
	_cleanup_buf_ struct sb_buf b = SB_BUF_INIT;
	_cleanup_free_ char *req = NULL;
	int64_t hdr_deadline = exec_now_ms() + EXEC_HEADER_TIMEOUT_MS;
	struct json_object *jb = json_object_new_object();
	_cleanup_free_ char *body = NULL;
	char *end = NULL;
	CURLcode rc;
	int status, r;

	json_object_object_add(jb, "Detach", json_object_new_boolean(0));
	json_object_object_add(jb, "Tty", json_object_new_boolean(s->o->tty));
	exec_console_size(s, d, jb);
	body = xstrdup(json_object_to_json_string_ext(jb, JSON_C_TO_STRING_PLAIN));
	json_object_put(jb);
	if (s->deadline && s->deadline < hdr_deadline)
		hdr_deadline = s->deadline;
	s->curl = curl_easy_init();
	if (!s->curl)
		sb_oom();
	docker_curl_socket_set(s->curl, docker_socket_path(d));
	curl_easy_setopt(s->curl, CURLOPT_URL, "http://localhost/");
	curl_easy_setopt(s->curl, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT_MS, EXEC_CONNECT_TIMEOUT_MS);
	rc = curl_easy_perform(s->curl);
	if (rc != CURLE_OK)
		return sb_err_set(err, ECONNREFUSED,
		                  "Cannot reach the Docker daemon at %s: %s. Is dockerd running?",
		                  docker_socket_path(d), curl_easy_strerror(rc));
	curl_easy_getinfo(s->curl, CURLINFO_ACTIVESOCKET, &s->sock);

	req = xasprintf("POST /v%s/exec/%s/start HTTP/1.1\r\n"
	                "Host: localhost\r\n"
	                "User-Agent: slurmbox\r\n"
	                "Content-Type: application/json\r\n"
	                "Connection: Upgrade\r\n"
	                "Upgrade: tcp\r\n"
	                "Content-Length: %zu\r\n"
	                "\r\n%s",
	                docker_api_version(d), id, strlen(body), body);
	r = exec_send_all(s, req, strlen(req), err);
	if (r < 0)
		return r;

	while (!(end = b.len ? strstr(b.data, "\r\n\r\n") : NULL)) {
		r = exec_recv_some(s, &b, EXEC_HEADER_MAX, hdr_deadline, err);
		if (r < 0)
			return r;
		if (r == 0)
			return sb_err_set(err, EPROTO,
			                  "The Docker daemon closed the connection while starting "
			                  "the exec (header too long or cut off)");
	}
	if (sscanf(b.data, "HTTP/%*u.%*u %d", &status) != 1)
		return sb_err_set(err, EPROTO, "Unexpected answer to exec start: %.80s", b.data);
	end += 4;
	if (status != 101 && status != 200)
		return exec_start_error(s, status, &b, (size_t)(end - b.data), err);
	sb_buf_add(rest, end, b.len - (size_t)(end - b.data));
	return 0;
}

/* ---- output ---- */

static int exec_emit(struct sb_buf *b, int fd, bool *dead, const char *buf, size_t len)
{
	int r;

	if (b) {
		sb_buf_add(b, buf, len);
		return 0;
	}
	if (fd < 0 || *dead)
		return 0;
	r = util_write_all(fd, buf, len);
	if (r == -EPIPE) {
		*dead = true; /* the reader went away: keep draining, drop the rest */
		return 0;
	}
	return r;
}

static int exec_frame(int stream, const char *buf, size_t len, void *arg)
{
	struct exec_session *s = arg;

	if (stream >= 2)
		return exec_emit(s->o->err_buf, s->o->err_fd, &s->err_dead, buf, len);
	return exec_emit(s->o->out_buf, s->o->out_fd, &s->out_dead, buf, len);
}

static int exec_output(struct exec_session *s, const char *buf, size_t len, struct sb_err *err)
{
	int r;

	if (s->o->tty)
		r = exec_frame(1, buf, len, s);
	else
		r = docker_demux_feed(&s->dm, buf, len, exec_frame, s);
	if (r == -EPROTO)
		return sb_err_set(err, EPROTO, "Docker sent a malformed exec stream");
	if (r < 0)
		return sb_err_set(err, -r, "Writing the command's output: %s", strerror(-r));
	return 0;
}

/* ---- terminal ---- */

static void exec_resize(struct exec_session *s, struct docker *d, const char *id, int tries)
{
	struct winsize ws;
	char path[160];

	if (s->term_fd < 0 || ioctl(s->term_fd, TIOCGWINSZ, &ws) < 0 || !ws.ws_row)
		return;
	snprintf(path, sizeof(path), "/exec/%s/resize?h=%u&w=%u", id, ws.ws_row, ws.ws_col);
	for (int i = 0; i < tries; i++) {
		struct sb_err ignored = SB_ERR_INIT;

		/* Right after start the process may not exist yet: retry briefly, as the CLI does. */
		if (docker_call(d, "POST", path, NULL, NULL, &ignored) == 0)
			return;
		exec_sleep_ms(10L * (i + 1));
	}
}

static void exec_term_setup(struct exec_session *s)
{
	const struct docker_exec_opts *o = s->o;
	struct sigaction sa = {.sa_handler = exec_winch_handler};
	struct termios raw;

	if (!o->tty)
		return;
	if (o->in_fd >= 0 && isatty(o->in_fd) && tcgetattr(o->in_fd, &s->saved_tio) == 0) {
		raw = s->saved_tio;
		cfmakeraw(&raw);
		s->raw = tcsetattr(o->in_fd, TCSANOW, &raw) == 0;
	}
	if (s->term_fd >= 0 && exec_winch_pipe[0] < 0 &&
	    pipe2(exec_winch_pipe, O_CLOEXEC | O_NONBLOCK) == 0) {
		sigemptyset(&sa.sa_mask);
		sa.sa_flags = SA_RESTART;
		s->winch = true;
		if (sigaction(SIGWINCH, &sa, &s->old_winch) < 0)
			s->old_winch.sa_handler = SIG_DFL;
	}
}

static void exec_term_restore(struct exec_session *s)
{
	if (s->raw)
		tcsetattr(s->o->in_fd, TCSANOW, &s->saved_tio);
	s->raw = false;
	if (s->winch) {
		sigaction(SIGWINCH, &s->old_winch, NULL);
		close(exec_winch_pipe[0]);
		close(exec_winch_pipe[1]);
		exec_winch_pipe[0] = exec_winch_pipe[1] = -1;
	}
	s->winch = false;
}

/* ---- the copy loop ---- */

static int exec_pump(struct exec_session *s, struct docker *d, const char *id, struct sb_err *err)
{
	const struct docker_exec_opts *o = s->o;
	char in[16384], outb[32768];
	size_t in_len = 0, in_off = 0;
	bool in_open = o->in_fd >= 0, shut = false;

	for (;;) {
		struct pollfd p[3] = {
		    {.fd = s->sock, .events = POLLIN | (in_len ? POLLOUT : 0)},
		    {.fd = in_open && !in_len ? o->in_fd : -1, .events = POLLIN},
		    {.fd = s->winch ? exec_winch_pipe[0] : -1, .events = POLLIN},
		};
		int timeout = exec_left(s->deadline);
		int n;

		if (s->deadline && timeout == 0)
			return sb_err_set(err, ETIMEDOUT,
			                  "The command \"%s\" did not finish within %d ms",
			                  o->argv[0], o->timeout_ms);
		if (docker_aborted())
			return sb_err_set(err, EINTR, "Interrupted while \"%s\" ran", o->argv[0]);
		n = poll(p, 3, timeout);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sb_err_set(err, errno, "poll: %s", strerror(errno));

		if (p[2].revents & POLLIN) {
			while (read(exec_winch_pipe[0], outb, sizeof(outb)) > 0)
				;
			exec_resize(s, d, id, 1);
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) {
			ssize_t r = read(o->in_fd, in, sizeof(in));

			if (r > 0) {
				in_len = (size_t)r;
				in_off = 0;
			} else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
				in_open = false; /* EOF (or unreadable): close our side */
			}
		}
		if (in_len) {
			size_t sent = 0;
			CURLcode rc = curl_easy_send(s->curl, in + in_off, in_len, &sent);

			if (rc == CURLE_OK) {
				in_off += sent;
				in_len -= sent;
			} else if (rc != CURLE_AGAIN) {
				in_len = 0; /* the process stopped reading: drop stdin */
				in_open = false;
			}
		}
		if (!in_open && !in_len && !shut && o->in_fd >= 0) {
			shutdown(s->sock, SHUT_WR);
			shut = true;
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			for (;;) {
				size_t got = 0;
				CURLcode rc = curl_easy_recv(s->curl, outb, sizeof(outb), &got);

				if (rc == CURLE_AGAIN)
					break;
				if (rc != CURLE_OK)
					return sb_err_set(err, EIO, "Reading the exec stream: %s",
					                  curl_easy_strerror(rc));
				if (got == 0)
					return 0; /* the command's output ended */
				int r = exec_output(s, outb, got, err);
				if (r < 0)
					return r;
			}
		}
	}
}

/* GET /exec/{id}/json until Running is false; its ExitCode. */
static int exec_exit_code(struct docker *d, const char *id, int *exit_code, struct sb_err *err)
{
	char path[128];
	int64_t until = exec_now_ms() + EXEC_EXIT_WAIT_MS;

	snprintf(path, sizeof(path), "/exec/%s/json", id);
	for (;;) {
		struct json_object *j = NULL, *running, *code;
		int r = docker_call(d, "GET", path, NULL, &j, err);
		bool done;

		if (r < 0)
			return r;
		done = !json_object_object_get_ex(j, "Running", &running) ||
		       !json_object_get_boolean(running);
		if (done && json_object_object_get_ex(j, "ExitCode", &code) &&
		    json_object_is_type(code, json_type_int))
			*exit_code = json_object_get_int(code);
		json_object_put(j);
		if (done)
			return 0;
		if (exec_now_ms() > until)
			return sb_err_set(err, ETIMEDOUT,
			                  "The exec %.12s still runs after its output closed", id);
		exec_sleep_ms(5);
	}
}

int docker_exec(struct docker *d, const char *container, const struct docker_exec_opts *o,
                int *exit_code, struct sb_err *err)
{
	struct exec_session s = {.o = o, .sock = CURL_SOCKET_BAD, .term_fd = -1};
	struct sigaction ign = {.sa_handler = SIG_IGN};
	_cleanup_buf_ struct sb_buf rest = SB_BUF_INIT;
	_cleanup_free_ char *id = NULL;
	int r;

	*exit_code = -1;
	if (!o->argv || !o->argv[0])
		return sb_err_input(err, "No command given to run in container %s", container);
	if (o->timeout_ms > 0)
		s.deadline = exec_now_ms() + o->timeout_ms;
	exec_term_pick(&s);
	r = exec_create(&s, d, container, &id, err);
	if (r < 0)
		return r;

	/* Output fds may be pipes whose reader goes away: EPIPE, not a fatal SIGPIPE. */
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &s.old_pipe);
	r = exec_start(&s, d, id, &rest, err);
	if (r == 0) {
		exec_term_setup(&s);
		if (o->tty)
			exec_resize(&s, d, id, 5);
		if (rest.len)
			r = exec_output(&s, rest.data, rest.len, err);
		if (r == 0)
			r = exec_pump(&s, d, id, err);
		exec_term_restore(&s);
	}
	curl_easy_cleanup(s.curl);
	sigaction(SIGPIPE, &s.old_pipe, NULL);
	if (r < 0)
		return r;
	return exec_exit_code(d, id, exit_code, err);
}

int docker_exec_capture(struct docker *d, const char *container, const char *const *argv, int in_fd,
                        struct sb_buf *out, struct sb_buf *err_out, int *exit_code, int timeout_ms,
                        struct sb_err *err)
{
	_cleanup_buf_ struct sb_buf discard = SB_BUF_INIT;
	struct docker_exec_opts o = {
	    .argv = argv,
	    .in_fd = in_fd,
	    .out_fd = -1,
	    .err_fd = -1,
	    .out_buf = out,
	    .err_buf = err_out ? err_out : &discard,
	    .timeout_ms = timeout_ms,
	};

	return docker_exec(d, container, &o, exit_code, err);
}

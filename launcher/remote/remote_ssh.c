/* SPDX-License-Identifier: MIT */
/*
 * remote_ssh.c - a host reached over ssh (remote.h): each operation is
 * `slurmbox agent VERB` there (remote/agent.c is its other end), the
 * request in argv and one JSON line on stdin, the answer one JSON document
 * on stdout. The slurmbox there is this very build: checked, and copied
 * when missing (ssh_slurmbox_ensure).
 */
#include "remote.h"
#include "remote_int.h"
#include "proto.h"
#include "ssh.h"
#include "../host/spec_json.h"
#include "../util/json.h"
#include "../../compose/compose.h"

#include <json-c/json.h>
#include <unistd.h>

#define FACTS_MS 60000
#define APPLY_MS (15 * 60 * 1000)
#define UNDO_MS  (2 * 60 * 1000)
#define DOWN_MS  120000
#define CHECK_MS 30000
#define FILE_MS  30000

/* The last line of stderr that says something, for a one-line reason. */
static const char *last_line(struct sb_buf *b)
{
	char *e;

	if (!b->data || !b->len)
		return "(no message)";
	e = b->data + b->len;
	while (e > b->data && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' '))
		*--e = '\0';
	while (e > b->data && e[-1] != '\n')
		e--;
	if (strncmp(e, "slurmbox: ", 10) == 0)
		e += 10;
	return *e ? e : "(no message)";
}

/*
 * stdout as one JSON document that fits msg's schema (proto.h), else NULL
 * and why in *why (when why is set).
 */
static struct json_object *answer_parse(const struct sb_buf *out, enum proto_msg msg,
                                        struct sb_err *why)
{
	struct json_object *o = json_tokener_parse(out->data ? out->data : "");
	struct sb_err ignored = SB_ERR_INIT;

	if (!o) {
		sb_err_set(why ? why : &ignored, EPROTO, "no JSON answer");
		return NULL;
	}
	if (proto_check(msg, o, why ? why : &ignored) < 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/*
 * Run `slurmbox [--local --name C] agent ARGS...` there. *status its exit
 * status. argv[0] is filled in with the slurmbox there.
 */
static int agent_run(const char *dest, const char **argv, struct ssh_run_opts *o, int *status,
                     struct sb_err *err)
{
	_cleanup_free_ char *path = NULL;
	int ret = ssh_slurmbox_ensure(dest, &path, err);

	if (ret < 0)
		return ret;
	argv[0] = path;
	return ssh_run(dest, argv, o, status, err);
}

/* ssh's own failure (255), with what to do about it. */
static int unreachable(const char *dest, const struct sb_buf *errb, struct sb_err *err)
{
	const char *e = errb->data ? errb->data : "";

	if (ssh_host_key_refused(e))
		return sb_err_set(err, EHOSTUNREACH, "%s", ssh_host_key_hint(dest, e));
	return sb_err_set(err, EHOSTUNREACH,
	                  "cannot reach it over ssh (check `ssh %s true` works without a "
	                  "password): %s",
	                  dest, e);
}

static int ssh_facts(const char *dest, const struct host_facts_req *r, struct json_object **out,
                     char **path, struct sb_err *err)
{
	_cleanup_buf_ struct sb_buf o_buf = SB_BUF_INIT;
	_cleanup_buf_ struct sb_buf errb = SB_BUF_INIT;
	const char **argv = xcalloc(16 + 2 * r->n_images, sizeof(*argv));
	struct ssh_run_opts o = {.in_fd = -1,
	                         .out = &o_buf,
	                         .errbuf = &errb,
	                         .out_fd = -1,
	                         .err_fd = -1,
	                         .timeout_ms = FACTS_MS};
	int status = -1, k = 0, first, ret;
	const char *self;

	*out = NULL;
	*path = NULL;
	/*
	 * First straight to the cached binary of this very build (one round
	 * trip); only if it is not there, check and copy (ssh_slurmbox_ensure).
	 */
	argv[k++] = "sh";
	argv[k++] = "-c";
	argv[k++] =
	    "p=\"$HOME/.cache/slurmbox/slurmbox-$0-$(uname -m)\"; [ -x \"$p\" ] || exit 127; "
	    "exec \"$p\" \"$@\"";
	argv[k++] = SLURMBOX_VERSION;
	first = k;
	argv[k++] = "--name";
	argv[k++] = r->cluster;
	argv[k++] = "agent";
	argv[k++] = "facts";
	if (r->parent) {
		argv[k++] = "--parent";
		argv[k++] = r->parent;
	}
	for (size_t i = 0; i < r->n_images; i++) {
		argv[k++] = "--image";
		argv[k++] = r->images[i];
	}
	if (r->home) {
		argv[k++] = "--home";
		argv[k++] = r->home;
	}
	argv[k] = NULL;
	ret = ssh_run(dest, argv, &o, &status, err);
	if (ret == 0 && status == 127) {
		sb_buf_reset(&o_buf);
		sb_buf_reset(&errb);
		ret = ssh_slurmbox_ensure(dest, path, err);
		if (ret == 0) {
			argv[first - 1] = *path;
			ret = ssh_run(dest, argv + first - 1, &o, &status, err);
		}
	}
	free(argv);
	if (ret < 0)
		return ret;
	if (status == 255)
		return unreachable(dest, &errb, err);
	if (status != 0)
		return sb_err_set(err, EIO, "slurmbox agent failed there (exit %d): %s", status,
		                  errb.data ? errb.data : "");
	if (!(*out = answer_parse(&o_buf, PROTO_FACTS, err)))
		return sb_err_wrap(err, "Its facts cannot be used");
	if (!*path) {
		self = util_json_str(*out, "self");
		*path = xstrdup(self ? self : "slurmbox");
		if (self) /* the cached binary answered: later calls need not check it again */
			ssh_slurmbox_known(dest, self);
	}
	return 0;
}

static int ssh_probe(const char *dest, const struct host_probe_req *r, struct json_object **out,
                     struct sb_err *err)
{
	_cleanup_buf_ struct sb_buf o_buf = SB_BUF_INIT;
	_cleanup_buf_ struct sb_buf errb = SB_BUF_INIT;
	const char **argv = xcalloc(r->n + 12, sizeof(*argv));
	char(*ips)[16] = xcalloc(r->n ? r->n : 1, sizeof(*ips));
	char timeout[16];
	struct ssh_run_opts o = {.in_fd = -1,
	                         .out = &o_buf,
	                         .errbuf = &errb,
	                         .out_fd = -1,
	                         .err_fd = -1,
	                         .timeout_ms = FACTS_MS};
	int status = -1, k = 1, ret;

	*out = NULL;
	snprintf(timeout, sizeof(timeout), "%d", r->timeout_ms);
	argv[k++] = "agent";
	argv[k++] = "probe";
	argv[k++] = "--parent";
	argv[k++] = r->parent;
	argv[k++] = "--timeout";
	argv[k++] = timeout;
	for (size_t i = 0; i < r->n; i++)
		argv[k++] = compose_ipv4_format(r->addrs[i], ips[i]);
	ret = agent_run(dest, argv, &o, &status, err);
	if (ret == 0 && status != 0)
		ret = sb_err_set(err, EIO, "agent probe failed (exit %d): %s", status,
		                 last_line(&errb));
	if (ret == 0 && !(*out = answer_parse(&o_buf, PROTO_PROBE, err)))
		ret = sb_err_wrap(err, "Its probe's answer cannot be used");
	free(argv);
	free(ips);
	return ret;
}

static int ssh_apply(const char *dest, const struct sb_ctx *ctx, const struct host_apply_req *r,
                     struct json_object **report, struct sb_err *err)
{
	_cleanup_buf_ struct sb_buf o_buf = SB_BUF_INIT;
	_cleanup_buf_ struct sb_buf errb = SB_BUF_INIT;
	_cleanup_secret_ char *input = NULL, *line = NULL;
	char index[16], timeout[16];
	const char *argv[20] = {NULL,    "--local", "--name", ctx->cluster, "agent",
	                        "apply", "--host",  index,    "--timeout",  timeout};
	size_t k = 10;
	struct ssh_run_opts o = {.in_fd = -1,
	                         .out = &o_buf,
	                         .errbuf = &errb,
	                         .timeout_ms = APPLY_MS,
	                         .hold_in = true,
	                         .abort = r->abort};
	struct sb_err why = SB_ERR_INIT;
	int status = -1, ret;

	*report = NULL;
	if (r->wait_master)
		argv[k++] = "--wait-master";
	if (r->keep_on_failure)
		argv[k++] = "--keep-on-failure";
	if (r->recreate)
		argv[k++] = "--recreate";
	if (r->fault) {
		argv[k++] = "--fault";
		argv[k++] = r->fault;
	}
	argv[k] = NULL;
	snprintf(index, sizeof(index), "%u", r->host);
	snprintf(timeout, sizeof(timeout), "%u", r->timeout_sec);
	/* the key goes into this one string alone (wiped), never through json-c */
	input = spec_json_input_encode(r->doc, r->key, r->key_len);
	line = sb_strdup_line(input);
	o.in = line;
	o.in_len = strlen(line);
	ret = agent_run(dest, argv, &o, &status, err);
	*report = answer_parse(&o_buf, PROTO_REPORT, &why);
	if (ret == 0 && status == 0 && !*report)
		ret = sb_err_set(err, EPROTO, "Host '%s' gave no report of what it made: %s", dest,
		                 why.msg);
	else if (ret == 0 && status == 255 && !*report)
		ret = sb_err_set(err, EHOSTUNREACH,
		                 "Lost the connection to host '%s' while it made its part "
		                 "(ssh exited with 255; last words: %s)",
		                 dest, last_line(&errb));
	else if (ret == 0 && status != 0)
		ret = sb_err_set(err, EIO, "Host '%s' failed: %s", dest, last_line(&errb));
	return ret;
}

static int ssh_undo(const char *dest, const char *cluster, struct json_object *report,
                    struct sb_err *err)
{
	_cleanup_buf_ struct sb_buf errb = SB_BUF_INIT;
	const char *input = json_object_to_json_string_ext(report, JSON_C_TO_STRING_PLAIN);
	const char *argv[] = {NULL, "--local", "--name", cluster, "agent", "undo", NULL};
	struct ssh_run_opts o = {.in = input,
	                         .in_len = strlen(input),
	                         .in_fd = -1,
	                         .out_fd = -1,
	                         .errbuf = &errb,
	                         .timeout_ms = UNDO_MS};
	int status = -1, ret;

	ret = agent_run(dest, argv, &o, &status, err);
	if (ret == 0 && status != 0)
		ret = sb_err_set(err, EIO, "%s", last_line(&errb));
	return ret;
}

static int ssh_wait(const char *dest, const struct sb_ctx *ctx, const struct spec_doc *doc,
                    unsigned timeout_sec, struct sb_err *err)
{
	struct json_object *o = json_object_new_object();
	_cleanup_free_ char *input = NULL;
	_cleanup_buf_ struct sb_buf out = SB_BUF_INIT;
	char t[16];
	const char *argv[] = {NULL, "--name", ctx->cluster, "agent", "wait", "--timeout", t, NULL};
	/* stdin held: closing it (Ctrl-C here) stops the agent there too */
	struct ssh_run_opts so = {.in_fd = -1,
	                          .out = &out,
	                          .err_fd = STDERR_FILENO,
	                          .timeout_ms = (int)(timeout_sec + 60) * 1000,
	                          .hold_in = true};
	int status = -1, ret;

	json_object_object_add(o, "spec", spec_json_from(doc));
	input = xasprintf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	so.in = input;
	so.in_len = strlen(input);
	snprintf(t, sizeof(t), "%u", timeout_sec);
	ret = agent_run(dest, argv, &so, &status, err);
	if (ret == 0 && status != 0)
		ret = sb_err_set(err, ETIMEDOUT, "The cluster did not become ready (see above)");
	return ret;
}

static int ssh_down(const char *dest, const struct sb_ctx *ctx, const char *cluster, bool purge,
                    bool keep_key, struct json_object **out, struct sb_err *err)
{
	_cleanup_buf_ struct sb_buf o_buf = SB_BUF_INIT;
	_cleanup_buf_ struct sb_buf errb = SB_BUF_INIT;
	const char *argv[] = {NULL,    "--name",
	                      cluster, "agent",
	                      "down",  purge ? "--purge" : (keep_key ? "--keep-key" : NULL),
	                      NULL};
	struct ssh_run_opts o = {
	    .in_fd = -1, .out = &o_buf, .errbuf = &errb, .timeout_ms = DOWN_MS};
	int status = -1, ret;

	(void)ctx;
	*out = NULL;
	ret = agent_run(dest, argv, &o, &status, err);
	if (ret == 0 && status != 0)
		ret = sb_err_set(err, EIO, "%s", errb.data ? errb.data : "agent down failed");
	if (ret == 0 && !(*out = answer_parse(&o_buf, PROTO_DOWN, err)))
		ret = sb_err_wrap(err, "agent down's answer cannot be used");
	return ret;
}

static int ssh_check(const char *dest, const char *cluster, const char *cred,
                     struct json_object **out, struct sb_err *err)
{
	_cleanup_buf_ struct sb_buf o_buf = SB_BUF_INIT, errb = SB_BUF_INIT;
	const char *argv[] = {NULL, "--name", cluster, "agent", "check", NULL};
	struct ssh_run_opts o = {.in = cred,
	                         .in_len = cred ? strlen(cred) : 0,
	                         .in_fd = -1,
	                         .out = &o_buf,
	                         .errbuf = &errb,
	                         .timeout_ms = CHECK_MS};
	int status = -1, ret;

	*out = NULL;
	ret = agent_run(dest, argv, &o, &status, err);
	if (ret < 0)
		return ret;
	if (status == 255)
		return unreachable(dest, &errb, err);
	if (status != 0)
		return sb_err_set(err, EIO, "agent check failed (status %d): %s", status,
		                  last_line(&errb));
	if (!(*out = answer_parse(&o_buf, PROTO_CHECK, err))) {
		err->code = EIO; /* the host answered: its nodes are not "unreachable" */
		return sb_err_wrap(err, "agent check's answer cannot be used");
	}
	return 0;
}

static int ssh_images_build(const char *dest, const struct sb_ctx *ctx, const char *image_base,
                            struct sb_err *err)
{
	const char *argv[] = {NULL,       "images", "build", image_base ? "--image-base" : NULL,
	                      image_base, NULL};
	struct ssh_run_opts o = {
	    .in_fd = -1, .out_fd = -1, .err_fd = STDERR_FILENO, .timeout_ms = APPLY_MS};
	int status = -1, ret;

	(void)ctx;
	ret = agent_run(dest, argv, &o, &status, err);
	if (ret == 0 && status != 0)
		ret = sb_err_set(err, EIO, "Building the images on '%s' failed (exit %d)", dest,
		                 status);
	return ret;
}

/*
 * `slurmbox --local --name C HEAD... TAIL...` there (the node verbs of that
 * host's own engine); *status its exit status.
 */
static int cluster_run(const char *dest, const char *cluster, const char *const *head,
                       const char *const *tail, struct ssh_run_opts *o, int *status,
                       struct sb_err *err)
{
	size_t n = 0, k = 0;
	const char **args;
	int ret;

	while (head[n])
		n++;
	for (size_t i = 0; tail[i]; i++)
		n++;
	args = xcalloc(n + 5, sizeof(*args));
	args[k++] = NULL;
	args[k++] = "--local";
	args[k++] = "--name";
	args[k++] = cluster;
	for (size_t i = 0; head[i]; i++)
		args[k++] = head[i];
	for (size_t i = 0; tail[i]; i++)
		args[k++] = tail[i];
	ret = agent_run(dest, args, o, status, err);
	free(args);
	return ret;
}

static int ssh_node_capture(const char *dest, const char *cluster, const char *node,
                            const char *const *argv, int timeout_ms, struct sb_buf *out,
                            int *status, struct sb_err *err)
{
	_cleanup_buf_ struct sb_buf errb = SB_BUF_INIT;
	const char *head[] = {"exec", "-u", "root", node, NULL};
	struct ssh_run_opts o = {
	    .in_fd = -1, .out = out, .errbuf = &errb, .timeout_ms = timeout_ms};
	int ret;

	ret = cluster_run(dest, cluster, head, argv, &o, status, err);
	if (ret == 0 && *status == 255)
		ret = unreachable(dest, &errb, err);
	else if (ret == 0 && *status != 0 && errb.len)
		sb_err_set(err, EIO, "%s", last_line(&errb));
	return ret;
}

int remote_ssh_node_run(const char *dest, const char *cluster, char *const *argv, bool tty,
                        int *status, struct sb_err *err)
{
	const char *head[] = {NULL};
	struct ssh_run_opts o = {
	    .in_fd = STDIN_FILENO, .out_fd = STDOUT_FILENO, .err_fd = STDERR_FILENO, .tty = tty};

	return cluster_run(dest, cluster, head, (const char *const *)argv, &o, status, err);
}

static int ssh_file_put(const char *dest, const char *path, const char *text, struct sb_err *err)
{
	_cleanup_buf_ struct sb_buf errb = SB_BUF_INIT;
	const char *argv[] = {"sh", "-c", "umask 077 && printf %s \"$2\" > \"$1\"", "sh", path,
	                      text, NULL};
	struct ssh_run_opts o = {.in_fd = -1, .out_fd = -1, .errbuf = &errb, .timeout_ms = FILE_MS};
	int status = -1, ret;

	ret = ssh_run(dest, argv, &o, &status, err);
	if (ret == 0 && status != 0)
		ret = sb_err_set(err, EIO, "%s", last_line(&errb));
	return ret;
}

static int ssh_file_get(const char *dest, const char *path, struct sb_buf *out, struct sb_err *err)
{
	_cleanup_buf_ struct sb_buf errb = SB_BUF_INIT;
	const char *argv[] = {"cat", path, NULL};
	struct ssh_run_opts o = {.in_fd = -1, .out = out, .errbuf = &errb, .timeout_ms = FILE_MS};
	int status = -1, ret;

	ret = ssh_run(dest, argv, &o, &status, err);
	if (ret == 0 && status != 0)
		ret = sb_err_set(err, ENOENT, "%s", last_line(&errb));
	return ret;
}

static void ssh_file_remove(const char *dest, const char *path)
{
	const char *argv[] = {"rm", "-f", path, NULL};
	struct ssh_run_opts o = {.in_fd = -1, .out_fd = -1, .err_fd = -1, .timeout_ms = FILE_MS};
	struct sb_err ignored = SB_ERR_INIT;
	int status;

	ssh_run(dest, argv, &o, &status, &ignored);
}

const struct remote_ops remote_ssh_ops = {
    .facts = ssh_facts,
    .probe = ssh_probe,
    .apply = ssh_apply,
    .undo = ssh_undo,
    .wait = ssh_wait,
    .down = ssh_down,
    .check = ssh_check,
    .images_build = ssh_images_build,
    .node_capture = ssh_node_capture,
    .file_put = ssh_file_put,
    .file_get = ssh_file_get,
    .file_remove = ssh_file_remove,
};

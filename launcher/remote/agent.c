/* SPDX-License-Identifier: MIT */
/*
 * agent.c - `slurmbox [--name C] agent VERB`: the codec around one host's
 * operations (host/ops.h) for a host the control machine reaches over ssh.
 * Each verb decodes its request (argv; the spec, key or credential on
 * stdin: secrets never travel in argv or env), validates the whole of it,
 * makes one call and prints its answer as one JSON document on stdout.
 * Progress and errors go to stderr.
 *
 *   facts [--parent IF] [--image TAG]... [--home PATH]   what this host is
 *   probe --parent IF --timeout MS IP...   which addresses answer on the LAN
 *   apply --host N [--recreate[-all]] [--timeout S] [--keep-on-failure]
 *         [--wait-master] [--fault P] < {"spec":…,"key":hex}\n (stdin held open)
 *                                          create and start this host's part;
 *                                          the report of what it created
 *   undo              < the report of an apply    remove what it created
 *   wait --timeout S  < {"spec":…}\n (held open)  until every node is idle
 *   down [--purge] [--keep-key]                   this host's part gone
 *   check             < credential                each running node's health
 *   image-save TAG... / image-load               move images between hosts
 *
 * apply and wait keep their stdin open after the input line: its end (the
 * control machine's Ctrl-C, the ssh connection lost) or SIGINT/SIGTERM
 * stops them, and apply rolls back. Problems the control machine reports
 * all at once (preflight) are inside the facts, not a failure.
 */
#include "agent.h"
#include "interrupt.h"
#include "../host/health.h"
#include "../host/ops.h"
#include "../host/spec_json.h"
#include "../host/state.h"
#include "../util/opt.h"
#include "../../compose/compose.h"

#include <getopt.h>
#include <json-c/json.h>
#include <pthread.h>
#include <unistd.h>

#define AGENT_STDIN_MAX (1u << 20)

/*
 * Standard input to EOF (at most max bytes), or (line) up to and without the
 * first newline. It may hold the munge key: every copy is wiped.
 */
static int read_input(struct sb_buf *b, size_t max, bool line, struct sb_err *err)
{
	char buf[16384];
	int ret = 0;

	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, line ? 1 : sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = sb_err_set(err, errno, "Reading standard input: %s", strerror(errno));
			break;
		}
		if (n == 0 || (line && buf[0] == '\n'))
			break;
		sb_buf_add_secret(b, buf, (size_t)n);
		if (b->len > max) {
			ret =
			    sb_err_set(err, E2BIG, "Standard input is larger than %zu bytes", max);
			break;
		}
	}
	explicit_bzero(buf, sizeof(buf));
	return ret;
}

int agent_stdin_spec(struct spec_doc *doc, unsigned char *key, size_t *key_len, bool line,
                     struct sb_err *err)
{
	_cleanup_buf_secret_ struct sb_buf in = SB_BUF_INIT;
	int ret;

	ret = read_input(&in, AGENT_STDIN_MAX, line, err);
	if (ret < 0)
		return ret;
	return spec_json_input_decode(in.data ? in.data : "", in.len, doc, key, STATE_KEY_MAX,
	                              key_len, err);
}

/* The rest of stdin: its end means the control machine wants us to stop. */
static void *stdin_watch(void *arg)
{
	char buf[256];

	(void)arg;
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
	}
	interrupt_signal = SIGHUP;
	return NULL;
}

/* SIGINT, SIGTERM and the end of stdin set interrupt_signal: Docker requests then fail. */
static void stdin_watch_start(void)
{
	pthread_t th;

	interrupt_catch();
	if (pthread_create(&th, NULL, stdin_watch, NULL) == 0)
		pthread_detach(th);
}

/*
 * Print the answer (if any) as one JSON document on stdout, and put it.
 * Called with the operation's result already in ret (never as
 * answer(op(&o), o): the order in which C evaluates arguments is unspecified).
 */
static int answer(int ret, struct json_object *o)
{
	if (o)
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
		                                           JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return ret;
}

static int agent_facts(const struct sb_ctx *ctx, int argc, char **argv, struct sb_err *err)
{
	static const struct option opts[] = {
	    {"parent", required_argument, NULL, 'p'},
	    {"image", required_argument, NULL, 'i'},
	    {"home", required_argument, NULL, 'H'},
	    {NULL, 0, NULL, 0},
	};
	_cleanup_free_ const char **images = xcalloc((size_t)argc, sizeof(*images));
	struct host_facts_req r = {.cluster = ctx->cluster, .images = images};
	struct json_object *o = NULL;
	int c, ret;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'p')
			r.parent = optarg;
		else if (c == 'i')
			images[r.n_images++] = optarg;
		else if (c == 'H' && *optarg == '/')
			r.home = optarg;
		else
			return util_usage_error("agent facts", argv[optind - 1], err);
	}
	if (optind < argc)
		return util_usage_error("agent facts", argv[optind], err);
	ret = host_facts(&r, &o, err);
	return answer(ret, o);
}

static int agent_probe(int argc, char **argv, struct sb_err *err)
{
	static const struct option opts[] = {
	    {"parent", required_argument, NULL, 'p'},
	    {"timeout", required_argument, NULL, 't'},
	    {NULL, 0, NULL, 0},
	};
	_cleanup_free_ uint32_t *addrs = NULL;
	struct host_probe_req r = {.timeout_ms = 500};
	struct json_object *o = NULL;
	unsigned timeout;
	int c, ret;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'p') {
			r.parent = optarg;
		} else if (c == 't') {
			ret = util_uint_parse("--timeout", optarg, 1, 60000, &timeout, err);
			if (ret < 0)
				return ret;
			r.timeout_ms = (int)timeout;
		} else {
			return util_usage_error("agent probe", argv[optind - 1], err);
		}
	}
	if (!r.parent)
		return sb_err_input(err, "agent probe: --parent is required");
	r.n = (size_t)(argc - optind);
	addrs = xcalloc(r.n ? r.n : 1, sizeof(*addrs));
	for (size_t i = 0; i < r.n; i++) {
		ret = compose_ipv4_parse("agent probe", argv[optind + (int)i], &addrs[i], err);
		if (ret < 0)
			return ret;
	}
	r.addrs = addrs;
	ret = host_probe(&r, &o, err);
	return answer(ret, o);
}

static int agent_apply(const struct sb_ctx *ctx, int argc, char **argv, struct sb_err *err)
{
	static const struct option opts[] = {
	    {"host", required_argument, NULL, 'H'},
	    {"timeout", required_argument, NULL, 't'},
	    {"keep-on-failure", no_argument, NULL, 'k'},
	    {"wait-master", no_argument, NULL, 'w'},
	    {"fault", required_argument, NULL, 'f'},
	    {"recreate", no_argument, NULL, 'r'},
	    {NULL, 0, NULL, 0},
	};
	struct host_apply_req r = {.timeout_sec = 180, .abort = &interrupt_signal};
	struct spec_doc doc = {0};
	struct json_object *report = NULL;
	unsigned char key[STATE_KEY_MAX];
	size_t key_len = 0;
	int c, ret = 0;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'H')
			ret = util_uint_parse("--host", optarg, 0, 255, &r.host, err);
		else if (c == 't')
			ret = util_uint_parse("--timeout", optarg, 1, 86400, &r.timeout_sec, err);
		else if (c == 'w')
			r.wait_master = true;
		else if (c == 'k')
			r.keep_on_failure = true;
		else if (c == 'f')
			r.fault = optarg;
		else if (c == 'r')
			r.recreate = true;
		else
			return util_usage_error("agent apply", argv[optind - 1], err);
		if (ret < 0)
			return ret;
	}
	ret = agent_stdin_spec(&doc, key, &key_len, true, err);
	if (ret == 0 && r.host >= doc.spec.n_hosts)
		ret = sb_err_set(err, EINVAL, "Host index %u is not in the spec", r.host);
	if (ret == 0) {
		/* from here on, the end of stdin or SIGINT/SIGTERM rolls back */
		stdin_watch_start();
		r.doc = &doc;
		r.key = key;
		r.key_len = key_len;
		ret = host_apply(ctx, &r, &report, err);
	}
	explicit_bzero(key, sizeof(key));
	spec_doc_free(&doc);
	return answer(ret, report);
}

static int agent_undo(const struct sb_ctx *ctx, int argc, char **argv, struct sb_err *err)
{
	_cleanup_buf_ struct sb_buf in = SB_BUF_INIT;
	struct json_object *report, *o = NULL;
	int ret;

	if (argc > 1)
		return util_usage_error("agent undo", argv[1], err);
	ret = read_input(&in, AGENT_STDIN_MAX, false, err);
	if (ret < 0)
		return ret;
	report = json_tokener_parse(in.data ? in.data : "");
	if (!json_object_is_type(report, json_type_object)) {
		json_object_put(report);
		return sb_err_set(err, EINVAL, "agent undo: no report of an apply on stdin");
	}
	ret = host_undo(ctx->cluster, report, &o, err);
	json_object_put(report);
	return answer(ret, o);
}

static int agent_wait(const struct sb_ctx *ctx, int argc, char **argv, struct sb_err *err)
{
	struct spec_doc doc = {0};
	unsigned timeout = 180;
	int ret = 0;

	if (argc == 3 && strcmp(argv[1], "--timeout") == 0)
		ret = util_uint_parse("--timeout", argv[2], 1, 86400, &timeout, err);
	else if (argc > 1)
		ret = util_usage_error("agent wait", argv[1], err);
	/* one line; then stdin stays open, and its end (the control machine's Ctrl-C) stops us */
	if (ret == 0)
		ret = agent_stdin_spec(&doc, NULL, NULL, true, err);
	if (ret == 0) {
		stdin_watch_start();
		ret = host_wait(ctx, &doc, timeout, err);
	}
	spec_doc_free(&doc);
	return ret;
}

static int agent_down(const struct sb_ctx *ctx, int argc, char **argv, struct sb_err *err)
{
	struct json_object *o = NULL;
	bool purge = false, keep_key = false;
	int ret;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--purge") == 0)
			purge = true;
		else if (strcmp(argv[i], "--keep-key") == 0)
			keep_key = true;
		else
			return util_usage_error("agent down", argv[i], err);
	}
	ret = host_down(ctx, ctx->cluster, purge, keep_key, &o, err);
	return answer(ret, o);
}

static int agent_check(const struct sb_ctx *ctx, int argc, char **argv, struct sb_err *err)
{
	_cleanup_buf_ struct sb_buf in = SB_BUF_INIT;
	struct json_object *o = NULL;
	int ret;

	if (argc > 1)
		return util_usage_error("agent check", argv[1], err);
	ret = read_input(&in, HEALTH_CRED_MAX, false, err);
	if (ret < 0)
		return ret;
	while (in.len && (in.data[in.len - 1] == '\n' || in.data[in.len - 1] == '\r'))
		in.data[--in.len] = '\0';
	ret = host_check(ctx->cluster, in.len ? in.data : NULL, &o, err);
	return answer(ret, o);
}

int cmd_agent(struct sb_ctx *ctx, int argc, char **argv, struct sb_err *err)
{
	if (argc < 2)
		return sb_err_input(
		    err, "agent: give a verb (facts, probe, apply, undo, wait, down, "
		         "check, image-save, image-load); the control machine runs these");
	argc--;
	argv++;
	if (strcmp(argv[0], "facts") == 0)
		return agent_facts(ctx, argc, argv, err);
	if (strcmp(argv[0], "probe") == 0)
		return agent_probe(argc, argv, err);
	if (strcmp(argv[0], "apply") == 0)
		return agent_apply(ctx, argc, argv, err);
	if (strcmp(argv[0], "undo") == 0)
		return agent_undo(ctx, argc, argv, err);
	if (strcmp(argv[0], "wait") == 0)
		return agent_wait(ctx, argc, argv, err);
	if (strcmp(argv[0], "down") == 0)
		return agent_down(ctx, argc, argv, err);
	if (strcmp(argv[0], "check") == 0)
		return agent_check(ctx, argc, argv, err);
	if (strcmp(argv[0], "image-save") == 0)
		return agent_image_save(argc, argv, err);
	if (strcmp(argv[0], "image-load") == 0)
		return agent_image_load(argc, argv, err);
	return sb_err_input(err, "agent: unknown verb '%s'", argv[0]);
}

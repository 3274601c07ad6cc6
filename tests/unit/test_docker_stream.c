/* SPDX-License-Identifier: MIT */
/*
 * The JSON message stream parser behind docker_stream, on streams captured
 * from dockerd 20.10 (build, import, load) and a pull with an error in the
 * middle, fed in 1-, 7- and 4096-byte chunks.
 */
#include "../../launcher/docker/docker.h"
#include "tap.h"

struct seen {
	int n;
	struct sb_buf text; /* "stream" and "status" fields, concatenated */
	char aux_id[80];
	int abort_at; /* 0: never */
};

static int seen_fn(struct json_object *msg, void *arg, struct sb_err *err)
{
	struct seen *s = arg;
	struct json_object *v, *id;

	s->n++;
	if (s->abort_at && s->n == s->abort_at)
		return sb_err_set(err, ECANCELED, "Stopped at message %d", s->n);
	if (json_object_object_get_ex(msg, "stream", &v) ||
	    json_object_object_get_ex(msg, "status", &v))
		sb_buf_puts(&s->text, json_object_get_string(v));
	if (json_object_object_get_ex(msg, "aux", &v) && json_object_object_get_ex(v, "ID", &id))
		snprintf(s->aux_id, sizeof(s->aux_id), "%s", json_object_get_string(id));
	return 0;
}

static char *slurp(const char *name, size_t *len)
{
	char path[256];
	struct sb_buf b = SB_BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), TAP_FIXTURES "/docker/%s", name);
	f = fopen(path, "rb");
	if (!f) {
		TAP_FAIL("cannot open %s", path);
		*len = 0;
		return xstrdup("");
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		sb_buf_add(&b, chunk, n);
	fclose(f);
	*len = b.len;
	return sb_buf_steal(&b);
}

/* Feed the whole buffer in `chunk`-byte pieces; returns feed's or end's result. */
static int feed_chunks(const char *buf, size_t len, size_t chunk, struct seen *s,
                       struct sb_err *err)
{
	struct docker_jsonstream js;
	int r = 0;

	docker_jsonstream_init(&js, seen_fn, s);
	for (size_t off = 0; off < len && r == 0; off += chunk)
		r = docker_jsonstream_feed(&js, buf + off, len - off < chunk ? len - off : chunk,
		                           err);
	if (r == 0)
		r = docker_jsonstream_end(&js, err);
	docker_jsonstream_release(&js);
	return r;
}

static const size_t chunks[] = {1, 7, 4096};

static void test_build_ok(void)
{
	size_t len;
	_cleanup_free_ char *buf = slurp("build-ok.stream", &len);

	for (size_t i = 0; i < ARRAY_SIZE(chunks); i++) {
		struct seen s = {0};
		struct sb_err err = SB_ERR_INIT;

		CHECK_INT(feed_chunks(buf, len, chunks[i], &s, &err), 0);
		CHECK_INT(s.n, 22);
		CHECK_STR(
		    s.aux_id,
		    "sha256:0db73234e28b641f75e229f7813cdadeaa759d43c59c7fa8067dcc684c616750");
		CHECK_CONTAINS(s.text.data, "Step 1/4 : FROM slurmbox-testbox:latest\n");
		CHECK_CONTAINS(s.text.data, "hello from build\nquote \" slash /x\n");
		CHECK_CONTAINS(s.text.data, " ---> 2df8357f76cf\n");
		CHECK_CONTAINS(s.text.data, "Successfully tagged slurmbox-testbox:fixture\n");
		sb_buf_free(&s.text);
	}
}

static void test_build_error(void)
{
	size_t len;
	_cleanup_free_ char *buf = slurp("build-fail.stream", &len);

	for (size_t i = 0; i < ARRAY_SIZE(chunks); i++) {
		struct seen s = {0};
		struct sb_err err = SB_ERR_INIT;

		CHECK_INT(feed_chunks(buf, len, chunks[i], &s, &err), -EIO);
		CHECK_STR(err.msg, "The command '/bin/sh -c echo some output; exit 3' returned a "
		                   "non-zero code: 3");
		CHECK_INT(s.n, 14); /* every message before the error, not the error */
		CHECK_CONTAINS(s.text.data, "some output\n");
		sb_buf_free(&s.text);
	}
}

static void test_error_in_middle(void)
{
	size_t len;
	_cleanup_free_ char *buf = slurp("pull-error-middle.stream", &len);

	for (size_t i = 0; i < ARRAY_SIZE(chunks); i++) {
		struct seen s = {0};
		struct sb_err err = SB_ERR_INIT;

		CHECK_INT(feed_chunks(buf, len, chunks[i], &s, &err), -EIO);
		CHECK_STR(err.msg, "read tcp 10.0.0.2:41234->104.18.125.25:443: read: connection "
		                   "reset by peer");
		CHECK_INT(s.n, 3); /* nothing after the error is delivered */
		CHECK(!strstr(s.text.data ? s.text.data : "", "Downloaded newer image"));
		sb_buf_free(&s.text);
	}
}

static void test_import_and_load(void)
{
	size_t ilen, llen;
	_cleanup_free_ char *imp = slurp("import.stream", &ilen);
	_cleanup_free_ char *load = slurp("load.stream", &llen);

	for (size_t i = 0; i < ARRAY_SIZE(chunks); i++) {
		struct seen s = {0};
		struct sb_err err = SB_ERR_INIT;

		CHECK_INT(feed_chunks(imp, ilen, chunks[i], &s, &err), 0);
		CHECK_INT(s.n, 1);
		CHECK_STR(s.text.data, "sha256:9a7070ba930196e287fa3ad767576f512b0b9833c5979433ced3"
		                       "7319683582ac");
		sb_buf_reset(&s.text);
		s.n = 0;
		CHECK_INT(feed_chunks(load, llen, chunks[i], &s, &err), 0);
		CHECK_INT(s.n, 1);
		CHECK_STR(s.text.data, "Loaded image: slurmbox-testbox:latest\n");
		sb_buf_free(&s.text);
	}
}

/* Every two-piece split of a stream with "\n" separators (events) and nested objects. */
static void test_every_split(void)
{
	static const char ev[] =
	    "{\"Type\":\"container\",\"Action\":\"start\",\"Actor\":{\"ID\":\"ab\","
	    "\"Attributes\":{\"name\":\"x}{\\\"y\"}}}\n"
	    "  {\"status\":\"die\",\"arr\":[1,{\"a\":[]}],\"n\":-1.5e3}\n\n";
	size_t len = strlen(ev);
	int bad = 0;

	for (size_t cut = 0; cut <= len; cut++) {
		struct seen s = {0};
		struct sb_err err = SB_ERR_INIT;
		struct docker_jsonstream js;
		int r;

		docker_jsonstream_init(&js, seen_fn, &s);
		r = docker_jsonstream_feed(&js, ev, cut, &err);
		if (r == 0)
			r = docker_jsonstream_feed(&js, ev + cut, len - cut, &err);
		if (r == 0)
			r = docker_jsonstream_end(&js, &err);
		if (r != 0 || s.n != 2 || js.count != 2 || !s.text.data ||
		    strcmp(s.text.data, "die") != 0)
			bad++;
		docker_jsonstream_release(&js);
		sb_buf_free(&s.text);
	}
	CHECK_INT(bad, 0);
}

static void test_malformed(void)
{
	struct sb_err err = SB_ERR_INIT;
	struct seen s = {0};
	const char *cut = "{\"stream\":\"Step 1\"}\r\n{\"stream\":\"Ste";

	/* cut off in the middle of a message */
	CHECK_INT(feed_chunks(cut, strlen(cut), 7, &s, &err), -EPROTO);
	CHECK_CONTAINS(err.msg, "middle of a message");
	CHECK_INT(s.n, 1);

	err = (struct sb_err)SB_ERR_INIT;
	CHECK_INT(feed_chunks("{\"a\":1}\r\n{bogus}", 16, 4096, &s, &err), -EPROTO);
	CHECK_CONTAINS(err.msg, "malformed JSON");

	err = (struct sb_err)SB_ERR_INIT;
	CHECK_INT(feed_chunks("[1,2]", 5, 4096, &s, &err), -EPROTO);
	CHECK_CONTAINS(err.msg, "not an object");

	/* only whitespace: no messages, no error */
	s.n = 0;
	CHECK_INT(feed_chunks("\r\n \n", 4, 1, &s, &err), 0);
	CHECK_INT(s.n, 0);
	sb_buf_free(&s.text);
}

static void test_callback_abort(void)
{
	size_t len;
	_cleanup_free_ char *buf = slurp("build-ok.stream", &len);
	struct seen s = {.abort_at = 3};
	struct sb_err err = SB_ERR_INIT;

	CHECK_INT(feed_chunks(buf, len, 7, &s, &err), -ECANCELED);
	CHECK_STR(err.msg, "Stopped at message 3");
	CHECK_INT(s.n, 3);
	sb_buf_free(&s.text);
}

int main(void)
{
	TAP_RUN(test_build_ok, test_build_error, test_error_in_middle, test_import_and_load,
	        test_every_split, test_malformed, test_callback_abort);
}

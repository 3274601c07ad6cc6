/* SPDX-License-Identifier: MIT */
/*
 * docker_stream.c - two pure helpers of docker.h under both docker.c and
 * docker_api.c: URL escaping and the JSON message stream parser used by
 * docker_stream.
 */
#include "docker.h"

#include <ctype.h>
#include <curl/curl.h>

/* ---- URL helpers (docker.h) ---- */

char *docker_escape(const char *s, bool keep_slash)
{
	char *e = curl_easy_escape(NULL, s, 0);
	char *r, *w;

	if (!e)
		sb_oom();
	r = xstrdup(e);
	curl_free(e);
	if (keep_slash) {
		for (w = r, e = r; *e; e++) {
			if (!strncmp(e, "%2F", 3)) {
				*w++ = '/';
				e += 2;
			} else {
				*w++ = *e;
			}
		}
		*w = '\0';
	}
	return r;
}

/* ---- JSON message streams ---- */

void docker_jsonstream_init(struct docker_jsonstream *js, docker_msg_fn fn, void *arg)
{
	memset(js, 0, sizeof(*js));
	js->fn = fn;
	js->arg = arg;
}

void docker_jsonstream_release(struct docker_jsonstream *js)
{
	if (js->tok)
		json_tokener_free(js->tok);
	js->tok = NULL;
}

/* The message of {"errorDetail":{"message":…}} or {"error":…}, else NULL. */
static const char *docker_msg_error(struct json_object *o)
{
	struct json_object *v, *m;

	if (json_object_object_get_ex(o, "errorDetail", &v) &&
	    json_object_object_get_ex(v, "message", &m) && json_object_get_string_len(m) > 0)
		return json_object_get_string(m);
	if (json_object_object_get_ex(o, "error", &v) && !json_object_is_type(v, json_type_null))
		return json_object_get_string_len(v) ? json_object_get_string(v) : "unknown error";
	return NULL;
}

static int docker_jsonstream_deliver(struct docker_jsonstream *js, struct json_object *o,
                                     struct sb_err *err)
{
	struct sb_err e = SB_ERR_INIT;
	const char *msg;
	int r = 0;

	js->count++;
	if (!json_object_is_type(o, json_type_object)) {
		r = sb_err_set(err, EPROTO, "Docker sent a stream item that is not an object: %s",
		               json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	} else if ((msg = docker_msg_error(o))) {
		int n = (int)strlen(msg);

		while (n > 0 && isspace((unsigned char)msg[n - 1]))
			n--;
		r = sb_err_set(err, EIO, "%.*s", n, msg);
	} else if (js->fn && (r = js->fn(o, js->arg, &e)) < 0) {
		if (!e.code)
			sb_err_set(&e, -r, "Aborted while reading Docker's progress stream");
		*err = e;
	}
	json_object_put(o);
	return r < 0 ? r : 0;
}

int docker_jsonstream_feed(struct docker_jsonstream *js, const char *buf, size_t len,
                           struct sb_err *err)
{
	if (!js->tok && !(js->tok = json_tokener_new()))
		sb_oom();
	while (len) {
		struct json_object *o;
		size_t used, i;

		if (!js->partial) {
			for (i = 0; i < len && isspace((unsigned char)buf[i]); i++)
				;
			buf += i;
			len -= i;
			if (!len)
				break;
		}
		js->partial = true;
		o = json_tokener_parse_ex(js->tok, buf, (int)(len > INT32_MAX ? INT32_MAX : len));
		enum json_tokener_error je = json_tokener_get_error(js->tok);
		if (je == json_tokener_continue) {
			used = json_tokener_get_parse_end(js->tok);
			buf += used;
			len -= used;
			continue;
		}
		if (je != json_tokener_success || !o) {
			json_tokener_reset(js->tok);
			js->partial = false;
			return sb_err_set(err, EPROTO, "Docker sent malformed JSON in a stream: %s",
			                  json_tokener_error_desc(je));
		}
		used = json_tokener_get_parse_end(js->tok);
		json_tokener_reset(js->tok);
		js->partial = false;
		buf += used;
		len -= used;
		int r = docker_jsonstream_deliver(js, o, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int docker_jsonstream_end(struct docker_jsonstream *js, struct sb_err *err)
{
	if (js->partial)
		return sb_err_set(err, EPROTO, "Docker's stream ended in the middle of a message");
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * Docker's JSON message stream (build, pull, load, import), parsed as
 * docker_stream does: the first byte picks a chunk size, the rest is the
 * stream, fed in pieces of that size, then ended.
 */
#include "fuzz.h"
#include "../../launcher/docker/docker.h"

#include <json-c/json.h>

static int msg_fn(struct json_object *msg, void *arg, struct sb_err *err)
{
	struct json_object *v;
	size_t *n = arg;

	(void)err;
	(*n)++;
	/* what the callers read: stream/status text and aux.ID */
	if (json_object_object_get_ex(msg, "stream", &v))
		(void)json_object_get_string(v);
	if (json_object_object_get_ex(msg, "aux", &v) && json_object_object_get_ex(v, "ID", &v))
		(void)json_object_get_string(v);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct docker_jsonstream js;
	struct sb_err err = SB_ERR_INIT;
	size_t chunk, n = 0;
	int r = 0;

	if (size < 1)
		return 0;
	chunk = (size_t)data[0] + 1;
	data++, size--;
	docker_jsonstream_init(&js, msg_fn, &n);
	for (size_t off = 0; off < size && r == 0; off += chunk)
		r = docker_jsonstream_feed(&js, (const char *)data + off,
		                           size - off < chunk ? size - off : chunk, &err);
	if (r == 0)
		r = docker_jsonstream_end(&js, &err);
	docker_jsonstream_release(&js);
	if (r == 0 && n != js.count)
		abort(); /* every object parsed went to the callback */
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * agent_image - `slurmbox agent image-save TAG...` and `agent image-load`:
 * the two ends of ssh_pipe() when a host lacks the cluster's images. The
 * tar streams from one Docker daemon through ssh into the other's; it is
 * never held in memory or written to disk.
 */
#include "agent.h"
#include "../docker/docker_api.h"
#include "../util/io.h"

#include <json-c/json.h>

struct agent_loaded {
	struct json_object *tags;
};

static int agent_save_data(const char *buf, size_t len, void *arg)
{
	(void)arg;
	return util_write_all(STDOUT_FILENO, buf, len);
}

int agent_image_save(int argc, char **argv, struct sb_err *err)
{
	_cleanup_docker_ struct docker *d = NULL;
	_cleanup_buf_ struct sb_buf path = SB_BUF_INIT;
	struct docker_req req = {.method = "GET", .data_fn = agent_save_data, .no_timeout = true};
	int r, first = argc > 0 && !strcmp(argv[0], "image-save") ? 1 : 0;

	if (argc <= first)
		return sb_err_input(err, "agent image-save: name the images to save (TAG...)");
	if (isatty(STDOUT_FILENO))
		return sb_err_input(err, "agent image-save writes a tar: send its stdout to a pipe "
		                         "or a file, not a terminal");
	sb_buf_puts(&path, "/images/get");
	for (int i = first; i < argc; i++) {
		_cleanup_free_ char *e = NULL;

		if (!argv[i][0] || argv[i][0] == '-')
			return sb_err_input(err, "agent image-save: '%s' is not an image reference",
			                    argv[i]);
		e = docker_escape(argv[i], false);
		sb_buf_printf(&path, "%cnames=%s", i == first ? '?' : '&', e);
	}
	r = docker_open(NULL, &d, err);
	if (r < 0)
		return r;
	/* The reader (ssh to a slow host's image-load) sets the pace: no idle limit. */
	req.path = path.data;
	r = docker_request(d, &req, NULL, err);
	if (r < 0)
		return sb_err_wrap(err, "Saving %s%s", argv[first],
		                   argc - first > 1 ? " and more" : "");
	return 0;
}

static ssize_t agent_load_read(void *arg, char *buf, size_t len)
{
	(void)arg;
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, len);

		if (n >= 0)
			return n;
		if (errno != EINTR)
			return -errno;
	}
}

/* {"stream":"Loaded image: slurmbox/master:0.1.0\n"} → the tag. */
static int agent_load_msg(struct json_object *msg, void *arg, struct sb_err *err)
{
	struct agent_loaded *l = arg;
	struct json_object *s;
	const char *p, *key = "Loaded image: ";
	size_t n;

	(void)err;
	if (!json_object_object_get_ex(msg, "stream", &s) ||
	    !json_object_is_type(s, json_type_string))
		return 0;
	p = json_object_get_string(s);
	if (strncmp(p, key, strlen(key)) != 0) {
		key = "Loaded image ID: ";
		if (strncmp(p, key, strlen(key)) != 0)
			return 0;
	}
	p += strlen(key);
	n = strcspn(p, "\r\n");
	json_object_array_add(l->tags, json_object_new_string_len(p, (int)n));
	return 0;
}

int agent_image_load(int argc, char **argv, struct sb_err *err)
{
	_cleanup_docker_ struct docker *d = NULL;
	struct agent_loaded l;
	struct json_object *o;
	int r;

	if (argc > 1)
		return sb_err_input(err,
		                    "agent image-load: unexpected argument '%s' (the tar comes "
		                    "on stdin)",
		                    argv[1]);
	if (isatty(STDIN_FILENO))
		return sb_err_input(err,
		                    "agent image-load reads a tar (agent image-save) on stdin, "
		                    "not from a terminal");
	r = docker_open(NULL, &d, err);
	if (r < 0)
		return r;
	l.tags = json_object_new_array();
	r = docker_stream(d, "POST", "/images/load?quiet=1", "application/x-tar", agent_load_read,
	                  NULL, agent_load_msg, &l, err);
	if (r < 0) {
		json_object_put(l.tags);
		return sb_err_wrap(err, "Loading images from stdin");
	}
	o = json_object_new_object();
	json_object_object_add(o, "loaded", l.tags);
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	                                           JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return fflush(stdout) == 0 ? 0 : sb_err_set(err, errno, "stdout: %s", strerror(errno));
}

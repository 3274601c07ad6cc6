/* SPDX-License-Identifier: MIT */
/*
 * docker_pure.c - the parts of the transport that do no I/O: DOCKER_HOST
 * parsing, API version negotiation, label filters and the 8-byte stream
 * framing (docker.h).
 */
#include "docker.h"

#include <ctype.h>
#include <json-c/json.h>

#define DOCKER_DEFAULT_HOST "unix:///var/run/docker.sock"

int docker_api_compare(const char *a, const char *b)
{
	while (*a || *b) {
		char *ea, *eb;
		unsigned long x = strtoul(a, &ea, 10);
		unsigned long y = strtoul(b, &eb, 10);

		if (x != y)
			return x < y ? -1 : 1;
		a = ea + (*ea == '.');
		b = eb + (*eb == '.');
		if ((*a && !isdigit((unsigned char)*a)) || (*b && !isdigit((unsigned char)*b)))
			return strcmp(a, b);
	}
	return 0;
}

static bool docker_api_valid(const char *v)
{
	size_t n = strspn(v, "0123456789");

	return n > 0 && n < 6 && v[n] == '.' &&
	       strspn(v + n + 1, "0123456789") == strlen(v + n + 1) && v[n + 1] && strlen(v) < 16;
}

int docker_api_negotiate(const char *server_max, const char *server_min, char *out,
                         struct sb_err *err)
{
	const char *v;

	if (!server_max)
		server_max = "1.24"; /* no Api-Version header: what Docker assumes */
	if (!docker_api_valid(server_max))
		return sb_err_set(err, EPROTO,
		                  "Docker daemon reports a malformed API version \"%s\"",
		                  server_max);
	v = docker_api_compare(server_max, DOCKER_API_MAX) < 0 ? server_max : DOCKER_API_MAX;
	if (docker_api_compare(v, DOCKER_API_MIN) < 0)
		return sb_err_set(err, ENOTSUP,
		                  "Docker daemon speaks API %s, but slurmbox needs at least %s "
		                  "(Docker 19.03 or newer): upgrade Docker",
		                  v, DOCKER_API_MIN);
	if (server_min && docker_api_valid(server_min) && docker_api_compare(v, server_min) < 0)
		return sb_err_set(
		    err, ENOTSUP,
		    "Docker daemon requires API %s or newer, but slurmbox speaks at most %s: "
		    "use an older Docker or a newer slurmbox",
		    server_min, v);
	snprintf(out, 16, "%s", v);
	return 0;
}

int docker_host_parse(const char *host, char *path, size_t size, struct sb_err *err)
{
	const char *p;

	if (!host || !*host)
		host = DOCKER_DEFAULT_HOST;
	if (!strncmp(host, "tcp://", 6) || !strncmp(host, "ssh://", 6))
		return sb_err_input(
		    err,
		    "DOCKER_HOST=\"%s\" is not supported yet: use unix:///path for a "
		    "local daemon, or slurmbox --hosts for other machines",
		    host);
	if (strncmp(host, "unix://", 7) != 0)
		return sb_err_input(
		    err,
		    "DOCKER_HOST=\"%s\" is not supported: use unix:///path (default "
		    "%s), or slurmbox --hosts for other machines",
		    host, DOCKER_DEFAULT_HOST);
	p = host + 7;
	if (*p != '/')
		return sb_err_input(err,
		                    "DOCKER_HOST=\"%s\" needs an absolute socket path, "
		                    "e.g. unix:///var/run/docker.sock",
		                    host);
	if (strlen(p) > 107 || strlen(p) >= size)
		return sb_err_input(err,
		                    "DOCKER_HOST=\"%s\": a Unix socket path has at most 107 "
		                    "bytes",
		                    host);
	snprintf(path, size, "%s", p);
	return 0;
}

char *docker_filters_label(const char *const *labels, size_t n)
{
	struct json_object *f = json_object_new_object();
	struct json_object *a = json_object_new_array();
	char *r;

	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(labels[i]));
	json_object_object_add(f, "label", a);
	r = docker_escape(json_object_to_json_string_ext(f, JSON_C_TO_STRING_PLAIN |
	                                                        JSON_C_TO_STRING_NOSLASHESCAPE),
	                  false);
	json_object_put(f);
	return r;
}

int docker_demux_feed(struct docker_demux *dm, const char *buf, size_t len, docker_frame_fn fn,
                      void *arg)
{
	while (len) {
		if (dm->hdr_len < sizeof(dm->hdr)) {
			size_t take = sizeof(dm->hdr) - dm->hdr_len;

			if (take > len)
				take = len;
			memcpy(dm->hdr + dm->hdr_len, buf, take);
			dm->hdr_len += take;
			buf += take;
			len -= take;
			if (dm->hdr_len < sizeof(dm->hdr))
				break;
			if (dm->hdr[0] > 3 || dm->hdr[1] || dm->hdr[2] || dm->hdr[3])
				return -EPROTO;
			dm->stream = dm->hdr[0];
			dm->remaining = (uint32_t)dm->hdr[4] << 24 | (uint32_t)dm->hdr[5] << 16 |
			                (uint32_t)dm->hdr[6] << 8 | dm->hdr[7];
			if (!dm->remaining)
				dm->hdr_len = 0;
			continue;
		}
		size_t take = len < dm->remaining ? len : dm->remaining;
		int r = fn(dm->stream, buf, take, arg);

		if (r < 0)
			return r;
		buf += take;
		len -= take;
		dm->remaining -= (uint32_t)take;
		if (!dm->remaining)
			dm->hdr_len = 0;
	}
	return 0;
}

/* SPDX-License-Identifier: MIT */
#include "spec_json.h"
#include "../util/json.h"
#include "state.h"

#include <json-c/printbuf.h>
#include <limits.h>

static struct json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static struct json_object *jip(uint32_t a)
{
	char buf[16];

	return a ? json_object_new_string(compose_ipv4_format(a, buf)) : NULL;
}

static const char *const net_modes[] = {
    [COMPOSE_NET_BRIDGE] = "bridge",
    [COMPOSE_NET_MACVLAN] = "macvlan",
    [COMPOSE_NET_IPVLAN] = "ipvlan",
};

struct json_object *spec_json_from(const struct spec_doc *doc)
{
	const struct compose_spec *s = &doc->spec;
	struct json_object *o = json_object_new_object();
	struct json_object *user = json_object_new_object();
	struct json_object *hosts = json_object_new_array();
	struct json_object *ips = json_object_new_array();
	char cidr[32];

	json_object_object_add(o, "cluster", jstr(s->cluster));
	json_object_object_add(o, "generation", json_object_new_int64(doc->generation));
	json_object_object_add(o, "workers", json_object_new_int((int)s->workers));
	json_object_object_add(o, "home", jstr(s->home_path));
	json_object_object_add(o, "key_path", jstr(s->key_path));
	json_object_object_add(user, "name", jstr(s->user.name));
	json_object_object_add(user, "uid", json_object_new_int64(s->user.uid));
	json_object_object_add(user, "gid", json_object_new_int64(s->user.gid));
	json_object_object_add(o, "user", user);
	if (s->release)
		json_object_object_add(o, "release", jstr(s->release));
	json_object_object_add(o, "image_master", jstr(s->image_master));
	json_object_object_add(o, "image_worker", jstr(s->image_worker));
	json_object_object_add(o, "image_base", jstr(doc->image_base));
	json_object_object_add(o, "network", jstr(net_modes[s->net_mode]));
	json_object_object_add(o, "subnet", jstr(compose_cidr_format(&s->subnet, cidr)));
	json_object_object_add(o, "gateway", jip(s->gateway));
	json_object_object_add(o, "ip_range", jstr(doc->ip_range));
	json_object_object_add(o, "no_master_worker", json_object_new_boolean(s->no_master_worker));
	for (size_t i = 0; i < s->n_hosts; i++) {
		struct json_object *h = json_object_new_object();

		json_object_object_add(h, "name", jstr(s->hosts[i].name));
		json_object_object_add(h, "ncpus", json_object_new_int((int)s->hosts[i].ncpus));
		json_object_object_add(h, "mem_mb",
		                       json_object_new_int64((int64_t)s->hosts[i].mem_mb));
		json_object_object_add(h, "arch", jstr(s->hosts[i].arch));
		if (doc->lan) {
			json_object_object_add(h, "parent", jstr(doc->lan[i].parent));
			json_object_object_add(h, "shim", jip(doc->lan[i].shim));
			json_object_object_add(h, "addr", jip(doc->lan[i].addr));
		}
		json_object_array_add(hosts, h);
	}
	json_object_object_add(o, "hosts", hosts);
	for (size_t i = 0; i < s->n_node_ips; i++)
		json_object_array_add(ips, jip(s->node_ips[i]));
	json_object_object_add(o, "node_ips", ips);
	if (s->node_numbers) {
		struct json_object *nums = json_object_new_array();

		for (size_t i = 0; i < s->n_node_numbers; i++)
			json_object_array_add(nums, json_object_new_int((int)s->node_numbers[i]));
		json_object_object_add(o, "node_numbers", nums);
	}
	return o;
}

static int64_t get_int(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_int))
		return json_object_get_int64(v);
	return -1;
}

/* An integer member from 0 to max; missing, of another type or out of range: 0, which
 * validation refuses where it matters (workers, CPUs, memory, uid, gid). */
static uint64_t get_uint(struct json_object *o, const char *key, uint64_t max)
{
	int64_t v = get_int(o, key);

	return v < 0 || (uint64_t)v > max ? 0 : (uint64_t)v;
}

static int get_ip(struct json_object *o, const char *key, uint32_t *out, struct sb_err *err)
{
	const char *s = util_json_str(o, key);

	*out = 0;
	return s ? compose_ipv4_parse(key, s, out, err) : 0;
}

int spec_json_to(struct json_object *o, struct spec_doc *doc, struct sb_err *err)
{
	struct compose_spec *s = &doc->spec;
	struct json_object *user, *hosts, *ips, *v;
	const char *net;
	int ret;

	memset(doc, 0, sizeof(*doc));
	if (!json_object_is_type(o, json_type_object) || !util_json_str(o, "cluster"))
		return sb_err_set(err, EINVAL, "Cluster spec: not a JSON object with a cluster");
	/* paths (the state directory, lock files) are built from the name: checked first */
	ret = compose_cluster_name_check(util_json_str(o, "cluster"), err);
	if (ret < 0)
		return sb_err_wrap(err, "Cluster spec");
	s->cluster = xstrdup(util_json_str(o, "cluster"));
	doc->generation = (unsigned)get_uint(o, "generation", UINT_MAX);
	s->workers = (unsigned)get_uint(o, "workers", UINT_MAX);
	s->home_path = xstrdup(util_json_str(o, "home"));
	s->key_path = xstrdup(util_json_str(o, "key_path"));
	if (json_object_object_get_ex(o, "user", &user)) {
		s->user.name = xstrdup(util_json_str(user, "name"));
		s->user.uid = (uint32_t)get_uint(user, "uid", UINT32_MAX);
		s->user.gid = (uint32_t)get_uint(user, "gid", UINT32_MAX);
	}
	s->release = xstrdup(util_json_str(o, "release"));
	s->image_master = xstrdup(util_json_str(o, "image_master"));
	s->image_worker = xstrdup(util_json_str(o, "image_worker"));
	doc->image_base = xstrdup(util_json_str(o, "image_base"));
	doc->ip_range = xstrdup(util_json_str(o, "ip_range"));
	net = util_json_str(o, "network");
	s->net_mode = COMPOSE_NET_BRIDGE;
	for (size_t i = 0; net && i < ARRAY_SIZE(net_modes); i++)
		if (strcmp(net, net_modes[i]) == 0)
			s->net_mode = (enum compose_net_mode)i;
	if (util_json_str(o, "subnet")) {
		ret = compose_cidr_parse("subnet", util_json_str(o, "subnet"), &s->subnet, err);
		if (ret < 0)
			return ret;
	}
	ret = get_ip(o, "gateway", &s->gateway, err);
	if (ret < 0)
		return ret;
	s->no_master_worker =
	    json_object_object_get_ex(o, "no_master_worker", &v) && json_object_get_boolean(v);
	if (json_object_object_get_ex(o, "hosts", &hosts) &&
	    json_object_is_type(hosts, json_type_array)) {
		s->n_hosts = json_object_array_length(hosts);
		s->hosts = xcalloc(s->n_hosts, sizeof(*s->hosts));
		if (s->net_mode != COMPOSE_NET_BRIDGE)
			doc->lan = xcalloc(s->n_hosts, sizeof(*doc->lan));
		for (size_t i = 0; i < s->n_hosts; i++) {
			struct json_object *h = json_object_array_get_idx(hosts, i);

			s->hosts[i].name = xstrdup(util_json_str(h, "name"));
			s->hosts[i].ncpus = (unsigned)get_uint(h, "ncpus", UINT_MAX);
			s->hosts[i].mem_mb = get_uint(h, "mem_mb", INT64_MAX);
			s->hosts[i].arch = xstrdup(util_json_str(h, "arch"));
			if (!doc->lan)
				continue;
			doc->lan[i].parent = xstrdup(util_json_str(h, "parent"));
			ret = get_ip(h, "shim", &doc->lan[i].shim, err);
			if (ret == 0)
				ret = get_ip(h, "addr", &doc->lan[i].addr, err);
			if (ret < 0)
				return ret;
		}
	}
	if (json_object_object_get_ex(o, "node_ips", &ips) &&
	    json_object_is_type(ips, json_type_array) && json_object_array_length(ips)) {
		size_t k = json_object_array_length(ips);

		doc->node_ips = xcalloc(k, sizeof(*doc->node_ips));
		for (size_t i = 0; i < k; i++) {
			ret = compose_ipv4_parse(
			    "node_ips", json_object_get_string(json_object_array_get_idx(ips, i)),
			    &doc->node_ips[i], err);
			if (ret < 0)
				return ret;
		}
		s->node_ips = doc->node_ips;
		s->n_node_ips = k;
	}
	if (json_object_object_get_ex(o, "node_numbers", &ips) &&
	    json_object_is_type(ips, json_type_array) && json_object_array_length(ips)) {
		size_t k = json_object_array_length(ips);

		doc->node_numbers = xcalloc(k, sizeof(*doc->node_numbers));
		for (size_t i = 0; i < k; i++) {
			struct json_object *num = json_object_array_get_idx(ips, i);
			int64_t n = json_object_get_int64(num);

			if (!json_object_is_type(num, json_type_int) || n < 0 ||
			    n > COMPOSE_MAX_NUMBER)
				return sb_err_set(err, EINVAL,
				                  "node_numbers: a number from 0 to %d expected",
				                  COMPOSE_MAX_NUMBER);
			doc->node_numbers[i] = (unsigned)n;
		}
		s->node_numbers = doc->node_numbers;
		s->n_node_numbers = k;
	}
	return 0;
}

void spec_fields_free(struct compose_spec *s)
{
	free(s->cluster);
	free(s->home_path);
	free(s->key_path);
	free(s->user.name);
	free(s->release);
	free(s->image_master);
	free(s->image_worker);
	for (size_t i = 0; i < s->n_hosts; i++) {
		free(s->hosts[i].name);
		free(s->hosts[i].arch);
	}
	free(s->hosts);
}

void spec_doc_free(struct spec_doc *doc)
{
	if (!doc)
		return;
	for (size_t i = 0; doc->lan && i < doc->spec.n_hosts; i++)
		free(doc->lan[i].parent);
	spec_fields_free(&doc->spec);
	free(doc->lan);
	free(doc->node_ips);
	free(doc->node_numbers);
	free(doc->ip_range);
	free(doc->image_base);
	memset(doc, 0, sizeof(*doc));
}

void spec_json_keep_newest(struct json_object *o, struct json_object *spec)
{
	struct json_object *old;

	if (!spec)
		return;
	if (json_object_object_get_ex(o, "spec", &old) &&
	    json_object_get_int64(json_object_object_get(old, "generation")) >
	        json_object_get_int64(json_object_object_get(spec, "generation"))) {
		json_object_put(spec);
		return;
	}
	json_object_object_add(o, "spec", spec);
}

/* ---- the agent's input: the spec and the cluster's munge key ---- */

char *spec_json_input_encode(const struct spec_doc *doc, const unsigned char *key, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	static const char head[] = "{\"spec\":", mid[] = ",\"key\":\"", tail[] = "\"}";
	struct json_object *o = spec_json_from(doc);
	const char *spec = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	size_t n = strlen(spec);
	char *s = xmalloc(sizeof(head) - 1 + n + sizeof(mid) - 1 + 2 * len + sizeof(tail));
	char *w = s;

	w = mempcpy(w, head, sizeof(head) - 1);
	w = mempcpy(w, spec, n);
	w = mempcpy(w, mid, sizeof(mid) - 1);
	for (size_t i = 0; i < len; i++) {
		*w++ = digits[key[i] >> 4];
		*w++ = digits[key[i] & 15];
	}
	memcpy(w, tail, sizeof(tail));
	json_object_put(o);
	return s;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

/* Exactly 2 hex digits a byte, STATE_KEY_MIN to cap bytes. */
static int hex_decode(const char *hex, size_t n, unsigned char *out, size_t cap, size_t *len)
{
	if (n % 2 || n / 2 > cap || n / 2 < STATE_KEY_MIN)
		return -EINVAL;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	*len = n / 2;
	return 0;
}

/*
 * json-c gathers each string it parses in its tokener's printbuf, which
 * realloc grows, freeing the old copy as it is. Sized for the whole text
 * first, it never moves, and it is wiped before it is freed; the string
 * objects are wiped by the caller.
 */
static struct json_object *json_parse_secret(const char *text, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;

	if (!tok || len >= INT_MAX / 2 || printbuf_memset(tok->pb, 0, 0, (int)len + 1) < 0)
		sb_oom();
	printbuf_reset(tok->pb);
	o = json_tokener_parse_ex(tok, text, (int)len);
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	explicit_bzero(tok->pb->buf, (size_t)tok->pb->size);
	json_tokener_free(tok);
	return o;
}

int spec_json_input_decode(const char *text, size_t len, struct spec_doc *doc, unsigned char *key,
                           size_t cap, size_t *key_len, struct sb_err *err)
{
	struct json_object *o = json_parse_secret(text, len), *spec, *k = NULL;
	int ret;

	if (!o || !json_object_object_get_ex(o, "spec", &spec)) {
		json_object_put(o);
		return sb_err_set(err, EINVAL, "The control machine sent no cluster spec");
	}
	ret = spec_json_to(spec, doc, err);
	if (json_object_object_get_ex(o, "key", &k) && !json_object_is_type(k, json_type_string))
		k = NULL;
	if (ret == 0 && key &&
	    (!k || hex_decode(json_object_get_string(k), (size_t)json_object_get_string_len(k), key,
	                      cap, key_len) < 0))
		ret = sb_err_set(err, EINVAL, "The control machine sent no munge key");
	if (k) /* json-c's copy of the key text */
		explicit_bzero((char *)json_object_get_string(k),
		               (size_t)json_object_get_string_len(k));
	json_object_put(o);
	return ret;
}

int spec_doc_copy(struct spec_doc *dst, const struct spec_doc *src, struct sb_err *err)
{
	struct json_object *o = spec_json_from(src);
	int ret = spec_json_to(o, dst, err);

	json_object_put(o);
	return ret;
}

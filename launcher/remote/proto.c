/* SPDX-License-Identifier: MIT */
/*
 * proto.c - the schemas of the agent's answers (proto.h), and their check.
 * A member not in a schema is let through unread: an older control machine
 * may meet a newer agent's extra member.
 */
#include "proto.h"

#include <inttypes.h>
#include <json-c/json.h>

enum kind { K_STR, K_BOOL, K_INT, K_OBJ, K_ARR, K_ANY_OBJ };

struct field {
	const char *key; /* NULL ends a schema */
	enum kind kind;
	bool required;
	int64_t min, max;        /* K_INT */
	enum kind elem;          /* K_ARR: the kind of each element */
	const struct field *sub; /* K_OBJ, or K_ARR of K_OBJ: their members */
};

#define STR(k)                                 \
	{                                      \
		k, K_STR, false, 0, 0, 0, NULL \
	}
#define STR_REQ(k)                            \
	{                                     \
		k, K_STR, true, 0, 0, 0, NULL \
	}
#define BOOL(k)                                 \
	{                                       \
		k, K_BOOL, false, 0, 0, 0, NULL \
	}
#define BOOL_REQ(k)                            \
	{                                      \
		k, K_BOOL, true, 0, 0, 0, NULL \
	}
#define INT(k, lo, hi)                           \
	{                                        \
		k, K_INT, false, lo, hi, 0, NULL \
	}
#define INT_REQ(k, lo, hi)                      \
	{                                       \
		k, K_INT, true, lo, hi, 0, NULL \
	}
#define OBJ(k, s)                           \
	{                                   \
		k, K_OBJ, false, 0, 0, 0, s \
	}
#define OBJ_REQ(k, s)                      \
	{                                  \
		k, K_OBJ, true, 0, 0, 0, s \
	}
#define ANY_OBJ(k)                                 \
	{                                          \
		k, K_ANY_OBJ, false, 0, 0, 0, NULL \
	}
#define ARR_OF(k, e, s)                     \
	{                                   \
		k, K_ARR, false, 0, 0, e, s \
	}
#define ARR_REQ(k, e, s)                   \
	{                                  \
		k, K_ARR, true, 0, 0, e, s \
	}
#define END                                       \
	{                                         \
		NULL, K_STR, false, 0, 0, 0, NULL \
	}

#define COUNT_MAX (1 << 20)

/* ---- facts ---- */

static const struct field lan_network[] = {
    STR("name"), STR("driver"), STR("parent"), STR("subnet"), STR("cluster"), END,
};
static const struct field taken[] = {
    STR_REQ("kind"),
    STR_REQ("name"),
    STR("owner"),
    END,
};
static const struct field bridge[] = {
    STR("subnet"),
    ARR_OF("used", K_STR, NULL),
    STR("error"),
    END,
};
static const struct field docker[] = {
    STR("error"),
    STR("api"),
    STR("server"),
    INT("ncpus", 0, COUNT_MAX),
    INT("mem_mb", 0, INT64_C(1) << 40),
    STR("arch"),
    ANY_OBJ("images"),
    ARR_OF("lan_networks", K_OBJ, lan_network),
    OBJ("bridge", bridge),
    ARR_OF("taken", K_OBJ, taken),
    END,
};
static const struct field uplink[] = {
    STR("error"),   STR("ifname"),    STR("addr"), INT("prefix", 0, 32),
    STR("gateway"), BOOL("wireless"), END,
};
static const struct field home[] = {
    STR("path"),
    STR("error"),
    END,
};
static const struct field cluster_node[] = {
    STR_REQ("node"), STR("role"), STR("state"), STR("ip"), STR("hash"), END,
};
static const struct field cluster[] = {
    ARR_REQ("nodes", K_OBJ, cluster_node),
    ANY_OBJ("spec"),
    END,
};
static const struct field facts[] = {
    STR_REQ("version"),
    STR("self"),
    STR_REQ("arch"),
    STR("hostname"),
    INT_REQ("euid", 0, UINT32_MAX),
    BOOL("net_admin"),
    INT_REQ("time", 0, INT64_MAX),
    OBJ_REQ("docker", docker),
    OBJ_REQ("uplink", uplink),
    OBJ("home", home),
    OBJ("cluster", cluster),
    END,
};

/* ---- the others ---- */

static const struct field probe_answer[] = {
    STR_REQ("ip"),
    BOOL_REQ("in_use"),
    STR("mac"),
    END,
};
static const struct field undo_item[] = {
    STR_REQ("kind"),
    STR_REQ("id"),
    BOOL("maybe"),
    END,
};
static const struct field report[] = {
    BOOL_REQ("ok"),
    ARR_REQ("created", K_OBJ, undo_item),
    INT("started", 0, COUNT_MAX),
    INT("removed", 0, COUNT_MAX),
    BOOL("shim"),
    BOOL("key"),
    BOOL("dir"),
    BOOL("rolled_back"),
    BOOL("kept"),
    END,
};
static const struct field undo[] = {
    INT_REQ("removed", 0, COUNT_MAX),
    INT_REQ("failed", 0, COUNT_MAX),
    END,
};
static const struct field down[] = {
    INT_REQ("containers", 0, COUNT_MAX),
    INT_REQ("networks", 0, COUNT_MAX),
    INT_REQ("volumes", 0, COUNT_MAX),
    INT_REQ("links", 0, COUNT_MAX),
    END,
};
static const struct field check_node[] = {
    STR_REQ("node"), STR("container"),  STR("state"), STR("hostname"),    STR("conf_path"),
    STR("conf"),     STR("conf_error"), STR("munge"), STR("munge_error"), END,
};
static const struct field check_docker[] = {
    STR("server"),
    STR("api"),
    END,
};
static const struct field check[] = {
    ARR_REQ("nodes", K_OBJ, check_node),
    OBJ("docker", check_docker),
    END,
};

static const char *kind_name(enum kind k)
{
	switch (k) {
	case K_STR:
		return "a string";
	case K_BOOL:
		return "true or false";
	case K_INT:
		return "an integer";
	case K_ARR:
		return "a list";
	case K_OBJ:
	case K_ANY_OBJ:
		break;
	}
	return "an object";
}

static bool kind_is(struct json_object *v, enum kind k)
{
	switch (k) {
	case K_STR:
		return json_object_is_type(v, json_type_string);
	case K_BOOL:
		return json_object_is_type(v, json_type_boolean);
	case K_INT:
		return json_object_is_type(v, json_type_int);
	case K_ARR:
		return json_object_is_type(v, json_type_array);
	case K_OBJ:
	case K_ANY_OBJ:
		break;
	}
	return json_object_is_type(v, json_type_object);
}

/* What v is, for the message (cut short). */
static const char *shown(struct json_object *v, char *buf, size_t size)
{
	const char *s = v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN) : "null";

	snprintf(buf, size, "%.40s%s", s, strlen(s) > 40 ? "…" : "");
	return buf;
}

static int check_obj(struct json_object *o, const struct field *schema, const char *path,
                     struct sb_err *err);

static int check_value(struct json_object *v, enum kind k, const struct field *f,
                       const struct field *sub, const char *path, struct sb_err *err)
{
	char buf[64];

	if (!kind_is(v, k))
		return sb_err_set(err, EPROTO, "%s: %s expected, got %s", path, kind_name(k),
		                  shown(v, buf, sizeof(buf)));
	if (k == K_INT && f) {
		int64_t n = json_object_get_int64(v);
		if (n < f->min || n > f->max)
			return sb_err_set(err, EPROTO,
			                  "%s: an integer from %" PRId64 " to %" PRId64
			                  " expected, got %s",
			                  path, f->min, f->max, shown(v, buf, sizeof(buf)));
	}
	if (k == K_OBJ && sub)
		return check_obj(v, sub, path, err);
	if (k == K_ARR && f) {
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			_cleanup_free_ char *p = xasprintf("%s[%zu]", path, i);
			int ret = check_value(json_object_array_get_idx(v, i), f->elem, NULL,
			                      f->sub, p, err);
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

static int check_obj(struct json_object *o, const struct field *schema, const char *path,
                     struct sb_err *err)
{
	for (const struct field *f = schema; f->key; f++) {
		_cleanup_free_ char *p = *path ? xasprintf("%s.%s", path, f->key) : xstrdup(f->key);
		struct json_object *v;
		int ret;

		if (!json_object_object_get_ex(o, f->key, &v) || !v) {
			if (f->required)
				return sb_err_set(err, EPROTO, "%s: missing", p);
			continue;
		}
		ret = check_value(v, f->kind, f, f->sub, p, err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int proto_check(enum proto_msg msg, struct json_object *o, struct sb_err *err)
{
	static const struct {
		const char *name;
		enum kind kind;
		const struct field *schema;
	} msgs[] = {
	    [PROTO_FACTS] = {"facts", K_OBJ, facts},
	    [PROTO_PROBE] = {"probe", K_ARR, probe_answer},
	    [PROTO_REPORT] = {"apply report", K_OBJ, report},
	    [PROTO_UNDO] = {"undo", K_OBJ, undo},
	    [PROTO_DOWN] = {"down", K_OBJ, down},
	    [PROTO_CHECK] = {"check", K_OBJ, check},
	};
	const struct field whole = {msgs[msg].name, msgs[msg].kind,  true, 0, 0,
	                            K_OBJ,          msgs[msg].schema};

	return check_value(o, whole.kind, &whole, whole.sub, msgs[msg].name, err);
}

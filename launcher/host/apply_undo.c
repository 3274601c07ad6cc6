/* SPDX-License-Identifier: MIT */
/*
 * apply_undo.c - the list of objects one `up` created on one engine, newest
 * last: removed newest first on a rollback, and carried as JSON from a
 * host's `agent apply` to the control machine and back to `agent undo`.
 */
#include "apply.h"
#include "../docker/docker_api.h"
#include "../util/json.h"
#include "../util/progress.h"

static const char *const apply_undo_kinds[] = {
    [APPLY_UNDO_CONTAINER] = "container",
    [APPLY_UNDO_NETWORK] = "network",
    [APPLY_UNDO_VOLUME] = "volume",
};

void apply_undo_push(struct apply_undo *u, enum apply_undo_kind kind, const char *id)
{
	u->items = xreallocarray(u->items, u->n + 1, sizeof(*u->items));
	u->items[u->n].kind = kind;
	u->items[u->n].id = xstrdup(id);
	u->items[u->n].maybe = false;
	u->n++;
}

void apply_undo_push_maybe(struct apply_undo *u, enum apply_undo_kind kind, const char *name,
                           const char *cluster)
{
	apply_undo_push(u, kind, name);
	u->items[u->n - 1].maybe = true;
	if (!u->cluster)
		u->cluster = xstrdup(cluster);
}

void apply_undo_free(struct apply_undo *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->n; i++)
		free(u->items[i].id);
	free(u->items);
	free(u->cluster);
	memset(u, 0, sizeof(*u));
}

/* Does the object a `maybe` item names exist with the cluster's label? */
static bool undo_maybe_ours(struct docker *d, const struct apply_undo *u, size_t i)
{
	_cleanup_free_ char *owner = NULL;
	struct sb_err ignored = SB_ERR_INIT;
	bool exists;

	if (!u->cluster ||
	    apply_object_owner(d, u->items[i].kind, u->items[i].id, &exists, &owner, &ignored) < 0)
		return false;
	return exists && owner && strcmp(owner, u->cluster) == 0;
}

size_t apply_undo_run(struct docker *d, const struct apply_undo *u)
{
	size_t failed = 0;

	/* an interrupt asked for this: the removals themselves must go through */
	docker_abort_ignore(d);
	for (size_t i = u->n; i-- > 0;) {
		struct sb_err err = SB_ERR_INIT;
		int ret = 0;

		if (u->items[i].maybe && !undo_maybe_ours(d, u, i))
			continue;
		switch (u->items[i].kind) {
		case APPLY_UNDO_CONTAINER:
			ret = docker_container_remove(d, u->items[i].id, &err);
			break;
		case APPLY_UNDO_NETWORK:
			ret = docker_network_remove(d, u->items[i].id, &err);
			break;
		case APPLY_UNDO_VOLUME:
			ret = docker_volume_remove(d, u->items[i].id, &err);
			break;
		}
		/* gone already (a container removed with its --rm, a race) is fine */
		if (ret < 0 && ret != -ENOENT) {
			util_warn("Rolling back: %s", err.msg);
			failed++;
		}
	}
	return failed;
}

struct json_object *apply_undo_to_json(const struct apply_undo *u)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < u->n; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "kind",
		                       json_object_new_string(apply_undo_kinds[u->items[i].kind]));
		json_object_object_add(o, "id", json_object_new_string(u->items[i].id));
		if (u->items[i].maybe)
			json_object_object_add(o, "maybe", json_object_new_boolean(true));
		json_object_array_add(arr, o);
	}
	return arr;
}

int apply_undo_from_json(struct json_object *arr, struct apply_undo *u, struct sb_err *err)
{
	if (!arr || !json_object_is_type(arr, json_type_array))
		return sb_err_set(err, EINVAL, "The list of created objects is not a JSON array");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);
		const char *kind = util_json_str(o, "kind"), *id = util_json_str(o, "id");
		size_t k = 0;

		while (k < ARRAY_SIZE(apply_undo_kinds) && kind &&
		       strcmp(kind, apply_undo_kinds[k]))
			k++;
		if (!kind || !id || !*id || k == ARRAY_SIZE(apply_undo_kinds))
			return sb_err_set(err, EINVAL, "Created object %zu: bad kind or id", i);
		apply_undo_push(u, (enum apply_undo_kind)k, id);
		u->items[u->n - 1].maybe =
		    json_object_get_boolean(json_object_object_get(o, "maybe"));
	}
	return 0;
}

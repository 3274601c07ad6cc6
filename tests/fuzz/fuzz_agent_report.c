/* SPDX-License-Identifier: MIT */
/*
 * The report of an agent apply, as `agent undo` decodes it from stdin:
 * {"created":[{"kind":…,"id":…,"maybe":bool},…],"shim":…,"key":…,"dir":…}.
 * What decodes must encode back to the same list (apply_undo_to_json).
 */
#include "fuzz.h"
#include "../../launcher/host/apply.h"

#include <json-c/json.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *text = fuzz_str(data, size);
	struct json_object *r = json_tokener_parse(text), *v = NULL;
	struct apply_undo undo = {0}, again = {0};
	struct sb_err err = SB_ERR_INIT;

	if (!r)
		return 0;
	json_object_object_get_ex(r, "created", &v);
	if (apply_undo_from_json(v, &undo, &err) == 0) {
		struct json_object *enc = apply_undo_to_json(&undo);

		if (apply_undo_from_json(enc, &again, &err) < 0 || again.n != undo.n)
			abort(); /* what we encode, we must decode */
		for (size_t i = 0; i < undo.n; i++)
			if (again.items[i].kind != undo.items[i].kind ||
			    strcmp(again.items[i].id, undo.items[i].id) != 0 ||
			    again.items[i].maybe != undo.items[i].maybe)
				abort();
		json_object_put(enc);
	}
	/* agent undo reads these three as booleans, present or not */
	(void)json_object_get_boolean(json_object_object_get(r, "shim"));
	(void)json_object_get_boolean(json_object_object_get(r, "key"));
	(void)json_object_get_boolean(json_object_object_get(r, "dir"));
	apply_undo_free(&undo);
	apply_undo_free(&again);
	json_object_put(r);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * The schemas of the agent's answers (remote/proto.c): any JSON, checked
 * as each kind of answer, never crashes; a document that fits once fits
 * again (the check changes nothing).
 */
#include "fuzz.h"
#include "../../launcher/remote/proto.h"

#include <json-c/json.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *text = fuzz_str(data, size);
	struct json_object *o = json_tokener_parse(text);

	if (!o)
		return 0;
	for (int m = PROTO_FACTS; m <= PROTO_CHECK; m++) {
		struct sb_err err = SB_ERR_INIT;

		if (proto_check((enum proto_msg)m, o, &err) == 0 &&
		    proto_check((enum proto_msg)m, o, &err) != 0)
			abort();
	}
	json_object_put(o);
	return 0;
}

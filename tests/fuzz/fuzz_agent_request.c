/* SPDX-License-Identifier: MIT */
/*
 * The agent's request decoder (spec_json_input_decode): the one line
 * {"spec":{...},"key":"hex"} that `agent apply` and `agent wait` read from
 * the control machine, decoded with and without a key as they do. A spec
 * that decodes is made a plan, as both verbs do next.
 */
#include "fuzz.h"
#include "../../launcher/cli/cli.h"
#include "../../launcher/host/spec_json.h"

static void decode(const char *text, size_t len, bool with_key)
{
	struct sb_err err = SB_ERR_INIT;
	struct spec_doc doc = {0};
	unsigned char key[STATE_KEY_MAX];
	size_t key_len = 0;

	if (spec_json_input_decode(text, len, &doc, with_key ? key : NULL, sizeof(key), &key_len,
	                           &err) == 0) {
		_cleanup_plan_ struct compose_plan *plan = NULL;

		if (with_key && (key_len < STATE_KEY_MIN || key_len > sizeof(key)))
			abort(); /* the decoder promised a munge-sized key */
		compose_plan_build(&doc.spec, &plan, &err);
	}
	spec_doc_free(&doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *text = fuzz_str(data, size);

	decode(text, strlen(text), true);
	decode(text, strlen(text), false);
	return 0;
}

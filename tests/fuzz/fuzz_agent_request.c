/* SPDX-License-Identifier: MIT */
/*
 * The agent's request decoder (agent_request_decode): the one line
 * {"spec":{...},"key":"hex"} that `agent apply` and `agent wait` read from
 * the control machine, decoded with and without a key as they do. A spec
 * that decodes is made a plan, as both verbs do next.
 */
#include "fuzz.h"
#include "../../launcher/agent.h"
#include "../../launcher/spec_json.h"

static void decode(const char *text, bool with_key)
{
	struct sb_err err = SB_ERR_INIT;
	struct spec_doc doc;
	unsigned char key[AGENT_KEY_MAX];
	size_t key_len = 0;

	if (agent_request_decode(text, &doc, with_key ? key : NULL, &key_len, &err) == 0) {
		_cleanup_plan_ struct compose_plan *plan = NULL;

		if (with_key && (key_len < 32 || key_len > sizeof(key)))
			abort(); /* the decoder promised a munge-sized key */
		compose_plan_build(&doc.spec, &plan, &err);
	}
	spec_doc_free(&doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *text = fuzz_str(data, size);

	decode(text, true);
	decode(text, false);
	return 0;
}

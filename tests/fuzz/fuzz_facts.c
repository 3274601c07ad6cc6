/* SPDX-License-Identifier: MIT */
/*
 * The facts each host's agent sends the control machine (`agent facts`,
 * {"docker":{...},"uplink":{...},"net_admin":…,"time":…,"cluster":{...}}),
 * as multi_preflight reads them: the input is a JSON array, one element per
 * host (at most four).
 */
#include "fuzz.h"
#include "../../launcher/cluster/multi_int.h"

#include <json-c/json.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const dests[] = {"h1", "h2", "h3", "h4"};
	_cleanup_free_ char *text = fuzz_str(data, size);
	struct json_object *all = json_tokener_parse(text);
	struct multi_host hosts[4];
	struct sb_err err = SB_ERR_INIT;
	size_t n;

	if (!all || !json_object_is_type(all, json_type_array)) {
		json_object_put(all);
		return 0;
	}
	n = json_object_array_length(all);
	n = n < ARRAY_SIZE(hosts) ? n : ARRAY_SIZE(hosts);
	memset(hosts, 0, sizeof(hosts));
	for (size_t i = 0; i < n; i++) {
		hosts[i].dest = dests[i];
		hosts[i].facts = json_object_array_get_idx(all, i);
	}
	/* on the LAN, and on a bridge (one host's engine only) */
	(void)multi_preflight(hosts, n, "sbx", true, false, &err);
	(void)multi_preflight(hosts, n, "sbx", false, false, &err);
	json_object_put(all);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * The spec JSON decoder (spec_json_to), on any text: what a host's agent,
 * a container's io.slurmbox.spec label and the cluster record give it. A
 * spec that decodes goes on the way the agent takes it: validated, made a
 * plan, rendered, turned into Docker bodies, and encoded back.
 */
#include "fuzz.h"
#include "../../launcher/docker/docker_body.h"
#include "../../launcher/host/spec_json.h"

static void plan_use(const struct spec_doc *doc)
{
	struct sb_err err = SB_ERR_INIT;
	_cleanup_plan_ struct compose_plan *plan = NULL;

	if (compose_plan_build(&doc->spec, &plan, &err) < 0)
		return;
	free(compose_render_slurm_conf(plan));
	free(compose_render_cgroup_conf(plan));
	free(compose_render_hosts(plan));
	free(compose_render_plan(plan));
	for (size_t i = 0; i < plan->n_nodes; i++)
		json_object_put(docker_body_container(plan, &plan->nodes[i], "1.41"));
	for (size_t i = 0; i < plan->n_volumes; i++)
		json_object_put(docker_body_volume_labels(plan, &plan->volumes[i]));
	json_object_put(
	    docker_body_network(plan, doc->lan ? doc->lan[0].parent : NULL, doc->ip_range, NULL));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *text = fuzz_str(data, size);
	struct json_object *o = json_tokener_parse(text);
	struct sb_err err = SB_ERR_INIT;
	struct spec_doc doc;

	if (!o)
		return 0;
	if (spec_json_to(o, &doc, &err) == 0) {
		struct json_object *again = spec_json_from(&doc);
		_cleanup_buf_ struct sb_buf diff = SB_BUF_INIT;

		compose_spec_diff(&doc.spec, &doc.spec, &diff);
		plan_use(&doc);
		json_object_put(again);
	}
	spec_doc_free(&doc);
	json_object_put(o);
	return 0;
}

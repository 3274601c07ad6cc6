/* SPDX-License-Identifier: MIT */
/*
 * apply_undo: what one run created on one host, as JSON from `agent apply`
 * to the control machine and back to `agent undo`: the same objects in the
 * same order (removed newest first), and bad input refused.
 */
#include "tap.h"
#include "../../launcher/host/apply.h"

static void test_roundtrip(void)
{
	struct apply_undo u = {0}, back = {0};
	struct sb_err err = SB_ERR_INIT;
	struct json_object *j;

	apply_undo_push(&u, APPLY_UNDO_NETWORK, "n1");
	apply_undo_push(&u, APPLY_UNDO_VOLUME, "sbx-home");
	apply_undo_push(&u, APPLY_UNDO_CONTAINER, "c1");
	j = apply_undo_to_json(&u);
	CHECK_STR(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN),
	          "[{\"kind\":\"network\",\"id\":\"n1\"},{\"kind\":\"volume\",\"id\":\"sbx-home\"},"
	          "{\"kind\":\"container\",\"id\":\"c1\"}]");
	CHECK_INT(apply_undo_from_json(j, &back, &err), 0);
	CHECK_INT((int)back.n, 3);
	for (size_t i = 0; i < back.n && i < u.n; i++) {
		CHECK_INT(back.items[i].kind, u.items[i].kind);
		CHECK_STR(back.items[i].id, u.items[i].id);
	}
	json_object_put(j);
	apply_undo_free(&u);
	apply_undo_free(&back);
	apply_undo_free(NULL);

	/* an interrupted create: by name, "maybe", with the cluster it must be labelled with */
	apply_undo_push_maybe(&u, APPLY_UNDO_NETWORK, "sbx-net", "sbx");
	CHECK_STR(u.cluster, "sbx");
	j = apply_undo_to_json(&u);
	CHECK_STR(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN),
	          "[{\"kind\":\"network\",\"id\":\"sbx-net\",\"maybe\":true}]");
	CHECK_INT(apply_undo_from_json(j, &back, &err), 0);
	CHECK(back.n == 1 && back.items[0].maybe);
	json_object_put(j);
	apply_undo_free(&u);
	apply_undo_free(&back);
}

static void test_bad_input(void)
{
	static const char *const bad[] = {"{}", "[{\"kind\":\"image\",\"id\":\"x\"}]",
	                                  "[{\"kind\":\"container\"}]",
	                                  "[{\"kind\":\"container\",\"id\":\"\"}]", "[7]"};
	struct sb_err err = SB_ERR_INIT;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct json_object *j = json_tokener_parse(bad[i]);
		struct apply_undo u = {0};

		CHECK(apply_undo_from_json(j, &u, &err) < 0);
		json_object_put(j);
		apply_undo_free(&u);
	}
	CHECK(apply_undo_from_json(NULL, &(struct apply_undo){0}, &err) < 0);
}

int main(void)
{
	TAP_RUN(test_roundtrip, test_bad_input);
}

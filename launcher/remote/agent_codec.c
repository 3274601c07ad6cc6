/* SPDX-License-Identifier: MIT */
/*
 * agent_codec.c - what an agent verb answers: one JSON document on stdout
 * (agent.h). Under agent.c and agent_apply.c alike.
 */
#include "agent.h"

#include <json-c/json.h>
#include <stdio.h>

void agent_json_print(struct json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	                                           JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

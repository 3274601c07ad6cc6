/* SPDX-License-Identifier: MIT */
/* json - getters for json-c objects that may lack a member. */
#ifndef SLURMBOX_UTIL_JSON_H
#define SLURMBOX_UTIL_JSON_H

#include <json-c/json.h>

/* A string member of a JSON object; NULL when absent or not a string. */
const char *util_json_str(struct json_object *o, const char *key);
/* A member of a JSON object (NULL o: none); NULL when absent. Not a new reference. */
struct json_object *util_json_get(struct json_object *o, const char *key);

#endif

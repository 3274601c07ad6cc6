/* SPDX-License-Identifier: MIT */
/*
 * spec_json - a compose spec as JSON, and back. The control machine sends
 * the whole spec to every host's agent; since compose is pure, each host
 * builds the very same plan from it and applies its own part. The master
 * container keeps it in its io.slurmbox.spec label, so a later `up` (from any
 * machine) finds the cluster's settings.
 */
#ifndef SLURMBOX_SPEC_JSON_H
#define SLURMBOX_SPEC_JSON_H

#include "../../compose/compose.h"
#include <json-c/json.h>

/* Per-host settings that are not part of the plan: where the LAN is. */
struct spec_lan {
	char *parent;  /* the host's LAN interface */
	uint32_t shim; /* the host's shim address (0: none) */
	uint32_t addr; /* the host's own address (reserved from Docker) */
};

struct spec_doc {
	struct compose_spec spec;
	uint32_t *node_ips;     /* owned; spec.node_ips points here */
	unsigned *node_numbers; /* owned; spec.node_numbers points here (NULL: a record
	                         * from before: the workers numbered 1.. in host order) */
	struct spec_lan *lan;   /* n = spec.n_hosts, or NULL in bridge mode */
	char *ip_range;         /* --ip-range as given, or NULL */
	char *image_base;       /* --image-base, or NULL */
	unsigned generation;    /* one more with every `up` that creates containers: the
	                       * newest spec label is the cluster's settings */
};

struct json_object *spec_json_from(const struct spec_doc *doc);
int spec_json_to(struct json_object *o, struct spec_doc *doc, struct sb_err *err);
void spec_doc_free(struct spec_doc *doc);
/* *dst (zeroed) becomes a deep copy of src, through the same JSON as the agent's. */
int spec_doc_copy(struct spec_doc *dst, const struct spec_doc *src, struct sb_err *err);
/* o["spec"] becomes `spec` (owned) unless it holds a newer generation already. */
void spec_json_keep_newest(struct json_object *o, struct json_object *spec);
/* Free the strings and hosts a spec owns (not node_ips, which spec_doc owns). */
void spec_fields_free(struct compose_spec *s);

/*
 * The one line every host's agent gets on stdin: {"spec":…,"key":"hex"}
 * (without the newline). The key (len bytes) goes straight into the string
 * returned, never through json-c: the caller wipes it before freeing it
 * (sb_free_secret), and no other copy is left.
 */
char *spec_json_input_encode(const struct spec_doc *doc, const unsigned char *key, size_t len);
/*
 * Its decoder: text (len bytes) into *doc and, if key is set, the key into
 * key[0..*key_len), STATE_KEY_MIN to cap bytes. json-c's copies of the key
 * text are wiped before they are freed; the caller wipes text and key.
 */
int spec_json_input_decode(const char *text, size_t len, struct spec_doc *doc, unsigned char *key,
                           size_t cap, size_t *key_len, struct sb_err *err);

#endif

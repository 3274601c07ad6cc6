/* SPDX-License-Identifier: MIT */
/*
 * apply_fault.c - test-only fault points of the apply loop, so the tests can
 * make a step fail, stall or a node fail to start exactly where they mean.
 */
#include "apply.h"
#include "../util/json.h"

#include <fcntl.h>

/*
 * A test-only fault point, read only by the apply loop: o->fault (what the
 * control machine passed to a host's agent: SLURMBOX_FAULT=HOST:POINT
 * there), else $SLURMBOX_FAULT.
 *   stall-after-create  each created container: wait until interrupted (60 s at most)
 *   fail-after-STEP     fail as a real error would after that step (apply_fault_fail)
 *   bad-key:NODE        NODE's container gets a 16-byte key, which munged refuses:
 *                       a node that cannot start (apply_fault_bad_key)
 */
bool apply_fault_point(const struct apply_opts *o, const char *name)
{
	const char *f = o->fault ? o->fault : getenv("SLURMBOX_FAULT");

	return f && strcmp(f, name) == 0;
}

/* SLURMBOX_FAULT=fail-after-<step>: fail as a real error would at that step. */
int apply_fault_fail(const struct apply_opts *o, const char *step, struct sb_err *err)
{
	char name[64];

	snprintf(name, sizeof(name), "fail-after-%s", step);
	if (!apply_fault_point(o, name))
		return 0;
	return sb_err_set(err, EIO, "Fault injected after step '%s' (SLURMBOX_FAULT=%s)", step,
	                  name);
}

/*
 * SLURMBOX_FAULT=bad-key:NODE: bind-mount a 16-byte key (munged needs 32)
 * into NODE instead of the cluster's, written beside it as munge.key.fault,
 * so its entrypoint fails as it would on a key munged refuses.
 */
int apply_fault_bad_key(const struct apply_opts *o, const struct compose_node *node,
                        struct json_object *body, struct sb_err *err)
{
	struct json_object *hc, *mounts;
	char name[128];

	snprintf(name, sizeof(name), "bad-key:%s", node->name);
	if (!apply_fault_point(o, name) || !json_object_object_get_ex(body, "HostConfig", &hc) ||
	    !json_object_object_get_ex(hc, "Mounts", &mounts))
		return 0;
	for (size_t i = 0; i < json_object_array_length(mounts); i++) {
		struct json_object *m = json_object_array_get_idx(mounts, i);
		const char *target = util_json_str(m, "Target"),
		           *source = util_json_str(m, "Source");
		_cleanup_free_ char *bad = NULL;
		_cleanup_close_ int fd = -1;

		if (!target || !source || strcmp(target, COMPOSE_MUNGE_KEY_TARGET) != 0)
			continue;
		bad = xasprintf("%s.fault", source);
		fd = open(bad, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0400);
		if (fd < 0 || write(fd, "0123456789abcdef", 16) != 16)
			return sb_err_set(err, errno, "Fault point %s: writing '%s': %s", name, bad,
			                  strerror(errno));
		json_object_object_add(m, "Source", json_object_new_string(bad));
	}
	return 0;
}

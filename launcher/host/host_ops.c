/* SPDX-License-Identifier: MIT */
/*
 * host_ops.c - the small host operations of ops.h: probe the LAN for
 * addresses in use, wait until the cluster is idle, take this host's part
 * down.
 */
#include "ops.h"
#include "apply.h"
#include "down.h"
#include "shim.h"
#include "spec_json.h"
#include "state.h"
#include "../docker/docker.h"
#include "../util/fanout.h"
#include "../../compose/compose.h"
#include "../../netconf/netconf.h"

#include <json-c/json.h>
#include <unistd.h>

struct probe_job {
	const char *parent;
	uint32_t addr;
	int timeout_ms;
	bool in_use;
	uint8_t mac[6];
	struct sb_err err;
	int ret;
};

static void *probe_one(void *arg)
{
	struct probe_job *j = arg;

	j->ret =
	    netconf_neigh_probe(j->parent, j->addr, j->timeout_ms, &j->in_use, j->mac, &j->err);
	return NULL;
}

int host_probe(const struct host_probe_req *r, struct json_object **out, struct sb_err *err)
{
	struct probe_job *jobs = xcalloc(r->n ? r->n : 1, sizeof(*jobs));
	struct json_object *arr;
	int ret = 0;

	*out = NULL;
	for (size_t i = 0; i < r->n; i++)
		jobs[i] = (struct probe_job){
		    .parent = r->parent, .addr = r->addrs[i], .timeout_ms = r->timeout_ms};
	util_fanout(r->n, probe_one, jobs, sizeof(*jobs));
	arr = json_object_new_array();
	for (size_t i = 0; i < r->n; i++) {
		struct json_object *o = json_object_new_object();
		char ip[16], mac[18];

		if (jobs[i].ret < 0 && ret == 0) {
			*err = jobs[i].err;
			ret = jobs[i].ret;
		}
		json_object_object_add(
		    o, "ip", json_object_new_string(compose_ipv4_format(jobs[i].addr, ip)));
		json_object_object_add(o, "in_use", json_object_new_boolean(jobs[i].in_use));
		if (jobs[i].in_use) {
			snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", jobs[i].mac[0],
			         jobs[i].mac[1], jobs[i].mac[2], jobs[i].mac[3], jobs[i].mac[4],
			         jobs[i].mac[5]);
			json_object_object_add(o, "mac", json_object_new_string(mac));
		}
		json_object_array_add(arr, o);
	}
	free(jobs);
	if (ret < 0)
		json_object_put(arr);
	else
		*out = arr;
	return ret;
}

int host_wait(const struct sb_ctx *ctx, const struct spec_doc *doc, unsigned timeout_sec,
              struct sb_err *err)
{
	_cleanup_plan_ struct compose_plan *plan = NULL;
	_cleanup_docker_ struct docker *d = NULL;
	int ret;

	ret = compose_plan_build(&doc->spec, &plan, err);
	if (ret == 0)
		ret = docker_open(NULL, &d, err);
	if (ret == 0)
		ret = apply_wait_ready(d, plan, timeout_sec, ctx, err);
	return ret;
}

int host_down(const struct sb_ctx *ctx, const char *cluster, bool purge, bool keep_key,
              struct json_object **out, struct sb_err *err)
{
	_cleanup_docker_ struct docker *d = NULL;
	_cleanup_close_ int lock_fd = -1;
	struct down_counts counts;
	struct json_object *r;
	bool exists = false;
	char name[16];
	int ret;

	*out = NULL;
	ret = state_lock_take(cluster, "host", &lock_fd, err);
	if (ret == 0)
		ret = docker_open(NULL, &d, err);
	if (ret == 0)
		ret = down_local(d, ctx, cluster, purge, &counts, err);
	/* a host's copy of the key goes with its part; the control machine keeps the original */
	if (ret == 0 && !purge && !keep_key)
		ret = state_remove(cluster, err);
	if (ret < 0)
		return ret;
	host_shim_name(cluster, name);
	if (netconf_link_exists(name, &exists, err) == 0 && exists) {
		ret = netconf_link_del(name, err);
		if (ret < 0)
			return ret;
		counts.links++;
	}
	r = json_object_new_object();
	json_object_object_add(r, "containers", json_object_new_int((int)counts.containers));
	json_object_object_add(r, "networks", json_object_new_int((int)counts.networks));
	json_object_object_add(r, "volumes", json_object_new_int((int)counts.volumes));
	json_object_object_add(r, "links", json_object_new_int((int)counts.links));
	*out = r;
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * docker_body.c - compose plan -> Docker request bodies. Pure: json-c only.
 * Bodies are built bottom-up; json_object_object_add takes each child.
 */
#include "docker_body.h"

#include "docker.h"

static struct json_object *body_str(const char *s)
{
	return json_object_new_string(s ? s : "");
}

static struct json_object *body_str_array(char *const *v, size_t n)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, body_str(v[i]));
	return a;
}

static const char *body_net_driver(enum compose_net_mode mode)
{
	switch (mode) {
	case COMPOSE_NET_MACVLAN:
		return "macvlan";
	case COMPOSE_NET_IPVLAN:
		return "ipvlan";
	case COMPOSE_NET_BRIDGE:
	default:
		return "bridge";
	}
}

static struct json_object *body_labels_cluster(const struct compose_plan *plan)
{
	struct json_object *l = json_object_new_object();

	json_object_object_add(l, COMPOSE_LABEL_CLUSTER, body_str(plan->cluster));
	return l;
}

static struct json_object *body_mounts(const struct compose_node *node)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < node->n_mounts; i++) {
		const struct compose_mount *m = &node->mounts[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "Type", body_str(compose_mount_type_name(m->type)));
		if (m->type != COMPOSE_MOUNT_TMPFS)
			json_object_object_add(o, "Source", body_str(m->source));
		json_object_object_add(o, "Target", body_str(m->target));
		json_object_object_add(o, "ReadOnly", json_object_new_boolean(m->read_only));
		if (m->type == COMPOSE_MOUNT_TMPFS) {
			/* /etc/munge in memory, for the copy of the key munged reads */
			struct json_object *t = json_object_new_object();
			json_object_object_add(t, "SizeBytes", json_object_new_int64(1 << 20));
			json_object_object_add(t, "Mode", json_object_new_int(0700));
			json_object_object_add(o, "TmpfsOptions", t);
		}
		json_object_array_add(a, o);
	}
	return a;
}

/*
 * HostConfig settings that depend on what Slurm needs at run time (CapAdd,
 * Tmpfs, CgroupnsMode, SecurityOpt, Sysctls). Kept in one place so they can
 * be tuned after experiments without touching the rest of the body. None
 * are set yet: the nodes run unprivileged with Docker's defaults.
 * CgroupnsMode needs API 1.41 or newer (check api_version before adding it).
 */
/*
 * Least privilege that runs Slurm (22.05 and 24.11) here (images/NOTES.md): every
 * capability dropped but the five the daemons need, and no-new-privileges.
 *   CHOWN         the entrypoint chowns /home/$USER, /run/munge and munged's key copy
 *   DAC_OVERRIDE  root reads the host's key (owned by whoever runs slurmbox) and
 *                 looks into /etc/munge (0700 munge); slurmstepd opens users' files
 *   KILL          scancel signals the job's processes (another uid)
 *   SETGID/SETUID munged runs as munge; slurmstepd becomes the job's user
 * Never --privileged.
 */
static void body_hostconfig_extras(struct json_object *hc, const struct compose_node *node,
                                   const char *api_version)
{
	static const char *const caps[] = {"CHOWN", "DAC_OVERRIDE", "KILL", "SETGID", "SETUID"};
	struct json_object *drop = json_object_new_array();
	struct json_object *add = json_object_new_array();
	struct json_object *sec = json_object_new_array();

	(void)node;
	(void)api_version;
	json_object_array_add(drop, body_str("ALL"));
	for (size_t i = 0; i < ARRAY_SIZE(caps); i++)
		json_object_array_add(add, body_str(caps[i]));
	json_object_array_add(sec, body_str("no-new-privileges"));
	json_object_object_add(hc, "CapDrop", drop);
	json_object_object_add(hc, "CapAdd", add);
	json_object_object_add(hc, "SecurityOpt", sec);
}

static struct json_object *body_hostconfig(const struct compose_plan *plan,
                                           const struct compose_node *node, const char *api_version)
{
	struct json_object *hc = json_object_new_object();
	struct json_object *rp = json_object_new_object();

	json_object_object_add(hc, "NetworkMode", body_str(plan->network.name));
	json_object_object_add(hc, "Mounts", body_mounts(node));
	json_object_object_add(hc, "ExtraHosts",
	                       body_str_array(plan->extra_hosts, plan->n_extra_hosts));
	json_object_object_add(rp, "Name", body_str("unless-stopped"));
	json_object_object_add(hc, "RestartPolicy", rp);
	json_object_object_add(hc, "Init", json_object_new_boolean(1));
	json_object_object_add(hc, "Privileged", json_object_new_boolean(0));
	body_hostconfig_extras(hc, node, api_version);
	return hc;
}

/* {"EndpointsConfig":{<net>:{"IPAMConfig":{"IPv4Address":ip}}}}: one entry (API < 1.44 allows one). */
static struct json_object *body_networking(const struct compose_plan *plan,
                                           const struct compose_node *node)
{
	struct json_object *nc = json_object_new_object();
	struct json_object *eps = json_object_new_object();
	struct json_object *ep = json_object_new_object();
	struct json_object *ipam = json_object_new_object();
	char ip[16];

	json_object_object_add(ipam, "IPv4Address", body_str(compose_ipv4_format(node->ip, ip)));
	json_object_object_add(ep, "IPAMConfig", ipam);
	json_object_object_add(eps, plan->network.name ? plan->network.name : "", ep);
	json_object_object_add(nc, "EndpointsConfig", eps);
	return nc;
}

struct json_object *docker_body_container(const struct compose_plan *plan,
                                          const struct compose_node *node, const char *api_version)
{
	struct json_object *c = json_object_new_object();
	struct json_object *labels = body_labels_cluster(plan);

	if (!api_version)
		api_version = DOCKER_API_MIN;
	json_object_object_add(labels, COMPOSE_LABEL_NODE, body_str(node->name));
	json_object_object_add(labels, COMPOSE_LABEL_ROLE, body_str(compose_role_name(node->role)));
	json_object_object_add(labels, COMPOSE_LABEL_HASH, body_str(node->hash));

	json_object_object_add(c, "Image", body_str(node->image));
	json_object_object_add(c, "Hostname", body_str(node->name));
	json_object_object_add(c, "Labels", labels);
	json_object_object_add(c, "Env", body_str_array(node->env, node->n_env));
	json_object_object_add(c, "HostConfig", body_hostconfig(plan, node, api_version));
	json_object_object_add(c, "NetworkingConfig", body_networking(plan, node));
	return c;
}

struct json_object *docker_body_network(const struct compose_plan *plan, const char *parent,
                                        const char *ip_range, const char *api_version)
{
	const struct compose_network *net = &plan->network;
	struct json_object *n = json_object_new_object();
	struct json_object *ipam = json_object_new_object();
	struct json_object *cfgs = json_object_new_array();
	struct json_object *cfg = json_object_new_object();
	char subnet[20], gw[16];

	json_object_object_add(n, "Name", body_str(net->name));
	json_object_object_add(n, "Driver", body_str(body_net_driver(net->mode)));
	/* a second network of the same name is refused: asked for before API 1.44, the rule since */
	if (docker_api_compare(api_version ? api_version : DOCKER_API_MIN, "1.44") < 0)
		json_object_object_add(n, "CheckDuplicate", json_object_new_boolean(1));
	if (net->mode != COMPOSE_NET_BRIDGE) {
		struct json_object *opts = json_object_new_object();

		if (parent)
			json_object_object_add(opts, "parent", body_str(parent));
		if (net->mode == COMPOSE_NET_MACVLAN)
			json_object_object_add(opts, "macvlan_mode", body_str("bridge"));
		else
			json_object_object_add(opts, "ipvlan_mode", body_str("l2"));
		json_object_object_add(n, "Options", opts);
	}
	json_object_object_add(cfg, "Subnet", body_str(compose_cidr_format(&net->subnet, subnet)));
	json_object_object_add(cfg, "Gateway", body_str(compose_ipv4_format(net->gateway, gw)));
	if (ip_range)
		json_object_object_add(cfg, "IPRange", body_str(ip_range));
	json_object_array_add(cfgs, cfg);
	json_object_object_add(ipam, "Driver", body_str("default"));
	json_object_object_add(ipam, "Config", cfgs);
	json_object_object_add(n, "IPAM", ipam);
	json_object_object_add(n, "Labels", body_labels_cluster(plan));
	return n;
}

struct json_object *docker_body_volume_labels(const struct compose_plan *plan,
                                              const struct compose_volume *v)
{
	struct json_object *l = body_labels_cluster(plan);

	json_object_object_add(l, COMPOSE_LABEL_KIND, body_str(v->kind));
	return l;
}

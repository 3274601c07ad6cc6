/* SPDX-License-Identifier: MIT */
/*
 * compose_fixture.h - the specs the compose tests plan from: one host with
 * a bridge network, and three hosts on a LAN with given addresses.
 */
#ifndef SLURMBOX_COMPOSE_FIXTURE_H
#define SLURMBOX_COMPOSE_FIXTURE_H

#include "../../compose/compose.h"
#include "tap.h"

#define IP(a, b, c, d) \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static struct compose_host hosts1[1];
static struct compose_host hosts3[3];
static uint32_t ips3[7];

/* A valid single-host spec: bridge, master + 2 workers. */
static inline struct compose_spec spec_single(void)
{
	struct compose_host h = {(char *)"localhost", 2, 23158, (char *)"x86_64"};
	struct compose_spec s = {
	    .cluster = (char *)"slurmbox",
	    .workers = 2,
	    .key_path = (char *)"/var/lib/slurmbox/slurmbox/munge.key",
	    .user = {(char *)"alice", 1000, 1000},
	    .image_master = (char *)"slurmbox-master:3f2a9c1e",
	    .image_worker = (char *)"slurmbox-worker:3f2a9c1e",
	    .net_mode = COMPOSE_NET_BRIDGE,
	    .subnet = {IP(10, 213, 0, 0), 24},
	    .hosts = hosts1,
	    .n_hosts = 1,
	};

	hosts1[0] = h;
	return s;
}

/* A valid 3-host spec: macvlan, 2 workers per host, given addresses, mixed architectures. */
static inline struct compose_spec spec_three(void)
{
	struct compose_spec s = spec_single();

	hosts3[0] = (struct compose_host){(char *)"alpha", 4, 15872, (char *)"x86_64"};
	hosts3[1] = (struct compose_host){(char *)"bob@beta", 8, 31744, (char *)"x86_64"};
	hosts3[2] = (struct compose_host){(char *)"gamma", 2, 7680, (char *)"aarch64"};
	for (size_t i = 0; i < ARRAY_SIZE(ips3); i++)
		ips3[i] = IP(192, 168, 10, 50 + i);
	s.cluster = (char *)"lab";
	s.home_path = (char *)"/srv/lab-home";
	s.user = (struct compose_user){(char *)"bob", 1001, 100};
	s.net_mode = COMPOSE_NET_MACVLAN;
	s.subnet = (struct compose_cidr){IP(192, 168, 10, 0), 24};
	s.gateway = IP(192, 168, 10, 254);
	s.hosts = hosts3;
	s.n_hosts = 3;
	s.node_ips = ips3;
	s.n_node_ips = 7;
	return s;
}

static inline struct compose_plan *build(const struct compose_spec *s)
{
	struct compose_plan *plan = NULL;
	struct sb_err err = SB_ERR_INIT;

	if (compose_plan_build(s, &plan, &err) != 0)
		TAP_FAIL("compose_plan_build: %s", err.msg);
	return plan;
}

#endif

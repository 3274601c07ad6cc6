/* SPDX-License-Identifier: MIT */
/* spec_json: a spec survives the trip to JSON and back, and builds the same plan. */
#include "tap.h"
#include "../../launcher/host/spec_json.h"

static struct compose_host hosts[] = {
    {"h1", 2, 4000, "x86_64"}, {"h2", 4, 8000, "x86_64"}, {"pi@rpi3", 4, 3900, "aarch64"}};
static uint32_t ips[] = {0x0a4d00fe, 0x0a4d00fd, 0x0a4d00fc, 0x0a4d00fb, 0x0a4d00fa};
static const unsigned numbers[] = {0, 1, 5, 3};
static struct spec_lan lan[] = {{"eth0", 0x0a4d00f9, 0x0a4d000b},
                                {"eth0", 0x0a4d00f8, 0x0a4d000c},
                                {"wlan0", 0x0a4d00f7, 0x0a4d000d}};

static void doc_make(struct spec_doc *d)
{
	memset(d, 0, sizeof(*d));
	d->spec.cluster = "lab";
	d->spec.workers = 1;
	d->spec.home_path = "/srv/home";
	d->spec.key_path = "/var/lib/slurmbox/lab/munge.key";
	d->spec.user = (struct compose_user){"alice", 1234, 1235};
	d->spec.image_master = "slurmbox-master:abc";
	d->spec.image_worker = "slurmbox-worker:def";
	d->spec.net_mode = COMPOSE_NET_MACVLAN;
	d->spec.subnet = (struct compose_cidr){0x0a4d0000, 24};
	d->spec.gateway = 0x0a4d0001;
	d->spec.hosts = hosts;
	d->spec.n_hosts = 3;
	d->spec.node_ips = ips;
	d->spec.n_node_ips = 4;
	d->spec.node_numbers = numbers;
	d->spec.n_node_numbers = 4;
	d->lan = lan;
	d->ip_range = "10.77.0.240/28";
}

static void test_round_trip(void)
{
	struct spec_doc in, out;
	struct sb_err err = SB_ERR_INIT;
	struct json_object *j, *j2;
	struct compose_plan *p1 = NULL, *p2 = NULL;

	doc_make(&in);
	j = spec_json_from(&in);
	CHECK_INT(spec_json_to(j, &out, &err), 0);
	CHECK_STR(out.spec.cluster, "lab");
	CHECK_INT(out.spec.workers, 1);
	CHECK_STR(out.spec.home_path, "/srv/home");
	CHECK_STR(out.spec.user.name, "alice");
	CHECK_INT(out.spec.user.uid, 1234);
	CHECK_INT(out.spec.user.gid, 1235);
	CHECK_INT(out.spec.net_mode, COMPOSE_NET_MACVLAN);
	CHECK_INT(out.spec.subnet.addr, 0x0a4d0000);
	CHECK_INT(out.spec.subnet.prefix, 24);
	CHECK_INT(out.spec.gateway, 0x0a4d0001);
	CHECK_INT(out.spec.n_hosts, 3);
	CHECK_STR(out.spec.hosts[2].name, "pi@rpi3");
	CHECK_STR(out.spec.hosts[2].arch, "aarch64");
	CHECK_INT(out.spec.hosts[1].ncpus, 4);
	CHECK_INT(out.spec.n_node_ips, 4);
	CHECK_INT(out.spec.node_ips[3], 0x0a4d00fb);
	CHECK_INT(out.spec.n_node_numbers, 4);
	CHECK_INT(out.spec.node_numbers[2], 5);
	CHECK(out.lan != NULL);
	CHECK_STR(out.lan[2].parent, "wlan0");
	CHECK_INT(out.lan[1].shim, 0x0a4d00f8);
	CHECK_INT(out.lan[0].addr, 0x0a4d000b);
	CHECK_STR(out.ip_range, "10.77.0.240/28");
	/* the same JSON again, and the same plan on both sides */
	j2 = spec_json_from(&out);
	CHECK_STR(json_object_to_json_string(j2), json_object_to_json_string(j));
	CHECK_INT(compose_plan_build(&in.spec, &p1, &err), 0);
	CHECK_INT(compose_plan_build(&out.spec, &p2, &err), 0);
	CHECK(p1 && p2 && strcmp(p1->config_hash, p2->config_hash) == 0);
	compose_plan_free(p1);
	compose_plan_free(p2);
	json_object_put(j);
	json_object_put(j2);
	spec_doc_free(&out);
}

static void test_bad_input(void)
{
	struct spec_doc out;
	struct sb_err err = SB_ERR_INIT;
	struct json_object *j = json_tokener_parse("{\"workers\":2}");

	CHECK(spec_json_to(j, &out, &err) < 0);
	spec_doc_free(&out);
	json_object_put(j);
	j = json_tokener_parse("{\"cluster\":\"x\",\"subnet\":\"10.0.0.1/24\"}");
	CHECK(spec_json_to(j, &out, &err) < 0);
	CHECK_CONTAINS(err.msg, "host bits");
	spec_doc_free(&out);
	json_object_put(j);
	spec_doc_free(NULL);
}

/* Integers out of their field's range, or missing, decode as 0 (refused), never wrapped. */
static void test_integers_in_range(void)
{
	struct spec_doc out;
	struct sb_err err = SB_ERR_INIT;
	struct json_object *j =
	    json_tokener_parse("{\"cluster\":\"x\",\"workers\":4294967297,\"generation\":-3,"
	                       "\"user\":{\"name\":\"alice\",\"uid\":4294968296,\"gid\":\"1000\"},"
	                       "\"hosts\":[{\"name\":\"h1\",\"ncpus\":4294967298},{\"name\":\"h2\","
	                       "\"mem_mb\":-1}]}");

	CHECK_INT(spec_json_to(j, &out, &err), 0);
	CHECK_INT(out.spec.workers, 0);
	CHECK_INT(out.generation, 0);
	CHECK_INT(out.spec.user.uid, 0);
	CHECK_INT(out.spec.user.gid, 0);
	CHECK_INT(out.spec.hosts[0].ncpus, 0);
	CHECK_INT(out.spec.hosts[0].mem_mb, 0);
	CHECK_INT(out.spec.hosts[1].ncpus, 0);
	CHECK_INT(out.spec.hosts[1].mem_mb, 0);
	CHECK(compose_spec_validate(&out.spec, &err) < 0);
	spec_doc_free(&out);
	json_object_put(j);
}

int main(void)
{
	TAP_RUN(test_round_trip, test_bad_input, test_integers_in_range);
}

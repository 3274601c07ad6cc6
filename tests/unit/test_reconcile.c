/* SPDX-License-Identifier: MIT */
/*
 * reconcile: the LAN lines of the diff, the refusal's message and command,
 * which multi-host changes only add hosts or change the membership, which
 * workers leave, and whose settings are the
 * previous ones: the control machine's record, never a host's labels.
 */
#include "tap.h"
#include "../../launcher/cluster/multi_int.h"
#include "../../launcher/host/reconcile.h"
#include "../../launcher/cluster/refuse.h"

#include <sys/stat.h>

static struct compose_host hosts[] = {
    {"h6", 2, 4000, "x86_64"}, {"h7", 2, 4000, "x86_64"}, {"h8", 2, 4000, "x86_64"}};
static uint32_t ips[] = {0x0a4d00b0, 0x0a4d00b1, 0x0a4d00b3, 0x0a4d00b5};
static struct spec_lan lan[] = {{"eth0", 0x0a4d00b2, 0x0a4d0010},
                                {"eth0", 0x0a4d00b4, 0x0a4d0011},
                                {"eth0", 0x0a4d00b6, 0x0a4d0012}};

/* A LAN cluster on the first n hosts, one worker each. */
static void doc_make(struct spec_doc *d, size_t n)
{
	memset(d, 0, sizeof(*d));
	d->spec.cluster = "sbreconm";
	d->spec.workers = 1;
	d->spec.home_path = "/srv/home";
	d->spec.key_path = "/var/lib/slurmbox/sbreconm/munge.key";
	d->spec.user = (struct compose_user){"alice", 1000, 1000};
	d->spec.image_master = "slurmbox-master:abc";
	d->spec.image_worker = "slurmbox-worker:def";
	d->spec.net_mode = COMPOSE_NET_MACVLAN;
	d->spec.subnet = (struct compose_cidr){0x0a4d0000, 24};
	d->spec.gateway = 0x0a4d0001;
	d->spec.hosts = hosts;
	d->spec.n_hosts = n;
	d->spec.node_ips = ips;
	d->spec.n_node_ips = n + 1;
	d->lan = lan;
	d->ip_range = "10.77.0.176/28";
}

static void test_lan_lines(void)
{
	struct spec_doc a, b;
	struct spec_lan other[3];
	struct sb_buf out = SB_BUF_INIT;

	doc_make(&a, 2);
	doc_make(&b, 2);
	CHECK_INT(reconcile_diff(&a, &b, &out), 0);
	b.ip_range = NULL;
	memcpy(other, lan, sizeof(other));
	other[1].parent = "eth1";
	b.lan = other;
	CHECK_INT(reconcile_diff(&a, &b, &out), 2);
	CHECK_STR(out.data, "ip-range: 10.77.0.176/28 -> (none)\nparent on h7: eth0 -> eth1\n");
	sb_buf_free(&out);
}

static void test_refusal_message(void)
{
	struct sb_ctx ctx = {.cluster = "sbrecon", .name_given = true};
	char *argv[] = {"up", "--workers", "3", "--home", "/srv/a b", NULL};
	struct sb_err err = SB_ERR_INIT;

	CHECK_INT(reconcile_refuse(&ctx, "workers: 2 -> 3\nuser: a (1) -> b (2)\n", NULL, NULL,
	                           NULL, 5, argv, &err),
	          -SB_EINPUT);
	CHECK_INT(err.code, SB_EINPUT);
	CHECK_CONTAINS(err.msg, "Cluster 'sbrecon' exists with other settings (old -> new):\n"
	                        "  workers: 2 -> 3\n  user: a (1) -> b (2)\n");
	CHECK_CONTAINS(err.msg, "Nothing was changed");
	/* the same command, pasteable: --name added, the space quoted */
	CHECK_CONTAINS(err.msg,
	               "`slurmbox up --name sbrecon --workers 3 --home '/srv/a b' --recreate`");
	CHECK_CONTAINS(err.msg, "your /home, key and Slurm state are kept");
	CHECK_CONTAINS(err.msg, "`slurmbox --name sbrecon down`");
	/* no setting differs, but the containers do: the hashes are named */
	err = (struct sb_err)SB_ERR_INIT;
	reconcile_refuse(&ctx, "", NULL, "0123456789abcdef", "fedcba9876543210", 1, argv, &err);
	CHECK_CONTAINS(err.msg, "rendered configuration: 0123456789abcdef -> fedcba9876543210");
	/* an upgrade of Slurm that drops its state: said, and no "state kept" */
	err = (struct sb_err)SB_ERR_INIT;
	reconcile_refuse(
	    &ctx, "slurm: 22.05.8 (Debian 12 bookworm) -> 24.11.5 (Debian 13 trixie)\n",
	    "Slurm 24.11 cannot read the state Slurm 22.05 saved\n", NULL, NULL, 1, argv, &err);
	CHECK_CONTAINS(err.msg,
	               "  slurm: 22.05.8 (Debian 12 bookworm) -> 24.11.5 (Debian 13 trixie)\n"
	               "Slurm 24.11 cannot read the state Slurm 22.05 saved\nNothing was changed");
	CHECK_CONTAINS(err.msg, "your /home, key and job numbers are kept");
	CHECK(!strstr(err.msg, "Slurm state are kept"));
}

/* multi_members_only with hosts that report no containers */
static bool members_only(const struct spec_doc *prev, const struct spec_doc *doc)
{
	struct multi_host h[3] = {{.dest = "h6"}, {.dest = "h7"}, {.dest = "h8"}};

	return multi_members_only(prev, doc, h, doc->spec.n_hosts, NULL);
}

static void test_hosts_added(void)
{
	struct spec_doc one, two, three;

	doc_make(&one, 1);
	doc_make(&two, 2);
	doc_make(&three, 3);
	CHECK(multi_spec_grows(&one, &two));
	CHECK(multi_spec_grows(&one, &three));
	CHECK(multi_spec_grows(&two, &three));
	CHECK(!multi_spec_grows(&two, &two));
	CHECK(!multi_spec_grows(&two, &one));
	/* hosts added or taken away, or more workers: only the membership, taken in place */
	CHECK(members_only(&one, &two));
	CHECK(members_only(&two, &one));
	CHECK(members_only(&three, &one));
	/* another change beside the host: not only added */
	two.spec.user.uid = 1001;
	CHECK(!multi_spec_grows(&one, &two));
	CHECK(!members_only(&one, &two));
	doc_make(&two, 2);
	two.spec.workers = 2;
	two.spec.n_node_ips = 0;
	two.spec.node_ips = NULL;
	CHECK(!multi_spec_grows(&one, &two));
	CHECK(members_only(&one, &two));
	/* a host in front of the others moves every worker */
	doc_make(&two, 2);
	two.spec.hosts = &hosts[1];
	CHECK(!multi_spec_grows(&one, &two));
	/* the master would move: a change of settings */
	CHECK(!members_only(&one, &two));
}

/* Workers keep their numbers (names) while the membership changes; new ones take fresh ones. */
static void test_numbers_assign(void)
{
	struct spec_doc two, three, prev;

	doc_make(&three, 3);
	/* a new cluster: 1, 2, .. in host order */
	multi_numbers_assign(&three, NULL, false);
	CHECK_INT(three.node_numbers[0], 0);
	CHECK_INT(three.node_numbers[1], 1);
	CHECK_INT(three.node_numbers[3], 3);
	free(three.node_numbers);
	/* two workers per host on h6,h7 after one each: h6 worker-1, worker-3; h7 worker-2, worker-4 */
	doc_make(&prev, 2);
	doc_make(&two, 2);
	two.spec.workers = 2;
	two.spec.node_ips = NULL;
	two.spec.n_node_ips = 0;
	multi_numbers_assign(&two, &prev, true);
	CHECK_INT(two.spec.n_node_numbers, 5);
	CHECK_INT(two.node_numbers[1], 1);
	CHECK_INT(two.node_numbers[2], 3);
	CHECK_INT(two.node_numbers[3], 2);
	CHECK_INT(two.node_numbers[4], 4);
	free(two.node_numbers);
	/* h7 left out of h6,h7,h8: h8 keeps worker-3 */
	doc_make(&prev, 3);
	doc_make(&two, 2);
	two.spec.hosts = (struct compose_host[]){hosts[0], hosts[2]};
	multi_numbers_assign(&two, &prev, true);
	CHECK_INT(two.node_numbers[1], 1);
	CHECK_INT(two.node_numbers[2], 3);
	free(two.node_numbers);
	/* back to one host after that: a new worker never takes a number prev had */
	doc_make(&prev, 3);
	prev.spec.node_numbers = (unsigned[]){0, 1, 3, 4};
	prev.spec.n_node_numbers = 4;
	doc_make(&two, 2);
	multi_numbers_assign(&two, &prev, true);
	CHECK_INT(two.node_numbers[1], 1);
	CHECK_INT(two.node_numbers[2], 3);
	free(two.node_numbers);
}

/* Workers that leave: those of a host no longer listed (no containers seen: no facts). */
static void test_nodes_leaving(void)
{
	struct spec_doc one, three;
	struct multi_host h[1] = {{.dest = "h6"}};
	struct compose_plan *plan = NULL;
	struct sb_err err = SB_ERR_INIT;
	char **names = NULL;
	size_t k;

	doc_make(&one, 1);
	doc_make(&three, 3);
	CHECK_INT(compose_plan_build(&one.spec, &plan, &err), 0);
	k = multi_nodes_leaving(&three, h, 1, plan, &names);
	CHECK_INT(k, 2);
	if (k == 2) {
		CHECK_STR(names[0], "worker-2");
		CHECK_STR(names[1], "worker-3");
	}
	CHECK(names && !names[k]);
	for (size_t i = 0; i < k; i++)
		free(names[i]);
	free(names);
	compose_plan_free(plan);
}

/* A host's facts whose cluster label is doc's. */
static struct json_object *facts_with(const struct spec_doc *doc)
{
	struct json_object *f = json_object_new_object(), *c = json_object_new_object();

	json_object_object_add(c, "spec", spec_json_from(doc));
	json_object_object_add(f, "cluster", c);
	return f;
}

/*
 * Trust finding 1: one host's label (a higher generation, /etc as /home)
 * never changes the settings the record holds; without a record, hosts
 * that disagree are refused (unless --recreate), and agreeing ones rebuild it.
 */
static void test_record_is_the_authority(void)
{
	char dir[] = "/tmp/sbprev-test-XXXXXX";
	struct spec_doc rec, evil, prev;
	struct multi_host h[2];
	struct sb_err err = SB_ERR_INIT;
	char *paths[] = {"slurmbox", "slurmbox"};
	bool found;

	if (!mkdtemp(dir)) {
		TAP_FAIL("mkdtemp: %s", strerror(errno));
		return;
	}
	setenv("SLURMBOX_STATE_DIR", dir, 1);
	doc_make(&rec, 2);
	rec.generation = 3;
	doc_make(&evil, 2);
	evil.generation = 9;
	evil.spec.home_path = "/etc";
	memset(h, 0, sizeof(h));
	h[0].dest = "h6";
	h[1].dest = "h7";
	h[0].facts = facts_with(&rec);
	h[1].facts = facts_with(&evil);

	/* no record: the hosts disagree, and that is said, naming both */
	CHECK(multi_prev_find(h, 2, "sbreconm", false, &prev, &found, &err) < 0);
	CHECK_CONTAINS(err.msg, "no record of cluster 'sbreconm'");
	CHECK_CONTAINS(err.msg, "h6 (generation 3) against h7 (generation 9)");
	CHECK_CONTAINS(err.msg, "home: /srv/home -> /etc");
	/* --recreate: no previous settings are taken from either */
	CHECK_INT(multi_prev_find(h, 2, "sbreconm", true, &prev, &found, &err), 0);
	CHECK(!found);

	/* with the record, the record wins whatever a label's generation */
	CHECK_INT(multi_state_save("sbreconm", &rec, paths, &err), 0);
	CHECK_INT(multi_prev_find(h, 2, "sbreconm", false, &prev, &found, &err), 0);
	CHECK(found);
	CHECK_INT(prev.generation, 3);
	CHECK_STR(prev.spec.home_path, "/srv/home");
	spec_doc_free(&prev);

	/* no record, agreeing hosts: their settings */
	multi_state_remove("sbreconm");
	json_object_put(h[1].facts);
	h[1].facts = facts_with(&rec);
	CHECK_INT(multi_prev_find(h, 2, "sbreconm", false, &prev, &found, &err), 0);
	CHECK(found);
	CHECK_INT(prev.generation, 3);
	spec_doc_free(&prev);

	/* nothing of the cluster on any host: a new cluster */
	json_object_put(h[0].facts);
	json_object_put(h[1].facts);
	h[0].facts = json_object_new_object();
	h[1].facts = json_object_new_object();
	CHECK_INT(multi_prev_find(h, 2, "sbreconm", false, &prev, &found, &err), 0);
	CHECK(!found);
	json_object_put(h[0].facts);
	json_object_put(h[1].facts);
	rmdir(dir);
	unsetenv("SLURMBOX_STATE_DIR");
}

int main(void)
{
	TAP_RUN(test_lan_lines, test_refusal_message, test_hosts_added, test_numbers_assign,
	        test_nodes_leaving, test_record_is_the_authority);
}

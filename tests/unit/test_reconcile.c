/* SPDX-License-Identifier: MIT */
/*
 * reconcile: the LAN lines of the diff, the refusal's message and command,
 * the newest settings among labels and the state file, and which multi-host
 * changes only add hosts.
 */
#include "tap.h"
#include "../../launcher/multi_int.h"
#include "../../launcher/reconcile.h"

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
	struct cli_ctx ctx = {.cluster = "sbrecon", .name_given = true};
	char *argv[] = {"up", "--workers", "3", "--home", "/srv/a b", NULL};
	struct sb_err err = SB_ERR_INIT;

	CHECK_INT(reconcile_refuse(&ctx, "workers: 2 -> 3\nuser: a (1) -> b (2)\n", NULL, NULL, 5,
	                           argv, &err),
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
	reconcile_refuse(&ctx, "", "0123456789abcdef", "fedcba9876543210", 1, argv, &err);
	CHECK_CONTAINS(err.msg, "rendered configuration: 0123456789abcdef -> fedcba9876543210");
}

static char *label_of(struct spec_doc *d)
{
	struct json_object *o = spec_json_from(d);
	char *s = xstrdup(json_object_to_json_string(o));

	json_object_put(o);
	return s;
}

static void test_newest_settings(void)
{
	struct spec_doc old, grown, got;
	struct cli_node nodes[2] = {0};
	struct cli_cluster have = {nodes, 2};
	char dir[] = "/tmp/sbrecon-test-XXXXXX";
	_cleanup_free_ char *file = NULL;
	struct sb_err err = SB_ERR_INIT;

	doc_make(&old, 1);
	old.generation = 1;
	doc_make(&grown, 2);
	grown.generation = 2;
	nodes[0].spec = label_of(&old);
	nodes[1].spec = label_of(&grown);
	/* the newest label wins, in any order */
	CHECK(reconcile_prev_load(&have, NULL, &got));
	CHECK_INT(got.generation, 2);
	CHECK_INT(got.spec.n_hosts, 2);
	spec_doc_free(&got);
	have.nodes = &nodes[0];
	have.n_nodes = 1;
	CHECK(reconcile_prev_load(&have, NULL, &got));
	CHECK_INT(got.spec.n_hosts, 1);
	spec_doc_free(&got);
	/* the state file, newer than every label (the containers kept keep old ones) */
	if (!mkdtemp(dir)) {
		TAP_FAIL("mkdtemp: %s", strerror(errno));
		goto out;
	}
	file = xasprintf("%s/spec.json", dir);
	CHECK_INT(reconcile_prev_save(file, &grown, &err), 0);
	{
		struct stat st;
		CHECK(stat(file, &st) == 0 && (st.st_mode & 0777) == 0600);
	}
	CHECK(reconcile_prev_load(&have, file, &got));
	CHECK_INT(got.generation, 2);
	CHECK_INT(got.spec.n_hosts, 2);
	spec_doc_free(&got);
	/* no container: no cluster, whatever an old file says */
	have.n_nodes = 0;
	CHECK(!reconcile_prev_load(&have, file, &got));
	unlink(file);
	rmdir(dir);
out:
	free(nodes[0].spec);
	free(nodes[1].spec);
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
	CHECK(multi_nodes_kept(&one, &two.spec));
	CHECK(!multi_nodes_kept(&two, &one.spec));
	/* another change beside the host: not only added */
	two.spec.user.uid = 1001;
	CHECK(!multi_spec_grows(&one, &two));
	doc_make(&two, 2);
	two.spec.workers = 2;
	two.spec.n_node_ips = 0;
	two.spec.node_ips = NULL;
	CHECK(!multi_spec_grows(&one, &two));
	/* a host in front of the others moves every worker */
	doc_make(&two, 2);
	two.spec.hosts = &hosts[1];
	CHECK(!multi_spec_grows(&one, &two));
	CHECK(!multi_nodes_kept(&one, &two.spec));
}

int main(void)
{
	TAP_RUN(test_lan_lines, test_refusal_message, test_newest_settings, test_hosts_added);
}

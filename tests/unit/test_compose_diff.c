/* SPDX-License-Identifier: MIT */
/* The diff of two specs: nothing for the same spec, one line per changed field, golden texts. */
#include "compose_fixture.h"

static char *diff(const struct compose_spec *a, const struct compose_spec *b, size_t *n)
{
	struct sb_buf out = SB_BUF_INIT;

	*n = compose_spec_diff(a, b, &out);
	return sb_buf_steal(&out);
}

static void test_same_spec_no_lines(void)
{
	struct compose_spec a = spec_single(), b = spec_single();
	size_t n;
	_cleanup_free_ char *t = diff(&a, &b, &n);

	CHECK_INT(n, 0);
	CHECK_STR(t, "");
	a = spec_three();
	b = spec_three();
	free(t);
	t = diff(&a, &b, &n);
	CHECK_INT(n, 0);
	CHECK_STR(t, "");
}

/* Each field alone gives exactly its own line. */
#define expect_line(a, b, want) expect_line_(__LINE__, a, b, want)
static void expect_line_(int line, const struct compose_spec *a, const struct compose_spec *b,
                         const char *want)
{
	size_t n;
	_cleanup_free_ char *t = diff(a, b, &n);

	if (n != 1 || strcmp(t, want) != 0)
		TAP_FAIL("line %d: %zu lines \"%s\", expected \"%s\"", line, n, t, want);
}

static void test_single_fields(void)
{
	struct compose_spec a = spec_single(), b;
	struct compose_host h2 = {(char *)"localhost", 4, 23158, (char *)"x86_64"};

	b = a;
	b.workers = 3;
	expect_line(&a, &b, "workers: 2 -> 3\n");
	b = a;
	b.user = (struct compose_user){(char *)"bob", 1001, 1001};
	expect_line(&a, &b, "user: alice (1000) -> bob (1001)\n");
	b = a;
	b.user.gid = 100;
	expect_line(&a, &b, "user: alice (1000) -> alice (1000:100)\n");
	b = a;
	b.home_path = (char *)"/srv/home";
	expect_line(&a, &b, "home: volume slurmbox-home -> /srv/home\n");
	a.home_path = (char *)"/a";
	b.home_path = (char *)"/b";
	expect_line(&a, &b, "home: /a -> /b\n");
	a = spec_single();
	b = a;
	b.image_worker = (char *)"slurmbox-worker:00aa11bb";
	expect_line(&a, &b, "image worker: slurmbox-worker:3f2a9c1e -> slurmbox-worker:00aa11bb\n");
	b = a;
	b.subnet = (struct compose_cidr){IP(10, 213, 1, 0), 24};
	{
		size_t n;
		_cleanup_free_ char *t = diff(&a, &b, &n);
		/* the gateway follows the subnet in bridge mode: no line of its own */
		CHECK_INT(n, 1);
		CHECK_STR(t, "subnet: 10.213.0.0/24 -> 10.213.1.0/24\n");
	}
	b = a;
	b.hosts = &h2;
	expect_line(&a, &b,
	            "host localhost: 2 CPUs, 23158 MiB, x86_64 -> 4 CPUs, 23158 MiB, x86_64\n");
	b = a;
	b.key_path = (char *)"/other/munge.key";
	expect_line(&a, &b, "key: /var/lib/slurmbox/slurmbox/munge.key -> /other/munge.key\n");
}

/* Several hosts: a host added moves the workers' addresses too. */
static void test_host_added(void)
{
	struct compose_spec a = spec_three(), b = spec_three();
	static uint32_t ips2[5];
	static struct compose_host hosts2[2];
	size_t n;

	hosts2[0] = hosts3[0];
	hosts2[1] = hosts3[1];
	for (size_t i = 0; i < 5; i++)
		ips2[i] = ips3[i];
	a.hosts = hosts2;
	a.n_hosts = 2;
	a.node_ips = ips2;
	a.n_node_ips = 5;
	{
		_cleanup_free_ char *t = diff(&a, &b, &n);
		CHECK_INT(n, 2);
		CHECK_GOLDEN("compose/diff-host-added.txt", t);
	}
	b.workers = 1;
	b.no_master_worker = true;
	b.n_node_ips = 3;
	b.user = (struct compose_user){(char *)"carol", 2000, 2000};
	b.home_path = NULL;
	b.net_mode = COMPOSE_NET_IPVLAN;
	b.gateway = IP(192, 168, 10, 1);
	{
		_cleanup_free_ char *t = diff(&a, &b, &n);
		CHECK_INT(n, 8);
		CHECK_GOLDEN("compose/diff-many.txt", t);
	}
}

/* Every line is "field: old -> new", and the text is the same twice (stable order). */
static void test_line_shape(void)
{
	struct compose_spec a = spec_single(), b = spec_three();
	size_t n1, n2;
	_cleanup_free_ char *t1 = diff(&a, &b, &n1), *t2 = diff(&a, &b, &n2);
	size_t lines = 0;

	CHECK_INT(n1, n2);
	CHECK_STR(t1, t2);
	for (char *p = t1; *p; lines++) {
		char *nl = strchr(p, '\n');
		if (!nl) {
			TAP_FAIL("unterminated line \"%s\"", p);
			break;
		}
		*nl = '\0';
		if (!strstr(p, ": ") || !strstr(p, " -> "))
			TAP_FAIL("line \"%s\" is not \"field: old -> new\"", p);
		p = nl + 1;
	}
	CHECK_INT(lines, n1);
}

/*
 * A node's hash leaves out the other nodes: a host added keeps the running
 * nodes' hashes (no file names the nodes; up adds hosts entries in place), while a setting
 * they are made from changes them.
 */
static void test_node_hash_ignores_other_nodes(void)
{
	struct compose_spec a = spec_three(), b = spec_three();
	static struct compose_host hosts2[2];
	struct compose_plan *pa, *pb;

	hosts2[0] = hosts3[0];
	hosts2[1] = hosts3[1];
	a.hosts = hosts2;
	a.n_hosts = 2;
	a.n_node_ips = 5; /* the same first five addresses */
	pa = build(&a);
	pb = build(&b);
	if (!pa || !pb)
		goto out;
	CHECK_INT(pa->n_nodes, 5);
	CHECK_INT(pb->n_nodes, 7);
	CHECK(strcmp(pa->config_hash, pb->config_hash) != 0);
	for (size_t i = 0; i < pa->n_nodes; i++) {
		CHECK_STR(pa->nodes[i].name, pb->nodes[i].name);
		CHECK_INT(strlen(pa->nodes[i].hash), 16);
		CHECK_STR(pa->nodes[i].hash, pb->nodes[i].hash);
	}
	/* every node's hash is its own */
	CHECK(strcmp(pb->nodes[1].hash, pb->nodes[2].hash) != 0);
	compose_plan_free(pb);
	b = a;
	b.image_worker = (char *)"slurmbox-worker:00aa11bb";
	pb = build(&b);
	CHECK_STR(pa->nodes[0].hash, pb->nodes[0].hash);
	for (size_t i = 1; i < pa->n_nodes; i++)
		CHECK(strcmp(pa->nodes[i].hash, pb->nodes[i].hash) != 0);
	compose_plan_free(pb);
	b = a;
	b.user = (struct compose_user){(char *)"carol", 2000, 2000};
	pb = build(&b);
	for (size_t i = 0; i < pa->n_nodes; i++)
		CHECK(strcmp(pa->nodes[i].hash, pb->nodes[i].hash) != 0);
out:
	compose_plan_free(pa);
	compose_plan_free(pb);
}

/*
 * The release: a spec without one is of the release before they were
 * recorded; the line names the Slurm versions; an upgrade that Slurm cannot
 * read the state of gets a note, one it can does not.
 */
static void test_release(void)
{
	struct compose_spec a = spec_single(), b = a;
	struct sb_buf note = SB_BUF_INIT;

	b.release = (char *)COMPOSE_RELEASE_BEFORE;
	{
		size_t n;
		_cleanup_free_ char *t = diff(&a, &b, &n);
		CHECK_INT(n, 0); /* NULL is bookworm */
	}
	b.release = (char *)"trixie";
	expect_line(&a, &b, "slurm: 22.05.8 (Debian 12 bookworm) -> 24.11.5 (Debian 13 trixie)\n");
	CHECK_INT(compose_release_note(&a, &b, &note), 1);
	CHECK_CONTAINS(note.data, "Slurm 24.11 cannot read the state Slurm 22.05 saved");
	CHECK_CONTAINS(note.data, "job numbers are kept");
	sb_buf_reset(&note);
	CHECK_INT(compose_release_note(&b, &b, &note), 0);
	CHECK_INT(compose_release_note(&b, &a, &note), 1); /* back down: not readable either */
	sb_buf_free(&note);
	CHECK(compose_slurm_state_readable("23.11.10", "24.11.5"));
	CHECK(compose_slurm_state_readable("24.05.1", "24.11.5"));
	CHECK(compose_slurm_state_readable("24.11.5", "24.11.1"));
	CHECK(!compose_slurm_state_readable("23.02.7", "24.11.5"));
	CHECK(!compose_slurm_state_readable("24.11.5", "24.05.1"));
	CHECK(!compose_slurm_state_readable("21.08.8", "22.05.8"));
	CHECK(!compose_slurm_state_readable("24.1", "24.11.5"));
	CHECK(compose_release_find("sid") == NULL);
	CHECK_STR(compose_release_find(NULL)->name, "bookworm");
}

int main(void)
{
	TAP_RUN(test_same_spec_no_lines, test_single_fields, test_host_added, test_line_shape,
	        test_node_hash_ignores_other_nodes, test_release);
}

/* SPDX-License-Identifier: MIT */
/*
 * Rendered text: slurm.conf, cgroup.conf, hosts and the dry-run plan, on
 * golden files in tests/fixtures/compose/ (SLURMBOX_UPDATE_GOLDEN=1 rewrites).
 */
#include "compose_fixture.h"

static size_t count_lines_starting(const char *text, const char *prefix)
{
	size_t n = 0, len = strlen(prefix);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, prefix, len))
			n++;
	return n;
}

static void test_slurm_conf_single(void)
{
	struct compose_spec s = spec_single();
	_cleanup_plan_ struct compose_plan *plan = build(&s);
	_cleanup_free_ char *text = NULL;

	if (!plan)
		return;
	text = compose_render_slurm_conf(plan);
	CHECK_GOLDEN("compose/slurm.conf", text);
	CHECK_CONTAINS(text, "\nClusterName=slurmbox\n");
	CHECK_CONTAINS(text, "\nSlurmctldHost=master(10.213.0.2)\n");
	CHECK_CONTAINS(text, "\nStateSaveLocation=/var/spool/slurmctld\n");
	/* configless, and no node named: every worker registers itself (slurmd -Z) */
	CHECK_CONTAINS(text, "\nSlurmctldParameters=enable_configless\n");
	CHECK_CONTAINS(text, "\nMaxNodeCount=250\n");
	CHECK_CONTAINS(text, "\nNodeSet=workers Feature=worker\n");
	CHECK_CONTAINS(
	    text, "\nPartitionName=main Nodes=workers Default=YES MaxTime=INFINITE State=UP\n");
	CHECK_INT(count_lines_starting(text, "NodeName="), 0);
	CHECK(text[strlen(text) - 1] == '\n');
	/* The StateSaveLocation is where the master's state volume is mounted. */
	CHECK_STR(plan->nodes[0].mounts[3].target, "/var/spool/slurmctld");
}

/* Every line is a comment or one Key=Value setting (the node set and partition hold several). */
static void test_slurm_conf_one_setting_per_line(void)
{
	struct compose_spec s = spec_single();
	_cleanup_plan_ struct compose_plan *plan = build(&s);
	_cleanup_free_ char *text = NULL;
	size_t lines = 0;

	if (!plan)
		return;
	text = compose_render_slurm_conf(plan);
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		const char *eq = strchr(line, '=');

		lines++;
		if (line[0] == '#' || !strncmp(line, "NodeSet=", 8) ||
		    !strncmp(line, "PartitionName=", 14))
			continue;
		if (!eq || strchr(eq + 1, '=') || strchr(line, ' '))
			TAP_FAIL("not one setting: \"%s\"", line);
	}
	CHECK(lines > 20);
}

static void test_slurm_conf_no_workers(void)
{
	struct compose_spec s = spec_single();
	_cleanup_plan_ struct compose_plan *plan = build(&s);
	_cleanup_free_ char *text = NULL, *all = NULL;
	size_t saved;

	if (!plan)
		return;
	/* The file does not depend on the workers: they join and leave with no change to it. */
	all = compose_render_slurm_conf(plan);
	saved = plan->n_nodes;
	plan->n_nodes = 1;
	text = compose_render_slurm_conf(plan);
	plan->n_nodes = saved;
	CHECK_STR(text, all);
	CHECK(!strstr(text, "NodeName="));
	CHECK_CONTAINS(text, "SlurmctldHost=master(10.213.0.2)");
}

static void test_slurm_conf_three_hosts(void)
{
	struct compose_spec s = spec_three();
	_cleanup_plan_ struct compose_plan *plan = build(&s);
	_cleanup_free_ char *text = NULL;

	if (!plan)
		return;
	text = compose_render_slurm_conf(plan);
	CHECK_GOLDEN("compose/slurm-3hosts.conf", text);
	CHECK_CONTAINS(text, "ClusterName=lab\n");
	CHECK_CONTAINS(text, "SlurmctldHost=master(192.168.10.50)\n");
	CHECK_INT(count_lines_starting(text, "NodeName="), 0);
	/* The master's only: slurmctld serves it to the workers. */
	CHECK_STR(plan->files[0].content, text);
	CHECK_INT(plan->files[0].role, COMPOSE_ROLE_MASTER);
}

static void test_cgroup_conf(void)
{
	struct compose_spec s = spec_single();
	_cleanup_plan_ struct compose_plan *plan = build(&s);
	_cleanup_free_ char *text = NULL;

	if (!plan)
		return;
	text = compose_render_cgroup_conf(plan);
	CHECK_GOLDEN("compose/cgroup.conf", text);
	CHECK_CONTAINS(text, "\nCgroupPlugin=disabled\n");
	CHECK(!strstr(text, "autodetect"));
}

static void test_hosts(void)
{
	struct compose_spec s = spec_single();
	_cleanup_plan_ struct compose_plan *plan = build(&s);
	_cleanup_free_ char *text = NULL;

	if (!plan)
		return;
	text = compose_render_hosts(plan);
	CHECK_GOLDEN("compose/hosts", text);
	CHECK_STR(text, "127.0.0.1\tlocalhost\n"
	                "10.213.0.2\tmaster\n"
	                "10.213.0.3\tworker-1\n"
	                "10.213.0.4\tworker-2\n");
}

static void test_plan_text_single(void)
{
	struct compose_spec s = spec_single();
	_cleanup_plan_ struct compose_plan *plan = build(&s);
	_cleanup_free_ char *text = NULL, *again = NULL;

	if (!plan)
		return;
	text = compose_render_plan(plan);
	again = compose_render_plan(plan);
	CHECK_STR(again, text);
	CHECK_GOLDEN("compose/plan.txt", text);
	CHECK_CONTAINS(text, "alice (1000:1000)");
	CHECK_CONTAINS(text, "slurmbox-net (bridge, subnet 10.213.0.0/24, gateway 10.213.0.1)");
	CHECK_CONTAINS(text,
	               "/var/lib/slurmbox/slurmbox/munge.key -> /etc/slurmbox/munge.key (ro)");
	CHECK_CONTAINS(text,
	               "--- /etc/slurm/slurm.conf (on the master) ---\n# slurm.conf for slurmbox");
	CHECK_CONTAINS(text, "--- /etc/slurm/cgroup.conf (on the master) ---\n# cgroup.conf");
	CHECK_CONTAINS(text, plan->config_hash);
	/* No trailing blanks from the table. */
	CHECK(!strstr(text, " \n"));
}

static void test_plan_text_three_hosts(void)
{
	struct compose_spec s = spec_three();
	_cleanup_plan_ struct compose_plan *plan = build(&s);
	_cleanup_free_ char *text = NULL;

	if (!plan)
		return;
	text = compose_render_plan(plan);
	CHECK_GOLDEN("compose/plan-3hosts.txt", text);
	CHECK_CONTAINS(text, "lab-net (macvlan, subnet 192.168.10.0/24, gateway 192.168.10.254)");
	CHECK_CONTAINS(text, "bob@beta");
	CHECK_CONTAINS(text, "/srv/lab-home -> /home\n");
	CHECK(!strstr(text, " \n"));
}

/* A host whose facts gave no architecture (a spec decoded without "arch"). */
static void test_plan_text_host_without_arch(void)
{
	struct compose_spec s = spec_three();
	_cleanup_plan_ struct compose_plan *plan = NULL;
	_cleanup_free_ char *text = NULL;

	hosts3[1].arch = NULL;
	plan = build(&s);
	if (!plan)
		return;
	text = compose_render_plan(plan);
	CHECK_CONTAINS(text, "  bob@beta  -        ");
	CHECK_CONTAINS(text, "  x86_64: alpha\n  -: bob@beta\n  aarch64: gamma\n");
}

int main(void)
{
	TAP_RUN(test_slurm_conf_single, test_slurm_conf_one_setting_per_line,
	        test_slurm_conf_no_workers, test_slurm_conf_three_hosts, test_cgroup_conf,
	        test_hosts, test_plan_text_single, test_plan_text_three_hosts,
	        test_plan_text_host_without_arch);
}

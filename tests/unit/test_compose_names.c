/* SPDX-License-Identifier: MIT */
/* Cluster and user name rules. */
#include "../../compose/compose.h"
#include "tap.h"

static void cluster_ok(const char *name)
{
	struct sb_err err = SB_ERR_INIT;

	if (compose_cluster_name_check(name, &err) != 0)
		TAP_FAIL("cluster name \"%s\" refused: %s", name, err.msg);
	CHECK_INT(err.code, 0);
}

static void cluster_bad(const char *name, const char *needle)
{
	struct sb_err err = SB_ERR_INIT;
	int ret = compose_cluster_name_check(name, &err);

	if (ret != -SB_EINPUT)
		TAP_FAIL("cluster name \"%s\": ret %d, expected -SB_EINPUT", name ? name : "(null)",
		         ret);
	CHECK_INT(err.code, SB_EINPUT);
	CHECK_CONTAINS(err.msg, "Invalid --name \"");
	CHECK_CONTAINS(err.msg, needle);
	CHECK(!strchr(err.msg, '\n'));
	CHECK(err.msg[strlen(err.msg) - 1] != '.');
}

static void user_ok(const char *name)
{
	struct sb_err err = SB_ERR_INIT;

	if (compose_user_name_check(name, &err) != 0)
		TAP_FAIL("user name \"%s\" refused: %s", name, err.msg);
}

static void user_bad(const char *name, const char *needle)
{
	struct sb_err err = SB_ERR_INIT;
	int ret = compose_user_name_check(name, &err);

	if (ret != -SB_EINPUT)
		TAP_FAIL("user name \"%s\": ret %d, expected -SB_EINPUT", name ? name : "(null)",
		         ret);
	CHECK_INT(err.code, SB_EINPUT);
	CHECK_CONTAINS(err.msg, "Invalid --user \"");
	CHECK_CONTAINS(err.msg, needle);
}

static void test_cluster_names_good(void)
{
	cluster_ok("slurmbox");
	cluster_ok(COMPOSE_DEFAULT_CLUSTER);
	cluster_ok("a");
	cluster_ok("lab-1");
	cluster_ok("x9");
	cluster_ok("a--b");
	cluster_ok("alldefault"); /* only the exact words are reserved */
	cluster_ok("abcdefghij-abcdefghij-abcdefghij-abcdef");  /* 39 */
	cluster_ok("abcdefghij-abcdefghij-abcdefghij-abcdefg"); /* 40 */
}

static void test_cluster_name_underscore(void)
{
	cluster_bad("Node_1", "underscores are not valid in hostnames; try \"node-1\"");
	cluster_bad("my_lab", "\"my_lab\": underscores are not valid in hostnames; try \"my-lab\"");
}

static void test_cluster_name_reserved(void)
{
	cluster_bad("ALL", "\"ALL\": reserved by Slurm; choose another name");
	cluster_bad("all", "reserved by Slurm");
	cluster_bad("default", "reserved by Slurm");
	cluster_bad("DEFAULT", "reserved by Slurm");
	cluster_bad("Default", "reserved by Slurm");
}

static void test_cluster_name_upper_case(void)
{
	cluster_bad("MyCluster", "upper-case letters are not allowed; try \"mycluster\"");
	cluster_bad("LAB-2", "try \"lab-2\"");
}

static void test_cluster_name_bad_chars(void)
{
	cluster_bad("n[1]", "'[' is not allowed; use only lower-case letters, digits and '-'");
	cluster_bad("a.b", "'.' is not allowed");
	cluster_bad("a b", "' ' is not allowed");
	cluster_bad("lab;rm", "';' is not allowed");
	cluster_bad("caf\xc3\xa9", "a non-ASCII or control character is not allowed");
	cluster_bad("a\tb", "a non-ASCII or control character is not allowed");
}

static void test_cluster_name_shape(void)
{
	cluster_bad("-abc", "must start with a letter");
	cluster_bad("1abc", "must start with a letter");
	cluster_bad("abc-", "must not end with '-'");
	cluster_bad("", "a cluster name is required, e.g. \"slurmbox\"");
	cluster_bad(NULL, "a cluster name is required");
}

static void test_cluster_name_too_long(void)
{
	char name[64];

	memset(name, 'a', 41);
	name[41] = '\0';
	cluster_bad(name, "longer than 40 characters");
	cluster_bad(name, "use up to 40");
	memset(name, 'b', 63);
	name[63] = '\0';
	cluster_bad(name, "longer than 40 characters");
	/* Fixing the case must not suggest a name that is still too long. */
	memset(name, 'B', 41);
	name[41] = '\0';
	cluster_bad(name, "upper-case letters are not allowed; use up to 40");
}

static void test_user_names_good(void)
{
	user_ok("alice");
	user_ok("_svc");
	user_ok("a-b_c1");
	user_ok("slurmuser");
	user_ok("abcdefghijabcdefghijabcdefghijab"); /* 32 */
}

static void test_user_names_bad(void)
{
	user_bad("root", "jobs must not run as root");
	user_bad("", "a user name is required");
	user_bad(NULL, "a user name is required");
	user_bad("Alice", "upper-case letters are not allowed in user names; try \"alice\"");
	user_bad("1abc", "must start with a lower-case letter or '_'");
	user_bad("-x", "must start with a lower-case letter or '_'");
	user_bad("a b", "' ' is not allowed");
	user_bad("a.b", "'.' is not allowed");
	user_bad("a:b", "':' is not allowed");
	user_bad("b\xc3\xb6"
	         "b",
	         "a non-ASCII or control character is not allowed");
	user_bad("abcdefghijabcdefghijabcdefghijabc", "33 characters, more than 32");
}

int main(void)
{
	TAP_RUN(test_cluster_names_good, test_cluster_name_underscore, test_cluster_name_reserved,
	        test_cluster_name_upper_case, test_cluster_name_bad_chars, test_cluster_name_shape,
	        test_cluster_name_too_long, test_user_names_good, test_user_names_bad);
}

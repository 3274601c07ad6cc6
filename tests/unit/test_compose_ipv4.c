/* SPDX-License-Identifier: MIT */
/* IPv4 and CIDR parsing, formatting and arithmetic; choosing a free subnet. */
#include "../../compose/compose.h"
#include "tap.h"

#define IP(a, b, c, d) \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static struct compose_cidr cidr(uint32_t addr, uint8_t prefix)
{
	struct compose_cidr c = {addr, prefix};
	return c;
}

/* Parse must fail with SB_EINPUT and a message containing `needle`. */
static void ipv4_bad(const char *text, const char *needle)
{
	struct sb_err err = SB_ERR_INIT;
	uint32_t out = 0x12345678;
	int ret = compose_ipv4_parse("--gateway", text, &out, &err);

	CHECK_INT(ret, -SB_EINPUT);
	CHECK_INT(err.code, SB_EINPUT);
	CHECK_CONTAINS(err.msg, "--gateway");
	CHECK_CONTAINS(err.msg, needle);
	CHECK_INT(out, 0x12345678); /* untouched on failure */
}

static void cidr_bad(const char *text, const char *needle)
{
	struct sb_err err = SB_ERR_INIT;
	struct compose_cidr out = {0x12345678, 7};
	int ret = compose_cidr_parse("--subnet", text, &out, &err);

	CHECK_INT(ret, -SB_EINPUT);
	CHECK_INT(err.code, SB_EINPUT);
	CHECK_CONTAINS(err.msg, "--subnet");
	CHECK_CONTAINS(err.msg, needle);
	CHECK_INT(out.addr, 0x12345678);
	CHECK_INT(out.prefix, 7);
}

static void test_ipv4_parse_good(void)
{
	struct sb_err err = SB_ERR_INIT;
	uint32_t a = 0;

	CHECK_INT(compose_ipv4_parse("--gateway", "10.213.0.2", &a, &err), 0);
	CHECK_INT(a, IP(10, 213, 0, 2));
	CHECK_INT(compose_ipv4_parse("--gateway", "0.0.0.0", &a, &err), 0);
	CHECK_INT(a, 0);
	CHECK_INT(compose_ipv4_parse("--gateway", "255.255.255.255", &a, &err), 0);
	CHECK_INT(a, UINT32_MAX);
	CHECK_INT(compose_ipv4_parse("--gateway", "192.168.100.254", &a, &err), 0);
	CHECK_INT(a, IP(192, 168, 100, 254));
	CHECK_INT(err.code, 0); /* success leaves err alone */
}

static void test_ipv4_parse_bad(void)
{
	ipv4_bad("", "Missing --gateway");
	ipv4_bad(NULL, "Missing --gateway");
	ipv4_bad("1.2.3", "expected four numbers");
	ipv4_bad("1.2.3.4.5", "expected four numbers");
	ipv4_bad("1..2.3", "expected four numbers");
	ipv4_bad("1.2.3.", "expected four numbers");
	ipv4_bad(".1.2.3", "expected four numbers");
	ipv4_bad("a.b.c.d", "expected four numbers");
	ipv4_bad("1.2.3.-4", "expected four numbers");
	ipv4_bad(" 1.2.3.4", "expected four numbers");
	ipv4_bad("1.2.3.4 ", "expected four numbers");
	ipv4_bad("1.2.3.4/24", "expected four numbers");
	ipv4_bad("0x1.2.3.4", "expected four numbers");
	ipv4_bad("256.0.0.1", "\"256\" is more than 255");
	ipv4_bad("1.2.3.999", "\"999\" is more than 255");
	ipv4_bad("99999999999999999999.0.0.1", "is more than 255"); /* no overflow */
}

/* Leading zeros are octal to inet_aton and ping: refuse them rather than guess. */
static void test_ipv4_leading_zeros(void)
{
	struct sb_err err = SB_ERR_INIT;
	uint32_t a;

	ipv4_bad("010.0.0.1", "\"010\" has a leading zero");
	ipv4_bad("10.0.0.01", "write 1");
	ipv4_bad("10.00.0.1", "leading zero");
	CHECK_INT(compose_ipv4_parse("--gateway", "10.0.0.0", &a, &err), 0); /* a lone 0 is fine */
	CHECK_INT(a, IP(10, 0, 0, 0));
}

static void test_ipv4_format(void)
{
	char buf[16], cbuf[19];
	struct compose_cidr c;

	CHECK_STR(compose_ipv4_format(0, buf), "0.0.0.0");
	CHECK_STR(compose_ipv4_format(UINT32_MAX, buf), "255.255.255.255");
	CHECK_STR(compose_ipv4_format(IP(10, 213, 0, 2), buf), "10.213.0.2");
	c = cidr(IP(10, 213, 0, 0), 24);
	CHECK_STR(compose_cidr_format(&c, cbuf), "10.213.0.0/24");
	c = cidr(IP(255, 255, 255, 255), 32);
	CHECK_STR(compose_cidr_format(&c, cbuf), "255.255.255.255/32"); /* fills all 19 bytes */
	c = cidr(0, 0);
	CHECK_STR(compose_cidr_format(&c, cbuf), "0.0.0.0/0");
}

static void test_cidr_parse_good(void)
{
	struct sb_err err = SB_ERR_INIT;
	struct compose_cidr c;
	char buf[19];

	CHECK_INT(compose_cidr_parse("--subnet", "10.213.0.0/24", &c, &err), 0);
	CHECK_INT(c.addr, IP(10, 213, 0, 0));
	CHECK_INT(c.prefix, 24);
	CHECK_INT(compose_cidr_parse("--subnet", "0.0.0.0/0", &c, &err), 0);
	CHECK_INT(c.addr, 0);
	CHECK_INT(c.prefix, 0);
	CHECK_INT(compose_cidr_parse("--subnet", "10.0.0.1/32", &c, &err), 0);
	CHECK_INT(c.addr, IP(10, 0, 0, 1));
	CHECK_INT(c.prefix, 32);
	CHECK_INT(compose_cidr_parse("--subnet", "172.16.0.0/12", &c, &err), 0);
	CHECK_STR(compose_cidr_format(&c, buf), "172.16.0.0/12");
	CHECK_INT(compose_cidr_parse("--subnet", "192.168.1.8/29", &c, &err), 0);
	CHECK_INT(c.prefix, 29);
	CHECK_INT(err.code, 0);
}

static void test_cidr_parse_bad(void)
{
	cidr_bad("10.0.0.1/24", "host bits set; did you mean \"10.0.0.0/24\"");
	cidr_bad("1.0.0.0/0", "did you mean \"0.0.0.0/0\"");
	cidr_bad("192.168.1.9/29", "did you mean \"192.168.1.8/29\"");
	cidr_bad("10.0.0.0/33", "prefix /33 is more than 32");
	cidr_bad("10.0.0.0/99", "more than 32");
	cidr_bad("10.0.0.0/100", "a number from 0 to 32");
	cidr_bad("10.0.0.0/024", "a number from 0 to 32");
	cidr_bad("10.0.0.0/", "a number from 0 to 32");
	cidr_bad("10.0.0.0/-1", "a number from 0 to 32");
	cidr_bad("10.0.0.0/2a", "a number from 0 to 32");
	cidr_bad("10.0.0.0/24/8", "a number from 0 to 32");
	cidr_bad("10.0.0.0/24 ", "a number from 0 to 32");
	cidr_bad("10.0.0.0", "missing the prefix length");
	cidr_bad("10.0.0/8", "expected four numbers");
	cidr_bad("256.0.0.0/8", "\"256\" is more than 255");
	cidr_bad("010.0.0.0/8", "leading zero");
	cidr_bad("garbage", "expected four numbers");
	cidr_bad("10.1.2.0", "\"10.1.2.0\": missing the prefix length, e.g. \"10.213.0.0/24\"");
	cidr_bad("", "Missing --subnet");
	cidr_bad(NULL, "Missing --subnet");
}

static void test_cidr_contains(void)
{
	struct compose_cidr c24 = cidr(IP(10, 213, 0, 0), 24);
	struct compose_cidr c32 = cidr(IP(10, 0, 0, 1), 32);
	struct compose_cidr c0 = cidr(0, 0);

	CHECK(compose_cidr_contains(&c24, IP(10, 213, 0, 0)));
	CHECK(compose_cidr_contains(&c24, IP(10, 213, 0, 255)));
	CHECK(!compose_cidr_contains(&c24, IP(10, 213, 1, 0)));
	CHECK(!compose_cidr_contains(&c24, IP(10, 212, 255, 255)));
	CHECK(compose_cidr_contains(&c32, IP(10, 0, 0, 1)));
	CHECK(!compose_cidr_contains(&c32, IP(10, 0, 0, 2)));
	CHECK(compose_cidr_contains(&c0, 0));
	CHECK(compose_cidr_contains(&c0, UINT32_MAX));
}

static void test_cidr_overlaps(void)
{
	struct compose_cidr a8 = cidr(IP(10, 0, 0, 0), 8);
	struct compose_cidr b16 = cidr(IP(10, 1, 0, 0), 16);
	struct compose_cidr c24 = cidr(IP(10, 0, 0, 0), 24);
	struct compose_cidr d24 = cidr(IP(10, 0, 1, 0), 24);
	struct compose_cidr e = cidr(IP(11, 0, 0, 0), 8);
	struct compose_cidr all = cidr(0, 0);
	struct compose_cidr host = cidr(IP(10, 0, 0, 255), 32);

	CHECK(compose_cidr_overlaps(&a8, &b16));
	CHECK(compose_cidr_overlaps(&b16, &a8));
	CHECK(compose_cidr_overlaps(&c24, &c24));
	CHECK(!compose_cidr_overlaps(&c24, &d24)); /* adjacent */
	CHECK(!compose_cidr_overlaps(&d24, &c24));
	CHECK(!compose_cidr_overlaps(&a8, &e));
	CHECK(compose_cidr_overlaps(&all, &e));
	CHECK(compose_cidr_overlaps(&e, &all));
	CHECK(compose_cidr_overlaps(&host, &c24));
	CHECK(!compose_cidr_overlaps(&host, &d24));
}

static void test_cidr_broadcast(void)
{
	struct compose_cidr c24 = cidr(IP(10, 213, 0, 0), 24);
	struct compose_cidr c31 = cidr(IP(10, 0, 0, 4), 31);
	struct compose_cidr c32 = cidr(IP(10, 0, 0, 7), 32);
	struct compose_cidr c0 = cidr(0, 0);
	struct compose_cidr c12 = cidr(IP(172, 16, 0, 0), 12);

	CHECK_INT(compose_cidr_broadcast(&c24), IP(10, 213, 0, 255));
	CHECK_INT(compose_cidr_broadcast(&c31), IP(10, 0, 0, 5));
	CHECK_INT(compose_cidr_broadcast(&c32), IP(10, 0, 0, 7));
	CHECK_INT(compose_cidr_broadcast(&c0), UINT32_MAX);
	CHECK_INT(compose_cidr_broadcast(&c12), IP(172, 31, 255, 255));
}

static void test_subnet_choose_first_free(void)
{
	struct compose_cidr pool = cidr(IP(10, 213, 0, 0), 16), out = {0, 0};
	struct sb_err err = SB_ERR_INIT;
	char buf[19];

	CHECK_INT(compose_subnet_choose(&pool, 24, NULL, 0, &out, &err), 0);
	CHECK_STR(compose_cidr_format(&out, buf), "10.213.0.0/24");
	CHECK_INT(err.code, 0);
}

static void test_subnet_choose_skips_overlaps(void)
{
	struct compose_cidr pool = cidr(IP(10, 213, 0, 0), 16), out = {0, 0};
	struct compose_cidr used[] = {
	    cidr(0, 0),                    /* default route: ignored */
	    cidr(IP(10, 213, 0, 0), 24),   /* exactly the first */
	    cidr(IP(10, 213, 1, 128), 25), /* half of the second */
	    cidr(IP(192, 168, 0, 0), 16),  /* elsewhere */
	    cidr(IP(10, 213, 2, 17), 32),  /* one host route in the third */
	};
	struct sb_err err = SB_ERR_INIT;
	char buf[19];

	CHECK_INT(compose_subnet_choose(&pool, 24, used, ARRAY_SIZE(used), &out, &err), 0);
	CHECK_STR(compose_cidr_format(&out, buf), "10.213.3.0/24");

	/* A larger block in use is skipped as a whole. */
	struct compose_cidr big[] = {cidr(IP(10, 213, 0, 0), 17)};
	CHECK_INT(compose_subnet_choose(&pool, 24, big, 1, &out, &err), 0);
	CHECK_STR(compose_cidr_format(&out, buf), "10.213.128.0/24");

	/* Other sizes. */
	CHECK_INT(compose_subnet_choose(&pool, 20, used, ARRAY_SIZE(used), &out, &err), 0);
	CHECK_STR(compose_cidr_format(&out, buf), "10.213.16.0/20");
	CHECK_INT(compose_subnet_choose(&pool, 16, NULL, 0, &out, &err), 0);
	CHECK_STR(compose_cidr_format(&out, buf), "10.213.0.0/16");
	CHECK_INT(err.code, 0);
}

static void test_subnet_choose_exhausted(void)
{
	struct compose_cidr pool = cidr(IP(10, 0, 0, 0), 23), out = {0x1111, 1};
	struct compose_cidr used[] = {cidr(IP(10, 0, 0, 0), 24), cidr(IP(10, 0, 1, 64), 26)};
	struct compose_cidr cover[] = {cidr(IP(10, 0, 0, 0), 8)};
	struct compose_cidr last = cidr(IP(255, 255, 255, 0), 24);
	struct sb_err err = SB_ERR_INIT;
	char buf[19];

	CHECK_INT(compose_subnet_choose(&pool, 24, used, 2, &out, &err), -ENOSPC);
	CHECK_INT(err.code, ENOSPC);
	CHECK_CONTAINS(err.msg, "No free /24 subnet in 10.0.0.0/23");
	CHECK_CONTAINS(err.msg, "--subnet");
	CHECK_INT(out.addr, 0x1111);

	err = (struct sb_err)SB_ERR_INIT;
	CHECK_INT(compose_subnet_choose(&pool, 24, cover, 1, &out, &err), -ENOSPC);

	/* The very top of the address space: no wrap-around. */
	struct compose_cidr top[] = {cidr(IP(255, 255, 255, 0), 25)};
	CHECK_INT(compose_subnet_choose(&last, 25, top, 1, &out, &err), 0);
	CHECK_STR(compose_cidr_format(&out, buf), "255.255.255.128/25");
	struct compose_cidr top2[] = {cidr(IP(255, 255, 255, 0), 25),
	                              cidr(IP(255, 255, 255, 128), 25)};
	CHECK_INT(compose_subnet_choose(&last, 25, top2, 2, &out, &err), -ENOSPC);
}

static void test_subnet_choose_bad_prefix(void)
{
	struct compose_cidr pool = cidr(IP(10, 213, 0, 0), 16), out;
	struct sb_err err = SB_ERR_INIT;

	CHECK_INT(compose_subnet_choose(&pool, 8, NULL, 0, &out, &err), -SB_EINPUT);
	CHECK_CONTAINS(err.msg, "between /16 and /32");
	err = (struct sb_err)SB_ERR_INIT;
	CHECK_INT(compose_subnet_choose(&pool, 33, NULL, 0, &out, &err), -SB_EINPUT);
}

int main(void)
{
	TAP_RUN(test_ipv4_parse_good, test_ipv4_parse_bad, test_ipv4_leading_zeros,
	        test_ipv4_format, test_cidr_parse_good, test_cidr_parse_bad, test_cidr_contains,
	        test_cidr_overlaps, test_cidr_broadcast, test_subnet_choose_first_free,
	        test_subnet_choose_skips_overlaps, test_subnet_choose_exhausted,
	        test_subnet_choose_bad_prefix);
}

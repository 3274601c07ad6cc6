/* SPDX-License-Identifier: MIT */
/*
 * ipv4.c - IPv4 addresses and CIDR blocks, parsed strictly by hand, and the
 * choice of a free subnet for a bridge network. Host byte order throughout.
 */
#include "compose.h"

static uint32_t prefix_mask(unsigned prefix)
{
	if (prefix == 0)
		return 0;
	if (prefix >= 32)
		return UINT32_MAX;
	return UINT32_MAX << (32 - prefix);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Scan a dotted quad that fills s[0..len). On failure writes why it is
 * wrong into why[] and returns false.
 */
static bool ipv4_scan(const char *s, size_t len, uint32_t *out, char *why, size_t why_len)
{
	uint32_t addr = 0;
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		size_t start;
		unsigned v = 0;

		if (part > 0) {
			if (i >= len || s[i] != '.')
				goto shape;
			i++;
		}
		start = i;
		while (i < len && is_digit(s[i])) {
			if (v <= 255)
				v = v * 10 + (unsigned)(s[i] - '0');
			i++;
		}
		if (i == start)
			goto shape;
		if (v > 255) {
			snprintf(why, why_len, "\"%.*s\" is more than 255", (int)(i - start),
			         s + start);
			return false;
		}
		if (i - start > 1 && s[start] == '0') {
			snprintf(
			    why, why_len,
			    "\"%.*s\" has a leading zero, which some tools read as octal; write "
			    "%u",
			    (int)(i - start), s + start, v);
			return false;
		}
		addr = addr << 8 | v;
	}
	if (i != len)
		goto shape;
	*out = addr;
	return true;
shape:
	snprintf(why, why_len,
	         "expected four numbers from 0 to 255 separated by dots, e.g. "
	         "\"10.213.0.2\"");
	return false;
}

int compose_ipv4_parse(const char *field, const char *text, uint32_t *out, struct sb_err *err)
{
	char why[256];

	if (!text || !*text)
		return sb_err_input(err, "Missing %s: give an IPv4 address, e.g. \"10.213.0.2\"",
		                    field);
	if (!ipv4_scan(text, strlen(text), out, why, sizeof(why)))
		return sb_err_input(err, "Invalid %s \"%s\": %s", field, text, why);
	return 0;
}

int compose_cidr_parse(const char *field, const char *text, struct compose_cidr *out,
                       struct sb_err *err)
{
	char why[256];
	const char *slash, *p;
	uint32_t addr;
	unsigned prefix = 0;

	if (!text || !*text)
		return sb_err_input(err, "Missing %s: give a subnet, e.g. \"10.213.0.0/24\"",
		                    field);
	slash = strchr(text, '/');
	if (!slash && !ipv4_scan(text, strlen(text), &addr, why, sizeof(why)))
		return sb_err_input(err, "Invalid %s \"%s\": %s", field, text, why);
	if (!slash)
		return sb_err_input(err,
		                    "Invalid %s \"%s\": missing the prefix length, e.g. "
		                    "\"10.213.0.0/24\"",
		                    field, text);
	if (!ipv4_scan(text, (size_t)(slash - text), &addr, why, sizeof(why)))
		return sb_err_input(err, "Invalid %s \"%s\": %s", field, text, why);

	p = slash + 1;
	if (!is_digit(p[0]) || (p[1] && !is_digit(p[1])) || (p[1] && p[2]) || (p[0] == '0' && p[1]))
		return sb_err_input(err,
		                    "Invalid %s \"%s\": the prefix length must be a number from 0 "
		                    "to 32, e.g. \"/24\"",
		                    field, text);
	for (; *p; p++)
		prefix = prefix * 10 + (unsigned)(*p - '0');
	if (prefix > 32)
		return sb_err_input(err,
		                    "Invalid %s \"%s\": prefix /%u is more than 32; IPv4 prefixes "
		                    "go from /0 to /32",
		                    field, text, prefix);
	if (addr & ~prefix_mask(prefix)) {
		struct compose_cidr fixed = {addr & prefix_mask(prefix), (uint8_t)prefix};
		char buf[20];

		return sb_err_input(err, "Invalid %s \"%s\": host bits set; did you mean \"%s\"",
		                    field, text, compose_cidr_format(&fixed, buf));
	}
	out->addr = addr;
	out->prefix = (uint8_t)prefix;
	return 0;
}

char *compose_ipv4_format(uint32_t addr, char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff, (addr >> 8) & 0xff,
	         addr & 0xff);
	return buf;
}

char *compose_cidr_format(const struct compose_cidr *c, char *buf)
{
	char ip[16], tmp[24];
	size_t n;

	/* tmp fits any uint8_t prefix; a valid one (<= 32) always fits buf. */
	snprintf(tmp, sizeof(tmp), "%s/%u", compose_ipv4_format(c->addr, ip), (unsigned)c->prefix);
	n = strlen(tmp);
	if (n > 18)
		n = 18;
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	return buf;
}

bool compose_cidr_contains(const struct compose_cidr *c, uint32_t addr)
{
	uint32_t mask = prefix_mask(c->prefix);

	return (addr & mask) == (c->addr & mask);
}

bool compose_cidr_overlaps(const struct compose_cidr *a, const struct compose_cidr *b)
{
	uint32_t mask = prefix_mask(a->prefix < b->prefix ? a->prefix : b->prefix);

	return (a->addr & mask) == (b->addr & mask);
}

uint32_t compose_cidr_broadcast(const struct compose_cidr *c)
{
	return c->addr | ~prefix_mask(c->prefix);
}

int compose_subnet_choose(const struct compose_cidr *pool, uint8_t prefix,
                          const struct compose_cidr *used, size_t n_used, struct compose_cidr *out,
                          struct sb_err *err)
{
	char pool_buf[20];
	uint64_t step, cand, end;

	compose_cidr_format(pool, pool_buf);
	if (prefix < pool->prefix || prefix > 32)
		return sb_err_input(err,
		                    "Cannot choose a /%u subnet inside %s: the prefix must be "
		                    "between /%u and /32",
		                    (unsigned)prefix, pool_buf, (unsigned)pool->prefix);

	step = (uint64_t)1 << (32 - prefix);
	cand = pool->addr & prefix_mask(pool->prefix);
	end = cand + ((uint64_t)1 << (32 - pool->prefix));
	while (cand + step <= end) {
		struct compose_cidr c = {(uint32_t)cand, prefix};
		uint64_t next = cand + step;
		bool clash = false;

		for (size_t i = 0; i < n_used; i++) {
			uint64_t past;

			/* A default route says nothing about which addresses are taken. */
			if (used[i].prefix == 0 || !compose_cidr_overlaps(&c, &used[i]))
				continue;
			clash = true;
			/* Skip the whole of a larger block in one step. */
			past = (uint64_t)compose_cidr_broadcast(&used[i]) + 1;
			past = (past + step - 1) / step * step;
			if (past > next)
				next = past;
		}
		if (!clash) {
			*out = c;
			return 0;
		}
		cand = next;
	}
	return sb_err_set(err, ENOSPC,
	                  "No free /%u subnet in %s: every one overlaps a host route or a Docker "
	                  "network; pass --subnet with a free range",
	                  (unsigned)prefix, pool_buf);
}

/* SPDX-License-Identifier: MIT */
/*
 * names.c - the rules for the names slurmbox accepts: the cluster name
 * (a DNS label that prefixes every container, volume and network name and is
 * Slurm's ClusterName) and the cluster user's POSIX name; and the words for
 * a role and a network mode.
 */
#include "compose.h"

#define STR_(x) #x
#define STR(x)  STR_(x)

#define USER_NAME_MAX 32

/* Words slurm.conf gives a meaning of its own, compared without case. */
static const char *const slurm_reserved[] = {"all", "default"};

static bool is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_reserved(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(slurm_reserved); i++)
		if (!strcasecmp(name, slurm_reserved[i]))
			return true;
	return false;
}

/* The first character that breaks the rules, or '\0'. */
static char first_bad_char(const char *name, const char *extra)
{
	for (const char *p = name; *p; p++)
		if (!is_lower(*p) && !is_digit(*p) && !strchr(extra, *p))
			return *p;
	return '\0';
}

/* "'x'" for a printable character, else "a non-ASCII or control character". */
static const char *char_desc(char c, char buf[4])
{
	if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
		return "a non-ASCII or control character";
	buf[0] = '\'';
	buf[1] = c;
	buf[2] = '\'';
	buf[3] = '\0';
	return buf;
}

/* Why `name` is not a valid cluster name, without the fix; NULL when it is. */
static const char *cluster_name_problem(const char *name)
{
	size_t len = strlen(name);

	if (len == 0)
		return "a cluster name is required";
	if (is_reserved(name))
		return "reserved by Slurm";
	if (strchr(name, '_'))
		return "underscores are not valid in hostnames";
	for (const char *p = name; *p; p++)
		if (is_upper(*p))
			return "upper-case letters are not allowed";
	if (first_bad_char(name, "-"))
		return "only lower-case letters, digits and '-' are allowed";
	if (!is_lower(name[0]))
		return "must start with a letter";
	if (name[len - 1] == '-')
		return "must not end with '-'";
	if (len > COMPOSE_CLUSTER_MAX_LEN)
		return "longer than " STR(COMPOSE_CLUSTER_MAX_LEN) " characters";
	return NULL;
}

int compose_cluster_name_check(const char *name, struct sb_err *err)
{
	_cleanup_free_ char *try = NULL;
	const char *why;
	char bad, desc[4];

	if (!name)
		name = "";
	why = cluster_name_problem(name);
	if (!why)
		return 0;
	if (!*name)
		return sb_err_input(err, "Invalid --name \"\": %s, e.g. \"%s\"", why,
		                    COMPOSE_DEFAULT_CLUSTER);
	if (is_reserved(name))
		return sb_err_input(err,
		                    "Invalid --name \"%s\": %s; choose another name, e.g. \"%s\"",
		                    name, why, COMPOSE_DEFAULT_CLUSTER);

	/* Lower case and '-' for '_' fix the most common mistakes: suggest that. */
	try = xstrdup(name);
	for (char *p = try; *p; p++) {
		if (is_upper(*p))
			*p = (char)(*p - 'A' + 'a');
		else if (*p == '_')
			*p = '-';
	}
	if (strcmp(try, name) && !cluster_name_problem(try))
		return sb_err_input(err, "Invalid --name \"%s\": %s; try \"%s\"", name, why, try);

	bad = first_bad_char(name, "-");
	if (bad && !is_upper(bad) && bad != '_')
		return sb_err_input(err,
		                    "Invalid --name \"%s\": %s is not allowed; use only lower-case "
		                    "letters, digits and '-'",
		                    name, char_desc(bad, desc));
	return sb_err_input(err,
	                    "Invalid --name \"%s\": %s; use up to %d lower-case letters, digits "
	                    "and '-', starting with a letter, e.g. \"%s\"",
	                    name, why, COMPOSE_CLUSTER_MAX_LEN, COMPOSE_DEFAULT_CLUSTER);
}

int compose_user_name_check(const char *name, struct sb_err *err)
{
	size_t len;
	char bad, desc[4];

	if (!name || !*name)
		return sb_err_input(err,
		                    "Invalid --user \"\": a user name is required, e.g. \"alice\"");
	len = strlen(name);
	if (!strcmp(name, "root"))
		return sb_err_input(err,
		                    "Invalid --user \"root\": jobs must not run as root; give a "
		                    "normal user's name");
	if (!strcmp(name, "slurm") || !strcmp(name, "munge"))
		return sb_err_input(err,
		                    "Invalid --user \"%s\": that is a system user of the node "
		                    "images; give a normal user's name",
		                    name);
	for (const char *p = name; *p; p++) {
		if (is_upper(*p)) {
			_cleanup_free_ char *lower = xstrdup(name);

			for (char *q = lower; *q; q++)
				if (is_upper(*q))
					*q = (char)(*q - 'A' + 'a');
			return sb_err_input(err,
			                    "Invalid --user \"%s\": upper-case letters are not "
			                    "allowed in user names; try \"%s\"",
			                    name, lower);
		}
	}
	bad = first_bad_char(name, "_-");
	if (bad)
		return sb_err_input(err,
		                    "Invalid --user \"%s\": %s is not allowed; use only lower-case "
		                    "letters, digits, '_' and '-'",
		                    name, char_desc(bad, desc));
	if (!is_lower(name[0]) && name[0] != '_')
		return sb_err_input(err,
		                    "Invalid --user \"%s\": must start with a lower-case letter or "
		                    "'_'",
		                    name);
	if (len > USER_NAME_MAX)
		return sb_err_input(err,
		                    "Invalid --user \"%s\": %zu characters, more than %d; use a "
		                    "shorter name",
		                    name, len, USER_NAME_MAX);
	return 0;
}

/* The words for a role and a network mode, in labels, env and slurm.conf. */
static const char *const role_names[] = {
    [COMPOSE_ROLE_MASTER] = "master",
    [COMPOSE_ROLE_WORKER] = "worker",
};

static const char *const net_mode_names[] = {
    [COMPOSE_NET_BRIDGE] = "bridge",
    [COMPOSE_NET_MACVLAN] = "macvlan",
    [COMPOSE_NET_IPVLAN] = "ipvlan",
};

const char *compose_role_name(enum compose_role role)
{
	if ((size_t)role < ARRAY_SIZE(role_names))
		return role_names[role];
	return "unknown";
}

const char *compose_net_mode_name(enum compose_net_mode mode)
{
	if ((size_t)mode < ARRAY_SIZE(net_mode_names))
		return net_mode_names[mode];
	return "unknown";
}

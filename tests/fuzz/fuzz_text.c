/* SPDX-License-Identifier: MIT */
/*
 * The small text parsers of the command line and the environment, each on
 * the same input: IPv4 addresses and CIDR blocks (compose), cluster and
 * user names, --user NAME[:UID[:GID]], DOCKER_HOST, and the API versions a
 * Docker daemon reports. What parses must format back to the same text.
 */
#include "fuzz.h"
#include "../../compose/compose.h"
#include "../../launcher/cli/cli.h"
#include "../../launcher/docker/docker.h"

static void ip_text(const char *text)
{
	struct sb_err err = SB_ERR_INIT;
	struct compose_cidr c;
	uint32_t a;
	char buf[32];

	if (compose_ipv4_parse("addr", text, &a, &err) == 0 &&
	    strcmp(compose_ipv4_format(a, buf), text) != 0)
		abort();
	if (compose_cidr_parse("subnet", text, &c, &err) == 0) {
		if (c.prefix > 32 || strcmp(compose_cidr_format(&c, buf), text) != 0)
			abort();
		(void)compose_cidr_contains(&c, c.addr);
		(void)compose_cidr_broadcast(&c);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *text = fuzz_str(data, size);
	struct sb_err err = SB_ERR_INIT;
	struct compose_user u = {0};
	char path[128], api[16];
	const char *comma;

	ip_text(text);
	(void)compose_cluster_name_check(text, &err);
	(void)compose_user_name_check(text, &err);
	if (user_parse(text, &u, &err) == 0) {
		if (compose_user_name_check(u.name, &err) < 0)
			abort();
		free(u.name);
	}
	(void)docker_host_parse(text, path, sizeof(path), &err);
	/* "max,min" as a daemon's headers give them */
	comma = strchr(text, ',');
	if (comma) {
		_cleanup_free_ char *max = xstrndup(text, (size_t)(comma - text));

		(void)docker_api_negotiate(max, comma + 1, api, &err);
		(void)docker_api_compare(max, comma + 1);
	} else {
		(void)docker_api_negotiate(text, NULL, api, &err);
	}
	return 0;
}

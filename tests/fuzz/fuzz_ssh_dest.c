/* SPDX-License-Identifier: MIT */
/*
 * ssh destinations before any ssh runs: a --hosts list (multi_hosts_parse,
 * which checks each entry with ssh_dest_check), one entry alone, quoting a
 * word for the remote shell (ssh_quote), and the host-key refusal words of
 * ssh's stderr. A destination that passes must be safe on ssh's command
 * line: no option, no shell metacharacter.
 */
#include "fuzz.h"
#include "../../launcher/cluster/multi.h"
#include "../../launcher/remote/ssh.h"

static void dest_safe(const char *d)
{
	if (!*d || d[0] == '-' || strlen(d) > 255)
		abort();
	for (const char *p = d; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@",
		            *p))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *text = fuzz_str(data, size);
	_cleanup_free_ char *quoted = NULL;
	struct sb_err err = SB_ERR_INIT;
	char **hosts = NULL;
	size_t n = 0;

	if (ssh_dest_check("--hosts", text, &err) == 0)
		dest_safe(text);
	(void)ssh_dest_is_local(text);
	if (multi_hosts_parse(text, &hosts, &n, &err) == 0) {
		for (size_t i = 0; i < n; i++) {
			dest_safe(hosts[i]);
			free(hosts[i]);
		}
		free(hosts);
	}
	quoted = ssh_quote(text);
	if (ssh_host_key_refused(text))
		(void)ssh_host_key_hint(quoted, text);
	return 0;
}

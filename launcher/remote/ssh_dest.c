/* SPDX-License-Identifier: MIT */
/*
 * ssh_dest.c - what ssh.h says about destinations before any ssh runs:
 * the check of a --hosts entry, quoting for the remote shell, and the words
 * ssh uses when it refuses a host key.
 */
#include "ssh_dest.h"

#include <strings.h>

static bool ssh_char_plain(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

/* The value for a message: control characters shown as '?'. */
static void ssh_printable(const char *s, char *out, size_t size)
{
	size_t i = 0;

	for (; *s && i + 1 < size; s++, i++)
		out[i] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
	out[i] = '\0';
}

int ssh_dest_check(const char *field, const char *dest, struct sb_err *err)
{
	const char *hint = "use [user@]host with letters, digits, '.', '_' and '-' "
	                   "(anything else goes in ~/.ssh/config as an alias)";
	const char *at, *host;
	char v[300];

	if (!dest || !*dest)
		return sb_err_input(err, "%s: empty host: %s", field, hint);
	ssh_printable(dest, v, sizeof(v));
	if (strlen(dest) > 255)
		return sb_err_input(err, "%s: '%.40s...' is longer than 255 characters: %s", field,
		                    v, hint);
	if (dest[0] == '-')
		return sb_err_input(
		    err, "%s: '%s' starts with '-', which ssh would take as an option: %s", field,
		    v, hint);
	for (const char *p = dest; *p; p++) {
		if (*p == ':' && !strchr(p + 1, ':'))
			return sb_err_input(
			    err,
			    "%s: '%s' has a port, which is not ssh syntax: put "
			    "\"Host %.*s\" with \"Port %s\" in ~/.ssh/config and use '%.*s'",
			    field, v, (int)(p - dest), v, v + (p - dest) + 1, (int)(p - dest), v);
		if (*p == ':')
			return sb_err_input(
			    err,
			    "%s: '%s' is not a host name (IPv6 addresses and ports "
			    "are not allowed): give it an alias in ~/.ssh/config (HostName)",
			    field, v);
		if (*p != '@' && !ssh_char_plain(*p)) {
			char c[32];

			if (*p == ' ')
				snprintf(c, sizeof(c), "a space");
			else if ((unsigned char)*p < 0x20 || *p == 0x7f)
				snprintf(c, sizeof(c), "a control character");
			else
				snprintf(c, sizeof(c), "'%c'", *p);
			return sb_err_input(err,
			                    "%s: '%s' holds %s, which is not allowed in a host: %s",
			                    field, v, c, hint);
		}
	}
	at = strchr(dest, '@');
	host = at ? at + 1 : dest;
	if (at == dest || (at && strchr(host, '@')) || !*host || host[0] == '-' || host[0] == '.')
		return sb_err_input(err, "%s: '%s' is not [user@]host: %s", field, v, hint);
	return 0;
}

bool ssh_host_key_refused(const char *ssh_stderr)
{
	return ssh_stderr && (strstr(ssh_stderr, "Host key verification failed") ||
	                      strstr(ssh_stderr, "REMOTE HOST IDENTIFICATION HAS CHANGED"));
}

const char *ssh_host_key_hint(const char *dest, const char *ssh_stderr)
{
	static __thread char msg[400];

	snprintf(msg, sizeof(msg),
	         "ssh refused the host key of '%s' (%s): it is not the key known_hosts "
	         "holds for it (changed or unknown). Check the key the host really has, then "
	         "replace the old entry (ssh-keygen -R %s) or add the new one; slurmbox never "
	         "accepts a host key by itself",
	         dest,
	         strstr(ssh_stderr ? ssh_stderr : "", "CHANGED")
	             ? "REMOTE HOST IDENTIFICATION HAS CHANGED"
	             : "Host key verification failed",
	         dest);
	return msg;
}

bool ssh_dest_is_local(const char *dest)
{
	return dest && strcasecmp(dest, "localhost") == 0;
}

char *ssh_quote(const char *word)
{
	struct sb_buf b = SB_BUF_INIT;
	bool plain = *word != '\0';

	for (const char *p = word; *p && plain; p++)
		plain = ssh_char_plain(*p) || strchr("/:@+,", *p);
	if (plain)
		return xstrdup(word);
	sb_buf_puts(&b, "'");
	for (const char *p = word; *p; p++) {
		if (*p == '\'')
			sb_buf_puts(&b, "'\\''");
		else
			sb_buf_add(&b, p, 1);
	}
	sb_buf_puts(&b, "'");
	return sb_buf_steal(&b);
}

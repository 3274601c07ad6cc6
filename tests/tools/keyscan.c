/* SPDX-License-Identifier: MIT */
/*
 * keyscan KEYFILE [FILE|-]... - does any input hold a piece of the key?
 *
 * A test tool for the "the key never leaks" cases. It looks for any 16
 * consecutive key bytes in three forms: raw, lower- or upper-case hex, and
 * base64 (at each of the three byte alignments). Inputs are streamed, so a
 * `docker save` of a whole image can be piped in. Prints the first hit of
 * each input as "SOURCE: key bytes as FORM at offset N" and exits 1 when
 * there is one, 0 when there is none, 2 on a usage or I/O error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WIN      16   /* bytes of a pattern */
#define MAX_PATS 8192 /* key windows x forms; a 1024-byte key needs about 5200 */
#define NBUCKET  16384

struct pat {
	unsigned char b[WIN];
	const char *form;
	int next; /* bucket chain */
};

static struct pat pats[MAX_PATS];
static size_t n_pats;
static int bucket[NBUCKET];

static uint32_t hash16(const unsigned char *p)
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < WIN; i++)
		h = (h ^ p[i]) * 16777619u;
	return h % NBUCKET;
}

static void pat_add(const unsigned char *b, const char *form)
{
	uint32_t h;

	if (n_pats == MAX_PATS)
		return;
	memcpy(pats[n_pats].b, b, WIN);
	pats[n_pats].form = form;
	h = hash16(b);
	pats[n_pats].next = bucket[h];
	bucket[h] = (int)n_pats;
	n_pats++;
}

static const char *pat_find(const unsigned char *p)
{
	for (int i = bucket[hash16(p)]; i >= 0; i = pats[i].next)
		if (memcmp(pats[i].b, p, WIN) == 0)
			return pats[i].form;
	return NULL;
}

static size_t hex_encode(const unsigned char *in, size_t n, char *out, const char *digits)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	return 2 * n;
}

static size_t b64_encode(const unsigned char *in, size_t n, char *out)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t k = 0;

	for (size_t i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[k++] = t[v >> 18];
		out[k++] = t[(v >> 12) & 63];
		out[k++] = t[(v >> 6) & 63];
		out[k++] = t[v & 63];
	}
	return k; /* whole groups only: a tail would depend on what follows */
}

/* Every WIN-long window of an encoding of the key becomes a pattern. */
static void pats_from_text(const char *s, size_t n, size_t step, const char *form)
{
	for (size_t i = 0; i + WIN <= n; i += step)
		pat_add((const unsigned char *)s + i, form);
}

static int key_load(const char *path)
{
	unsigned char key[65536];
	static char enc[2 * sizeof(key)];
	size_t n = 0;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "keyscan: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (n < sizeof(key) && (r = read(fd, key + n, sizeof(key) - n)) > 0)
		n += (size_t)r;
	close(fd);
	if (n < WIN) {
		fprintf(stderr, "keyscan: %s: shorter than %d bytes\n", path, WIN);
		return -1;
	}
	memset(bucket, -1, sizeof(bucket));
	/* raw: any window (one pattern per starting byte) */
	for (size_t i = 0; i + WIN <= n; i++)
		pat_add(key + i, "raw bytes");
	/* hex: windows starting on a byte boundary (even offsets) */
	pats_from_text(enc, hex_encode(key, n, enc, "0123456789abcdef"), 2, "hex");
	pats_from_text(enc, hex_encode(key, n, enc, "0123456789ABCDEF"), 2, "HEX");
	/* base64 of the key from offset 0, 1 or 2: 4-character aligned windows */
	for (size_t a = 0; a < 3; a++)
		pats_from_text(enc, b64_encode(key + a, n - a, enc), 4, "base64");
	return 0;
}

/* Stream one input; WIN-1 bytes carry over so no window is missed. */
static int scan(const char *name, int fd, bool *hit)
{
	static unsigned char buf[(1 << 20) + WIN];
	size_t keep = 0;
	unsigned long long base = 0;
	ssize_t r;

	while ((r = read(fd, buf + keep, sizeof(buf) - keep)) > 0) {
		size_t n = keep + (size_t)r;

		for (size_t i = 0; i + WIN <= n; i++) {
			const char *form = pat_find(buf + i);
			if (form) { /* the first hit is enough to tell */
				printf("%s: key bytes as %s at offset %llu\n", name, form,
				       base + i);
				*hit = true;
				return 0;
			}
		}
		keep = n < WIN - 1 ? n : WIN - 1;
		memmove(buf, buf + n - keep, keep);
		base += n - keep;
	}
	if (r < 0) {
		fprintf(stderr, "keyscan: %s: %s\n", name, strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	bool hit = false;

	if (argc < 2) {
		fputs("usage: keyscan KEYFILE [FILE|-]...\n", stderr);
		return 2;
	}
	if (key_load(argv[1]) < 0)
		return 2;
	if (argc == 2 && scan("stdin", STDIN_FILENO, &hit) < 0)
		return 2;
	for (int i = 2; i < argc; i++) {
		int fd =
		    strcmp(argv[i], "-") == 0 ? STDIN_FILENO : open(argv[i], O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			fprintf(stderr, "keyscan: %s: %s\n", argv[i], strerror(errno));
			return 2;
		}
		if (scan(argv[i], fd, &hit) < 0)
			return 2;
		if (fd != STDIN_FILENO)
			close(fd);
	}
	return hit ? 1 : 0;
}

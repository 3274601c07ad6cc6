/* SPDX-License-Identifier: MIT */
/*
 * The munge key in memory: a key file outside munge's 32 to 1024 bytes is
 * refused, never cut short (state_key_read); and once the agent's input is
 * decoded (agent_stdin_spec) or the control machine's encoded and freed
 * (spec_json_input_encode), no copy of the key's text is left anywhere in
 * the process, freed memory included. The memory is read through
 * /proc/self/mem, which also reads freed blocks (and ASan's quarantine).
 */
#include "tap.h"
#include "../../launcher/remote/agent.h"
#include "../../launcher/host/spec_json.h"
#include "../../launcher/host/state.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>

#define SPEC "{\"cluster\":\"okname\",\"workers\":1,\"hosts\":[{\"name\":\"h1\",\"ncpus\":1}]}"

static unsigned char key[STATE_KEY_MAX];
static char needle[33]; /* the hex of key[500..515]: what must not be left behind */

static void key_make(void)
{
	CHECK_INT(getrandom(key, sizeof(key), 0), sizeof(key));
	for (int i = 0; i < 16; i++)
		snprintf(needle + 2 * i, 3, "%02x", key[500 + i]);
}

/* Where the scan reads into: a mapping of its own, left out of the scan. */
static char *scan_buf;
#define SCAN_CHUNK (1u << 20)

/* How many places in our writable memory, but needle itself, hold the needle. */
static int memory_hits(bool quiet)
{
	FILE *maps = fopen("/proc/self/maps", "re");
	int mem = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
	size_t n = strlen(needle);
	char line[512];
	int hits = 0;

	if (!scan_buf)
		scan_buf = mmap(NULL, SCAN_CHUNK, PROT_READ | PROT_WRITE,
		                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(maps && mem >= 0 && scan_buf != MAP_FAILED);
	while (maps && mem >= 0 && scan_buf != MAP_FAILED && fgets(line, sizeof(line), maps)) {
		unsigned long lo, hi;
		char perms[5];

		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) != 3 || perms[0] != 'r' ||
		    perms[1] != 'w' || hi - lo > (256ul << 20) || lo == (unsigned long)scan_buf)
			continue;
		for (unsigned long at = lo; at < hi; at += SCAN_CHUNK - n) {
			size_t want = hi - at < SCAN_CHUNK ? hi - at : SCAN_CHUNK;
			ssize_t got = pread(mem, scan_buf, want, (off_t)at);
			char *p = scan_buf, *end = scan_buf + (got > 0 ? got : 0);

			while ((p = memmem(p, (size_t)(end - p), needle, n))) {
				unsigned long where = at + (unsigned long)(p - scan_buf);

				if (where != (unsigned long)needle) {
					hits++;
					if (!quiet)
						printf("#   the key's text at %#lx, in %s", where,
						       line);
				}
				p++;
			}
			if (hi - at <= SCAN_CHUNK)
				break;
		}
	}
	if (maps)
		fclose(maps);
	if (mem >= 0)
		close(mem);
	return hits;
}

static void key_file(const char *path, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0400);

	CHECK(fd >= 0);
	CHECK_INT(write(fd, key, size), size);
	close(fd);
}

/* 31 and 1025 bytes are refused with the reason; 32 and 1024 are read whole. */
static void test_key_read_sizes(void)
{
	char dir[] = "/tmp/sbtest-key-XXXXXX", path[64];
	unsigned char got[STATE_KEY_MAX];
	const size_t sizes[] = {31, 32, 1024, 1025, 4096};
	size_t len;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/munge.key", dir);
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		struct sb_err err = SB_ERR_INIT;
		char want[64];
		int ret;

		if (sizes[i] > sizeof(key)) {
			int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0400);
			CHECK(fd >= 0 && ftruncate(fd, (off_t)sizes[i]) == 0);
			close(fd);
		} else {
			key_file(path, sizes[i]);
		}
		len = 0;
		ret = state_key_read(path, got, sizeof(got), &len, &err);
		if (sizes[i] >= 32 && sizes[i] <= 1024) {
			CHECK_INT(ret, 0);
			CHECK_INT(len, sizes[i]);
			CHECK(memcmp(got, key, sizes[i]) == 0);
			continue;
		}
		CHECK(ret < 0);
		snprintf(want, sizeof(want), "is %zu bytes; munge takes 32 to 1024", sizes[i]);
		CHECK_CONTAINS(err.msg, want);
		CHECK_CONTAINS(err.msg, "never cut short");
	}
	explicit_bzero(got, sizeof(got));
	unlink(path);
	rmdir(dir);
}

/* The input line, in a mapping of its own that is wiped and unmapped after. */
static char *input_map(size_t *size)
{
	static const char head[] = "{\"spec\":" SPEC ",\"key\":\"";
	char *s;

	*size = sizeof(head) - 1 + 2 * sizeof(key) + 3;
	s = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(s != MAP_FAILED);
	memcpy(s, head, sizeof(head) - 1);
	for (size_t i = 0; i < sizeof(key); i++)
		snprintf(s + sizeof(head) - 1 + 2 * i, 3, "%02x", key[i]);
	memcpy(s + *size - 3, "\"}\n", 3);
	return s;
}

/* stdin is a pipe holding `input` while agent_stdin_spec reads it. */
static int stdin_spec(const char *input, size_t size, struct spec_doc *doc, unsigned char *k,
                      size_t *len, struct sb_err *err)
{
	int p[2], saved = dup(STDIN_FILENO), ret;

	CHECK(pipe2(p, O_CLOEXEC) == 0);
	CHECK_INT(write(p[1], input, size), size);
	close(p[1]);
	dup2(p[0], STDIN_FILENO);
	close(p[0]);
	ret = agent_stdin_spec(doc, k, len, true, err);
	dup2(saved, STDIN_FILENO);
	close(saved);
	return ret;
}

/* The agent's decoder leaves no copy of the key's text (its buffers, json-c's). */
static void test_agent_decode_leaves_no_copy(void)
{
	struct spec_doc doc = {0};
	struct sb_err err = SB_ERR_INIT;
	unsigned char got[STATE_KEY_MAX];
	size_t size, len = 0;
	char *input;

	key_make();
	input = input_map(&size);
	CHECK(memmem(input, size, needle, strlen(needle)) != NULL);
	CHECK(memory_hits(true) >= 1); /* the scan sees the input */
	CHECK_INT(stdin_spec(input, size, &doc, got, &len, &err), 0);
	explicit_bzero(input, size);
	munmap(input, size);
	CHECK_STR(doc.spec.cluster, "okname");
	CHECK_INT(len, sizeof(key));
	CHECK(memcmp(got, key, sizeof(key)) == 0);
	explicit_bzero(got, sizeof(got));
	spec_doc_free(&doc);
	CHECK_INT(memory_hits(false), 0);
}

/* The control machine's encoder: one string, which round-trips and is wiped. */
static void test_encode_round_trip_leaves_no_copy(void)
{
	struct spec_doc doc = {0}, back = {0};
	struct sb_err err = SB_ERR_INIT;
	struct json_object *o = json_tokener_parse(SPEC);
	unsigned char got[STATE_KEY_MAX];
	size_t len = 0;
	char *s;

	key_make();
	CHECK_INT(spec_json_to(o, &doc, &err), 0);
	json_object_put(o);
	s = spec_json_input_encode(&doc, key, sizeof(key));
	CHECK(strstr(s, needle) != NULL);
	CHECK_INT(spec_json_input_decode(s, strlen(s), &back, got, sizeof(got), &len, &err), 0);
	CHECK_STR(back.spec.cluster, "okname");
	CHECK_INT(len, sizeof(key));
	CHECK(memcmp(got, key, sizeof(key)) == 0);
	explicit_bzero(got, sizeof(got));
	spec_doc_free(&back);
	sb_free_secret(&s);
	CHECK_INT(memory_hits(false), 0);
	/* a key below munge's 32 bytes, or larger than the buffer, is no key */
	s = spec_json_input_encode(&doc, key, 31);
	CHECK(spec_json_input_decode(s, strlen(s), &back, got, sizeof(got), &len, &err) < 0);
	CHECK_CONTAINS(err.msg, "no munge key");
	spec_doc_free(&back);
	sb_free_secret(&s);
	s = spec_json_input_encode(&doc, key, 64);
	CHECK(spec_json_input_decode(s, strlen(s), &back, got, 63, &len, &err) < 0);
	CHECK_CONTAINS(err.msg, "no munge key");
	spec_doc_free(&back);
	sb_free_secret(&s);
	spec_doc_free(&doc);
	explicit_bzero(got, sizeof(got));
}

int main(void)
{
	key_make();
	TAP_RUN(test_key_read_sizes, test_agent_decode_leaves_no_copy,
	        test_encode_round_trip_leaves_no_copy);
}

/* SPDX-License-Identifier: MIT */
/* The 8-byte-header stream demultiplexer, fed in every possible split. */
#include "../../launcher/docker/docker.h"
#include "tap.h"

struct sink {
	struct sb_buf s[4];
	int calls;
	int fail_on_call; /* 0: never */
};

static int sink_fn(int stream, const char *buf, size_t len, void *arg)
{
	struct sink *k = arg;

	k->calls++;
	if (k->fail_on_call && k->calls == k->fail_on_call)
		return -EPIPE;
	if (stream < 0 || stream > 3 || !len)
		return -EINVAL; /* never called with an empty piece */
	sb_buf_add(&k->s[stream], buf, len);
	return 0;
}

static void sink_free(struct sink *k)
{
	for (int i = 0; i < 4; i++)
		sb_buf_free(&k->s[i]);
}

static void frame(struct sb_buf *b, int stream, const char *payload, size_t len)
{
	unsigned char h[8] = {(unsigned char)stream,
	                      0,
	                      0,
	                      0,
	                      (unsigned char)(len >> 24),
	                      (unsigned char)(len >> 16),
	                      (unsigned char)(len >> 8),
	                      (unsigned char)len};

	sb_buf_add(b, h, sizeof(h));
	sb_buf_add(b, payload, len);
}

static void build_stream(struct sb_buf *b)
{
	frame(b, 1, "out\n", 4);
	frame(b, 2, "err line\n", 9);
	frame(b, 1, "", 0); /* zero-length frame */
	frame(b, 1, "more out", 8);
	frame(b, 3, "exec failed", 11);
	frame(b, 2, "x", 1);
}

/* Feed the stream cut at i and j (i <= j): three pieces. */
static int feed3(const struct sb_buf *b, size_t i, size_t j, struct sink *k)
{
	struct docker_demux dm = {0};
	int r = docker_demux_feed(&dm, b->data, i, sink_fn, k);

	if (r == 0)
		r = docker_demux_feed(&dm, b->data + i, j - i, sink_fn, k);
	if (r == 0)
		r = docker_demux_feed(&dm, b->data + j, b->len - j, sink_fn, k);
	if (r == 0 && dm.hdr_len != 0)
		r = -EPROTO; /* must end between frames */
	return r;
}

static void test_split_everywhere(void)
{
	_cleanup_buf_ struct sb_buf b = SB_BUF_INIT;
	int bad = 0;

	build_stream(&b);
	for (size_t i = 0; i <= b.len; i++) {
		for (size_t j = i; j <= b.len; j++) {
			struct sink k = {0};
			int r = feed3(&b, i, j, &k);

			if (r != 0 || !k.s[1].data || strcmp(k.s[1].data, "out\nmore out") ||
			    !k.s[2].data || strcmp(k.s[2].data, "err line\nx") || !k.s[3].data ||
			    strcmp(k.s[3].data, "exec failed") || k.s[0].len != 0)
				bad++;
			sink_free(&k);
		}
	}
	CHECK_INT(bad, 0);
}

static void test_byte_by_byte(void)
{
	_cleanup_buf_ struct sb_buf b = SB_BUF_INIT;
	struct docker_demux dm = {0};
	struct sink k = {0};

	build_stream(&b);
	for (size_t i = 0; i < b.len; i++)
		CHECK_INT(docker_demux_feed(&dm, b.data + i, 1, sink_fn, &k), 0);
	CHECK_STR(k.s[1].data, "out\nmore out");
	CHECK_STR(k.s[2].data, "err line\nx");
	CHECK_STR(k.s[3].data, "exec failed");
	/* one call per payload byte, none for the empty frame */
	CHECK_INT(k.calls, 4 + 9 + 8 + 11 + 1);
	sink_free(&k);
}

static void test_stdin_stream_and_empty(void)
{
	_cleanup_buf_ struct sb_buf b = SB_BUF_INIT;
	struct docker_demux dm = {0};
	struct sink k = {0};

	frame(&b, 0, "echo", 4);
	frame(&b, 1, "", 0);
	frame(&b, 1, "", 0);
	CHECK_INT(docker_demux_feed(&dm, b.data, b.len, sink_fn, &k), 0);
	CHECK_STR(k.s[0].data, "echo");
	CHECK_INT(k.calls, 1);
	CHECK_INT(dm.hdr_len, 0);
	CHECK_INT(docker_demux_feed(&dm, "", 0, sink_fn, &k), 0);
	sink_free(&k);
}

static void test_large_frame(void)
{
	_cleanup_buf_ struct sb_buf b = SB_BUF_INIT;
	_cleanup_free_ char *big = xmalloc(70000);
	struct docker_demux dm = {0};
	struct sink k = {0};

	for (size_t i = 0; i < 70000; i++)
		big[i] = (char)('a' + i % 26);
	frame(&b, 2, big, 70000);
	for (size_t off = 0; off < b.len; off += 4096) {
		size_t n = b.len - off < 4096 ? b.len - off : 4096;
		CHECK_INT(docker_demux_feed(&dm, b.data + off, n, sink_fn, &k), 0);
	}
	CHECK_INT(k.s[2].len, 70000);
	CHECK(k.s[2].data && memcmp(k.s[2].data, big, 70000) == 0);
	sink_free(&k);
}

static void test_errors(void)
{
	struct docker_demux dm = {0};
	struct sink k = {0};
	_cleanup_buf_ struct sb_buf b = SB_BUF_INIT;

	/* A TTY stream is not framed: "hello wo" is no header. */
	CHECK_INT(docker_demux_feed(&dm, "hello world\n", 12, sink_fn, &k), -EPROTO);
	CHECK_INT(k.calls, 0);

	/* The callback's error is passed back. */
	memset(&dm, 0, sizeof(dm));
	frame(&b, 1, "abc", 3);
	k.fail_on_call = 1;
	CHECK_INT(docker_demux_feed(&dm, b.data, b.len, sink_fn, &k), -EPIPE);
	sink_free(&k);
}

int main(void)
{
	TAP_RUN(test_split_everywhere, test_byte_by_byte, test_stdin_stream_and_empty,
	        test_large_frame, test_errors);
}

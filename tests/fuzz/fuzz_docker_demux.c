/* SPDX-License-Identifier: MIT */
/*
 * Docker's 8-byte-header exec/attach stream (docker_demux_feed): the first
 * byte picks a chunk size, the rest is the stream, fed in pieces of that
 * size. Every payload byte must come out once, on a known stream, in order.
 */
#include "fuzz.h"
#include "../../launcher/docker/docker.h"

struct sink {
	size_t bytes;
};

static int frame_fn(int stream, const char *buf, size_t len, void *arg)
{
	struct sink *k = arg;

	if (stream < 0 || stream > 3 || len == 0 || !buf)
		abort(); /* the demuxer promised neither */
	k->bytes += len;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct docker_demux dm = {0};
	struct sink k = {0};
	size_t chunk, payload = 0, off = 0;
	int r = 0;

	if (size < 1)
		return 0;
	chunk = (size_t)data[0] + 1;
	data++, size--;
	for (; off < size && r == 0; off += chunk)
		r = docker_demux_feed(&dm, (const char *)data + off,
		                      size - off < chunk ? size - off : chunk, frame_fn, &k);
	if (r < 0)
		return 0;
	/* a stream that was accepted whole: count its payload by hand */
	for (off = 0; off + 8 <= size;) {
		uint32_t len = (uint32_t)data[off + 4] << 24 | (uint32_t)data[off + 5] << 16 |
		               (uint32_t)data[off + 6] << 8 | data[off + 7];

		off += 8;
		payload += size - off < len ? size - off : len;
		off += size - off < len ? size - off : len;
	}
	if (k.bytes != payload)
		abort();
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * fuzz.h - what every libFuzzer target of tests/fuzz shares. Each
 * fuzz_<name>.c defines LLVMFuzzerTestOneInput and calls the project's own
 * decoders (linked from build-fuzz/'s objects) on the bytes it is given.
 * A crash, a sanitizer report or a leak is a finding; tests/fuzz/run runs
 * each target for a bounded time and keeps the reproducer.
 */
#ifndef SLURMBOX_FUZZ_H
#define SLURMBOX_FUZZ_H

#include "../../compose/base.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a C string (cut at its first NUL, as a text from a pipe would be). Caller frees. */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
	char *s = xmalloc(size + 1);

	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif

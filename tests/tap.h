/* SPDX-License-Identifier: MIT */
/*
 * tap.h - a tiny TAP harness. A test file defines static test functions
 * returning void and using the checks below, then:
 *
 *     int main(void) { TAP_RUN(test_a, test_b); }
 *
 * Each test is one TAP point: "ok N - name" when none of its checks failed.
 * Failed checks print a diagnostic with the file and line. Golden-file
 * helpers compare against tests/fixtures/ and, with SLURMBOX_UPDATE_GOLDEN=1
 * (that value only), rewrite the fixture instead: then they check nothing,
 * so tests/run-all and tests/run-unit refuse to run with it set.
 */
#ifndef SLURMBOX_TAP_H
#define SLURMBOX_TAP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_failed_checks;
static char tap_skip_reason[4096];

/* Mark the current test skipped (TAP "# SKIP reason"); the caller returns. */
#define TAP_SKIP(...) snprintf(tap_skip_reason, sizeof(tap_skip_reason), __VA_ARGS__)

#define TAP_FAIL(...)                                      \
	do {                                               \
		printf("#   %s:%d: ", __FILE__, __LINE__); \
		printf(__VA_ARGS__);                       \
		printf("\n");                              \
		tap_failed_checks++;                       \
	} while (0)

#define CHECK(cond)                                          \
	do {                                                 \
		if (!(cond))                                 \
			TAP_FAIL("check failed: %s", #cond); \
	} while (0)

#define CHECK_INT(a, b)                                                              \
	do {                                                                         \
		long long _a = (long long)(a), _b = (long long)(b);                  \
		if (_a != _b)                                                        \
			TAP_FAIL("%s == %lld, expected %s == %lld", #a, _a, #b, _b); \
	} while (0)

#define CHECK_STR(a, b)                                                                   \
	do {                                                                              \
		const char *_a = (a), *_b = (b);                                          \
		if (!_a || !_b || strcmp(_a, _b) != 0)                                    \
			TAP_FAIL("%s == \"%s\", expected \"%s\"", #a, _a ? _a : "(null)", \
			         _b ? _b : "(null)");                                     \
	} while (0)

/* The string contains the needle. */
#define CHECK_CONTAINS(hay, needle)                                              \
	do {                                                                     \
		const char *_h = (hay), *_n = (needle);                          \
		if (!_h || !strstr(_h, _n))                                      \
			TAP_FAIL("%s does not contain \"%s\": \"%s\"", #hay, _n, \
			         _h ? _h : "(null)");                            \
	} while (0)

#ifndef TAP_FIXTURES
#define TAP_FIXTURES "tests/fixtures"
#endif

/* Compare `text` with tests/fixtures/<name>; SLURMBOX_UPDATE_GOLDEN=1 rewrites it. */
#define CHECK_GOLDEN(name, text) tap_check_golden(__FILE__, __LINE__, (name), (text))

static inline void tap_check_golden(const char *file, int line, const char *name, const char *text)
{
	const char *update = getenv("SLURMBOX_UPDATE_GOLDEN");
	char path[512];
	FILE *f;
	char *want = NULL;
	size_t cap = 0, len = 0;

	snprintf(path, sizeof(path), "%s/%s", TAP_FIXTURES, name);
	if (!text) {
		printf("#   %s:%d: no text to compare with %s\n", file, line, path);
		tap_failed_checks++;
		return;
	}
	if (update && strcmp(update, "1") == 0) {
		int written;

		f = fopen(path, "w");
		written = f && fputs(text, f) >= 0;
		if (f && fclose(f) != 0)
			written = 0;
		if (!written) {
			printf("#   %s:%d: cannot rewrite %s\n", file, line, path);
			tap_failed_checks++;
			return;
		}
		printf("#   %s:%d: rewrote %s (SLURMBOX_UPDATE_GOLDEN=1)\n", file, line, path);
		return;
	}
	f = fopen(path, "r");
	if (!f) {
		printf("#   %s:%d: golden file %s missing (run with SLURMBOX_UPDATE_GOLDEN=1)\n",
		       file, line, path);
		tap_failed_checks++;
		return;
	}
	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap = cap * 2 + 4096 + 1;
			want = realloc(want, cap);
			if (!want)
				abort();
		}
		size_t n = fread(want + len, 1, 4096, f);
		len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	want[len] = '\0';
	if (strcmp(want, text) != 0) {
		printf("#   %s:%d: output differs from %s\n#   --- got ---\n", file, line, path);
		for (const char *p = text; *p;) {
			const char *nl = strchr(p, '\n');
			int n = nl ? (int)(nl - p) : (int)strlen(p);
			printf("#   %.*s\n", n, p);
			p += n + (nl ? 1 : 0);
		}
		tap_failed_checks++;
	}
	free(want);
}

typedef void (*tap_test_fn)(void);

static inline int tap_run(const char *const *names, const tap_test_fn *fns, int n)
{
	int failed = 0;

	printf("1..%d\n", n);
	for (int i = 0; i < n; i++) {
		int before = tap_failed_checks;
		tap_skip_reason[0] = '\0';
		fns[i]();
		if (tap_failed_checks != before) {
			printf("not ok %d - %s\n", i + 1, names[i]);
			failed++;
		} else if (tap_skip_reason[0]) {
			printf("ok %d - %s # SKIP %s\n", i + 1, names[i], tap_skip_reason);
		} else {
			printf("ok %d - %s\n", i + 1, names[i]);
		}
		fflush(stdout);
	}
	return failed ? 1 : 0;
}

/* TAP_RUN(test_a, test_b, ...): list macros in the arguments are expanded
 * first (TAP_RUN_ names what it is given), so a file may write
 * TAP_RUN(LOCAL_TESTS, test_last). */
#define TAP_RUN(...) TAP_RUN_(__VA_ARGS__)
#define TAP_RUN_(...)                                                                \
	do {                                                                         \
		const tap_test_fn _fns[] = {__VA_ARGS__};                            \
		static const char _all[] = #__VA_ARGS__;                             \
		const char *_names[sizeof(_fns) / sizeof(_fns[0])];                  \
		char _buf[sizeof(_all)];                                             \
		memcpy(_buf, _all, sizeof(_all));                                    \
		int _k = 0;                                                          \
		for (char *_t = strtok(_buf, ", \t\n");                              \
		     _t && _k < (int)(sizeof(_fns) / sizeof(_fns[0]));               \
		     _t = strtok(NULL, ", \t\n"))                                    \
			_names[_k++] = _t;                                           \
		return tap_run(_names, _fns, (int)(sizeof(_fns) / sizeof(_fns[0]))); \
	} while (0)

#endif

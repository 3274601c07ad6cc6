/* SPDX-License-Identifier: MIT */
/*
 * image_release.c - the Debian release the node images are made of: the
 * word in the embedded images/base/release (image.h).
 */
#include "image.h"

#include <pthread.h>

/* The first word of the embedded base/release that is not a comment. */
static void release_find(char *out, size_t size)
{
	snprintf(out, size, "unknown");
	for (size_t i = 0; i < image_files_count; i++) {
		const struct image_file *f = &image_files[i];
		const char *p = (const char *)f->data, *end = p + f->len;

		if (strcmp(f->path, "base/release") != 0)
			continue;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
			size_t w = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789");

			if (*p != '#' && w && w < n + 1 && w < size) {
				snprintf(out, size, "%.*s", (int)w, p);
				return;
			}
			p += n + 1;
		}
	}
}

static char image_release_word[32], image_debian_ref_text[64];
static pthread_once_t image_release_once = PTHREAD_ONCE_INIT;

static void image_release_init(void)
{
	release_find(image_release_word, sizeof(image_release_word));
	snprintf(image_debian_ref_text, sizeof(image_debian_ref_text), "debian:%s-slim",
	         image_release_word);
}

const char *image_release(void)
{
	pthread_once(&image_release_once, image_release_init);
	return image_release_word;
}

const char *image_debian_ref(void)
{
	pthread_once(&image_release_once, image_release_init);
	return image_debian_ref_text;
}

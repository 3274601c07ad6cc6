/* SPDX-License-Identifier: MIT */
#include "tarball.h"

#include <archive.h>
#include <archive_entry.h>

static la_ssize_t tarball_write_cb(struct archive *a, void *arg, const void *buf, size_t len)
{
	(void)a;
	sb_buf_add(arg, buf, len);
	return (la_ssize_t)len;
}

static void archive_freep(struct archive **a)
{
	if (*a)
		archive_write_free(*a);
}

static void entry_freep(struct archive_entry **e)
{
	if (*e)
		archive_entry_free(*e);
}

int tarball_build(const struct tarball_entry *entries, size_t n, struct sb_buf *out,
                  struct sb_err *err)
{
	_cleanup_(archive_freep) struct archive *a = archive_write_new();

	if (!a)
		sb_oom();
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open(a, out, NULL, tarball_write_cb, NULL) != ARCHIVE_OK)
		return sb_err_set(err, EIO, "Creating a tar archive: %s", archive_error_string(a));
	for (size_t i = 0; i < n; i++) {
		_cleanup_(entry_freep) struct archive_entry *e = archive_entry_new();
		const struct tarball_entry *t = &entries[i];

		if (!e)
			sb_oom();
		archive_entry_set_pathname(e, t->path);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, t->mode);
		archive_entry_set_size(e, (la_int64_t)t->len);
		archive_entry_set_uid(e, t->uid);
		archive_entry_set_gid(e, t->gid);
		if (archive_write_header(a, e) != ARCHIVE_OK ||
		    (t->len && archive_write_data(a, t->data, t->len) != (la_ssize_t)t->len))
			return sb_err_set(err, EIO, "Adding '%s' to a tar archive: %s", t->path,
			                  archive_error_string(a));
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		return sb_err_set(err, EIO, "Finishing a tar archive: %s", archive_error_string(a));
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_FILE_EXT_H__
#define CR_FILE_EXT_H__
/*
 * files-ext.img (criu/file-ext.c): a file's fields beyond CRIU's file_entry,
 * kept out of files.img so that CRIU's tools read files.img whole.
 */
#include "file-ext.pb-c.h"
#include "fdinfo.pb-c.h"

struct dump_files_ctx;
struct rst_ctx;

/* Write fe to files.img with CRIU's fields only, ours to files-ext.img. 0 or -errno. */
int write_file_entry(struct dump_files_ctx *ctx, FileEntry *fe);

struct file_exts {
	FileExtEntry **e;
	int nr;
	int *by_id;	/* indices of e sorted by id (then by place in the image), for file_ext_merge() */
};

/* Read files-ext.img whole (none: an empty list). 0 or -errno (logged). */
int file_ext_read(struct rst_ctx *ctx, struct file_exts *out);
/* Put the fields of fe's id back into fe. 0 or -EINVAL (logged). */
int file_ext_merge(const struct file_exts *xs, FileEntry *fe);
void file_ext_free(struct file_exts *xs);

#endif

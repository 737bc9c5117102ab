// SPDX-License-Identifier: GPL-2.0
/*
 * file_deleted: files deleted while open keep their contents, offset and
 * flags: one read-write at an offset, one read-only; a second fd of the same
 * open file (dup) stays that file. After restore the files are still deleted
 * (nlink 0), read back what was written, and writes go on at the offset.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define LEN 100000

int main(int argc, char **argv)
{
	char name_rw[64], name_ro[64], buf[LEN], back[LEN];
	int rw, ro, dupfd;
	struct stat st;

	test_init(argc, argv);
	snprintf(name_rw, sizeof(name_rw), "file_deleted.rw.%d", getpid());
	snprintf(name_ro, sizeof(name_ro), "file_deleted.ro.%d", getpid());
	for (int i = 0; i < LEN; i++)
		buf[i] = (char)(i * 13 + 7);
	rw = open(name_rw, O_RDWR | O_CREAT | O_TRUNC, 0640);
	ro = open(name_ro, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (rw < 0 || ro < 0 || write(rw, buf, LEN) != LEN || write(ro, buf, 1000) != 1000) {
		fail("setup");
		return 1;
	}
	close(ro);
	ro = open(name_ro, O_RDONLY);
	if (ro < 0 || lseek(rw, 4321, SEEK_SET) != 4321 || lseek(ro, 10, SEEK_SET) != 10) {
		fail("reopen/seek");
		return 1;
	}
	dupfd = dup(rw);
	unlink(name_rw);
	unlink(name_ro);

	test_daemon();
	test_waitsig();

	errno = 0;
	if (fstat(rw, &st) || st.st_nlink != 0 || st.st_size != LEN || (st.st_mode & 07777) != 0640)
		fail("rw file: nlink %lu size %lld mode %o", (unsigned long)st.st_nlink, (long long)st.st_size,
		     st.st_mode & 07777);
	if (lseek(rw, 0, SEEK_CUR) != 4321 || lseek(ro, 0, SEEK_CUR) != 10)
		fail("offsets %lld %lld, expected 4321 10", (long long)lseek(rw, 0, SEEK_CUR),
		     (long long)lseek(ro, 0, SEEK_CUR));
	if (pread(rw, back, LEN, 0) != LEN || memcmp(back, buf, LEN))
		fail("the contents of the deleted rw file changed");
	if (read(ro, back, 990) != 990 || memcmp(back, buf + 10, 990))
		fail("the contents of the deleted ro file changed");
	if ((fcntl(ro, F_GETFL) & O_ACCMODE) != O_RDONLY || (fcntl(rw, F_GETFL) & O_ACCMODE) != O_RDWR)
		fail("access modes changed");
	if (write(rw, "xyz", 3) != 3 || lseek(dupfd, 0, SEEK_CUR) != 4324)
		fail("the dup does not share the offset any more");
	if (access(name_rw, F_OK) == 0 || access(name_ro, F_OK) == 0)
		fail("a deleted file came back under its name");

	if (test_failed())
		return 1;
	pass();
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * fifo_wr_first: a FIFO whose blocking write end has the lower fd number, so
 * the dump meets it before the read end. Opening a FIFO for writing blocks
 * until there is a reader: restore must not open the path that way before
 * the FIFO has one. After restore both ends work and the data is there.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define NAME "fifo_wr_first.fifo"
#define WR_FD 10
#define RD_FD 11

int main(int argc, char **argv)
{
	char buf[32] = {};
	int rd, wr, wfl, rfl;

	test_init(argc, argv);
	unlink(NAME);
	if (mkfifo(NAME, 0600)) {
		fail("mkfifo");
		return 1;
	}
	rd = open(NAME, O_RDONLY | O_NONBLOCK);
	wr = rd < 0 ? -1 : open(NAME, O_WRONLY);
	if (wr < 0 || dup2(wr, WR_FD) != WR_FD || dup2(rd, RD_FD) != RD_FD) {
		fail("open the fifo");
		return 1;
	}
	close(rd);
	close(wr);
	if (write(WR_FD, "before", 6) != 6) {
		fail("write");
		return 1;
	}

	wfl = fcntl(WR_FD, F_GETFL);
	rfl = fcntl(RD_FD, F_GETFL);

	test_daemon();
	test_waitsig();

	errno = 0;
	if (fcntl(WR_FD, F_GETFL) != wfl || fcntl(RD_FD, F_GETFL) != rfl)
		fail("flags: write end %o, read end %o; were %o, %o", fcntl(WR_FD, F_GETFL), fcntl(RD_FD, F_GETFL), wfl,
		     rfl);
	if (write(WR_FD, "after", 5) != 5)
		fail("write after restore");
	if (read(RD_FD, buf, sizeof(buf)) != 11 || memcmp(buf, "beforeafter", 11))
		fail("read '%s', expected 'beforeafter'", buf);
	unlink(NAME);
	if (test_failed())
		return 1;
	pass();
	return 0;
}

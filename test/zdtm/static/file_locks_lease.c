// SPDX-License-Identifier: GPL-2.0
/*
 * file_locks_lease: leases (F_SETLEASE), a read lease on a file open
 * read-only and a write lease on a file open read-write, come back with
 * their types (F_GETLEASE), and still stop another process: opening the
 * read-leased file for writing, or the write-leased one at all, without
 * blocking gives EWOULDBLOCK (and starts breaking the lease, so last).
 */
#include <signal.h>

#include "file_locks.h"

static const char *rd_name = "file_locks_lease.rd", *wr_name = "file_locks_lease.wr";

struct open_probe {
	const char *name;
	int flags;
};

static int open_child(const void *arg)
{
	const struct open_probe *p = arg;
	int fd = open(p->name, p->flags | O_NONBLOCK);

	if (fd >= 0)
		return 1;
	return errno == EWOULDBLOCK ? 0 : 2;
}

int main(int argc, char **argv)
{
	int rd, wr, t;

	test_init(argc, argv);
	/* a lease break signals the holder (SIGIO by default) */
	signal(SIGIO, SIG_IGN);
	rd = lock_file(rd_name, O_RDONLY);
	wr = lock_file(wr_name, O_RDWR);
	if (rd < 0 || wr < 0 || fcntl(rd, F_SETLEASE, F_RDLCK) || fcntl(wr, F_SETLEASE, F_WRLCK)) {
		fail("take the leases");
		return 1;
	}

	test_daemon();
	test_waitsig();

	t = fcntl(rd, F_GETLEASE);
	if (t != F_RDLCK)
		fail("%s: lease %d, want a read lease", rd_name, t);
	t = fcntl(wr, F_GETLEASE);
	if (t != F_WRLCK)
		fail("%s: lease %d, want a write lease", wr_name, t);
	if (in_child(open_child, &(struct open_probe){ rd_name, O_WRONLY }))
		fail("%s: opening it for writing was not stopped by the read lease", rd_name);
	if (in_child(open_child, &(struct open_probe){ wr_name, O_RDONLY }))
		fail("%s: opening it was not stopped by the write lease", wr_name);
	fcntl(rd, F_SETLEASE, F_UNLCK);
	fcntl(wr, F_SETLEASE, F_UNLCK);
	unlink(rd_name);
	unlink(wr_name);
	if (test_failed())
		return 1;
	pass();
	return 0;
}

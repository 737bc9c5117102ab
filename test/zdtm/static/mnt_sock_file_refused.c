// SPDX-License-Identifier: GPL-2.0
/*
 * mnt_sock_file_refused: in the test's own mount namespace, a tmpfs holds
 * the file of a unix socket that was closed since. A tmpfs image can't hold
 * a socket file, and no socket of the tree binds it again at restore: the
 * dump must fail naming the file, and the file must still be there.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "mntns.h"

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[160];
	struct stat st;
	int sk;

	if (mntns_enter(argv))
		return 1;
	test_init(argc, argv);
	if (!mntns_mkdtemp(dir, sizeof(dir), "mnt_sock_file")) {
		fail("mkdtemp");
		return 1;
	}
	if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/dead.sock", dir) >= (int)sizeof(sa.sun_path)) {
		fail("the path is too long");
		return 1;
	}
	sk = socket(AF_UNIX, SOCK_STREAM, 0);
	if (mount("zdtm-sock", dir, "tmpfs", 0, "size=16k") || sk < 0 ||
	    bind(sk, (struct sockaddr *)&sa, sizeof(sa)) || close(sk)) {
		fail("can't leave a socket file on a tmpfs");
		return 1;
	}
	test_daemon();
	test_waitsig();

	if (stat(sa.sun_path, &st) || !S_ISSOCK(st.st_mode))
		fail("the socket file is gone after the refused dump");
	umount2(dir, MNT_DETACH);
	rmdir(dir);
	if (test_failed())
		return 1;
	pass();
	return 0;
}

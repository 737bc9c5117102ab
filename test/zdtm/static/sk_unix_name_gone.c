// SPDX-License-Identifier: GPL-2.0
/*
 * sk_unix_name_gone: a datagram socket bound to DIR/sock (a relative name),
 * a client connected to it, then the socket file and DIR removed. Restore
 * makes DIR again, binds the socket to its name, connects the client and
 * removes the file and DIR again: after restore the socket has its name,
 * receives what the client sends, and DIR is gone. (NAME_TAKEN,
 * sk_unix_name_taken: a FIFO made where the socket file was: restore binds
 * there with the FIFO moved aside for the moment; after restore the socket
 * has its name and receives, and the FIFO is at the path, the same inode
 * with its mode, and nothing else is left in DIR.)
 */
#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX }, got;
	socklen_t len = sizeof(got);
	char dir[64], buf[8];
	int srv, cli;
#ifdef NAME_TAKEN
	struct stat before, after;
	struct dirent *de;
	int entries = 0;
	DIR *d;
#endif

	test_init(argc, argv);
	snprintf(dir, sizeof(dir), "zdtm-skgone.%d", getpid());
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", dir);
	if (mkdir(dir, 0700)) {
		fail("mkdir");
		return 1;
	}
	srv = socket(AF_UNIX, SOCK_DGRAM, 0);
	cli = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (srv < 0 || cli < 0 || bind(srv, (struct sockaddr *)&sa, sizeof(sa)) ||
	    connect(cli, (struct sockaddr *)&sa, sizeof(sa)) || unlink(sa.sun_path)) {
		fail("socket setup");
		return 1;
	}
#ifdef NAME_TAKEN
	if (mkfifo(sa.sun_path, 0640) || stat(sa.sun_path, &before)) {
		fail("mkfifo");
		return 1;
	}
#else
	if (rmdir(dir)) {
		fail("rmdir");
		return 1;
	}
#endif

	test_daemon();
	test_waitsig();

	if (getsockname(srv, (struct sockaddr *)&got, &len) || strcmp(got.sun_path, sa.sun_path))
		fail("the socket lost its name");
	if (send(cli, "ping", 4, 0) != 4 || recv(srv, buf, sizeof(buf), MSG_DONTWAIT) != 4 || memcmp(buf, "ping", 4))
		fail("the connected client can't reach the socket any more");
#ifdef NAME_TAKEN
	if (stat(sa.sun_path, &after) || after.st_ino != before.st_ino || after.st_mode != before.st_mode)
		fail("the FIFO at %s is not the one made before the dump", sa.sun_path);
	d = opendir(dir);
	while (d && (de = readdir(d)))
		entries += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	if (!d || entries != 1)
		fail("%s holds %d files, not only the FIFO", dir, entries);
	if (d)
		closedir(d);
	unlink(sa.sun_path);
	rmdir(dir);
#else
	if (!access(dir, F_OK))
		fail("%s is there again after restore", dir);
#endif
	if (test_failed())
		return 1;
	pass();
	return 0;
}

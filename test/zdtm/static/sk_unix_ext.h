/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The sk_unix_ext_* tests: a datagram socket outside the dumped tree, bound
 * to a path, held by a process that is not part of the tree (started as
 * test_start_outsider() does: a grandchild, orphaned). It appends every
 * datagram it gets to a file, and sends it back to its sender when the
 * sender has a name.
 */
#ifndef ZDTM_SK_UNIX_EXT_H
#define ZDTM_SK_UNIX_EXT_H

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

static inline socklen_t ext_addr(const char *path, struct sockaddr_un *sa)
{
	size_t n = strlen(path);

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (n >= sizeof(sa->sun_path))
		n = sizeof(sa->sun_path) - 1;	/* the bind or connect then fails */
	memcpy(sa->sun_path, path, n);
	return sizeof(*sa);
}

/* The outside process's pid, once its socket is bound at path; -1 on error. */
static inline pid_t start_ext_dgram(const char *path, const char *got)
{
	struct sockaddr_un sa;
	int p[2];
	pid_t mid, out = -1;

	if (pipe(p))
		return -1;
	mid = fork();
	if (mid == 0) {
		pid_t o = fork();

		if (o == 0) {
			socklen_t len = ext_addr(path, &sa);
			int sk = socket(AF_UNIX, SOCK_DGRAM, 0);
			char buf[256];

			setsid();
			alarm(120);	/* never outlive a broken run by much */
			unlink(path);
			if (sk < 0 || bind(sk, (struct sockaddr *)&sa, len))
				_exit(1);
			o = getpid();
			if (write(p[1], &o, sizeof(o)) != sizeof(o))
				_exit(1);
			for (;;) {
				struct sockaddr_un from;
				socklen_t flen = sizeof(from);
				ssize_t n = recvfrom(sk, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
				int fd = open(got, O_WRONLY | O_APPEND | O_CREAT, 0600);

				if (n < 0 || fd < 0 || write(fd, buf, n) != n)
					_exit(1);
				close(fd);
				if (flen > sizeof(sa_family_t))
					sendto(sk, buf, n, 0, (struct sockaddr *)&from, flen);
			}
		}
		_exit(o < 0);
	}
	close(p[1]);
	if (read(p[0], &out, sizeof(out)) != sizeof(out))
		out = -1;
	waitpid(mid, NULL, 0);
	close(p[0]);
	return out;
}

/* Has the outside process got want (all it got so far, in order)? Waits up to 5 s. */
static inline int ext_got(const char *got, const char *want)
{
	char buf[256];

	for (int i = 0; i < 500; i++) {
		int fd = open(got, O_RDONLY);
		ssize_t n = fd < 0 ? 0 : read(fd, buf, sizeof(buf) - 1);

		if (fd >= 0)
			close(fd);
		buf[n > 0 ? n : 0] = '\0';
		if (!strcmp(buf, want))
			return 1;
		usleep(10000);
	}
	return 0;
}

#endif

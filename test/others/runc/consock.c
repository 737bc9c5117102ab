// SPDX-License-Identifier: GPL-2.0
/*
 * consock PATH: the receiving end of runc's --console-socket. Listens on the
 * unix socket PATH, takes the pty master runc sends (SCM_RIGHTS), prints
 * "master received" and then copies what the container writes on its
 * terminal to stdout until the master reads EOF or fails.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int recv_fd(int sk)
{
	char buf[256], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	int fd = -1;

	if (recvmsg(sk, &mh, 0) < 0)
		return -1;
	c = CMSG_FIRSTHDR(&mh);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	return fd;
}

int main(int argc, char **argv)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char buf[4096];
	int lsk, sk, master;
	ssize_t n;

	if (argc != 2 || strlen(argv[1]) >= sizeof(a.sun_path))
		return 2;
	strcpy(a.sun_path, argv[1]);
	lsk = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lsk < 0 || bind(lsk, (struct sockaddr *)&a, sizeof(a)) || listen(lsk, 1))
		return 1;
	sk = accept(lsk, NULL, NULL);
	master = sk < 0 ? -1 : recv_fd(sk);
	if (master < 0)
		return 1;
	printf("master received\n");
	fflush(stdout);
	while ((n = read(master, buf, sizeof(buf))) > 0)
		if (write(1, buf, n) != n)
			return 1;
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Opens of the console (5:1) and of a virtual terminal (tty5, 4:5), through
 * device nodes the test makes in its directory (upstream's console and vt
 * shapes): after restore each fd is an open of the same node and device,
 * with its flags, and is a terminal (isatty). The vt was opened without
 * O_NOCTTY by the test, a session leader without a terminal: it is the
 * test's controlling terminal again.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "zdtmtst.h"

struct node {
	const char *name;
	dev_t rdev;
	int flags;
	int fd;
	struct stat st;
};

/* The device of the test's controlling terminal (tty_nr of its /proc stat, the kernel's encoding), 0 none. */
static dev_t ctty(void)
{
	unsigned int nr = 0;
	char buf[1024], *p;
	int fd = open("/proc/self/stat", O_RDONLY), n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %u", &nr) != 1)
		return 0;
	return makedev((nr >> 8) & 0xfff, (nr & 0xff) | ((nr >> 12) & 0xfff00));
}

static int same(struct node *n)
{
	char link[64], path[PATH_MAX], cwd[PATH_MAX];
	struct stat st;
	ssize_t len;
	int fl = fcntl(n->fd, F_GETFL);

	snprintf(link, sizeof(link), "/proc/self/fd/%d", n->fd);
	len = readlink(link, path, sizeof(path) - 1);
	if (len < 0 || !getcwd(cwd, sizeof(cwd))) {
		fail("%s: readlink", n->name);
		return 0;
	}
	path[len] = '\0';
	if (strncmp(path, cwd, strlen(cwd)) || strcmp(path + strlen(cwd) + 1, n->name)) {
		fail("%s: fd %d is %s", n->name, n->fd, path);
		return 0;
	}
	if (fstat(n->fd, &st) || st.st_rdev != n->rdev || st.st_ino != n->st.st_ino || st.st_dev != n->st.st_dev) {
		fail("%s: fd %d is another file (rdev %x)", n->name, n->fd, (int)st.st_rdev);
		return 0;
	}
	if (fl < 0 || (fl & (O_ACCMODE | O_NONBLOCK)) != n->flags || !isatty(n->fd)) {
		fail("%s: fd %d flags %x, not a terminal?", n->name, n->fd, fl);
		return 0;
	}
	return 1;
}

int main(int argc, char **argv)
{
	struct node nodes[] = {
		{ "zdtm-console", makedev(5, 1), O_RDONLY },
		{ "zdtm-tty5", makedev(4, 5), O_RDONLY | O_NONBLOCK },
	};

	test_init(argc, argv);
	for (int i = 0; i < 2; i++) {
		struct node *n = &nodes[i];

		unlink(n->name);
		if (mknod(n->name, S_IFCHR | 0600, n->rdev)) {
			fail("mknod %s", n->name);
			return 1;
		}
		/* (the vt becomes the test's terminal) */
		n->fd = open(n->name, n->flags | (i ? 0 : O_NOCTTY));
		if (n->fd < 0 || fstat(n->fd, &n->st)) {
			fail("open %s", n->name);
			return 1;
		}
	}

	if (ctty() != nodes[1].rdev) {
		fail("tty5 did not become the test's terminal (someone else's?)");
		return 1;
	}

	test_daemon();
	test_waitsig();

	for (int i = 0; i < 2; i++)
		if (!same(&nodes[i]))
			return 1;
	if (ctty() != nodes[1].rdev) {
		fail("the test's terminal is %x, not tty5", (int)ctty());
		return 1;
	}
	for (int i = 0; i < 2; i++)
		unlink(nodes[i].name);
	pass();
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * chroot00: a child that chroot()ed into a directory without /proc is
 * restored (its memory, file mappings and exe are reopened from outside its
 * root) and after restore still sees the same root: the marker file in it,
 * no /proc, its memory intact. It reports to the parent through a pipe.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define MEM_SIZE (256 * 1024)

static void __attribute__((noreturn)) child_main(int wfd)
{
	char *mem = malloc(MEM_SIZE), report[128];
	size_t bad = 0;

	if (!mem)
		_exit(2);
	for (size_t i = 0; i < MEM_SIZE; i++)
		mem[i] = (char)(i * 7 + 3);
	if (chdir("chroot00.jail") || chroot("."))
		_exit(3);
	if (write(wfd, "R", 1) != 1)
		_exit(4);
	test_waitsig();
	for (size_t i = 0; i < MEM_SIZE; i++)
		if (mem[i] != (char)(i * 7 + 3))
			bad++;
	snprintf(report, sizeof(report), "bad=%zu marker=%d proc=%d", bad, access("/marker", F_OK) == 0,
		 access("/proc/self", F_OK) == 0);
	if (write(wfd, report, strlen(report)) < 0)
		_exit(5);
	_exit(0);
}

int main(int argc, char **argv)
{
	char buf[128] = "";
	int p[2], fd, status;
	pid_t child;

	test_init(argc, argv);
	mkdir("chroot00.jail", 0755);
	fd = open("chroot00.jail/marker", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || pipe(p)) {
		fail("set up the jail");
		return 1;
	}
	close(fd);
	child = fork();
	if (child < 0) {
		fail("fork");
		return 1;
	}
	if (child == 0) {
		close(p[0]);
		child_main(p[1]);
	}
	close(p[1]);
	if (read(p[0], buf, 1) != 1) {
		fail("the child did not chroot");
		return 1;
	}

	test_daemon();
	test_waitsig();

	kill(child, SIGTERM);
	ssize_t n = read(p[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	errno = 0;
	if (strcmp(buf, "bad=0 marker=1 proc=0"))
		fail("the child reports '%s', expected 'bad=0 marker=1 proc=0'", buf);
	if (test_wait_child(child, 20, &status) || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("the child did not exit cleanly");
	if (test_failed())
		return 1;
	pass();
	return 0;
}

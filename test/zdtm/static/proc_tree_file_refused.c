// SPDX-License-Identifier: GPL-2.0
/*
 * proc_tree_file_refused: tasks hold /proc files of tasks of the tree: the
 * parent an fd of /proc/<child>/status, the child one of its own
 * /proc/<pid>/maps (opened through /proc/self), in a tree with pid and
 * mount namespaces of its own (the ct flavour): the paths name pids of the
 * tree's namespace, which criu's /proc does not show as the same tasks, so
 * the dump must refuse, and both fds must still read their task's file
 * after. (In criu's namespaces the same tree is restored: proc_tree_file.)
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

/* Does fd (a /proc file read from offset 0) contain needle? */
static bool has(int fd, const char *needle)
{
	char buf[8192];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return false;
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

int main(int argc, char **argv)
{
	int go[2], ready[2], status, fd;
	char path[64], pidline[32], c;
	pid_t child;

	test_init(argc, argv);
	if (pipe(go) || pipe(ready)) {
		fail("pipe");
		return 1;
	}
	child = fork();
	if (child < 0) {
		fail("fork");
		return 1;
	}
	if (child == 0) {
		int maps = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);

		if (maps < 0 || !has(maps, "[stack]") || write(ready[1], "r", 1) != 1)
			_exit(1);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		_exit(has(maps, "[stack]") ? 0 : 3);
	}
	if (read(ready[0], &c, 1) != 1) {
		fail("the child did not start");
		return 1;
	}
	snprintf(path, sizeof(path), "/proc/%d/status", child);
	snprintf(pidline, sizeof(pidline), "\nPid:\t%d\n", child);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || !has(fd, pidline)) {
		fail("open %s", path);
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (!has(fd, pidline))
		fail("%s does not read the child's status any more", path);
	if (write(go[1], "g", 1) != 1 || test_wait_child(child, 15, &status) || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		char buf[64];

		fail("child: %s", test_status_str(status, buf, sizeof(buf)));
	}
	pass();
	return 0;
}

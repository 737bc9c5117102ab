// SPDX-License-Identifier: GPL-2.0
/*
 * sc_tail_f: `tail -f` (coreutils) follows a file across the dump, asleep in
 * poll() on its inotify fd without a timeout. After restore, lines appended to
 * the file come out of tail, which is still running. (Before this worked, tail
 * woke from the restore with "error waiting for inotify and output events:
 * Interrupted system call" and exited.)
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define FILE_NAME "sc_tail_f.txt"
#define ERR_NAME "sc_tail_f.err"

static int append(const char *line)
{
	int fd = open(FILE_NAME, O_WRONLY | O_APPEND);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, line, strlen(line));
	close(fd);
	return n == (ssize_t)strlen(line) ? 0 : -1;
}

/* Read from tail's pipe until want is in buf (up to 20 s). */
static int read_until(int fd, char *buf, size_t size, const char *want)
{
	size_t len = strlen(buf);

	while (!strstr(buf, want)) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, 20000) != 1 || len + 1 >= size)
			return -1;
		n = read(fd, buf + len, size - len - 1);
		if (n <= 0)
			return -1;
		len += n;
		buf[len] = '\0';
	}
	return 0;
}

int main(int argc, char **argv)
{
	char buf[4096] = "";
	int out[2], st, fd;
	pid_t tail;

	test_init(argc, argv);
	fd = open(FILE_NAME, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || pipe(out)) {
		fail("can't make %s or a pipe", FILE_NAME);
		return 1;
	}
	close(fd);
	if (append("first\n")) {
		fail("append");
		return 1;
	}
	tail = fork();
	if (tail < 0) {
		fail("fork");
		return 1;
	}
	if (tail == 0) {
		int err = open(ERR_NAME, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int nul = open("/dev/null", O_RDONLY);
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (err < 0 || nul < 0 || dup2(nul, 0) < 0 || dup2(out[1], 1) < 0 || dup2(err, 2) < 0)
			_exit(2);
		close(out[0]);
		execlp("tail", "tail", "-f", FILE_NAME, NULL);
		_exit(3);
	}
	close(out[1]);
	if (read_until(out[0], buf, sizeof(buf), "first\n")) {
		fail("tail did not print the first line");
		return 1;
	}
	sleep(1);	/* tail is asleep in poll() */
	test_daemon();
	test_waitsig();

	if (append("second\n") || read_until(out[0], buf, sizeof(buf), "second\n")) {
		fail("tail did not print a line appended after restore: %s", buf);
	} else if (append("third\n") || read_until(out[0], buf, sizeof(buf), "third\n")) {
		fail("tail did not print a second line appended after restore: %s", buf);
	} else if (waitpid(tail, &st, WNOHANG) != 0) {
		fail("tail exited");
	}
	kill(tail, SIGKILL);
	waitpid(tail, &st, 0);
	if (!test_failed())
		pass();
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * A task that can't be seized for a while: it vforks, and the child sleeps
 * for argv[2] seconds before it exits, so the parent sits in the vfork wait
 * (a killable sleep that PTRACE_INTERRUPT does not break). Once the child is
 * gone the parent writes "done" to argv[1] and sleeps until killed.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec ts = { .tv_sec = argc > 2 ? atoi(argv[2]) : 6 };
	pid_t pid;
	int fd;

	if (argc < 2)
		return 2;
	pid = vfork();
	if (pid == 0) {
		syscall(SYS_nanosleep, &ts, NULL);
		_exit(0);
	}
	if (pid < 0)
		return 1;
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, "done", 4) != 4)
		return 1;
	close(fd);
	for (;;)
		pause();
}

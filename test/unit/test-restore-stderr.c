// SPDX-License-Identifier: GPL-2.0
/*
 * An image can't make criu write into a file: a task whose fd 2 is a regular
 * file (the victim) is dumped, its fs image is then made to name a cwd that
 * files.img lacks, so the restore fails in the task's stub after its fds,
 * fd 2 among them, are in place. criu must fail with its error on its own
 * stderr and in its log, and the victim must keep its bytes (criu used to
 * copy the error to fd 2, which in a stub is the task's file). Needs root;
 * TAP output, exit 77 when criu/criu is not built.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "image.h"
#include "protobuf.h"
#include "tap.h"

#include "fs.pb-c.h"

#define VICTIM_TEXT "the victim's own bytes\n"

static char tmpdir[] = "/tmp/criu-stderr-XXXXXX";

/* The task: session leader, fds 0 and 1 on /dev/null, fd 2 the victim (not O_APPEND), nothing else. */
static pid_t start_task(const char *victim)
{
	int p[2];
	char c;
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR), v = open(victim, O_WRONLY);

		if (null < 0 || v < 0 || setsid() < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(v, 2) < 0)
			_exit(1);
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		syscall(SYS_close_range, 3, ~0U, 0);
		for (;;)
			pause();
	}
	close(p[1]);
	if (pid < 0 || read(p[0], &c, 1) != 1) {
		close(p[0]);
		return -1;
	}
	close(p[0]);
	return pid;
}

/* Run criu with its stderr in errfile; returns the wait status. */
static int run_criu(const char *criu, const char *errfile, char *const argv[])
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		int e = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (e < 0 || dup2(e, 2) < 0)
			_exit(127);
		execv(criu, argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

/* Point the task's cwd at a file id files.img does not have. */
static int break_fs_image(int dfd, pid_t pid)
{
	struct cr_img *img = open_image_at(dfd, CR_FD_FS, O_RSTR, pid);
	FsEntry *fe = NULL;
	int ret;

	if (!img)
		return -errno;
	ret = pb_read_one(img, (void **)&fe, PB_FS);
	close_image(img);
	if (ret)
		return ret;
	fe->cwd_id = 999999;
	img = open_image_at(dfd, CR_FD_FS, O_DUMP, pid);
	ret = img ? pb_write_one(img, fe, PB_FS) : -errno;
	if (img)
		ret = close_image_checked(img) ?: ret;
	pb_free(fe, PB_FS);
	return ret;
}

static int file_has(const char *path, const char *text)
{
	char buf[4096];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return 0;
	buf[n] = '\0';
	return strstr(buf, text) != NULL;
}

int main(void)
{
	char criu[PATH_MAX], victim[PATH_MAX], imgs[PATH_MAX], errfile[PATH_MAX];
	int dfd, st, fd;
	pid_t pid;

	if (!realpath("criu/criu", criu) || access(criu, X_OK)) {
		printf("1..0 # SKIP criu/criu is not built\n");
		return 77;
	}
	if (!mkdtemp(tmpdir)) {
		printf("not ok 1 - mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	snprintf(victim, sizeof(victim), "%s/victim", tmpdir);
	snprintf(imgs, sizeof(imgs), "%s/imgs", tmpdir);
	snprintf(errfile, sizeof(errfile), "%s/criu.err", tmpdir);
	fd = open(victim, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, VICTIM_TEXT, strlen(VICTIM_TEXT)) != (ssize_t)strlen(VICTIM_TEXT) || mkdir(imgs, 0700)) {
		printf("not ok 1 - set up %s\n", tmpdir);
		return 1;
	}
	close(fd);

	pid = start_task(victim);
	if (!check(pid > 0, "the task with fd 2 on the victim runs (%d)", pid))
		return 1;
	{
		char pidstr[16];
		char *const dump[] = { criu, "dump", "-t", pidstr, "-D", imgs, "-o", "dump.log", "-v4", NULL };

		snprintf(pidstr, sizeof(pidstr), "%d", pid);
		st = run_criu(criu, errfile, dump);
	}
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "criu dump succeeds (status %#x)", st);
	waitpid(pid, NULL, 0);	/* killed by the dump */

	dfd = open(imgs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	check(dfd >= 0 && break_fs_image(dfd, pid) == 0, "fs-%d.img now names a cwd that files.img lacks", pid);

	{
		/* fs-N.img is edited by hand: the manifest would refuse it first */
		char *const rst[] = { criu, "restore", "-d", "-D", imgs, "-o", "restore.log", "-v4",
				      "--skip-image-check", NULL };

		st = run_criu(criu, errfile, rst);
	}
	check(WIFEXITED(st) && WEXITSTATUS(st) == 1, "criu restore fails (status %#x)", st);
	check(file_has(errfile, "999999"), "criu's own stderr names the bad file id");
	check(file_has(victim, VICTIM_TEXT) && !file_has(victim, "Error"),
	      "the victim file keeps its bytes: criu wrote nothing into the task's fd 2");
	check(kill(pid, 0) && errno == ESRCH, "no task of the failed restore is left (%d)", pid);

	if (!nr_fail) {
		char cmd[PATH_MAX + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd))
			printf("# could not remove %s\n", tmpdir);
	} else {
		printf("# left in %s\n", tmpdir);
	}
	printf("1..%d\n", nr_test);
	return nr_fail ? 1 : 0;
}

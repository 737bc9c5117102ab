// SPDX-License-Identifier: GPL-2.0
/*
 * ghost_cwd00: a task whose working directory was removed, one whose root
 * (chroot) was removed, and an fd of a removed directory held by their
 * parent. Each directory has its own mode and owner.
 * After restore each child is still in its directory, which is still
 * removed (nlink 0, "(deleted)" in /proc) with that mode and owner, and
 * the names are still free.
 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

/* The child: its own check of "." after restore, as its exit code (0 good). */
static int child(int ready, int as_root, mode_t mode)
{
	struct stat st;
	char c = 1;

	if (as_root && (chroot(".") || chdir("/")))
		return 2;
	if (write(ready, &c, 1) != 1)
		return 3;
	test_waitsig();	/* SIGTERM is blocked (test_init()): it waits for it */
	if (stat(".", &st))
		return 4;
	if (st.st_nlink != 0 || (st.st_mode & 07777) != mode || st.st_uid != 1234 || st.st_gid != 5678)
		return 5;
	if (as_root && stat("/", &st) == 0 && st.st_nlink != 0)
		return 6;
	return 0;
}

static pid_t start(const char *dir, int as_root, mode_t mode)
{
	int p[2];
	char c;
	pid_t pid;

	if (mkdir(dir, mode) || chmod(dir, mode) || chown(dir, 1234, 5678) || pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		_exit(chdir(dir) ? 7 : child(p[1], as_root, mode));
	}
	close(p[1]);
	if (pid < 0 || read(p[0], &c, 1) != 1)
		return -1;
	close(p[0]);
	return rmdir(dir) ? -1 : pid;
}

static void check_link(pid_t pid, const char *what, const char *dir)
{
	char path[64], got[PATH_MAX], want[PATH_MAX + 16], cwd[PATH_MAX - 64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, what);
	n = readlink(path, got, sizeof(got) - 1);
	if (n >= 0)
		got[n] = '\0';
	if (!getcwd(cwd, sizeof(cwd)))
		cwd[0] = '\0';
	snprintf(want, sizeof(want), "%s/%s (deleted)", cwd, dir);
	if (n < 0 || strcmp(got, want))
		fail("%s of child %d is '%s', not '%s'", what, pid, n < 0 ? "?" : got, want);
}

int main(int argc, char **argv)
{
	char cwd_dir[64], root_dir[64], fd_dir[64];
	struct stat dst;
	pid_t a, b;
	int st, dfd;

	test_init(argc, argv);
	snprintf(cwd_dir, sizeof(cwd_dir), "ghost_cwd00.cwd.%d", getpid());
	snprintf(root_dir, sizeof(root_dir), "ghost_cwd00.root.%d", getpid());
	snprintf(fd_dir, sizeof(fd_dir), "ghost_cwd00.fd.%d", getpid());
	rmdir(cwd_dir);
	rmdir(root_dir);
	rmdir(fd_dir);
	a = start(cwd_dir, 0, 0751);
	b = start(root_dir, 1, 0705);
	dfd = mkdir(fd_dir, 0710) ? -1 : open(fd_dir, O_RDONLY | O_DIRECTORY);
	if (a < 0 || b < 0 || dfd < 0 || chmod(fd_dir, 0710) || rmdir(fd_dir)) {
		fail("setup");
		return 1;
	}

	test_daemon();
	test_waitsig();

	check_link(a, "cwd", cwd_dir);
	check_link(b, "root", root_dir);
	if (fstat(dfd, &dst) || !S_ISDIR(dst.st_mode) || dst.st_nlink != 0 || (dst.st_mode & 07777) != 0710)
		fail("the fd of the removed directory: mode 0%o nlink %lu", dst.st_mode, (unsigned long)dst.st_nlink);
	if (access(cwd_dir, F_OK) == 0 || access(root_dir, F_OK) == 0 || access(fd_dir, F_OK) == 0)
		fail("a removed directory came back under its name");
	kill(a, SIGTERM);
	kill(b, SIGTERM);
	if (waitpid(a, &st, 0) != a || !WIFEXITED(st) || WEXITSTATUS(st))
		fail("the child in the removed cwd says %d (0x%x)", WIFEXITED(st) ? WEXITSTATUS(st) : -1, st);
	if (waitpid(b, &st, 0) != b || !WIFEXITED(st) || WEXITSTATUS(st))
		fail("the child in the removed root says %d (0x%x)", WIFEXITED(st) ? WEXITSTATUS(st) : -1, st);

	if (test_failed())
		return 1;
	pass();
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * memfd_exec: a memfd holding a script can be executed after restore as it
 * could before. The file memfd_create() gives holds no write access to the
 * inode, so execveat(fd, "", AT_EMPTY_PATH) works although it is writable;
 * anything that holds write access (a reopen for writing, a writable mapping
 * of such a reopen) makes exec fail with ETXTBSY.
 *  - bare: just the memfd's fd;
 *  - mapped: the fd, a MAP_SHARED writable mapping of it, a read-only
 *    reopen and a MAP_PRIVATE mapping of the reopen;
 *  - maponly: a MAP_SHARED writable mapping, its fd closed: executed through
 *    /proc/PID/map_files;
 *  - cow: a MAP_PRIVATE mapping of the fd, written (its pages are private)
 *    and shared with a child, the fd closed: parent and child execute it
 *    through /proc/PID/map_files.
 * Each script exits with its own status, which is checked.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PAGE 4096

static int new_script(const char *name, int status)
{
	char text[64];
	int fd = memfd_create(name, 0), len;

	if (fd < 0)
		return -1;
	len = snprintf(text, sizeof(text), "#!/bin/sh\nexit %d\n", status);
	if (ftruncate(fd, PAGE) || pwrite(fd, text, len, 0) != len) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Run the script (by fd, or by path when fd < 0) in a child: its exit status, or -1. */
static int run(int fd, const char *path)
{
	char *const argv[] = { "script", NULL };
	char *const envp[] = { NULL };
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (fd >= 0)
			syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
		else
			execve(path, argv, envp);
		test_msg("exec of %s: %s\n", fd >= 0 ? "an fd" : path, strerror(errno));
		_exit(100 + errno);
	}
	if (test_wait_child(pid, 15, &status) || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static void expect(const char *what, int got, int want)
{
	if (got != want) {
		errno = 0;
		fail("%s: script exited %d, expected %d (100 + errno when exec failed)", what, got, want);
	}
}

static int map_files_path(const void *addr, size_t len, char *buf, size_t size)
{
	/* by pid: the interpreter opens the script by this path too */
	return snprintf(buf, size, "/proc/%d/map_files/%lx-%lx", getpid(), (unsigned long)addr,
			(unsigned long)addr + len) >= (int)size ? -1 : 0;
}

int main(int argc, char **argv)
{
	char path[128], maponly_path[128], cow_path[128];
	int bare, mapped, mapped_ro, maponly, cow, go[2], status = 0;
	char *shared, *priv, *only, *cmap;
	pid_t child;

	test_init(argc, argv);

	bare = new_script("bare", 11);
	mapped = new_script("mapped", 12);
	maponly = new_script("maponly", 13);
	cow = new_script("cow", 14);
	if (bare < 0 || mapped < 0 || maponly < 0 || cow < 0) {
		fail("memfd_create");
		return 1;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mapped);
	mapped_ro = open(path, O_RDONLY);
	shared = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, mapped, 0);
	priv = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, mapped_ro, 0);
	only = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, maponly, 0);
	cmap = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, cow, 0);
	if (mapped_ro < 0 || shared == MAP_FAILED || priv == MAP_FAILED || only == MAP_FAILED ||
	    cmap == MAP_FAILED) {
		fail("reopen or mmap");
		return 1;
	}
	shared[PAGE - 1] = 's';
	priv[PAGE - 1] = 'p';
	only[PAGE - 1] = 'o';
	cmap[PAGE - 1] = 'c';	/* a private copy of the page, shared with the child */
	close(maponly);
	close(cow);
	if (map_files_path(only, PAGE, maponly_path, sizeof(maponly_path)) ||
	    map_files_path(cmap, PAGE, cow_path, sizeof(cow_path)))
		return 1;

	expect("bare before", run(bare, NULL), 11);
	expect("mapped before", run(mapped, NULL), 12);
	expect("maponly before", run(-1, maponly_path), 13);
	expect("cow before", run(-1, cow_path), 14);
	if (test_failed())
		return 1;

	if (pipe(go)) {
		fail("pipe");
		return 1;
	}
	child = fork();
	if (child < 0) {
		fail("fork");
		return 1;
	}
	if (child == 0) {
		char c;

		close(go[1]);
		if (map_files_path(cmap, PAGE, cow_path, sizeof(cow_path)) || read(go[0], &c, 1) != 1)
			_exit(1);
		_exit(run(-1, cow_path) == 14 && cmap[PAGE - 1] == 'c' ? 0 : 2);
	}
	close(go[0]);

	test_daemon();
	test_waitsig();

	expect("bare", run(bare, NULL), 11);
	expect("mapped", run(mapped, NULL), 12);
	expect("maponly", run(-1, maponly_path), 13);
	expect("cow", run(-1, cow_path), 14);
	if (shared[PAGE - 1] != 's' || priv[PAGE - 1] != 'p' || only[PAGE - 1] != 'o' || cmap[PAGE - 1] != 'c')
		fail("a mapping lost its byte");
	if (write(go[1], "g", 1) != 1 || test_wait_child(child, 15, &status) || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		char buf[64];

		fail("child (cow exec): %s", test_status_str(status, buf, sizeof(buf)));
	}
	pass();
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * ghost_mapped00: files that are only mapped, or are the exe, after their
 * last name was unlinked, as a program holds them after its binary or its
 * libraries were upgraded. The test re-executes itself from a copy of its
 * binary and unlinks the copy; it maps a file privately read-only (a
 * library's text) and another one shared read-write, unlinks both and
 * closes their fds, then writes through the shared mapping. After restore
 * /proc/self/exe still names the deleted copy, the name is still free, and
 * both mappings hold what they held, the shared one still shared with its
 * (deleted) file: a write through it reaches the file.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define LEN (3 * 4096 + 100)
#define ENV_COPY "GHOST_MAPPED00_COPY"

static int copy_self(const char *to)
{
	char buf[65536];
	int in = open("/proc/self/exe", O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	ssize_t n;
	int ret = -1;

	if (in >= 0 && out >= 0) {
		while ((n = read(in, buf, sizeof(buf))) > 0)
			if (write(out, buf, n) != n)
				break;
		ret = n == 0 ? 0 : -1;
	}
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out))
		ret = -1;
	return ret;
}

/* A file of LEN bytes of pattern seed, mapped with prot/flags, unlinked and closed. */
static char *map_deleted(const char *name, int seed, int prot, int flags)
{
	char buf[LEN];
	void *p;
	int fd;

	for (int i = 0; i < LEN; i++)
		buf[i] = (char)(i * seed + 1);
	fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, buf, LEN) != LEN)
		return NULL;
	p = mmap(NULL, LEN, prot, flags, fd, 0);
	close(fd);
	unlink(name);
	return p == MAP_FAILED ? NULL : p;
}

static int check_pattern(const char *p, int seed, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (p[i] != (char)(i * seed + 1))
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	char copy[PATH_MAX], priv_name[64], shared_name[64], link[PATH_MAX], want[PATH_MAX + 16];
	const char *from_env = getenv(ENV_COPY);
	char *priv, *shared;
	struct stat st;
	ssize_t n;
	int fd;

	if (!from_env) {
		if (!getcwd(copy, sizeof(copy) - 64))
			return 1;
		snprintf(copy + strlen(copy), 64, "/ghost_mapped00.exe.%d", getpid());
		if (copy_self(copy) || setenv(ENV_COPY, copy, 1))
			return 1;
		execv(copy, argv);
		return 1;
	}
	snprintf(copy, sizeof(copy), "%s", from_env);
	unlink(copy);

	test_init(argc, argv);
	snprintf(priv_name, sizeof(priv_name), "ghost_mapped00.priv.%d", getpid());
	snprintf(shared_name, sizeof(shared_name), "ghost_mapped00.shared.%d", getpid());
	priv = map_deleted(priv_name, 7, PROT_READ, MAP_PRIVATE);
	shared = map_deleted(shared_name, 11, PROT_READ | PROT_WRITE, MAP_SHARED);
	if (!priv || !shared) {
		fail("can't map the files");
		return 1;
	}
	memset(shared + 5000, 'S', 100);	/* written after the unlink: only in the (deleted) file */

	test_daemon();
	test_waitsig();

	snprintf(want, sizeof(want), "%s (deleted)", copy);
	n = readlink("/proc/self/exe", link, sizeof(link) - 1);
	if (n >= 0)
		link[n] = '\0';
	if (n < 0 || strcmp(link, want))
		fail("/proc/self/exe is '%s', not '%s'", n < 0 ? "?" : link, want);
	if (access(copy, F_OK) == 0)
		fail("the deleted binary came back under its name %s", copy);
	if (check_pattern(priv, 7, 0, LEN))
		fail("the private mapping of the deleted file changed");
	if (check_pattern(shared, 11, 0, 5000) || check_pattern(shared, 11, 5100, LEN))
		fail("the shared mapping of the deleted file changed");
	for (int i = 5000; i < 5100; i++)
		if (shared[i] != 'S') {
			fail("the write through the shared mapping is lost at %d", i);
			break;
		}
	/* still the file's pages: a write shows through another mapping of the file */
	snprintf(link, sizeof(link), "/proc/self/map_files/%lx-%lx", (unsigned long)shared,
		 (unsigned long)shared + ((LEN + 4095) & ~4095UL));
	fd = open(link, O_RDWR);
	if (fd < 0 || fstat(fd, &st) || st.st_nlink != 0) {
		fail("can't open the shared mapping's file, or it has a name again");
	} else {
		char *again = mmap(NULL, LEN, PROT_READ, MAP_SHARED, fd, 0);

		shared[1] = 'Q';
		if (again == MAP_FAILED || again[1] != 'Q')
			fail("the shared mapping is not its file's any more");
		close(fd);
	}

	if (test_failed())
		return 1;
	pass();
	return 0;
}

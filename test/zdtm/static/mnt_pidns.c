// SPDX-License-Identifier: GPL-2.0
/*
 * mnt_pidns: a container's layout. The test's root makes a mount namespace
 * and a pid namespace and forks N, the pid namespace's init (the pidfile
 * names N). N mounts the proc of its pid namespace at /proc (the one
 * inherited, the runner's, is detached), masks a file (/proc/kcore, or
 * timer_list, keys, version: the first there) with /dev/null and a
 * directory (/proc/acpi, or irq) with a read-only tmpfs, binds /proc/sys read-only on itself
 * (as runtimes do), and keeps a tmpfs with a file open. After restore /proc
 * must be N's pid namespace's again (self is 1), the masks and the read-only
 * bind there, the tree as dumped, in a mount namespace that is not criu's.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "mntns.h"

static char dir[160];	/* mntns_mkdtemp(): the run directory is not deep */
static const char *masked_file, *masked_dir;

static const char *first_of(const char *const *paths)
{
	for (; *paths; paths++)
		if (!access(*paths, F_OK))
			return *paths;
	return NULL;
}

static int build(void)
{
	char path[192];
	int fd;

	static const char *const files[] = { "/proc/kcore", "/proc/timer_list", "/proc/keys", "/proc/version", NULL };
	static const char *const dirs[] = { "/proc/acpi", "/proc/irq", NULL };

	if (umount2("/proc", MNT_DETACH) || mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		return -1;
	masked_file = first_of(files);
	masked_dir = first_of(dirs);
	if (!masked_file || !masked_dir || mount("/dev/null", masked_file, NULL, MS_BIND, NULL) ||
	    mount("tmpfs", masked_dir, "tmpfs", MS_RDONLY, NULL) ||
	    mount("/proc/sys", "/proc/sys", NULL, MS_BIND, NULL) ||
	    mount(NULL, "/proc/sys", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL))
		return -1;
	if (mount("zdtm-pidns", dir, "tmpfs", 0, "size=64k"))
		return -1;
	snprintf(path, sizeof(path), "%s/file", dir);
	fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, "in the container", 16) != 16)
		return -1;
	return fd;
}

static void check(int fd, const char *before)
{
	char self[16] = "", buf[32] = "";
	struct stat st;

	mntns_check(before);
	if (readlink("/proc/self", self, sizeof(self) - 1) <= 0 || strcmp(self, "1"))
		fail("/proc/self is '%s': /proc is not the proc of the test's pid namespace", self);
	if (stat(masked_file, &st) || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
		fail("%s is not masked with /dev/null", masked_file);
	snprintf(buf, sizeof(buf), "%s/x", masked_dir);
	if (open(buf, O_CREAT | O_WRONLY | O_CLOEXEC, 0600) >= 0 || errno != EROFS)
		fail("%s is not masked read-only", masked_dir);
	memset(buf, 0, sizeof(buf));
	if (open("/proc/sys/kernel/hostname", O_WRONLY | O_CLOEXEC) >= 0 || errno != EROFS)
		fail("/proc/sys is writable");
	if (pread(fd, buf, sizeof(buf) - 1, 0) != 16 || strcmp(buf, "in the container"))
		fail("the open tmpfs file holds '%s'", buf);
}

static void n_main(int ready)
{
	char *before;
	int fd;

	fd = build();
	if (fd < 0) {
		fail("can't build the container's mounts");
		exit(1);
	}
	before = mntns_snapshot();
	if (write(ready, "y", 1) != 1)
		exit(1);
	close(ready);
	test_waitsig();
	check(fd, before);
	close(fd);
	umount2(dir, MNT_DETACH);
	rmdir(dir);
	if (test_failed())
		exit(1);
	pass();
	exit(0);
}

int main(int argc, char **argv)
{
	int ready[2];
	pid_t n;
	char c;

	if (mntns_enter(argv))
		return 1;
	test_init(argc, argv);
	if (!mntns_mkdtemp(dir, sizeof(dir), "mnt_pidns") || pipe(ready) || unshare(CLONE_NEWPID)) {
		fail("mkdtemp, pipe or unshare(CLONE_NEWPID)");
		return 1;
	}
	n = fork();
	if (n < 0) {
		fail("fork of the namespace's init");
		return 1;
	}
	if (n == 0) {
		close(ready[0]);
		test_set_root();	/* N gives the verdict */
		n_main(ready[1]);
	}
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1 || c != 'y') {
		fail("the namespace's init did not get ready");
		kill(n, SIGKILL);
		return 1;
	}
	test_daemon_pid(n);
	return 0;
}

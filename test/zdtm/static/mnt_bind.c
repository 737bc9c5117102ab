// SPDX-License-Identifier: GPL-2.0
/*
 * mnt_bind: a mount namespace of the test's own with bind mounts of the
 * root filesystem: a directory, a single file, a read-only bind, /dev/null
 * bound over a file (a masked path), a second proc mount; files opened
 * through the binds; the cwd at the root of a bind that a tmpfs stacked on
 * the same directory hides (it comes back on the bind, not the tmpfs). After restore the tree must be back, the open files on
 * the very mounts they were opened through, in a mount namespace that is not
 * criu's.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "mntns.h"

static char dir[160];	/* mntns_mkdtemp(): the run directory is not deep */

static int put(const char *rel, const char *text)
{
	int fd = open(mntns_at(dir, rel), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		fail("can't write %s", mntns_at(dir, rel));
		return -1;
	}
	close(fd);
	return 0;
}

static void expect(const char *rel, const char *text)
{
	char buf[256] = "";
	int fd = open(mntns_at(dir, rel), O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) < 0)
		fail("can't read %s", mntns_at(dir, rel));
	else if (strcmp(buf, text))
		fail("%s holds '%s', not '%s'", mntns_at(dir, rel), buf, text);
	if (fd >= 0)
		close(fd);
}

/* The id of the mount at path, from /proc/self/mountinfo (the top one). */
static int mount_at(const char *path)
{
	static struct mntns_line l[MNTNS_MAX];
	int n = mntns_read(l, MNTNS_MAX), id = -1;

	for (int i = 0; i < n; i++)
		if (!strcmp(l[i].mp, path))
			id = l[i].id;
	return id;
}

static void expect_on(int fd, const char *mp, const char *what)
{
	long long mnt_id = -1;

	if (fdinfo_get_long(fd, "mnt_id", &mnt_id) || mnt_id != mount_at(mp))
		fail("%s is on mount %lld, not on the mount at %s (%d)", what, mnt_id, mp, mount_at(mp));
}

int main(int argc, char **argv)
{
	struct stat st;
	char *before;
	int fd_dir, fd_file, fd_ro;

	if (mntns_enter(argv))
		return 1;
	test_init(argc, argv);
	if (!mntns_mkdtemp(dir, sizeof(dir), "mnt_bind")) {
		fail("mkdtemp");
		return 1;
	}
	mkdir(mntns_at(dir, "src"), 0755);
	mkdir(mntns_at(dir, "dst"), 0755);
	mkdir(mntns_at(dir, "ro"), 0755);
	mkdir(mntns_at(dir, "proc2"), 0555);
	mkdir(mntns_at(dir, "stack"), 0755);
	if (put("src/one", "one") || put("file_src", "file") || put("file_dst", "") || put("masked", "secret"))
		return 1;
	if (mount(mntns_at(dir, "src"), mntns_at(dir, "dst"), NULL, MS_BIND, NULL) ||
	    mount(mntns_at(dir, "file_src"), mntns_at(dir, "file_dst"), NULL, MS_BIND, NULL) ||
	    mount(mntns_at(dir, "src"), mntns_at(dir, "ro"), NULL, MS_BIND, NULL) ||
	    mount(NULL, mntns_at(dir, "ro"), NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID, NULL) ||
	    mount("/dev/null", mntns_at(dir, "masked"), NULL, MS_BIND, NULL) || mount("proc", mntns_at(dir, "proc2"), "proc", MS_NOEXEC, NULL)) {
		fail("can't build the mount tree");
		return 1;
	}
	if (mount(mntns_at(dir, "src"), mntns_at(dir, "stack"), NULL, MS_BIND, NULL) || chdir(mntns_at(dir, "stack")) ||
	    mount("zdtm-top", mntns_at(dir, "stack"), "tmpfs", 0, "size=16k")) {
		fail("can't stack a tmpfs on the cwd's bind");
		return 1;
	}
	fd_dir = open(mntns_at(dir, "dst/one"), O_RDWR | O_CLOEXEC);
	fd_file = open(mntns_at(dir, "file_dst"), O_RDONLY | O_CLOEXEC);
	fd_ro = open(mntns_at(dir, "ro/one"), O_RDONLY | O_CLOEXEC);
	if (fd_dir < 0 || fd_file < 0 || fd_ro < 0 || lseek(fd_dir, 2, SEEK_SET) != 2) {
		fail("open through the binds");
		return 1;
	}
	before = mntns_snapshot();

	test_daemon();
	test_waitsig();

	mntns_check(before);
	expect("dst/one", "one");
	expect("ro/one", "one");
	expect("file_dst", "file");
	expect("masked", "");
	if (access("one", F_OK) || !access(mntns_at(dir, "stack/one"), F_OK))
		fail("the cwd is not the bind under the stacked tmpfs");
	expect_on(fd_dir, mntns_at(dir, "dst"), "the fd opened through the directory bind");
	expect_on(fd_file, mntns_at(dir, "file_dst"), "the fd opened through the file bind");
	expect_on(fd_ro, mntns_at(dir, "ro"), "the fd opened through the read-only bind");
	if (lseek(fd_dir, 0, SEEK_CUR) != 2)
		fail("the fd through the bind is not at 2");
	/* a write through the bind reaches the source */
	if (pwrite(fd_dir, "ONE", 3, 0) != 3)
		fail("write through the bind");
	expect("src/one", "ONE");
	if (open(mntns_at(dir, "ro/new"), O_CREAT | O_WRONLY | O_CLOEXEC, 0644) >= 0 || errno != EROFS)
		fail("the read-only bind is writable");
	if (stat(mntns_at(dir, "masked"), &st) || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
		fail("the masked file is not /dev/null");
	{
		char self[64] = "", want[32];
		ssize_t n = readlink(mntns_at(dir, "proc2/self"), self, sizeof(self) - 1);

		snprintf(want, sizeof(want), "%d", getpid());
		if (n <= 0 || strcmp(self, want))
			fail("proc2/self is '%s', not %s: not this pid namespace's proc", self, want);
	}
	close(fd_dir);
	close(fd_file);
	close(fd_ro);
	/* the binds hide nothing: unmount them and the files underneath are the dumped ones */
	if (umount(mntns_at(dir, "masked")))
		fail("umount masked");
	expect("masked", "secret");
	if (umount(mntns_at(dir, "file_dst")))
		fail("umount file_dst");
	expect("file_dst", "");

	if (chdir("/"))
		fail("chdir /");
	umount2(mntns_at(dir, "stack"), MNT_DETACH);
	umount2(mntns_at(dir, "stack"), MNT_DETACH);
	rmdir(mntns_at(dir, "stack"));
	umount(mntns_at(dir, "dst"));
	umount(mntns_at(dir, "ro"));
	umount(mntns_at(dir, "proc2"));
	unlink(mntns_at(dir, "src/one"));
	unlink(mntns_at(dir, "file_src"));
	unlink(mntns_at(dir, "file_dst"));
	unlink(mntns_at(dir, "masked"));
	rmdir(mntns_at(dir, "src"));
	rmdir(mntns_at(dir, "dst"));
	rmdir(mntns_at(dir, "ro"));
	rmdir(mntns_at(dir, "proc2"));
	rmdir(dir);
	if (test_failed())
		return 1;
	pass();
	return 0;
}

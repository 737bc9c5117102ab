// SPDX-License-Identifier: GPL-2.0
/*
 * mnt_tmpfs: a mount namespace of the test's own with tmpfs mounts and their
 * files: directories, a symlink, a hard link, an owner and modes, extended
 * attributes (user. on a file, trusted. on a directory), an append-only
 * file (chattr +a), a file open
 * at a position and one mapped shared, the cwd in it; a file hidden under a tmpfs mounted
 * on its directory; a directory masked by a read-only tmpfs (as runtimes
 * mask /proc/acpi); a tmpfs made read-only as a whole. After restore the
 * tree, the files and the fds must be back, in a mount namespace that is not
 * criu's.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "mntns.h"

#define TEXT "the quick brown fox"
#define MAPPED "written through a shared mapping"

static char dir[160];	/* mntns_mkdtemp(): the run directory is not deep */

static int put(const char *rel, const char *text, mode_t mode)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		fail("can't write %s", path);
		return -1;
	}
	close(fd);
	return 0;
}

static void expect(const char *rel, const char *text)
{
	char path[256], buf[256] = "";
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) < 0)
		fail("can't read %s", path);
	else if (strcmp(buf, text))
		fail("%s holds '%s', not '%s'", path, buf, text);
	if (fd >= 0)
		close(fd);
}

static int at(const char *rel, char *buf, size_t size)
{
	return snprintf(buf, size, "%s/%s", dir, rel);
}

int main(int argc, char **argv)
{
	char p[256], q[256], target[64] = "", *before;
	struct stat st, st2;
	char *map;
	int fd, mfd;

	if (mntns_enter(argv))
		return 1;
	test_init(argc, argv);
	if (!mntns_mkdtemp(dir, sizeof(dir), "mnt_tmpfs")) {
		fail("mkdtemp");
		return 1;
	}
	if (mount("zdtm", dir, "tmpfs", 0, "size=1m,mode=0711")) {
		fail("mount tmpfs");
		return 1;
	}
	at("a", p, sizeof(p));
	mkdir(p, 0750);
	at("a/b", p, sizeof(p));
	mkdir(p, 0700);
	if (put("a/b/file", TEXT, 0640) || put("mapped", "................................", 0600))
		return 1;
	at("a/b/file", p, sizeof(p));
	at("hard", q, sizeof(q));
	if (link(p, q) || chown(p, 1000, 1001)) {
		fail("link/chown");
		return 1;
	}
	if (setxattr(p, "user.zdtm", "file attr", 9, 0)) {
		fail("setxattr user.zdtm");
		return 1;
	}
	at("a", q, sizeof(q));
	if (setxattr(q, "trusted.zdtm", "dir attr", 8, 0)) {
		fail("setxattr trusted.zdtm");
		return 1;
	}
	if (put("log", "appended", 0644))
		return 1;
	{
		int lfd, fl = FS_APPEND_FL;

		at("log", q, sizeof(q));
		lfd = open(q, O_RDONLY | O_CLOEXEC);
		if (lfd < 0 || ioctl(lfd, FS_IOC_SETFLAGS, &fl)) {
			fail("chattr +a log");
			return 1;
		}
		close(lfd);
	}
	at("sym", q, sizeof(q));
	if (symlink("a/b/file", q)) {
		fail("symlink");
		return 1;
	}
	/* a file hidden under a tmpfs mounted on its directory */
	at("under", p, sizeof(p));
	mkdir(p, 0755);
	if (put("under/hidden", "hidden", 0644))
		return 1;
	if (mount("zdtm-over", p, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k")) {
		fail("mount over");
		return 1;
	}
	if (put("under/visible", "on top", 0644))
		return 1;
	/* a masked directory: a read-only tmpfs over it */
	at("masked", p, sizeof(p));
	mkdir(p, 0755);
	if (put("masked/secret", "secret", 0600))
		return 1;
	if (mount("tmpfs", p, "tmpfs", MS_RDONLY, NULL)) {
		fail("mount masked");
		return 1;
	}
	/* a tmpfs read-only as a whole */
	at("rosb", p, sizeof(p));
	mkdir(p, 0755);
	if (mount("zdtm-ro", p, "tmpfs", 0, "size=64k") || put("rosb/kept", "kept", 0644) ||
	    mount(NULL, p, NULL, MS_REMOUNT | MS_RDONLY, NULL)) {
		fail("read-only tmpfs");
		return 1;
	}

	at("a/b/file", p, sizeof(p));
	fd = open(p, O_RDWR | O_CLOEXEC);
	if (fd < 0 || lseek(fd, 4, SEEK_SET) != 4) {
		fail("open");
		return 1;
	}
	at("mapped", p, sizeof(p));
	mfd = open(p, O_RDWR | O_CLOEXEC);
	map = mfd < 0 ? MAP_FAILED : mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (map == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	close(mfd);
	memcpy(map, MAPPED, strlen(MAPPED));
	at("a", p, sizeof(p));
	if (chdir(p)) {
		fail("chdir");
		return 1;
	}
	before = mntns_snapshot();

	test_daemon();
	test_waitsig();

	mntns_check(before);
	at("a", p, sizeof(p));
	if (!getcwd(q, sizeof(q)) || strcmp(q, p) || stat(".", &st) || stat(p, &st2) || st.st_ino != st2.st_ino ||
	    st.st_dev != st2.st_dev)
		fail("the cwd is not %s of the tmpfs", p);
	expect("a/b/file", TEXT);
	expect("hard", TEXT);
	expect("sym", TEXT);
	expect("under/visible", "on top");
	expect("rosb/kept", "kept");
	at("sym", p, sizeof(p));
	if (readlink(p, target, sizeof(target) - 1) < 0 || strcmp(target, "a/b/file"))
		fail("sym -> '%s'", target);
	at("a/b/file", p, sizeof(p));
	at("hard", q, sizeof(q));
	if (stat(p, &st) || stat(q, &st2) || st.st_ino != st2.st_ino || st.st_nlink != 2)
		fail("the hard link is not one inode with two names any more");
	if (st.st_uid != 1000 || st.st_gid != 1001 || (st.st_mode & 07777) != 0640)
		fail("a/b/file is %u:%u mode %o", st.st_uid, st.st_gid, st.st_mode & 07777);
	at("a/b", p, sizeof(p));
	if (stat(p, &st) || (st.st_mode & 07777) != 0700)
		fail("a/b has mode %o", st.st_mode & 07777);
	if (stat(dir, &st) || (st.st_mode & 07777) != 0711)
		fail("the tmpfs root has mode %o", st.st_mode & 07777);
	{
		char v[32] = "";

		at("a/b/file", p, sizeof(p));
		if (getxattr(p, "user.zdtm", v, sizeof(v) - 1) != 9 || strcmp(v, "file attr"))
			fail("a/b/file has user.zdtm '%s'", v);
		memset(v, 0, sizeof(v));
		at("a", p, sizeof(p));
		if (getxattr(p, "trusted.zdtm", v, sizeof(v) - 1) != 8 || strcmp(v, "dir attr"))
			fail("a has trusted.zdtm '%s'", v);
	}
	{
		int lfd, fl = 0;

		at("log", p, sizeof(p));
		lfd = open(p, O_RDONLY | O_CLOEXEC);
		if (lfd < 0 || ioctl(lfd, FS_IOC_GETFLAGS, &fl) || !(fl & FS_APPEND_FL))
			fail("log is not append-only (flags %#x)", fl);
		if (lfd >= 0)
			close(lfd);
		expect("log", "appended");
	}
	/* the open file: the same inode as the name, at its position */
	at("a/b/file", p, sizeof(p));
	if (fstat(fd, &st) || stat(p, &st2) || st.st_ino != st2.st_ino || st.st_dev != st2.st_dev)
		fail("the open fd is not a/b/file of the tmpfs");
	if (lseek(fd, 0, SEEK_CUR) != 4)
		fail("the open fd is not at 4");
	/* the shared mapping writes to the tmpfs file */
	if (memcmp(map, MAPPED, strlen(MAPPED)))
		fail("the mapping lost its contents");
	map[0] = 'W';
	snprintf(q, sizeof(q), "W%s", MAPPED + 1);
	expect("mapped", q);
	/* a read-only mount and a read-only tmpfs refuse writes */
	at("masked/x", p, sizeof(p));
	if (open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600) >= 0 || errno != EROFS)
		fail("the masking tmpfs is writable");
	at("rosb/x", p, sizeof(p));
	if (open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600) >= 0 || errno != EROFS)
		fail("the read-only tmpfs is writable");
	/* what the mounts hid is there too */
	at("under", p, sizeof(p));
	if (umount(p))
		fail("umount under");
	expect("under/hidden", "hidden");
	at("masked", p, sizeof(p));
	if (umount(p))
		fail("umount masked");
	expect("masked/secret", "secret");

	close(fd);
	munmap(map, 4096);
	at("rosb", p, sizeof(p));
	umount(p);
	umount2(dir, MNT_DETACH);
	rmdir(dir);
	if (test_failed())
		return 1;
	pass();
	return 0;
}

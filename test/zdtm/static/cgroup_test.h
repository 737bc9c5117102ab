/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the cgroup tests: find a hierarchy's mount, make cgroups of the
 * test's own (under the cgroup the test starts in, named after the test and
 * its pid), move tasks and threads into them, read and write their files,
 * and clean up at the end.
 *
 * A hierarchy is named as in /proc/self/cgroup: "pids", "cpu,cpuacct",
 * "name=systemd", or "" for cgroup2.
 */
#ifndef ZDTM_CGROUP_TEST_H
#define ZDTM_CGROUP_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

/* paths are built from short names into PATH_MAX buffers */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

/* Is word one of the comma-separated items of list? */
static inline bool cgt_has_item(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (!strncmp(p, word, n) && (p[n] == ',' || p[n] == '\0' || p[n] == '\n' || p[n] == ' '))
			return true;
	return false;
}

/* The mount point of the hierarchy (every controller of name); 0, or -1 when it is not mounted. */
static inline int cgt_mount(const char *name, char *buf, size_t size)
{
	char line[4096];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int ret = -1;

	if (!f)
		return -1;
	while (ret && fgets(line, sizeof(line), f)) {
		char root[PATH_MAX], mnt[PATH_MAX], fstype[64], super[1024];
		char *dash = strstr(line, " - ");
		bool all = true;

		if (!dash || sscanf(line, "%*d %*d %*s %4095s %4095s", root, mnt) != 2 ||
		    sscanf(dash + 3, "%63s %*s %1023s", fstype, super) != 2 || strcmp(root, "/"))
			continue;
		if (!name[0]) {
			if (!strcmp(fstype, "cgroup2"))
				ret = 0;
		} else if (!strcmp(fstype, "cgroup")) {
			char copy[256], *save = NULL;

			snprintf(copy, sizeof(copy), "%s", name);
			for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save))
				all &= cgt_has_item(super, w);
			if (all)
				ret = 0;
		}
		if (!ret)
			snprintf(buf, size, "%s", mnt);
	}
	fclose(f);
	return ret;
}

/* The cgroup path of /proc/<who>/cgroup ("self", "123", "self/task/45") in hierarchy name; 0 or -1. */
static inline int cgt_path(const char *who, const char *name, char *buf, size_t size)
{
	char file[128], line[4096];
	FILE *f;
	int ret = -1;

	snprintf(file, sizeof(file), "/proc/%s/cgroup", who);
	f = fopen(file, "re");
	if (!f)
		return -1;
	while (ret && fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (!c2)
			continue;
		*c2 = '\0';
		line[strcspn(c2 + 1, "\n") + (c2 + 1 - line)] = '\0';
		if (!strcmp(c1 + 1, name)) {
			snprintf(buf, size, "%s", c2 + 1);
			ret = 0;
		}
	}
	fclose(f);
	return ret;
}

/* Write str to MNT/PATH/FILE; 0 or -errno. */
static inline int cgt_write(const char *mnt, const char *path, const char *file, const char *str)
{
	char p[PATH_MAX];
	int fd, ret = 0;

	snprintf(p, sizeof(p), "%s%s/%s", mnt, path, file);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, str, strlen(str)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* Read MNT/PATH/FILE (first line, no newline); 0 or -errno. */
static inline int cgt_read(const char *mnt, const char *path, const char *file, char *buf, size_t size)
{
	char p[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "%s%s/%s", mnt, path, file);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* Move task (or thread, with file "tasks"/"cgroup.threads") id into MNT/PATH; 0 or -errno. */
static inline int cgt_move(const char *mnt, const char *path, const char *file, pid_t id)
{
	char s[32];

	snprintf(s, sizeof(s), "%d", id);
	return cgt_write(mnt, path, file, s);
}

static inline int cgt_mkdir(const char *mnt, const char *path)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s%s", mnt, path);
	return mkdir(p, 0755) && errno != EEXIST ? -errno : 0;
}

/* rmdir MNT/PATH if it is there (a cgroup with tasks stays: the test failed). */
static inline void cgt_rmdir(const char *mnt, const char *path)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s%s", mnt, path);
	if (rmdir(p) && errno != ENOENT)
		test_msg("can't remove the cgroup %s: %s\n", p, strerror(errno));
}

/*
 * "BASE/zdtm.TEST.PID.RANDOM" with BASE the test's cgroup at start ("" for
 * "/"): the pid alone repeats, as each run has a pid namespace of its own.
 */
static inline void cgt_own_name(const char *base, const char *test, pid_t pid, char *buf, size_t size)
{
	unsigned int r = 0;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (unsigned int)time(NULL);
	snprintf(buf, size, "%s/zdtm.%s.%d.%08x", strcmp(base, "/") ? base : "", test, pid, r);
}

#endif

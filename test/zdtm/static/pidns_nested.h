/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the pidns_nested* tests: a task's NSpid line (every level's pid)
 * and its ids, remembered before the dump and checked after restore.
 */
#ifndef ZDTM_PIDNS_NESTED_H
#define ZDTM_PIDNS_NESTED_H

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"

/* The NSpid line of a status or fdinfo file, without its key. */
static inline int nspid_line(const char *path, char *buf, size_t size)
{
	char text[4096], *p, *e;
	int fd, n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	p = strstr(text, "\nNSpid:");
	if (!p)
		return -1;
	p += strlen("\nNSpid:");
	e = strchr(p, '\n');
	if (e)
		*e = '\0';
	snprintf(buf, size, "%s", p);
	return 0;
}

/* What a member is: its ids, checked again after restore. */
struct self {
	const char *who;
	pid_t pid, ppid;
	char nspid[128];
};

static inline int self_remember(struct self *s, const char *who)
{
	s->who = who;
	s->pid = getpid();
	s->ppid = getppid();
	return nspid_line("/proc/self/status", s->nspid, sizeof(s->nspid));
}

static inline int self_check(const struct self *s)
{
	char line[128] = "";

	errno = 0;
	if (getpid() != s->pid || getppid() != s->ppid) {
		fail("%s: getpid %d getppid %d, were %d %d", s->who, getpid(), getppid(), s->pid, s->ppid);
		return -1;
	}
	if (nspid_line("/proc/self/status", line, sizeof(line)) || strcmp(line, s->nspid)) {
		fail("%s: NSpid '%s', was '%s'", s->who, line, s->nspid);
		return -1;
	}
	return 0;
}

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * LSM labels (Documentation/security.md): a thread's AppArmor profile or
 * SELinux context, as /proc/PID/task/TID/attr/current shows it, in CRIU's
 * CredsEntry.lsm_profile (and the SELinux socket-creation context in
 * lsm_sockcreate). `--lsm-profile TYPE:NAME` replaces the dumped label at
 * restore, as CRIU's.
 *
 * Which LSM owns attr/current comes from /sys/kernel/security/lsm (the
 * active LSMs, in order), else from selinuxfs or AppArmor's module
 * parameter. A label of another LSM (Smack, ...) is refused at dump. A
 * restore of a label on a machine where its LSM is not active fails before
 * anything starts; otherwise each thread writes its label itself (remote
 * write to its own attr/current, the only task the kernel lets write it),
 * and criu reads it back.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LOG_PREFIX "lsm: "
#include "common.h"
#include "log.h"
#include "lsm.h"
#include "restore.h"
#include "rst-ctx.h"

#include "core.pb-c.h"

static const char *const lsm_names[] = {
	[LSM_NONE] = "none",
	[LSM_APPARMOR] = "apparmor",
	[LSM_SELINUX] = "selinux",
	[LSM_OTHER] = "another LSM",
};

const char *lsm_name(enum lsm_kind k)
{
	return lsm_names[k];
}

/* A small text file, NUL-terminated, trailing newlines and NULs cut. Its length or -errno. */
static int read_small(int dfd, const char *path, char *buf, size_t size)
{
	int fd = openat(dfd, path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return (int)n;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\0'))
		n--;
	buf[n] = 0;
	return (int)n;
}

enum lsm_kind lsm_active(void)
{
	char buf[512];

	if (read_small(AT_FDCWD, "/sys/kernel/security/lsm", buf, sizeof(buf)) > 0) {
		/* the first of them that has a process label owns attr/current */
		const char *first = NULL;

		for (const char *p = buf; *p;) {
			size_t len = strcspn(p, ",");

			if (!strncmp(p, "selinux", len) && len == 7)
				return LSM_SELINUX;
			if (!strncmp(p, "apparmor", len) && len == 8)
				return LSM_APPARMOR;
			if ((!strncmp(p, "smack", len) && len == 5) || (!strncmp(p, "tomoyo", len) && len == 6))
				first = first ?: p;
			p += len + (p[len] == ',');
		}
		return first ? LSM_OTHER : LSM_NONE;
	}
	if (!access("/sys/fs/selinux/enforce", F_OK))
		return LSM_SELINUX;
	if (read_small(AT_FDCWD, "/sys/module/apparmor/parameters/enabled", buf, sizeof(buf)) > 0 && buf[0] == 'Y')
		return LSM_APPARMOR;
	return LSM_NONE;
}

/* ------------------------------------------------------ dump */

int dump_thread_lsm(int thread_dfd, pid_t tid, CredsEntry *c, char **ret_bufs)
{
	static const char *const files[2] = { "attr/current", "attr/sockcreate" };
	enum lsm_kind kind = LSM_NONE;
	bool kind_known = false;

	ret_bufs[0] = ret_bufs[1] = NULL;
	for (int i = 0; i < 2; i++) {
		char buf[4096];
		int n = read_small(thread_dfd, files[i], buf, sizeof(buf));

		/* EINVAL: no LSM gives this attribute; ENOENT: no attr dir at all */
		if (n == -EINVAL || n == -ENOENT || n == -EOPNOTSUPP || n == 0)
			continue;
		if (n < 0)
			return pr_fail(n, "can't read /proc/.../task/%d/%s: %s\n", tid, files[i], strerror(-n));
		if (!kind_known) {
			kind = lsm_active();
			kind_known = true;
		}
		if (kind == LSM_APPARMOR && i == 0) {
			char *mode = strstr(buf, " (");

			if (mode)
				*mode = 0;	/* "name (enforce)": the profile is the name */
			if (!strcmp(buf, "unconfined"))
				continue;
		} else if (kind == LSM_APPARMOR) {
			continue;	/* AppArmor has no sockcreate label */
		} else if (kind != LSM_SELINUX) {
			return pr_fail(-EOPNOTSUPP, "thread %d has the LSM label '%s' (%s) of %s, which criu does not "
						    "restore\n",
				       tid, buf, files[i], lsm_name(kind));
		}
		ret_bufs[i] = strdup(buf);
		if (!ret_bufs[i])
			return -ENOMEM;
	}
	c->lsm_profile = ret_bufs[0];
	c->lsm_sockcreate = ret_bufs[1];
	return 0;
}

/* ------------------------------------------------------ restore */

int lsm_parse_profile(const char *arg, enum lsm_kind *ret_kind, const char **ret_name)
{
	const char *colon = arg ? strchr(arg, ':') : NULL;

	if (!colon || !colon[1])
		return -EINVAL;
	if ((size_t)(colon - arg) == 8 && !strncmp(arg, "apparmor", 8))
		*ret_kind = LSM_APPARMOR;
	else if ((size_t)(colon - arg) == 7 && !strncmp(arg, "selinux", 7))
		*ret_kind = LSM_SELINUX;
	else
		return -EINVAL;
	*ret_name = colon + 1;
	return 0;
}

/* The label thread tc gets: the --lsm-profile one if given (for threads that had one), else the dumped one. */
static const char *wanted_label(const struct rst_ctx *ctx, const CredsEntry *c)
{
	enum lsm_kind k;
	const char *name;

	if (!c || !c->lsm_profile || !*c->lsm_profile)
		return NULL;
	if (ctx->opts->lsm_profile && !lsm_parse_profile(ctx->opts->lsm_profile, &k, &name))
		return name;
	return c->lsm_profile;
}

int rst_lsm_check(struct rst_ctx *ctx)
{
	enum lsm_kind active = lsm_active(), want = LSM_NONE;
	struct pstree_item *item;
	const char *name;

	if (ctx->opts->lsm_profile) {
		if (lsm_parse_profile(ctx->opts->lsm_profile, &want, &name))
			return pr_fail(-EINVAL, "--lsm-profile %s: not TYPE:NAME with TYPE apparmor or selinux\n",
				       ctx->opts->lsm_profile);
		if (active != want)
			return pr_fail(-EOPNOTSUPP, "--lsm-profile %s: %s is not the active LSM on this machine (%s; "
						    "/sys/kernel/security/lsm)\n",
				       ctx->opts->lsm_profile, lsm_name(want), lsm_name(active));
	}
	for_each_pstree_item(&ctx->tree, item) {
		if (item->state == TASK_DEAD || !rsti(item))
			continue;
		for (int i = 0; i < item->nr_threads; i++) {
			const CredsEntry *c = rsti(item)->core[i]->thread_core ? rsti(item)->core[i]->thread_core->creds :
										 NULL;

			if (!c)
				continue;
			if (c->apparmor_data.len)
				return pr_fail(-EOPNOTSUPP, "core-%d.img: AppArmor namespace data (CRIU's apparmor "
							    "stacking) is not restored by this criu\n",
					       item->threads[i]);
			if ((c->lsm_profile && *c->lsm_profile) || (c->lsm_sockcreate && *c->lsm_sockcreate)) {
				if (active != LSM_APPARMOR && active != LSM_SELINUX)
					return pr_fail(-EOPNOTSUPP,
						       "core-%d.img: thread %d had the LSM label '%s' at dump, and no "
						       "AppArmor or SELinux is active here to restore it (%s; "
						       "/sys/kernel/security/lsm)\n",
						       item->threads[i], item->threads[i],
						       c->lsm_profile ?: c->lsm_sockcreate, lsm_name(active));
				if (active == LSM_APPARMOR && c->lsm_sockcreate && *c->lsm_sockcreate)
					return pr_fail(-EOPNOTSUPP, "core-%d.img: an SELinux socket label '%s' on a "
								    "machine with AppArmor\n",
						       item->threads[i], c->lsm_sockcreate);
			}
		}
	}
	return 0;
}

bool rst_lsm_needed(const struct rst_ctx *ctx, const ThreadCoreEntry *tc)
{
	const CredsEntry *c = tc ? tc->creds : NULL;

	return wanted_label(ctx, c) || (c && c->lsm_sockcreate && *c->lsm_sockcreate);
}

/* Write s into the thread's own attr file fd (remote write through scratch). */
static int remote_write(struct compel_rsys *rs, pid_t tid, unsigned long scratch, int fd, const char *s,
			const char *what)
{
	size_t len = strlen(s);
	long r;
	int ret;

	if (len >= 4000)
		return pr_fail(-EINVAL, "%d: %s '%.40s...' is too long\n", tid, what, s);
	ret = rst_poke(rs, scratch, s, len);
	if (ret)
		return ret;
	r = rst_rsys(rs, __NR_write, fd, scratch, len, 0, 0, 0);
	if (r != (long)len)
		return pr_fail(r < 0 ? (int)r : -EIO, "%d: can't set the %s '%s': %s\n", tid, what, s,
			       r < 0 ? strerror((int)-r) : "short write");
	return 0;
}

/* Open attr/<name> of the thread in the thread (while the task's /proc service fd is there). */
static long remote_open_attr(struct compel_rsys *rs, int proc_fd, unsigned long scratch, const char *name)
{
	char path[64];

	snprintf(path, sizeof(path), "thread-self/attr/%s", name);
	if (rst_poke(rs, scratch, path, strlen(path) + 1))
		return -EFAULT;
	return rst_rsys(rs, __NR_openat, proc_fd, scratch, O_WRONLY | O_CLOEXEC, 0, 0, 0);
}

int rst_lsm_open(const struct rst_ctx *ctx, struct compel_rsys *rs, pid_t tid, unsigned long scratch, int proc_fd,
		 const ThreadCoreEntry *tc, int ret_fds[2])
{
	const CredsEntry *c = tc->creds;

	ret_fds[0] = ret_fds[1] = -1;
	if (proc_fd <= 0)
		return pr_fail(-ENOENT, "%d: no /proc in the task to set its LSM label through\n", tid);
	if (wanted_label(ctx, c)) {
		long fd = remote_open_attr(rs, proc_fd, scratch, "current");

		if (fd < 0)
			return pr_fail((int)fd, "%d: can't open its attr/current: %s\n", tid, strerror((int)-fd));
		ret_fds[0] = (int)fd;
	}
	if (c->lsm_sockcreate && *c->lsm_sockcreate) {
		long fd = remote_open_attr(rs, proc_fd, scratch, "sockcreate");

		if (fd < 0)
			return pr_fail((int)fd, "%d: can't open its attr/sockcreate: %s\n", tid, strerror((int)-fd));
		ret_fds[1] = (int)fd;
	}
	return 0;
}

int rst_lsm_apply(const struct rst_ctx *ctx, struct compel_rsys *rs, pid_t tid, unsigned long scratch,
		  const ThreadCoreEntry *tc, int fds[2])
{
	const char *label = wanted_label(ctx, tc->creds);
	enum lsm_kind active = lsm_active();
	char buf[4200], path[64];
	int ret = 0;

	if (fds[1] >= 0)
		ret = remote_write(rs, tid, scratch, fds[1], tc->creds->lsm_sockcreate, "socket LSM label");
	if (!ret && fds[0] >= 0 && label) {
		if (active == LSM_APPARMOR)
			snprintf(buf, sizeof(buf), "changeprofile %s", label);
		else
			snprintf(buf, sizeof(buf), "%s", label);
		ret = remote_write(rs, tid, scratch, fds[0], buf, "LSM label");
	}
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0) {
			rst_rsys(rs, __NR_close, fds[i], 0, 0, 0, 0, 0);
			fds[i] = -1;
		}
	if (ret || !label)
		return ret;
	/* read back from criu: what the kernel took is the label, or the restore fails */
	snprintf(path, sizeof(path), "%d/attr/current", tid);
	ret = read_small(ctx->proc_fd, path, buf, sizeof(buf));
	if (ret < 0)
		return pr_fail(ret, "%d: can't read its LSM label back: %s\n", tid, strerror(-ret));
	if (active == LSM_APPARMOR && strstr(buf, " ("))
		*strstr(buf, " (") = 0;
	if (strcmp(buf, label))
		return pr_fail(-EINVAL, "%d: its LSM label is '%s' after setting '%s'\n", tid, buf, label);
	return 0;
}

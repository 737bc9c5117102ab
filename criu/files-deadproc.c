// SPDX-License-Identifier: GPL-2.0
/*
 * A cwd in /proc/PID of a process that is gone (zdtm unhashed_proc): the
 * directory stays the cwd after the process is reaped, but can no longer
 * be opened (ESRCH), and getcwd() fails with ENOENT. As in CRIU, the dump
 * writes a regular file of that path with a PROCFS entry of remap-fpath.img
 * whose remap_id is the pid, and the restore makes the directory again: a
 * helper process with that pid lives while the task's stub enters its
 * /proc directory, then is killed and reaped, which leaves the stub in a
 * /proc directory of a process that is gone, as the task was.
 *
 * Only in criu's pid and mount namespaces (the path is criu's /proc), and
 * only the cwd (a root there is refused).
 */
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "deadproc.h"
#include "files.h"
#include "ghost.h"
#include "image.h"
#include "protobuf.h"
#include "pstree.h"
#include "restore.h"
#include "rst-ctx.h"

#include "fown.pb-c.h"
#include "remap-file-path.pb-c.h"

#define DELETED " (deleted)"

/* "/proc/N (deleted)", as readlink shows such a cwd: N, or 0 when the link is not that. */
static pid_t dead_proc_pid(const char *link)
{
	int pid = 0, n = 0;

	if (sscanf(link, "/proc/%d%n", &pid, &n) != 1 || pid <= 0 || strcmp(link + n, DELETED))
		return 0;
	return pid;
}

int dump_dead_proc_cwd(struct dump_files_ctx *ctx, struct pstree_item *item, uint32_t *ret_id)
{
	RemapFilePathEntry rpe = REMAP_FILE_PATH_ENTRY__INIT;
	FownEntry fown = FOWN_ENTRY__INIT;	/* a cwd has no owner */
	struct fd_parms p = { .fd = -1, .lfd = -1 };
	char link[PATH_MAX];
	struct cr_img *img;
	ssize_t n;
	pid_t pid;
	int ret;

	n = readlinkat(item->proc_dfd, "cwd", link, sizeof(link) - 1);
	if (n < 0)
		return pr_fail_errno("can't read the cwd of task %d", item->pid);
	link[n] = '\0';
	pid = dead_proc_pid(link);
	if (!pid)
		return pr_fail(-ESRCH, "can't open the cwd of task %d (%s): No such process\n", item->pid, link);
	if ((ctx->tree->ns_flags & CLONE_NEWPID) || ctx->tree->mntns)
		return pr_fail(-EOPNOTSUPP,
			       "the cwd of task %d is /proc/%d of a process that is gone: criu restores it only for a "
			       "tree in criu's pid and mount namespaces\n",
			       item->pid, pid);
	snprintf(p.link, sizeof(p.link), "/proc/%d", pid);
	p.flags = O_RDONLY | O_DIRECTORY;
	p.stat.st_mode = S_IFDIR | 0555;
	p.item = item;
	ret = write_path_file(ctx, &p, p.link, &fown, -1, ret_id);
	if (ret)
		return ret;
	img = dump_files_img(ctx, CR_FD_REMAP_FPATH);
	if (!img)
		return -EIO;
	rpe.orig_id = *ret_id;
	rpe.remap_id = (uint32_t)pid;
	rpe.has_remap_type = true;
	rpe.remap_type = REMAP_TYPE__PROCFS;
	pr_info("the cwd of task %d is /proc/%d of a process that is gone\n", item->pid, pid);
	return pb_write_one(img, &rpe, PB_REMAP_FPATH);
}

int refuse_dead_proc_root(struct pstree_item *item)
{
	char link[PATH_MAX];
	ssize_t n = readlinkat(item->proc_dfd, "root", link, sizeof(link) - 1);

	if (n < 0)
		return pr_fail_errno("can't read the root of task %d", item->pid);
	link[n] = '\0';
	if (!dead_proc_pid(link))
		return pr_fail(-ESRCH, "can't open the root of task %d (%s): No such process\n", item->pid, link);
	return pr_fail(-EOPNOTSUPP, "the root of task %d is %s, of a process that is gone: not supported\n", item->pid,
		       link);
}

int dead_proc_of_file(struct rst_ctx *ctx, uint32_t id, pid_t *ret_pid)
{
	uint32_t remap_id;
	int type, ret = remap_of_file(ctx, id, &type, &remap_id);

	if (ret <= 0 || type != REMAP_TYPE__PROCFS)
		return ret < 0 ? ret : 0;
	if (remap_id == 0 || remap_id > INT32_MAX)
		return pr_fail(-EINVAL, "remap-fpath.img: file %u is /proc of pid %u\n", id, remap_id);
	*ret_pid = (pid_t)remap_id;
	return 1;
}

int enter_dead_proc_cwd(struct rst_ctx *ctx, struct pstree_item *me, pid_t pid)
{
	_cleanup_close_ int dfd = -1;
	char name[16];
	pid_t helper;
	int ret = 0;

	if (rst_own_pidns(ctx))
		return pr_fail(-EOPNOTSUPP, "task %d: its cwd /proc/%d, of a process that was gone, can't be made "
					    "in a pid namespace of the tree's own\n", me->pid, pid);
	helper = clone_task(pid, 0);
	if (helper == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	if (helper < 0)
		return pr_fail(-errno, "task %d: can't make a process with pid %d for its cwd /proc/%d: %s\n",
			       me->pid, pid, pid, strerror(errno));
	snprintf(name, sizeof(name), "%d", pid);
	dfd = openat(ctx->proc_fd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fchdir(dfd))
		ret = pr_fail_errno("task %d: can't enter /proc/%d", me->pid, pid);
	kill(helper, SIGKILL);
	while (waitpid(helper, NULL, __WALL) < 0 && errno == EINTR)
		;
	return ret;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * File states the dump refuses because restore can't bring them back yet:
 *
 *  - file locks (POSIX record locks, OFD locks, flock()s, leases) without
 *    --file-locks, as CRIU; with it, those held through an fd are dumped
 *    (file-lock.c, from the fd's fdinfo "lock:" lines). /proc/locks, read
 *    once before anything is dumped, also finds the locks of the tree's
 *    tasks held without an fd (a flock() on a file only mapped any more),
 *    which are refused either way. Reading /proc/locks takes the kernel's
 *    file_rwsem for write, which waits for an RCU grace period (about
 *    12 ms here, whatever the file holds) unless another read ended less
 *    than a grace period before: one byte of it is read before the seize
 *    (proc_locks_prime_start()), and a thread reads it whole from the end
 *    of the seize on, so that a wait that is left overlaps the dump's
 *    other first steps instead of lengthening the freeze (proc_locks_start());
 *  - a /proc file of a task of the tree (/proc/PID/maps, /proc/PID/stat, the
 *    directory /proc/PID, ...) when the tree has a pid or mount namespace
 *    of its own: the path would name another process or nothing in criu's
 *    /proc. In criu's namespaces the restore reopens it once the restored
 *    task exists (files-reg.c).
 *
 * (fd tables shared by processes are task-share.c's.)
 *
 * Each refusal names the task, the fd or file, and what is refused; the
 * tree is resumed untouched by cr_dump_tasks().
 */
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common.h"
#include "cr_options.h"
#include "files.h"
#include "stats.h"
#include "syscalls.h"

#undef LOG_PREFIX
#define LOG_PREFIX "files: "

/* ===================== file locks ===================== */

int parse_lock_line(const char *s, struct file_lock_line *ret)
{
	struct file_lock_line l = {};
	unsigned int maj, min;
	char end[24] = "";
	int n = 0;

	/* "<n>: [-> ]<KIND> <ADVISORY|MANDATORY|ACTIVE|BREAKING|...> <READ|WRITE|...> <pid> <maj>:<min>:<ino> <start> <end|EOF>" */
	if (sscanf(s, " %*u: %n", &n) < 0 || !n)
		return -EINVAL;
	s += n;
	if (!strncmp(s, "->", 2)) {
		l.waiter = true;
		s += 2;
	}
	n = 0;
	if (sscanf(s, " %15s %15s %15s %d %x:%x:%lu %n", l.kind, l.mode, l.access, &l.pid, &maj, &min, &l.ino, &n) <
		    7 ||
	    !n)
		return -EINVAL;
	l.dev = makedev(maj, min);
	/* the range: older lines may lack it (then the whole file) */
	l.end = -1;
	if (sscanf(s + n, "%lld %23s", &l.start, end) == 2 && strcmp(end, "EOF"))
		l.end = atoll(end);
	*ret = l;
	return 0;
}

/* A reader's name for a lock kind of /proc/locks. */
const char *lock_kind_name(const char *kind)
{
	if (!strcmp(kind, "POSIX"))
		return "POSIX record lock (fcntl F_SETLK)";
	if (!strcmp(kind, "OFDLCK"))
		return "open file description lock (fcntl F_OFD_SETLK)";
	if (!strcmp(kind, "FLOCK"))
		return "flock() lock";
	if (!strcmp(kind, "LEASE") || !strcmp(kind, "BREAKING") || !strcmp(kind, "BREAK"))
		return "lease (fcntl F_SETLEASE)";
	if (!strcmp(kind, "DELEG"))
		return "delegation";
	return kind;
}

static struct pstree_item *tree_task_of(struct pstree *tree, pid_t pid)
{
	int idx;

	return pid > 0 ? pstree_find_tid(tree, pid, &idx) : NULL;
}

/* ===================== /proc files of the tree ===================== */

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif

pid_t proc_path_pid(const char *path)
{
	const char *c = path;

	while (*c) {
		size_t n = strcspn(c, "/"), d = strspn(c, "0123456789");

		if (n && d == n && n < 10)
			return (pid_t)atoi(c);
		c += n;
		c += strspn(c, "/");
	}
	return -1;
}

int check_fd_proc(struct pstree *tree, const struct fd_parms *p)
{
	struct pstree_item *owner;
	pid_t pid;
	int idx;

	if (p->sfs.f_type != PROC_SUPER_MAGIC)
		return 0;
	pid = proc_path_pid(p->link);
	if (pid <= 0)
		return 0;
	/* the tree's /proc may be one of its own pid namespace: its pids or the ones criu sees */
	owner = pstree_find_vtid(tree, pid, &idx) ?: tree_task_of(tree, pid);
	if (!owner)
		return 0;
	/*
	 * In criu's pid and mount namespaces the path names the restored task
	 * again (same pid, same /proc): reopened once the tree exists (files-reg.c)
	 */
	if (!(tree->ns_flags & CLONE_NEWPID) && !tree->mntns_list && tree_task_of(tree, pid) && !strncmp(p->link, "/proc/", 6))
		return 0;
	return pr_fail(-EOPNOTSUPP,
		       "fd %d of task %d is %s, a /proc file of task %d of the dumped tree: criu can't restore "
		       "/proc files of the tree's own tasks (yet)\n",
		       p->fd, p->item->pid, p->link, owner->pid);
}

static bool fdinfo_has_lock(const struct proc_fdinfo *fi, const struct file_lock_line *want)
{
	for (int i = 0; i < fi->nr_extra; i++) {
		struct file_lock_line l;

		if (!strcmp(fi->extra[i].key, "lock") && !parse_lock_line(fi->extra[i].val, &l) && !l.waiter &&
		    l.dev == want->dev && l.ino == want->ino && !strcmp(l.kind, want->kind))
			return true;
	}
	return false;
}

/* The fd of item through which it holds lock l, or -1 (only for the error message). */
static int lock_fd(struct pstree_item *item, const struct file_lock_line *l)
{
	_cleanup_close_ int dfd = openat(item->proc_dfd, "fdinfo", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	if (dfd < 0)
		return -1;
	d = fdopendir(dfd);
	if (!d)
		return -1;
	dfd = -1;	/* the DIR has it */
	while ((de = readdir(d))) {
		struct proc_fdinfo fi = {};
		char *buf = NULL;
		bool found;

		if (de->d_name[0] == '.' || read_file_alloc_at(dirfd(d), de->d_name, &buf) < 0)
			continue;
		if (parse_fdinfo_buf(buf, &fi))
			continue;
		found = fdinfo_has_lock(&fi, l);
		proc_fdinfo_free(&fi);
		if (found)
			return atoi(de->d_name);
	}
	return -1;
}

/* Does the task map the inode (the only other way it can hold a lock on it than an fd)? */
static bool maps_inode(struct pstree_item *item, dev_t dev, unsigned long ino)
{
	struct proc_maps maps = {};
	bool found = false;

	/* can't tell: count it as the task's, the lock is refused */
	if (parse_pid_maps(item->proc_dfd, &maps) < 0) {
		proc_maps_free(&maps);
		return true;
	}
	for (int i = 0; i < maps.nr && !found; i++)
		found = maps.vmas[i].ino == ino && makedev(maps.vmas[i].dev_major, maps.vmas[i].dev_minor) == dev;
	proc_maps_free(&maps);
	return found;
}

/*
 * /proc/locks: a lock whose owner pid is a task of the tree, refused without
 * --file-locks, or when no fd of the task holds it. (OFD locks show pid -1:
 * only their fds tell, see dump_fd_locks() in file-lock.c.)
 */
static int check_lock_line(struct pstree *tree, const char *line)
{
	struct pstree_item *item;
	struct file_lock_line l;
	int fd;

	if (parse_lock_line(line, &l) || l.waiter)
		return 0;
	item = tree_task_of(tree, l.pid);
	if (!item)
		return 0;
	fd = lock_fd(item, &l);
	/* with --file-locks, the fd's lines are dumped (file-lock.c) */
	if (fd >= 0 && opts.file_locks)
		return 0;
	if (fd >= 0) {
		char link[PATH_MAX] = "?", name[32];
		ssize_t n;

		snprintf(name, sizeof(name), "fd/%d", fd);
		n = readlinkat(item->proc_dfd, name, link, sizeof(link) - 1);
		link[n > 0 ? n : 1] = '\0';
		return pr_fail(-EOPNOTSUPP,
			       "fd %d of task %d (%s) holds a %s %s: criu can't dump file locks without "
			       "--file-locks\n", fd,
			       item->pid, link, l.access, lock_kind_name(l.kind));
	}
	/*
	 * /proc/locks names the pid of the process that took the lock; once that
	 * one is gone, a new process that got its pid number is named instead
	 * (a shell's `flock` utility, exited, holding a lock for the shell).
	 */
	if (!maps_inode(item, l.dev, l.ino)) {
		pr_debug("a %s %s on inode %u:%u:%lu names task %d, which has no fd or mapping of it: its "
			 "owner is gone and the pid was reused\n",
			 l.access, lock_kind_name(l.kind), major(l.dev), minor(l.dev), l.ino, item->pid);
		return 0;
	}
	return pr_fail(-EOPNOTSUPP,
		       "task %d holds a %s %s on inode %u:%u:%lu through no fd (a mapping?): criu can't dump "
		       "a lock held through no fd\n",
		       item->pid, l.access, lock_kind_name(l.kind), major(l.dev), minor(l.dev), l.ino);
}

static void *proc_locks_read(void *arg)
{
	struct proc_locks *pl = arg;
	ssize_t n = read_file_alloc_at(AT_FDCWD, "/proc/locks", &pl->buf);

	pl->err = n < 0 ? (int)n : 0;
	return NULL;
}

/* Syscalls only: the steps it overlaps may fork (the pre-dump action script). */
static void *proc_locks_prime(void *arg)
{
	int fd = open("/proc/locks", O_RDONLY | O_CLOEXEC);
	char c;

	(void)arg;
	if (fd >= 0) {
		ssize_t n = read(fd, &c, 1);	/* only the kernel's side of the read matters */

		(void)n;
		close(fd);
	}
	return NULL;
}

void proc_locks_prime_start(struct proc_locks *pl)
{
	pl->prime_start_us = stats_now_us();
	pl->priming = !pthread_create(&pl->prime_thread, NULL, proc_locks_prime, NULL);
}

void proc_locks_prime_wait(struct proc_locks *pl)
{
	if (!pl->priming)
		return;
	pthread_join(pl->prime_thread, NULL);
	pl->priming = false;
	pr_debug("/proc/locks read ahead of the seize: %" PRIu64 " us\n", stats_now_us() - pl->prime_start_us);
}

void proc_locks_start(struct proc_locks *pl)
{
	int err = pthread_create(&pl->thread, NULL, proc_locks_read, pl);

	pl->started = !err;
	if (err)	/* check_tree_files() reads it itself */
		pr_debug("no thread for /proc/locks (%s): read when checked\n", strerror(err));
}

static int proc_locks_take(struct proc_locks *pl)
{
	if (pl->started) {
		pthread_join(pl->thread, NULL);
		pl->started = false;
	} else if (!pl->buf && !pl->err) {
		proc_locks_read(pl);
	}
	if (pl->err)
		return pr_fail(pl->err, "can't read /proc/locks: %s\n", strerror(-pl->err));
	return 0;
}

void proc_locks_fini(struct proc_locks *pl)
{
	proc_locks_prime_wait(pl);
	if (pl->started)
		pthread_join(pl->thread, NULL);
	pl->started = false;
	free(pl->buf);
	pl->buf = NULL;
}

/* Each line of /proc/locks, as read by proc_locks_start() after the seize (or now). */
static int check_proc_locks(struct pstree *tree, struct proc_locks *pl)
{
	char *line, *save = NULL;
	int ret = proc_locks_take(pl);

	for (line = strtok_r(pl->buf, "\n", &save); !ret && line; line = strtok_r(NULL, "\n", &save))
		ret = check_lock_line(tree, line);
	return ret;
}

int check_tree_files(struct pstree *tree, struct proc_locks *pl)
{
	return check_proc_locks(tree, pl);
}

/* Kernel objects behind an fd that criu knows and refuses, by their anon inode name. */
static const struct {
	const char *link;
	const char *what;
} refused_fds[] = {
	{ "anon_inode:[io_uring]", "an io_uring instance (io_uring_setup)" },
	{ "anon_inode:[userfaultfd]", "a userfaultfd (userfaultfd)" },
	{ "anon_inode:[perf_event]", "a perf event (perf_event_open)" },
	{ "anon_inode:bpf-map", "a BPF map" },
	{ "anon_inode:bpf-prog", "a BPF program" },
};

const char *refused_fd_name(const struct fd_parms *p)
{
	for (size_t i = 0; i < ARRAY_SIZE(refused_fds); i++)
		if (!strcmp(p->link, refused_fds[i].link))
			return refused_fds[i].what;
	return NULL;
}

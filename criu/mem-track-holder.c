// SPDX-License-Identifier: GPL-2.0
/*
 * The holder of a pre-dump's userfaultfds between two criu processes
 * (mem-track-holder.h). A uffd dies with its last fd: the holder is that fd
 * while no criu runs. It is forked after the tree was resumed, detached
 * (double fork, setsid, /dev/null on 0-2, nothing else open but what it
 * holds), non-dumpable (only a CAP_SYS_PTRACE caller can take its fds) and
 * ends when all its tasks have exited, on a signal, or after
 * TRACK_HOLDER_LIFETIME_S.
 *
 * A holder is found by a /proc scan: comm "criu-track", real uid 0; its
 * uffds are adopted only when it runs the same executable as this criu (a
 * holder of another build is ended when it holds a seized task, as its
 * registrations would make the dump refuse the task's VMAs). Its fds are
 * taken with pidfd_getfd() through a pidfd opened before the checks, and the
 * holder is checked alive again after they are taken (the pid then still
 * named it). A task pidfd
 * names a seized task when it has the same pidfs inode as the pidfd of the
 * seize: a pid reused by another process is another inode.
 */
#define LOG_PREFIX "mem-track: "
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "log.h"
#include "mem-track.h"
#include "mem-track-holder.h"
#include "cr_options.h"
#include "pstree.h"
#include "syscalls.h"

#define KILL_WAIT_MS 2000

static struct {
	int dir_fd;		/* O_PATH of the last tracking pre-dump's dir, -1 when none */
	int manifest_fd;	/* O_PATH of its manifest.img */
} last = { -1, -1 };

bool mem_track_wanted(bool pre_dump)
{
	return !getenv("CRIU_NO_WRITE_TRACKING") && (pre_dump || opts.track_mem || opts.prev_imgs_dir);
}

/* ------------------------------------------------------------ finding a holder */

static bool same_file(int fd, int dfd, const char *path)
{
	struct stat a, b;

	return !fstat(fd, &a) && !fstatat(dfd, path, &b, 0) && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static bool comm_is_holder(int proc_fd, const char *pid)
{
	char path[64], buf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/comm", pid);
	fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n == strlen(TRACK_HOLDER_COMM) + 1 && !strncmp(buf, TRACK_HOLDER_COMM "\n", n);
}

enum holder_kind {
	NOT_A_HOLDER,
	HOLDER_OTHER_EXE,	/* another criu binary (rebuilt, upgraded): its layout is not trusted */
	HOLDER_SAME_EXE,
};

/* pid's comm and real uid say it is a holder; its executable, whether this criu binary made it */
static enum holder_kind holder_kind(int proc_fd, const char *pid)
{
	char path[64], buf[512];
	struct stat self, exe;
	ssize_t n;
	int fd;
	char *uid;

	if (!comm_is_holder(proc_fd, pid))
		return NOT_A_HOLDER;
	snprintf(path, sizeof(path), "%s/status", pid);
	fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NOT_A_HOLDER;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return NOT_A_HOLDER;
	buf[n] = 0;
	if (strstr(buf, "\nState:\tZ") || strstr(buf, "\nState:\tX"))
		return NOT_A_HOLDER;	/* exited, not yet reaped: nothing held any more */
	uid = strstr(buf, "\nUid:\t");
	if (!uid || strncmp(uid + 6, "0\t", 2))
		return NOT_A_HOLDER;
	snprintf(path, sizeof(path), "%s/exe", pid);
	if (stat("/proc/self/exe", &self) || fstatat(proc_fd, path, &exe, 0) || self.st_dev != exe.st_dev ||
	    self.st_ino != exe.st_ino)
		return HOLDER_OTHER_EXE;
	return HOLDER_SAME_EXE;
}

/* the pid of the process pidfd fd names (its fdinfo), -1 when exited, 0 when fd is no pidfd */
static pid_t pidfd_pid(int fd)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int ffd;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	ffd = open(path, O_RDONLY | O_CLOEXEC);
	if (ffd < 0)
		return 0;
	n = read(ffd, buf, sizeof(buf) - 1);
	close(ffd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strstr(buf, "\nPid:\t");
	return p ? (pid_t)atoi(p + 6) : 0;
}

static bool is_uffd(int fd)
{
	char path[64], link[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = 0;
	return !strcmp(link, "anon_inode:[userfaultfd]");
}

static struct pstree_item *seized_task(struct pstree *tree, int pidfd, pid_t pid)
{
	struct pstree_item *item;
	struct stat a, b;

	if (fstat(pidfd, &a))
		return NULL;
	for_each_pstree_item(tree, item) {
		if (item->pid != pid || item->state != TASK_ALIVE || item->pidfd < 0 || fstat(item->pidfd, &b))
			continue;
		return a.st_dev == b.st_dev && a.st_ino == b.st_ino ? item : NULL;
	}
	return NULL;
}

static bool holder_alive(int hfd)
{
	return sys_pidfd_send_signal(hfd, 0, NULL, 0) == 0;
}

/*
 * Holders killed whose exit is not waited for yet: every fd of theirs that
 * matters was adopted (criu holds each uffd itself), so their exit changes
 * nothing the frozen dump sees; it is waited for out of the freeze
 * (track_holders_reap()), or before a uffd of ours is closed.
 */
static struct {
	int fd[TRACK_HOLDER_MAX_FOUND];
	pid_t pid[TRACK_HOLDER_MAX_FOUND];
	int nr;
} dying;

static void holder_wait_exit(int hfd, int hpid)
{
	struct pollfd p = { .fd = hfd, .events = POLLIN };

	if (poll(&p, 1, KILL_WAIT_MS) != 1)
		pr_warn("the holder %d did not exit in %d ms\n", hpid, KILL_WAIT_MS);
}

/*
 * SIGKILL; then wait for its exit (its files closed, so no two holders of a
 * uffd exist and the registrations of uffds not adopted are gone), now or,
 * when later is set, in track_holders_reap().
 */
static void holder_end(int hfd, int hpid, bool later)
{
	if (sys_pidfd_send_signal(hfd, SIGKILL, NULL, 0) && errno != ESRCH) {
		pr_warn("can't end the holder %d: %s\n", hpid, strerror(errno));
		return;
	}
	if (later && dying.nr < (int)ARRAY_SIZE(dying.fd)) {
		dying.fd[dying.nr] = fcntl(hfd, F_DUPFD_CLOEXEC, 0);
		dying.pid[dying.nr] = hpid;
		if (dying.fd[dying.nr] >= 0) {
			dying.nr++;
			return;
		}
	}
	holder_wait_exit(hfd, hpid);
}

void track_holders_reap(void)
{
	for (int i = 0; i < dying.nr; i++) {
		holder_wait_exit(dying.fd[i], dying.pid[i]);
		close(dying.fd[i]);
	}
	dying.nr = 0;
}

struct taken {
	int dir, manifest;
	int fds[2 * TRACK_HOLDER_MAX_TASKS];
	int nr;		/* fds taken, pidfd/uffd pairs */
};

static void taken_close(struct taken *t)
{
	for (int i = 0; i < t->nr; i++)
		if (t->fds[i] >= 0)
			close(t->fds[i]);
	if (t->dir >= 0)
		close(t->dir);
	if (t->manifest >= 0)
		close(t->manifest);
	t->nr = 0;
	t->dir = t->manifest = -1;
}

/* all of the holder's fds; 0, or -errno (nothing taken) */
static int take_fds(int hfd, struct taken *t)
{
	t->dir = sys_pidfd_getfd(hfd, TRACK_HOLDER_FD_DIR, 0);
	t->manifest = sys_pidfd_getfd(hfd, TRACK_HOLDER_FD_MANIFEST, 0);
	if (t->dir < 0 || t->manifest < 0) {
		int ret = -errno;

		taken_close(t);
		return ret;
	}
	for (t->nr = 0; t->nr < (int)ARRAY_SIZE(t->fds); t->nr++) {
		int fd = sys_pidfd_getfd(hfd, TRACK_HOLDER_FD_TASKS + t->nr, 0);

		if (fd < 0)
			break;
		t->fds[t->nr] = fd;
	}
	if (t->nr % 2 || !holder_alive(hfd)) {
		taken_close(t);
		return -ESRCH;
	}
	return 0;
}

/*
 * One holder: its tasks matched with the seized ones. Ended when one is in
 * the tree (true); its uffds adopted when trust (the parent is its pass's dir).
 */
static bool holder_use(struct pstree *tree, int hfd, int hpid, bool adopt, int img_dfd)
{
	struct taken t = { .dir = -1, .manifest = -1 };
	bool trust, ours = false;
	int ret = take_fds(hfd, &t), nr_adopted = 0, nr_left = 0;

	if (ret) {
		pr_info("the holder %d: its fds can't be taken (%s): not used\n", hpid, strerror(-ret));
		return false;
	}
	trust = adopt && same_file(t.dir, img_dfd, "parent") && same_file(t.manifest, img_dfd, "parent/manifest.img");
	for (int i = 0; i + 1 < t.nr; i += 2) {
		pid_t pid = pidfd_pid(t.fds[i]);
		struct pstree_item *item = pid > 0 ? seized_task(tree, t.fds[i], pid) : NULL;

		if (!item || !is_uffd(t.fds[i + 1]))
			continue;
		ours = true;
		if (!trust || mem_track_adopt(item->pid, t.fds[i], t.fds[i + 1])) {
			nr_left++;
			continue;
		}
		t.fds[i] = t.fds[i + 1] = -1;	/* mem-track.c's now */
		nr_adopted++;
	}
	if (!ours) {
		taken_close(&t);	/* another tree's: left alone */
		return false;
	}
	if (trust) {
		struct stat st;

		if (!fstat(t.dir, &st))
			mem_track_adopt_dir(st.st_dev, st.st_ino);
		pr_info("the holder %d: the write tracking of %d tasks since the parent's pass taken over\n", hpid,
			nr_adopted);
	} else {
		pr_info("the holder %d tracks tasks of this tree for another dir than the parent (or another criu "
			"binary made it, or tracking is off): its tracking ends, the pages are compared\n", hpid);
	}
	/* every uffd of this tree adopted: its exit is waited for out of the freeze */
	holder_end(hfd, hpid, nr_left == 0);
	taken_close(&t);	/* the registrations of what was not adopted go here */
	return true;
}

/* The holders the /proc scan found before the seize: pidfds opened before the checks. */
static struct {
	int fd[TRACK_HOLDER_MAX_FOUND];
	pid_t pid[TRACK_HOLDER_MAX_FOUND];
	bool same_exe[TRACK_HOLDER_MAX_FOUND];
	int nr;
} found;

static void found_forget(void)
{
	for (int i = 0; i < found.nr; i++)
		close(found.fd[i]);
	found.nr = 0;
}

void track_holders_find(void)
{
	_cleanup_close_ int proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	DIR *d;

	found_forget();
	if (proc_fd < 0)
		return;
	d = opendir("/proc");
	if (!d)
		return;
	while ((de = readdir(d)) && found.nr < TRACK_HOLDER_MAX_FOUND) {
		int hpid = atoi(de->d_name);
		enum holder_kind kind;
		int hfd;

		if (hpid <= 0 || hpid == getpid() || !comm_is_holder(proc_fd, de->d_name))
			continue;	/* the comm again after the pidfd is open, below */
		hfd = sys_pidfd_open(hpid, 0);
		if (hfd < 0)
			continue;
		/* read after the pidfd, checked alive after: what was read is that process's */
		kind = holder_kind(proc_fd, de->d_name);
		if (kind == NOT_A_HOLDER || !holder_alive(hfd)) {
			close(hfd);
			continue;
		}
		found.fd[found.nr] = hfd;
		found.pid[found.nr] = hpid;
		found.same_exe[found.nr++] = kind == HOLDER_SAME_EXE;
	}
	closedir(d);
}

void track_holders_take(struct pstree *tree, int img_dfd, bool allowed)
{
	bool ours = false;

	for (int i = 0; i < found.nr; i++)
		if (holder_alive(found.fd[i]))
			ours |= holder_use(tree, found.fd[i], found.pid[i], allowed && found.same_exe[i], img_dfd);
	found_forget();
	if (!ours && allowed && opts.prev_imgs_dir)
		pr_info("no holder of the write tracking since the parent's pass: the pages are compared\n");
}

/* ------------------------------------------------------------ leaving one */

static void last_forget(void)
{
	if (last.dir_fd >= 0)
		close(last.dir_fd);
	if (last.manifest_fd >= 0)
		close(last.manifest_fd);
	last.dir_fd = last.manifest_fd = -1;
}

void track_holder_note_pass(int img_dfd, bool ok)
{
	last_forget();
	if (!ok || getuid() != 0)
		return;		/* only a root criu finds a holder (uid 0, its fds need CAP_SYS_PTRACE) */
	last.dir_fd = openat(img_dfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	last.manifest_fd = openat(img_dfd, "manifest.img", O_PATH | O_CLOEXEC);
	if (last.dir_fd < 0 || last.manifest_fd < 0)
		last_forget();
}

/* The holder's life: wait for its tasks to exit, a signal, or the end of its lifetime. */
static void __attribute__((noreturn)) holder_wait(int nr_tasks)
{
	struct pollfd p[TRACK_HOLDER_MAX_TASKS];
	struct timespec now, end;
	int left = nr_tasks;

	for (int i = 0; i < nr_tasks; i++)
		p[i] = (struct pollfd){ .fd = TRACK_HOLDER_FD_TASKS + 2 * i, .events = POLLIN };
	clock_gettime(CLOCK_BOOTTIME, &end);
	end.tv_sec += TRACK_HOLDER_LIFETIME_S;
	while (left > 0) {
		int ms, n;

		clock_gettime(CLOCK_BOOTTIME, &now);
		if (now.tv_sec > end.tv_sec)
			break;
		ms = (end.tv_sec - now.tv_sec) * 1000;
		n = poll(p, nr_tasks, ms > 0 ? ms : 1);
		for (int i = 0; n > 0 && i < nr_tasks; i++) {
			if (p[i].fd >= 0 && p[i].revents) {
				p[i].fd = -1;	/* exited: poll() skips it from now on */
				left--;
			}
		}
	}
	_exit(0);
}

/* In the grandchild: fds in place (held ones from 3, /dev/null 0-2, nothing else), then wait. */
static void __attribute__((noreturn)) holder_run(int *held, int nr, int ready_fd)
{
	int base_end = TRACK_HOLDER_FD_DIR + nr, tmp[2 + 2 * TRACK_HOLDER_MAX_TASKS], rtmp, null;
	sigset_t all;
	pid_t me = getpid();

	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	for (int s = 1; s < _NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_PDEATHSIG, 0);
	prctl(PR_SET_NAME, TRACK_HOLDER_COMM);
	if (prctl(PR_SET_DUMPABLE, 0))
		_exit(1);
	for (int i = 0; i < nr; i++)
		if ((tmp[i] = fcntl(held[i], F_DUPFD, base_end)) < 0)
			_exit(1);
	rtmp = fcntl(ready_fd, F_DUPFD, base_end);
	if (rtmp < 0 || syscall(SYS_close_range, 0, base_end - 1, 0))
		_exit(1);
	null = open("/dev/null", O_RDWR);	/* 0: the lowest free */
	if (null != 0 || dup2(0, 1) != 1 || dup2(0, 2) != 2)
		_exit(1);
	for (int i = 0; i < nr; i++)
		if (dup2(tmp[i], TRACK_HOLDER_FD_DIR + i) < 0)
			_exit(1);
	if (write(rtmp, &me, sizeof(me)) != sizeof(me))
		_exit(1);
	syscall(SYS_close_range, base_end, ~0U, 0);
	holder_wait((nr - 2) / 2);
}

void track_holder_leave(void)
{
	int held[2 + 2 * TRACK_HOLDER_MAX_TASKS], nr, pfd[2], status;
	pid_t mid, hpid = 0;

	track_holders_reap();	/* no two holders of a uffd */
	if (last.dir_fd < 0)
		return;
	held[0] = last.dir_fd;
	held[1] = last.manifest_fd;
	nr = mem_track_held(held + 2, TRACK_HOLDER_MAX_TASKS);
	if (nr <= 0 || pipe2(pfd, O_CLOEXEC)) {
		last_forget();
		return;
	}
	mid = fork();
	if (mid == 0) {
		close(pfd[0]);
		if (setsid() < 0)
			_exit(1);
		if (fork() == 0)
			holder_run(held, 2 + 2 * nr, pfd[1]);
		_exit(0);
	}
	close(pfd[1]);
	if (mid > 0) {
		waitpid(mid, &status, 0);
		if (read(pfd[0], &hpid, sizeof(hpid)) != sizeof(hpid))
			hpid = 0;
	}
	close(pfd[0]);
	if (hpid > 0)
		pr_info("the write tracking of %d tasks is left to the holder %d (\"" TRACK_HOLDER_COMM
			"\") for the next pass\n", nr, hpid);
	else
		pr_warn("no holder of the write tracking could be started: the next pass compares the pages\n");
	last_forget();
}

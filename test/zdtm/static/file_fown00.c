// SPDX-License-Identifier: GPL-2.0
/*
 * file_fown00: file owners (F_SETOWN, F_SETOWN_EX, F_SETSIG) and O_ASYNC on
 * every kind of fd criu dumps, and the signals they raise after restore.
 *
 * Signals are checked where the kernel sends them (pipes, sockets, inotify):
 *  - a pipe owned by the process with a real-time signal;
 *  - a socket owned by one thread (F_OWNER_TID): that thread gets it;
 *  - a pipe owned by the process group: a child in the group gets it too;
 *  - an inotify fd owned by the process;
 *  - a pipe with no F_SETSIG: plain SIGIO;
 *  - a pipe whose owner was set under uid/euid 1000: the kernel records
 *    those uids and must refuse the signal to this root-owned process.
 * On every fd, also eventfd, timerfd, signalfd, epoll, memfd, a directory
 * and a pidfd, owner, signal, O_ASYNC and the owner's uids must read back as
 * before the dump.
 * Before anything is written after restore, no signal may have come.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef F_GETOWNER_UIDS
#define F_GETOWNER_UIDS 17
#endif

#define NONROOT 1000

enum { S_PIPE, S_SOCK_TID, S_PGRP, S_INOTIFY, S_SIGIO, S_OTHER_UIDS, S_NR_SIGNALLED };

struct slot {
	const char *what;
	int fd;			/* the fd that has the owner */
	int poke_fd;		/* writing here raises its signal (-1: none) */
	struct f_owner_ex owner;
	int sig;		/* F_SETSIG, 0: SIGIO */
	bool async;
	uid_t uid, euid;	/* who sets the owner */
	/* what the fd showed before the dump */
	struct f_owner_ex was_owner;
	int was_sig;
	bool was_async;
	uid_t was_uids[2];
};

struct shared {
	int hits[16];		/* signals seen by the test's process, per slot */
	pid_t by[16];		/* the thread that handled the last one */
	int child_hits;		/* signals seen by the child in the group */
	int sigio;		/* plain SIGIO */
	int child_stop;
};

static struct slot slots[16];
static int nr_slots;
static struct shared *sh;
static pid_t main_pid;
static int sig_rt;

static pid_t gettid_raw(void)
{
	return syscall(SYS_gettid);
}

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	if (getpid() != main_pid) {
		if (sig == sig_rt && si->si_fd == slots[S_PGRP].fd)
			__atomic_add_fetch(&sh->child_hits, 1, __ATOMIC_SEQ_CST);
		return;
	}
	if (sig == SIGIO) {
		__atomic_add_fetch(&sh->sigio, 1, __ATOMIC_SEQ_CST);
		return;
	}
	for (int i = 0; i < nr_slots; i++) {
		if (slots[i].fd == si->si_fd) {
			__atomic_add_fetch(&sh->hits[i], 1, __ATOMIC_SEQ_CST);
			sh->by[i] = gettid_raw();
		}
	}
}

static int set_owner(struct slot *s)
{
	int fl;

	if ((s->uid || s->euid) && setresuid(s->uid, s->euid, 0)) {
		fail("%s: setresuid(%d, %d, 0)", s->what, s->uid, s->euid);
		return -1;
	}
	if (fcntl(s->fd, F_SETOWN_EX, &s->owner) || (s->sig && fcntl(s->fd, F_SETSIG, s->sig))) {
		fail("%s: F_SETOWN_EX/F_SETSIG", s->what);
		return -1;
	}
	if ((s->uid || s->euid) && setresuid(0, 0, 0)) {
		fail("setresuid back to root");
		return -1;
	}
	fl = fcntl(s->fd, F_GETFL);
	if (s->async && fcntl(s->fd, F_SETFL, fl | O_ASYNC)) {
		fail("%s: O_ASYNC", s->what);
		return -1;
	}
	/* the kernel keeps O_ASYNC only on files that can signal; other quirks too: compare with this */
	if (fcntl(s->fd, F_GETOWN_EX, &s->was_owner) || fcntl(s->fd, F_GETOWNER_UIDS, s->was_uids)) {
		fail("%s: F_GETOWN_EX/F_GETOWNER_UIDS", s->what);
		return -1;
	}
	s->was_sig = fcntl(s->fd, F_GETSIG);
	s->was_async = fcntl(s->fd, F_GETFL) & O_ASYNC;
	return 0;
}

static struct slot *add(const char *what, int fd, int poke_fd, int type, pid_t pid, int sig, bool async)
{
	struct slot *s = &slots[nr_slots++];

	*s = (struct slot){ .what = what, .fd = fd, .poke_fd = poke_fd, .sig = sig, .async = async };
	s->owner.type = type;
	s->owner.pid = pid;
	return s;
}

static void check_owner(const struct slot *s)
{
	struct f_owner_ex o = {};
	uid_t uids[2] = { 99, 99 };
	int sig, fl;

	errno = 0;
	if (fcntl(s->fd, F_GETOWN_EX, &o) || fcntl(s->fd, F_GETOWNER_UIDS, uids)) {
		fail("%s: F_GETOWN_EX/F_GETOWNER_UIDS", s->what);
		return;
	}
	if (o.type != s->was_owner.type || o.pid != s->was_owner.pid)
		fail("%s: owner type %d pid %d after restore, was type %d pid %d", s->what, o.type, o.pid,
		     s->was_owner.type, s->was_owner.pid);
	sig = fcntl(s->fd, F_GETSIG);
	if (sig != s->was_sig)
		fail("%s: F_GETSIG %d after restore, was %d", s->what, sig, s->was_sig);
	fl = fcntl(s->fd, F_GETFL);
	if (!!(fl & O_ASYNC) != s->was_async)
		fail("%s: O_ASYNC %s after restore", s->what, (fl & O_ASYNC) ? "set" : "lost");
	if (uids[0] != s->was_uids[0] || uids[1] != s->was_uids[1])
		fail("%s: owner set by uid %u euid %u after restore, was %u %u", s->what, uids[0], uids[1],
		     s->was_uids[0], s->was_uids[1]);
}

static int wait_for(int *counter, int want)
{
	for (int i = 0; i < 200; i++) {
		if (__atomic_load_n(counter, __ATOMIC_SEQ_CST) >= want)
			return 0;
		usleep(5000);
	}
	return -1;
}

static void *worker(void *arg)
{
	pid_t *tid = arg;

	__atomic_store_n(tid, gettid_raw(), __ATOMIC_SEQ_CST);
	for (;;)
		pause();
	return NULL;
}

static int child_main(void)
{
	while (!__atomic_load_n(&sh->child_stop, __ATOMIC_SEQ_CST))
		usleep(5000);
	return __atomic_load_n(&sh->child_hits, __ATOMIC_SEQ_CST) == 1 ? 0 : 3;
}

static void check_signals(pid_t worker_tid)
{
	char c = 'x';

	errno = 0;
	for (int i = 0; i < nr_slots; i++)
		if (sh->hits[i])
			fail("%s: %d signals before anything was written after restore", slots[i].what, sh->hits[i]);
	if (sh->sigio || sh->child_hits)
		fail("spurious signals after restore: SIGIO %d, child %d", sh->sigio, sh->child_hits);

	for (int i = 0; i < S_NR_SIGNALLED; i++) {
		int *counter = i == S_SIGIO ? &sh->sigio : &sh->hits[i];

		if (i == S_INOTIFY) {
			if (mkdir("file_fown00.dir/new", 0700))
				fail("mkdir in the watched directory");
		} else if (write(slots[i].poke_fd, &c, 1) != 1) {
			fail("%s: write", slots[i].what);
			continue;
		}
		if (i == S_OTHER_UIDS) {
			usleep(100000);
			if (sh->hits[i])
				fail("%s: the signal came though the owner's uids may not signal root", slots[i].what);
			continue;
		}
		if (wait_for(counter, 1)) {
			fail("%s: no signal after restore", slots[i].what);
			continue;
		}
		if (i == S_SOCK_TID && sh->by[i] != worker_tid)
			fail("%s: signal handled by thread %d, not the owner thread %d", slots[i].what, sh->by[i],
			     worker_tid);
		if (i == S_PGRP && wait_for(&sh->child_hits, 1))
			fail("%s: the child in the process group got no signal", slots[i].what);
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = on_signal, .sa_flags = SA_SIGINFO | SA_RESTART };
	int p[5][2], sk[2], ifd, efd, tfd, sfd, epfd, mfd, rfd, pfd, status;
	pid_t worker_tid = 0, child;
	pthread_t th;
	sigset_t ss;

	test_init(argc, argv);
	main_pid = getpid();
	sig_rt = SIGRTMIN + 3;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	if (sigaction(sig_rt, &sa, NULL) || sigaction(SIGIO, &sa, NULL)) {
		fail("sigaction");
		return 1;
	}
	for (int i = 0; i < 5; i++)
		if (pipe2(p[i], O_NONBLOCK)) {
			fail("pipe2");
			return 1;
		}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sk)) {
		fail("socketpair");
		return 1;
	}
	rmdir("file_fown00.dir/new");
	rmdir("file_fown00.dir");
	if (mkdir("file_fown00.dir", 0700)) {
		fail("mkdir");
		return 1;
	}
	ifd = inotify_init1(IN_NONBLOCK);
	if (ifd < 0 || inotify_add_watch(ifd, "file_fown00.dir", IN_CREATE) < 0) {
		fail("inotify");
		return 1;
	}
	efd = eventfd(3, EFD_NONBLOCK);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	sigemptyset(&ss);
	sigaddset(&ss, SIGUSR2);
	sfd = signalfd(-1, &ss, SFD_NONBLOCK);
	epfd = epoll_create1(0);
	mfd = memfd_create("file_fown00", 0);
	rfd = open("file_fown00.dir", O_RDONLY | O_DIRECTORY);
	if (efd < 0 || tfd < 0 || sfd < 0 || epfd < 0 || mfd < 0 || rfd < 0) {
		fail("creating the other fds");
		return 1;
	}

	if (pthread_create(&th, NULL, worker, &worker_tid)) {
		fail("pthread_create");
		return 1;
	}
	while (!__atomic_load_n(&worker_tid, __ATOMIC_SEQ_CST))
		usleep(1000);
	pfd = sys_pidfd_open(main_pid, 0);
	if (pfd < 0) {
		fail("pidfd_open");
		return 1;
	}

	/* the order matches the S_* slots */
	add("pipe owned by the process", p[0][0], p[0][1], F_OWNER_PID, main_pid, sig_rt, true);
	add("socket owned by a thread", sk[0], sk[1], F_OWNER_TID, worker_tid, sig_rt, true);
	add("pipe owned by the process group", p[1][0], p[1][1], F_OWNER_PGRP, getpgrp(), sig_rt, true);
	add("inotify owned by the process", ifd, -1, F_OWNER_PID, main_pid, sig_rt, true);
	add("pipe with plain SIGIO", p[2][0], p[2][1], F_OWNER_PID, main_pid, 0, true);
	add("pipe owned under uid 1000", p[3][0], p[3][1], F_OWNER_PID, main_pid, sig_rt, true)->uid = NONROOT;
	slots[S_OTHER_UIDS].euid = NONROOT;
	add("pipe write end owned by a thread, euid 1000", p[4][1], -1, F_OWNER_TID, worker_tid, SIGRTMIN + 5,
	    false)->euid = NONROOT;
	add("eventfd", efd, -1, F_OWNER_PID, main_pid, SIGRTMIN + 4, true);
	add("timerfd", tfd, -1, F_OWNER_TID, worker_tid, SIGUSR1, false);
	add("signalfd", sfd, -1, F_OWNER_PGRP, getpgrp(), SIGRTMIN + 6, true);
	/* F_OWNER_PID naming a thread that is not the leader reads back as pid 0 */
	add("epoll", epfd, -1, F_OWNER_PID, worker_tid, 0, true);
	add("memfd", mfd, -1, F_OWNER_TID, main_pid, SIGRTMIN + 7, false);
	add("directory", rfd, -1, F_OWNER_PGRP, getpgrp(), SIGRTMIN + 8, true);
	add("pidfd", pfd, -1, F_OWNER_PID, main_pid, SIGRTMIN + 9, true);
	for (int i = 0; i < nr_slots; i++)
		if (set_owner(&slots[i]))
			return 1;

	child = fork();
	if (child < 0) {
		fail("fork");
		return 1;
	}
	if (child == 0)
		_exit(child_main());

	test_daemon();
	test_waitsig();

	for (int i = 0; i < nr_slots; i++)
		check_owner(&slots[i]);
	check_signals(worker_tid);

	__atomic_store_n(&sh->child_stop, 1, __ATOMIC_SEQ_CST);
	errno = 0;
	if (test_wait_child(child, 5, &status))
		fail("the child did not end");
	else if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail("the child in the process group saw %d signals (status 0x%x), expected 1", sh->child_hits, status);
	rmdir("file_fown00.dir/new");
	rmdir("file_fown00.dir");
	if (test_failed())
		return 1;
	pass();
	return 0;
}

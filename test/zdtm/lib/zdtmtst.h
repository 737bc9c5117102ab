/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zdtm test library.
 *
 * A test sets up some state, calls test_daemon() to tell the runner it is
 * ready to be checkpointed, blocks in test_waitsig() until the runner sends
 * SIGTERM (after dump and restore), then checks that the state survived and
 * reports pass() or fail().
 *
 * The verdict goes to the file given with --outfile= (one "PASS" line, or one
 * "FAIL: reason" line per failed check); messages go to stderr, which the
 * runner points to the test's log file.
 */
#ifndef ZDTM_TST_H
#define ZDTM_TST_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Parse --pidfile=FILE and --outfile=FILE. With a pidfile the test runs in
 * the background: test_init() forks, the child becomes a session leader and
 * goes on with the test, the parent waits until the child calls test_daemon()
 * (exit 0) or dies (exit 1). Without a pidfile the test stays in the
 * foreground and prints the verdict on stdout (handy for manual runs).
 * With --shell-job (the runner's .desc key tty) the child is not a session
 * leader but a job of the runner's session, whose controlling terminal is on
 * fd 0: it gets a process group of its own and makes it the terminal's
 * foreground group.
 * SIGTERM is blocked from here on: test_waitsig() consumes it.
 * Exits the process on a bad command line.
 */
void test_init(int argc, char **argv);

/* The test's state is set up: write the pidfile and signal the launcher. */
void test_daemon(void);
/*
 * The same, naming another process in the pidfile: the root of the tree to
 * dump when it is not the test's root (say, the init of a pid namespace the
 * test made, which can't name the launcher by pid). Called by the test's root.
 */
void test_daemon_pid(pid_t pid);
/* From now on this process (not the one test_init() returned in) gives the verdict: pass(). */
void test_set_root(void);

/* Block until SIGTERM arrives (it may already be pending). */
void test_waitsig(void);

/* Record success; ignored (stays a failure) if fail() was called before,
 * and in children of the test (they report by their exit status). */
void pass(void);

/* Record a failed check: file, line, message and errno if it is set. */
#define fail(fmt, ...) zdtm_fail(__FILE__, __LINE__, errno, fmt, ##__VA_ARGS__)
void zdtm_fail(const char *file, int line, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* A log message on stderr, prefixed with the pid. */
void test_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* true once fail() was called in this process */
bool test_failed(void);

/*
 * Helpers shared by several tests.
 */

/* Read "key:\t<number>" from /proc/self/fdinfo/FD. 0 or -errno. */
int fdinfo_get_long(int fd, const char *key, long long *ret_val);

/* Does the VmFlags line of the mapping that holds addr (/proc/self/smaps) have the
 * two-letter flag? 1 yes, 0 no, -ENOENT when addr is not mapped, or -errno. */
int test_vmflag(const void *addr, const char *flag);

/* The number of a "Key: N kB" line of the smaps record of the mapping that holds addr; -ENOENT, -errno. */
long test_smaps_kb(const void *addr, const char *key);

/* st_blocks of the file mapped at addr (through /proc/self/map_files): a hugetlbfs file counts its
 * allocated huge pages there; -ENOENT when addr is not mapped, or -errno. */
long long test_map_blocks(const void *addr);

/* Wait for a child with a timeout in seconds; 0 (status in *ret_status),
 * -ETIMEDOUT or -errno. */
int test_wait_child(pid_t pid, int timeout_sec, int *ret_status);

/* Describe a wait status ("exited 3", "killed by signal 9") in buf. */
const char *test_status_str(int status, char *buf, size_t len);

/*
 * Start a process outside the test's tree: a grandchild whose parent exits,
 * so it is reparented to the runner. It leaves the test's session (whose sid
 * would keep the test's pid number busy), sleeps, and ends after 120 s at
 * most. Returns its pid, or -1.
 */
pid_t test_start_outsider(void);

/* Raw syscall wrappers (glibc 2.36 has none for these). */
int sys_pidfd_open(pid_t pid, unsigned int flags);
int sys_pidfd_send_signal(int pidfd, int sig, void *info, unsigned int flags);

/*
 * pidfds: remember what a pidfd looks like before the dump, check after
 * restore that it still does: same fd flags and file flags (O_NONBLOCK,
 * PIDFD_THREAD), fdinfo "Pid:" is the expected pid, the link is
 * anon_inode:[pidfd], pidfd_send_signal(0) reaches the process, and the inode
 * equals that of a fresh pidfd_open() of the pid (pidfs: one inode per
 * process). pidfd_check() reports each mismatch with fail(); returns 0 or -1.
 */
struct pidfd_state {
	int fd;
	pid_t pid;
	int fl;		/* F_GETFL */
	int fdfl;	/* F_GETFD */
	const char *what;
};

int pidfd_remember(int fd, pid_t pid, const char *what, struct pidfd_state *ret);
int pidfd_check(const struct pidfd_state *st);

/*
 * A word pattern for memory checks: word i of p is a function of i and tag.
 * pattern_check() gives the index of the first word that differs, or -1.
 */
void pattern_fill(void *p, size_t len, uint64_t tag);
long pattern_check(const void *p, size_t len, uint64_t tag);

#endif

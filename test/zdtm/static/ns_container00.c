// SPDX-License-Identifier: GPL-2.0
/*
 * ns_container00: a tree laid out as container runtimes lay it out (the
 * mount namespace aside): the test's root unshares a pid namespace and forks
 * N, its init, which makes UTS, IPC, network and time namespaces of its own
 * (host name, a SysV shm segment, lo up, clocks far ahead) and forks C,
 * which inherits them all. The pidfile names N. After restore N is pid 1 of
 * a new pid namespace, N and C see their names, segment, lo and clocks, are
 * in namespaces other than the ones the test started in (criu's), and C is
 * in N's.
 */
#include <errno.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>

#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "ns_net_lo.h"
#include "ns_time_clk.h"
#include "zdtmtst.h"

#define HOST "zdtm-container"
#define KEY 0x2d7a31
#define TEXT "the container's segment"

static const char *const kinds[] = { "uts", "ipc", "net", "time" };
#define NR_KINDS 4

struct shared {
	unsigned long start[NR_KINDS];	/* criu's (the test's starting) namespaces */
	unsigned long c_ns[NR_KINDS];	/* C's, written by C after restore */
};

static struct shared *sh;

static unsigned long ino_of(const char *kind)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/self/ns/%s", kind);
	return stat(path, &st) ? 0 : st.st_ino;
}

static int check_contents(const char *who)
{
	char host[65] = "", *p;
	int id = shmget(KEY, 0, 0);

	if (gethostname(host, sizeof(host)) || strcmp(host, HOST)) {
		fail("%s: hostname '%s'", who, host);
		return -1;
	}
	p = id < 0 ? (char *)-1 : shmat(id, NULL, SHM_RDONLY);
	if (p == (char *)-1 || strcmp(p, TEXT)) {
		fail("%s: the segment is not back", who);
		return -1;
	}
	shmdt(p);
	if (lo_check(who, 1, 65536) || lo_echo(who) || timens_check(who))
		return -1;
	for (int k = 0; k < NR_KINDS; k++)
		if (ino_of(kinds[k]) == sh->start[k]) {
			fail("%s: in criu's %s namespace", who, kinds[k]);
			return -1;
		}
	return 0;
}

static void __attribute__((noreturn)) c_main(int ready)
{
	close(ready);
	test_waitsig();
	for (int k = 0; k < NR_KINDS; k++)
		sh->c_ns[k] = ino_of(kinds[k]);
	exit(check_contents("C") ? 1 : 0);
}

static int fill(void)
{
	int id;
	char *p;

	if (unshare(CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWTIME) || timens_fill() ||
	    sethostname(HOST, strlen(HOST)) || lo_set(1, 65536))
		return -1;
	id = shmget(KEY, 4096, IPC_CREAT | IPC_EXCL | 0600);
	p = id < 0 ? (char *)-1 : shmat(id, NULL, 0);
	if (p == (char *)-1)
		return -1;
	strcpy(p, TEXT);
	shmdt(p);
	return 0;
}

static void __attribute__((noreturn)) n_main(int ready)
{
	int status, c_ready[2];
	pid_t c;
	char b;

	if (getpid() != 1 || fill() || pipe(c_ready)) {
		fail("N: can't set up its namespaces");
		exit(1);
	}
	c = fork();
	if (c == 0) {
		close(c_ready[0]);
		close(ready);
		c_main(c_ready[1]);
	}
	close(c_ready[1]);
	/* C closes its end when it is set up */
	if (c < 0 || read(c_ready[0], &b, 1) != 0) {
		fail("N: C did not start");
		exit(1);
	}
	close(c_ready[0]);
	if (write(ready, "y", 1) != 1)
		exit(1);
	close(ready);
	test_waitsig();

	kill(c, SIGTERM);
	if (check_contents("N"))
		exit(1);
	if (waitpid(c, &status, 0) != c || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("N: C failed (status %#x)", status);
		exit(1);
	}
	for (int k = 0; k < NR_KINDS; k++)
		if (sh->c_ns[k] != ino_of(kinds[k])) {
			fail("C's %s namespace is [%lu], N's [%lu]", kinds[k], sh->c_ns[k], ino_of(kinds[k]));
			exit(1);
		}
	if (getpid() != 1) {
		fail("N is %d in its pid namespace, not 1", getpid());
		exit(1);
	}
	pass();
	exit(0);
}

int main(int argc, char **argv)
{
	int ready[2];
	pid_t n;
	char c;

	test_init(argc, argv);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED || pipe(ready)) {
		fail("mmap or pipe");
		return 1;
	}
	for (int k = 0; k < NR_KINDS; k++)
		sh->start[k] = ino_of(kinds[k]);
	if (unshare(CLONE_NEWPID)) {
		fail("unshare(CLONE_NEWPID)");
		return 1;
	}
	n = fork();
	if (n < 0) {
		fail("fork of the namespace's init");
		return 1;
	}
	if (n == 0) {
		close(ready[0]);
		test_set_root();	/* N gives the verdict */
		n_main(ready[1]);
	}
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1 || c != 'y') {
		errno = 0;
		fail("the namespace's init did not get ready");
		kill(n, SIGKILL);
		return 1;
	}
	close(ready[0]);
	/* N's tree is the one to dump; this process leaves */
	test_daemon_pid(n);
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the namespace tests (ns_uts*, ns_ipc*, ns_net*): a small tree of
 * processes, each of which keeps its parent's namespace of one kind, makes
 * a new one (unshare, then the test fills it), joins another node's
 * (setns on /proc/PID/ns/KIND) or goes back to the test root's starting
 * namespace: its parent's (the runner's, which is criu's; in the ct flavour
 * ns-root's, the container's, which the restore makes again).
 *
 * Every node records its pid in a MAP_SHARED page, says it is ready once its
 * children are, waits for SIGTERM, passes it on to its children, runs the
 * test's check in its namespace, reaps its children and exits 0 or 1. The
 * root (node 0) then checks through /proc/PID/ns/KIND that the nodes meant
 * to share a namespace do and the others don't, that the nodes of the
 * starting one are in its parent's after restore, and that every other
 * namespace is really distinct from it.
 */
#ifndef ZDTM_NS_TREE_H
#define ZDTM_NS_TREE_H

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define NS_TREE_MAX 8

enum ns_how {
	NS_KEEP,	/* the parent's */
	NS_NEW,		/* unshare, then fill(node) */
	NS_JOIN,	/* setns into node .peer's (made earlier) */
	NS_BACK,	/* setns back into the root's starting namespace */
};

struct ns_node {
	int parent;	/* index of the parent node; -1 for the root */
	enum ns_how how;
	int peer;	/* NS_JOIN: whose namespace */
	int group;	/* nodes of one group share a namespace, others don't; group 0 is the starting one */
};

struct ns_tree {
	const char *kind;		/* the /proc/PID/ns entry */
	int flag;			/* CLONE_NEW* */
	int nr;
	const struct ns_node *nodes;
	int (*fill)(int node);		/* NS_NEW: put the test's contents in the new namespace */
	int (*check)(int node);		/* after SIGTERM, in the node: 0 when its contents are back */
};

struct ns_tree_shared {
	pid_t pid[NS_TREE_MAX];
	int start_fd;			/* the root's fd of its starting namespace (inherited) */
};

static struct ns_tree_shared *ns_sh;

static inline unsigned long ns_tree_ino(pid_t pid, const char *kind)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, kind);
	if (stat(path, &st)) {
		fail("stat %s", path);
		return 0;
	}
	return st.st_ino;
}

static inline int ns_tree_setns_pid(pid_t pid, const struct ns_tree *t)
{
	char path[64];
	int fd, ret;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, t->kind);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = setns(fd, t->flag);
	close(fd);
	return ret;
}

static inline int ns_tree_enter(const struct ns_tree *t, int i)
{
	const struct ns_node *n = &t->nodes[i];

	switch (n->how) {
	case NS_KEEP:
		return 0;
	case NS_NEW:
		if (unshare(t->flag)) {
			fail("node %d: unshare(%s)", i, t->kind);
			return -1;
		}
		return t->fill(i);
	case NS_JOIN:
		if (ns_tree_setns_pid(ns_sh->pid[n->peer], t)) {
			fail("node %d: can't join the %s namespace of node %d", i, t->kind, n->peer);
			return -1;
		}
		return 0;
	case NS_BACK:
		if (setns(ns_sh->start_fd, t->flag)) {
			fail("node %d: can't go back to the starting %s namespace", i, t->kind);
			return -1;
		}
		return 0;
	}
	return -1;
}

static void ns_tree_run(const struct ns_tree *t, int i);

/* Start node i's children, in order; each says it is ready through a pipe. */
static inline int ns_tree_children(const struct ns_tree *t, int i, pid_t *kids, int *nr_kids)
{
	*nr_kids = 0;
	for (int c = 0; c < t->nr; c++) {
		int p[2];
		char b;
		pid_t pid;

		if (t->nodes[c].parent != i)
			continue;
		if (pipe2(p, O_CLOEXEC)) {
			fail("pipe");
			return -1;
		}
		pid = fork();
		if (pid < 0) {
			fail("fork");
			return -1;
		}
		if (pid == 0) {
			close(p[0]);
			ns_sh->pid[c] = getpid();
			if (ns_tree_enter(t, c))
				exit(1);
			ns_tree_run(t, c);
			close(ns_sh->start_fd);	/* an nsfs fd is not part of what is dumped */
			if (write(p[1], "", 1) != 1)
				exit(1);
			close(p[1]);
			test_waitsig();
			ns_tree_run(t, -1 - c);
		}
		close(p[1]);
		if (read(p[0], &b, 1) != 1) {
			fail("node %d did not start", c);
			close(p[0]);
			return -1;
		}
		close(p[0]);
		kids[(*nr_kids)++] = pid;
	}
	return 0;
}

/*
 * ns_tree_run(t, i): start node i's children (i >= 0);
 * ns_tree_run(t, -1 - i): node i after SIGTERM: pass it on, check, reap, exit.
 */
static pid_t ns_tree_kids[NS_TREE_MAX][NS_TREE_MAX];
static int ns_tree_nr_kids[NS_TREE_MAX];

static void ns_tree_run(const struct ns_tree *t, int i)
{
	int status, bad = 0;

	if (i >= 0) {
		if (ns_tree_children(t, i, ns_tree_kids[i], &ns_tree_nr_kids[i]))
			exit(1);
		return;
	}
	i = -1 - i;
	for (int k = 0; k < ns_tree_nr_kids[i]; k++)
		kill(ns_tree_kids[i][k], SIGTERM);
	if (t->check(i))
		bad = 1;
	for (int k = 0; k < ns_tree_nr_kids[i]; k++) {
		if (test_wait_child(ns_tree_kids[i][k], 20, &status) || !WIFEXITED(status) || WEXITSTATUS(status)) {
			fail("node %d: child %d failed", i, ns_tree_kids[i][k]);
			bad = 1;
		}
	}
	exit(bad);
}

/* The root's part: set up the whole tree, wait for SIGTERM, check everything. */
static inline int ns_tree_main(const struct ns_tree *t, int argc, char **argv)
{
	unsigned long start, ino[NS_TREE_MAX];
	int status, bad = 0;

	test_init(argc, argv);
	ns_sh = mmap(NULL, sizeof(*ns_sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ns_sh == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	ns_sh->pid[0] = getpid();
	start = ns_tree_ino(getpid(), t->kind);
	ns_sh->start_fd = open("/proc/self/ns/", O_RDONLY | O_DIRECTORY);
	if (ns_sh->start_fd >= 0) {
		int fd = openat(ns_sh->start_fd, t->kind, O_RDONLY);

		close(ns_sh->start_fd);
		ns_sh->start_fd = fd;
	}
	if (ns_sh->start_fd < 0 || ns_tree_enter(t, 0)) {
		fail("can't set up the root's namespace");
		return 1;
	}
	ns_tree_run(t, 0);
	close(ns_sh->start_fd);
	test_daemon();
	test_waitsig();

	/* the starting namespace after restore: the parent's, made again in the ct flavour */
	start = ns_tree_ino(getppid(), t->kind);
	/* every node waits for its SIGTERM: their namespaces can be read before it is sent */
	for (int i = 0; i < t->nr; i++)
		ino[i] = ns_tree_ino(ns_sh->pid[i], t->kind);
	for (int k = 0; k < ns_tree_nr_kids[0]; k++)
		kill(ns_tree_kids[0][k], SIGTERM);
	for (int i = 0; i < t->nr; i++) {
		if ((t->nodes[i].group == 0) != (ino[i] == start)) {
			fail("node %d (pid %d) is in %s:[%lu], the starting one (its parent's) is [%lu]: expected %s", i,
			     ns_sh->pid[i], t->kind, ino[i], start, t->nodes[i].group ? "another" : "that one");
			bad = 1;
		}
		for (int j = 0; j < i; j++)
			if ((t->nodes[i].group == t->nodes[j].group) != (ino[i] == ino[j])) {
				fail("nodes %d and %d are in %s:[%lu] and [%lu]: expected %s", j, i, t->kind, ino[j],
				     ino[i], t->nodes[i].group == t->nodes[j].group ? "the same" : "different ones");
				bad = 1;
			}
	}
	if (t->check(0))
		bad = 1;
	for (int k = 0; k < ns_tree_nr_kids[0]; k++) {
		if (test_wait_child(ns_tree_kids[0][k], 20, &status) || !WIFEXITED(status) || WEXITSTATUS(status)) {
			fail("child %d failed", ns_tree_kids[0][k]);
			bad = 1;
		}
	}
	if (bad || test_failed())
		return 1;
	pass();
	return 0;
}

#endif

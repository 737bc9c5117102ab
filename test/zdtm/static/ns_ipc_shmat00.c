// SPDX-License-Identifier: GPL-2.0
/*
 * ns_ipc_shmat00: SysV shm segments attached by tasks of an IPC namespace of
 * the tree. The root makes the namespace and three segments: A (3 pages)
 * attached read-write by the root and by its child, B (1 page) attached
 * read-only, C (4 pages) attached with its last page unmapped again. After
 * restore every attachment is at its address with the segment's contents,
 * A is one segment for both tasks (a write by one is seen by the other and
 * by a fresh attachment), B is still read-only, C still ends a page short,
 * and A counts two attachments.
 */
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>

#include "ns_tree.h"

#define PAGE 4096

static const struct ns_node nodes[] = {
	{ .parent = -1, .how = NS_NEW, .group = 1 },
	{ .parent = 0, .how = NS_KEEP, .group = 1 },
};

struct seg {
	int id;
	char *addr;
};

/* MAP_SHARED: set up by the root before its child is made */
static struct segs {
	struct seg a, b, c;
} *s;

static int attach(struct seg *g, size_t size, const char *text, int flags)
{
	char *p;

	g->id = shmget(IPC_PRIVATE, size, IPC_CREAT | 0600);
	if (g->id < 0)
		return -1;
	p = shmat(g->id, NULL, 0);
	if (p == (void *)-1)
		return -1;
	for (size_t off = 0; off < size; off += PAGE)
		snprintf(p + off, PAGE, "%s page %zu", text, off / PAGE);
	if (flags & SHM_RDONLY) {
		shmdt(p);
		p = shmat(g->id, NULL, SHM_RDONLY);
		if (p == (void *)-1)
			return -1;
	}
	g->addr = p;
	return 0;
}

static int fill(int node)
{
	s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s == MAP_FAILED || attach(&s->a, 3 * PAGE, "A", 0) || attach(&s->b, PAGE, "B", SHM_RDONLY) ||
	    attach(&s->c, 4 * PAGE, "C", 0) || munmap(s->c.addr + 3 * PAGE, PAGE)) {
		fail("node %d: can't make the segments", node);
		return -1;
	}
	return 0;
}

/* "r-xs" and the end of the mapping at addr, from /proc/self/maps */
static int map_of(char *addr, char *perms, unsigned long *end)
{
	char line[512], p[5];
	unsigned long a, e;
	FILE *f = fopen("/proc/self/maps", "r");
	int found = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx %4s", &a, &e, p) == 3 && a == (unsigned long)addr) {
			strcpy(perms, p);
			*end = e;
			found = 0;
		}
	if (f)
		fclose(f);
	return found;
}

static int check_text(int node, const char *what, const char *p, size_t page, const char *text)
{
	char want[64];

	snprintf(want, sizeof(want), "%s page %zu", text, page);
	if (strcmp(p + page * PAGE, want)) {
		fail("node %d: %s page %zu says '%.20s'", node, what, page, p + page * PAGE);
		return -1;
	}
	return 0;
}

/* a write through the attachment is in the segment: a fresh attachment of its id sees it */
static int check_shared(int node, const struct seg *g, size_t page, const char *msg)
{
	char *fresh = shmat(g->id, NULL, SHM_RDONLY);
	int ret = -1;

	strcpy(g->addr + page * PAGE, msg);
	if (fresh != (void *)-1) {
		ret = strcmp(fresh + page * PAGE, msg) ? -1 : 0;
		shmdt(fresh);
	}
	if (ret)
		fail("node %d: a write through the attachment of segment %d is not in the segment", node, g->id);
	return ret;
}

/* The root's attachment of A shows what the child wrote through its own (up to 20 s). */
static int wait_child_write(void)
{
	struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };

	for (int i = 0; i < 2000; i++) {
		if (!strcmp(s->a.addr + PAGE, "written by the child"))
			return 0;
		nanosleep(&ts, NULL);
	}
	fail("the child's write to A never showed in the root's attachment");
	return -1;
}

/*
 * Both tasks read A's page 0, the root page 2 and the child page 1, which
 * the child then writes through its attachment (a fresh attachment of the
 * id must see it); the root waits to see the write through its own. The
 * child counts A's attachments first, while nobody attaches anything else.
 */
static int check(int node)
{
	struct shmid_ds ds;
	unsigned long end;
	char perms[5];

	if (node == 1 && (shmctl(s->a.id, IPC_STAT, &ds) || ds.shm_nattch != 2)) {
		fail("A has %lu attachments, expected 2 (the root's and the child's)", (unsigned long)ds.shm_nattch);
		return -1;
	}
	if (map_of(s->a.addr, perms, &end) || strcmp(perms, "rw-s") || end != (unsigned long)s->a.addr + 3 * PAGE ||
	    map_of(s->b.addr, perms, &end) || strcmp(perms, "r--s") || end != (unsigned long)s->b.addr + PAGE ||
	    map_of(s->c.addr, perms, &end) || strcmp(perms, "rw-s") || end != (unsigned long)s->c.addr + 3 * PAGE) {
		fail("node %d: the attachments are not where and as they were", node);
		return -1;
	}
	if (check_text(node, "A", s->a.addr, 0, "A") || check_text(node, "A", s->a.addr, node ? 1 : 2, "A") ||
	    check_text(node, "B", s->b.addr, 0, "B"))
		return -1;
	for (size_t i = 0; i < 3; i++)
		if (check_text(node, "C", s->c.addr, i, "C"))
			return -1;
	return node ? check_shared(node, &s->a, 1, "written by the child") : wait_child_write();
}

static const struct ns_tree tree = {
	.kind = "ipc", .flag = CLONE_NEWIPC, .nr = 2, .nodes = nodes, .fill = fill, .check = check,
};

int main(int argc, char **argv)
{
	return ns_tree_main(&tree, argc, argv);
}

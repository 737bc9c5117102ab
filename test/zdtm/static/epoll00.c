// SPDX-License-Identifier: GPL-2.0
/*
 * epoll00: an epoll's interest list survives with its events and data.
 *  ep (level-triggered) watches:
 *   - eventfd a (readable)                 EPOLLIN            data 0x1111
 *   - pipe read end r (has data)           EPOLLIN            data 0x2222
 *   - pipe write end w                     EPOLLOUT           data 0xdeadbeefcafe
 *   - epoll inner, itself watching eventfd b (readable)
 *                                          EPOLLIN            data 0x4444 (b: 0x5555)
 *   - eventfd c added as fd X, then moved: X now holds eventfd d and c lives
 *     at another number; the item is still (c, X)
 *                                          EPOLLIN            data 0x6666
 *   - eventfd g, EPOLLONESHOT, fired and consumed before the dump (disabled)
 *                                          EPOLLIN|ONESHOT    data 0x7777
 *  et (edge-triggered), never waited on before the dump, watches a pipe with
 *  data: after restore it reports the edge once, then not again.
 * Checks after restore: the fdinfo item lines (fd, events, data) are the same;
 * epoll_wait reports exactly the same (events, data) set as before the dump;
 * c is reported when it becomes readable; DEL of X is refused (X is d, not
 * c); MOD of g re-arms it; the inner epoll reports b.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "zdtmtst.h"

#define MAX_EV 16

struct evs {
	int n;
	struct epoll_event e[MAX_EV];
};

static int cmp_ev(const void *a, const void *b)
{
	const struct epoll_event *x = a, *y = b;

	if (x->data.u64 != y->data.u64)
		return x->data.u64 < y->data.u64 ? -1 : 1;
	return (int)x->events - (int)y->events;
}

static int wait_all(int ep, struct evs *r)
{
	r->n = epoll_wait(ep, r->e, MAX_EV, 0);
	if (r->n < 0)
		return -1;
	qsort(r->e, r->n, sizeof(r->e[0]), cmp_ev);
	return 0;
}

/* The "tfd:" lines of fdinfo, without pos/ino/sdev (those change), sorted. */
static int fdinfo_items(int fd, char *out, size_t size)
{
	char path[64], line[256], items[MAX_EV][96];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f) && n < MAX_EV) {
		unsigned int tfd, events;
		unsigned long long data;

		if (sscanf(line, "tfd: %u events: %x data: %llx", &tfd, &events, &data) == 3)
			snprintf(items[n++], sizeof(items[0]), "%u:%x:%llx;", tfd, events, data);
	}
	fclose(f);
	qsort(items, n, sizeof(items[0]), (int (*)(const void *, const void *))strcmp);
	out[0] = '\0';
	for (int i = 0; i < n; i++)
		strncat(out, items[i], size - strlen(out) - 1);
	return n;
}

static int add(int ep, int fd, unsigned int events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static void bump(int efd)
{
	uint64_t one = 1;

	if (write(efd, &one, sizeof(one)) != sizeof(one))
		fail("eventfd write");
}

int main(int argc, char **argv)
{
	int ep, inner, et, a, b, c, d, g, x, p[2], q[2];
	char items_before[2048], items_after[2048];
	struct evs before, after;
	struct epoll_event ev;
	uint64_t v;

	test_init(argc, argv);
	ep = epoll_create1(EPOLL_CLOEXEC);
	inner = epoll_create1(0);
	et = epoll_create1(0);
	a = eventfd(1, 0);
	b = eventfd(1, 0);
	g = eventfd(0, EFD_NONBLOCK);
	if (ep < 0 || inner < 0 || et < 0 || a < 0 || b < 0 || g < 0 || pipe(p) || pipe(q)) {
		fail("setup");
		return 1;
	}
	if (write(p[1], "x", 1) != 1 || write(q[1], "y", 1) != 1) {
		fail("pipe write");
		return 1;
	}
	x = eventfd(0, 0);	/* c, first at number x */
	c = x;
	if (add(ep, a, EPOLLIN, 0x1111) || add(ep, p[0], EPOLLIN, 0x2222) ||
	    add(ep, p[1], EPOLLOUT, 0xdeadbeefcafeULL) || add(inner, b, EPOLLIN, 0x5555) ||
	    add(ep, inner, EPOLLIN, 0x4444) || add(ep, c, EPOLLIN, 0x6666) ||
	    add(ep, g, EPOLLIN | EPOLLONESHOT, 0x7777) || add(et, q[0], EPOLLIN | EPOLLET, 0x8888)) {
		fail("epoll_ctl ADD");
		return 1;
	}
	/* move c away from x, and put another eventfd d at x */
	c = dup(x);
	close(x);
	d = eventfd(0, 0);
	if (d != x) {
		fail("expected the new eventfd at fd %d, got %d", x, d);
		return 1;
	}
	/* fire the one-shot item and consume it */
	bump(g);
	if (wait_all(ep, &before) || wait_all(ep, &before)) {
		fail("epoll_wait");
		return 1;
	}
	if (fdinfo_items(ep, items_before, sizeof(items_before)) != 6) {
		fail("expected 6 items in fdinfo: %s", items_before);
		return 1;
	}
	test_msg("items: %s\n", items_before);

	test_daemon();
	test_waitsig();

	fdinfo_items(ep, items_after, sizeof(items_after));
	if (strcmp(items_before, items_after))
		fail("items changed:\n  before %s\n  after  %s", items_before, items_after);
	if (fcntl(ep, F_GETFD) != FD_CLOEXEC || fcntl(inner, F_GETFD) != 0)
		fail("close-on-exec flags changed");
	if (wait_all(ep, &after))
		fail("epoll_wait after restore");
	if (after.n != before.n || memcmp(after.e, before.e, sizeof(after.e[0]) * after.n)) {
		fail("epoll_wait reports %d events, %d before the dump", after.n, before.n);
		for (int i = 0; i < after.n; i++)
			test_msg("after: %x %llx\n", after.e[i].events, (unsigned long long)after.e[i].data.u64);
		for (int i = 0; i < before.n; i++)
			test_msg("before: %x %llx\n", before.e[i].events, (unsigned long long)before.e[i].data.u64);
	}
	for (int i = 0; i < after.n; i++)
		if (after.e[i].data.u64 == 0x6666 || after.e[i].data.u64 == 0x7777)
			fail("item %llx reported while not ready/disabled", (unsigned long long)after.e[i].data.u64);

	/* the inner epoll reports b */
	if (epoll_wait(inner, &ev, 1, 0) != 1 || ev.data.u64 != 0x5555 || ev.events != EPOLLIN)
		fail("inner epoll does not report b");

	/* the moved item: c readable -> reported; x (d) is not in the set */
	bump(c);
	if (wait_all(ep, &after))
		fail("epoll_wait");
	v = 0;
	for (int i = 0; i < after.n; i++)
		if (after.e[i].data.u64 == 0x6666)
			v = after.e[i].events;
	if (v != EPOLLIN)
		fail("the moved eventfd is not reported readable (events %llx)", (unsigned long long)v);
	errno = 0;
	if (epoll_ctl(ep, EPOLL_CTL_DEL, x, NULL) != -1 || errno != ENOENT)
		fail("DEL of fd %d (now another eventfd) did not give ENOENT", x);

	/* g: disabled until MOD */
	ev = (struct epoll_event){ .events = EPOLLIN | EPOLLONESHOT, .data.u64 = 0x7777 };
	if (epoll_ctl(ep, EPOLL_CTL_MOD, g, &ev))
		fail("MOD of the one-shot item");
	wait_all(ep, &after);
	v = 0;
	for (int i = 0; i < after.n; i++)
		if (after.e[i].data.u64 == 0x7777)
			v = after.e[i].events;
	if (v != EPOLLIN)
		fail("the re-armed one-shot item is not reported");

	/* edge-triggered: the edge pending at dump is reported once */
	if (epoll_wait(et, &ev, 1, 0) != 1 || ev.data.u64 != 0x8888 || ev.events != EPOLLIN)
		fail("the edge-triggered item was not reported");
	if (epoll_wait(et, &ev, 1, 0) != 0)
		fail("the edge-triggered item was reported twice");
	if (write(q[1], "z", 1) != 1 || epoll_wait(et, &ev, 1, 0) != 1 || ev.data.u64 != 0x8888)
		fail("a new edge was not reported");

	if (test_failed())
		return 1;
	pass();
	return 0;
}

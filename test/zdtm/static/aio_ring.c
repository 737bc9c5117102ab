// SPDX-License-Identifier: GPL-2.0
/*
 * aio_ring: AIO rings (io_setup) come back at their addresses with their
 * size, head, tail and the completed events nobody reaped yet: one ring
 * whose events wrap past its end (tail < head), one with two events
 * waiting from the start, one never used, one full (every request slot the
 * kernel gives holds an unreaped event). After the restore each ring gives
 * its waiting events, in order, with their data, then takes new requests
 * whose events land right after them, and io_destroy() works.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

/* the head of a ring, as the kernel lays it out (fs/aio.c) */
struct ring_hdr {
	unsigned id, nr, head, tail, magic, compat_features, incompat_features, header_length;
};

#define NR_RINGS 4
#define MAX_WAITING 128

struct ring {
	aio_context_t ctx;
	unsigned nr, head, tail;
	unsigned long len;
	int nr_waiting;				/* events completed, not reaped */
	uint64_t tags[MAX_WAITING];		/* their aio_data, in order */
	struct iocb cbs[MAX_WAITING];		/* their iocbs (an event names its iocb) */
};

static int null_fd;
static char buf[MAX_WAITING + 8];

static struct ring_hdr *hdr(const struct ring *r)
{
	return (struct ring_hdr *)r->ctx;
}

/* one write of len bytes to /dev/null, tagged, through cb; 0 or -1 */
static int submit(struct ring *r, struct iocb *cb, uint64_t tag, size_t len)
{
	struct iocb *p = cb;

	memset(cb, 0, sizeof(*cb));
	cb->aio_fildes = null_fd;
	cb->aio_lio_opcode = IOCB_CMD_PWRITE;
	cb->aio_buf = (uintptr_t)buf;
	cb->aio_nbytes = len;
	cb->aio_data = tag;
	return syscall(SYS_io_submit, r->ctx, 1, &p) == 1 ? 0 : -1;
}

static long getevents(struct ring *r, long min, long max, struct io_event *ev)
{
	struct timespec ts = { 1, 0 };

	return syscall(SYS_io_getevents, r->ctx, min, max, ev, &ts);
}

/* the ring's length in /proc/self/maps, named "/[aio] (deleted)"; 0 when not there */
static unsigned long maps_len(aio_context_t ctx)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	unsigned long len = 0;

	while (f && fgets(line, sizeof(line), f)) {
		unsigned long s, e;

		if (sscanf(line, "%lx-%lx", &s, &e) == 2 && s == ctx && strstr(line, "/[aio] (deleted)"))
			len = e - s;
	}
	if (f)
		fclose(f);
	return len;
}

/*
 * set up r: io_setup(nr_req), then requests reaped one by one until `room`
 * events are left before the end of the ring (0: none), then `waiting`
 * requests left completed (-1: as many as the kernel takes)
 */
static int setup(struct ring *r, unsigned nr_req, unsigned room, int waiting, uint64_t tag0)
{
	struct io_event ev;
	struct iocb cb;

	if (syscall(SYS_io_setup, nr_req, &r->ctx) < 0) {
		fail("io_setup(%u)", nr_req);
		return -1;
	}
	for (unsigned i = 0; room && i < hdr(r)->nr - room; i++)
		if (submit(r, &cb, 1, 1) || getevents(r, 1, 1, &ev) != 1) {
			fail("submit/reap %u", i);
			return -1;
		}
	for (int i = 0; i < (waiting < 0 ? MAX_WAITING : waiting); i++) {
		r->tags[i] = tag0 + i;
		if (!submit(r, &r->cbs[i], r->tags[i], i + 1))
			continue;
		if (waiting >= 0 || errno != EAGAIN) {
			fail("submit waiting %d", i);
			return -1;
		}
		waiting = i;	/* the ring is full */
	}
	r->nr_waiting = waiting;
	r->nr = hdr(r)->nr;
	r->head = hdr(r)->head;
	r->tail = hdr(r)->tail;
	r->len = maps_len(r->ctx);
	test_msg("ring %#lx: len %lu nr %u head %u tail %u\n", (unsigned long)r->ctx, r->len, r->nr, r->head,
		 r->tail);
	return 0;
}

static void check(struct ring *r, int idx)
{
	struct io_event ev[MAX_WAITING + 1];
	struct iocb cb;
	long n;

	if (maps_len(r->ctx) != r->len || !r->len) {
		fail("ring %d: /[aio] at %#lx: %lu bytes, was %lu", idx, (unsigned long)r->ctx, maps_len(r->ctx), r->len);
		return;
	}
	if (hdr(r)->nr != r->nr || hdr(r)->head != r->head || hdr(r)->tail != r->tail) {
		fail("ring %d: nr/head/tail %u/%u/%u, were %u/%u/%u", idx, hdr(r)->nr, hdr(r)->head, hdr(r)->tail, r->nr,
		     r->head, r->tail);
		return;
	}
	n = r->nr_waiting ? getevents(r, r->nr_waiting, MAX_WAITING + 1, ev) : 0;
	if (n != r->nr_waiting) {
		fail("ring %d: %ld events waiting, not %d", idx, n, r->nr_waiting);
		return;
	}
	for (int i = 0; i < n; i++)
		if (ev[i].data != r->tags[i] || ev[i].obj != (uintptr_t)&r->cbs[i] || ev[i].res != i + 1) {
			fail("ring %d: event %d: data %#llx obj %#llx res %lld", idx, i, (unsigned long long)ev[i].data,
			     (unsigned long long)ev[i].obj, (long long)ev[i].res);
			return;
		}
	/* the kernel's tail is the ring's: a new event lands right after the old ones */
	if (submit(r, &cb, 0xfeed0000 + idx, 7)) {
		fail("ring %d: io_submit after restore", idx);
		return;
	}
	if (hdr(r)->tail != (r->tail + 1) % r->nr) {
		fail("ring %d: tail %u after one more request, wanted %u", idx, hdr(r)->tail, (r->tail + 1) % r->nr);
		return;
	}
	n = getevents(r, 1, 2, ev);
	if (n != 1 || ev[0].data != 0xfeed0000ULL + idx || ev[0].res != 7) {
		fail("ring %d: the new event: %ld, data %#llx", idx, n, n > 0 ? (unsigned long long)ev[0].data : 0ULL);
		return;
	}
	if (syscall(SYS_io_destroy, r->ctx)) {
		fail("ring %d: io_destroy", idx);
		return;
	}
	if (maps_len(r->ctx))
		fail("ring %d: still mapped after io_destroy", idx);
}

int main(int argc, char **argv)
{
	struct ring rings[NR_RINGS] = {};

	test_init(argc, argv);
	null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null_fd < 0) {
		fail("open /dev/null");
		return 1;
	}
	/* 64 requests: a ring of 255 events (with fewer than 32 CPUs); 6 events wrap past its end */
	if (setup(&rings[0], 64, 3, 6, 0xa000))
		return 1;
	if (rings[0].tail >= rings[0].head) {
		fail("ring 0 does not wrap: head %u tail %u", rings[0].head, rings[0].tail);
		return 1;
	}
	if (setup(&rings[1], 1, 0, 2, 0xb000) || setup(&rings[2], 8, 0, 0, 0))
		return 1;
	/* a full ring: every slot the kernel gives holds an event nobody reaped */
	if (setup(&rings[3], 1, 0, -1, 0xc000))
		return 1;
	if (rings[3].nr_waiting < 64) {
		fail("ring 3 took only %d requests", rings[3].nr_waiting);
		return 1;
	}

	test_daemon();
	test_waitsig();

	for (int i = 0; i < NR_RINGS; i++)
		check(&rings[i], i);
	if (test_failed())
		return 1;
	pass();
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Bytes queued in a pty, both ways, come back as they were: what the master
 * wrote and the slave has not read (a slave in canonical mode with the
 * default termios: lines ended by NL, by CR turned into NL, by the EOF
 * character; a slave in raw mode: bytes its line discipline would take for
 * control characters otherwise), and what the slave wrote and the master has
 * not read (with output processing: NL sent as CR NL, and the echo of the
 * input). Each read after restore must return what the same reads returned
 * on a pty that went through the same steps before the dump, and the termios
 * must be as they were.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "zdtmtst.h"

#define MAX_READS 16

/* the reads a side returned, until nothing was left */
struct reads {
	int n;
	int len[MAX_READS];
	char buf[MAX_READS][512];
};

struct pty {
	int m, s;
	struct termios t;
};

static int open_pty(struct pty *p, int raw)
{
	p->m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (p->m < 0 || grantpt(p->m) || unlockpt(p->m))
		return -1;
	p->s = open(ptsname(p->m), O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (p->s < 0 || tcgetattr(p->s, &p->t))
		return -1;
	if (raw) {
		cfmakeraw(&p->t);
		if (tcsetattr(p->s, TCSANOW, &p->t) || tcgetattr(p->s, &p->t))
			return -1;
	}
	return 0;
}

static const char canon_in[] = "line one\ntwo\rthree\004";
static const char canon_out[] = "out\nput\n";
static const char raw_in[] = "a\r\n\0\177\003\025\032b";
static const char raw_out[] = "x\ny\r\0z";

/* What each side is left with: the master writes, the slave writes, nobody reads. */
static int fill(struct pty *p, int raw)
{
	const char *in = raw ? raw_in : canon_in, *out = raw ? raw_out : canon_out;
	size_t in_len = raw ? sizeof(raw_in) - 1 : sizeof(canon_in) - 1;
	size_t out_len = raw ? sizeof(raw_out) - 1 : sizeof(canon_out) - 1;

	struct pollfd pfd = { .fd = p->s, .events = POLLIN };

	if (write(p->m, in, in_len) != (ssize_t)in_len)
		return -1;
	/* (the slave's poll runs the input through, its echo first on the master) */
	poll(&pfd, 1, 0);
	if (write(p->s, out, out_len) != (ssize_t)out_len)
		return -1;
	return 0;
}

/* Every read a side gives; joined: the master's, as one stream (its reads have no bounds to keep). */
static int take(int fd, struct reads *r, int joined)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	memset(r, 0, sizeof(*r));
	while (r->n < MAX_READS && poll(&pfd, 1, 100) == 1 && (pfd.revents & POLLIN)) {
		int at = joined ? r->len[0] : 0;
		int n = read(fd, r->buf[joined ? 0 : r->n] + at, sizeof(r->buf[0]) - at);

		if (n <= 0)
			break;
		if (joined) {
			r->len[0] += n;
			r->n = 1;
		} else {
			r->len[r->n++] = n;
		}
	}
	return r->n;
}

static int same(const char *what, const struct reads *want, const struct reads *got)
{
	if (want->n != got->n) {
		fail("%s: %d reads, %d before the dump", what, got->n, want->n);
		return 0;
	}
	for (int i = 0; i < want->n; i++)
		if (want->len[i] != got->len[i] || memcmp(want->buf[i], got->buf[i], want->len[i])) {
			fail("%s: read %d gave %d bytes, not the %d of before the dump", what, i, got->len[i],
			     want->len[i]);
			return 0;
		}
	return 1;
}

static int same_termios(const struct pty *p)
{
	struct termios t;

	if (tcgetattr(p->s, &t))
		return 0;
	return t.c_iflag == p->t.c_iflag && t.c_oflag == p->t.c_oflag && t.c_lflag == p->t.c_lflag &&
	       t.c_cflag == p->t.c_cflag && !memcmp(t.c_cc, p->t.c_cc, sizeof(t.c_cc));
}

int main(int argc, char **argv)
{
	static struct reads want_in[2], want_out[2], got;
	struct pty scratch, p[2];

	test_init(argc, argv);

	for (int raw = 0; raw < 2; raw++) {
		/* the reads as they come on a pty that is not dumped */
		if (open_pty(&scratch, raw) || fill(&scratch, raw)) {
			fail("the scratch pty");
			return 1;
		}
		if (take(scratch.s, &want_in[raw], 0) < 1 || take(scratch.m, &want_out[raw], 1) < 1) {
			fail("nothing read on the scratch pty");
			return 1;
		}
		close(scratch.s);
		close(scratch.m);
		if (open_pty(&p[raw], raw) || fill(&p[raw], raw)) {
			fail("the pty");
			return 1;
		}
	}
	if (want_in[0].n != 3) {
		fail("the canonical slave read %d lines, not 3", want_in[0].n);
		return 1;
	}

	test_daemon();
	test_waitsig();

	for (int raw = 0; raw < 2; raw++) {
		if (!same_termios(&p[raw])) {
			fail("pty %d: the termios changed", raw);
			return 1;
		}
		take(p[raw].s, &got, 0);
		if (!same(raw ? "raw slave" : "canonical slave", &want_in[raw], &got))
			return 1;
		take(p[raw].m, &got, 1);
		if (!same(raw ? "master of the raw slave" : "master of the canonical slave", &want_out[raw], &got))
			return 1;
	}
	pass();
	return 0;
}

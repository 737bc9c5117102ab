// SPDX-License-Identifier: GPL-2.0
/*
 * A canonical pty slave holds lines its image can't keep apart: "a", an
 * empty line ended by the EOF character (its read gives 0), then "b". The
 * dump must refuse it, naming it, after putting every byte back where it
 * was: each read after the failed dump returns what the same reads returned
 * on a scratch pty that went through the same steps.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "zdtmtst.h"

#define MAX_READS 8

struct reads {
	int n;
	int len[MAX_READS];
	char buf[MAX_READS][64];
};

static const char in[] = "a\n\004b\n";

static int open_filled(int *ret_m, int *ret_s)
{
	struct termios t;
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), s;

	if (m < 0 || grantpt(m) || unlockpt(m))
		return -1;
	s = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0 || tcgetattr(s, &t))
		return -1;
	/* (no echo: the master keeps nothing) */
	t.c_lflag &= ~ECHO;
	if (tcsetattr(s, TCSANOW, &t) || write(m, in, sizeof(in) - 1) != sizeof(in) - 1)
		return -1;
	*ret_m = m;
	*ret_s = s;
	return 0;
}

/* Every read until poll says nothing is left (an empty line reads 0). */
static void take(int fd, struct reads *r)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	memset(r, 0, sizeof(*r));
	while (r->n < MAX_READS && poll(&p, 1, 100) == 1 && (p.revents & POLLIN)) {
		int n = read(fd, r->buf[r->n], sizeof(r->buf[0]));

		if (n < 0)
			break;
		r->len[r->n++] = n;
	}
}

int main(int argc, char **argv)
{
	static struct reads want, got;
	int m, s, sm, ss;

	test_init(argc, argv);
	if (open_filled(&sm, &ss) || open_filled(&m, &s)) {
		fail("open and fill the ptys");
		return 1;
	}
	take(ss, &want);
	close(ss);
	close(sm);
	if (want.n != 3 || want.len[1] != 0) {
		fail("the scratch slave read %d times, not \"a\", an empty line, \"b\"", want.n);
		return 1;
	}

	test_daemon();
	test_waitsig();

	take(s, &got);
	if (got.n != want.n) {
		fail("%d reads after the dump, %d before", got.n, want.n);
		return 1;
	}
	for (int i = 0; i < want.n; i++)
		if (got.len[i] != want.len[i] || memcmp(got.buf[i], want.buf[i], want.len[i])) {
			fail("read %d: %d bytes, %d before", i, got.len[i], want.len[i]);
			return 1;
		}
	pass();
	return 0;
}

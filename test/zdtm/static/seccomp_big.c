// SPDX-License-Identifier: GPL-2.0
/*
 * seccomp_big: the largest filter the kernel takes (BPF_MAXINSNS, 4096
 * instructions: 4088 loads, then getsid(M1) -> ERRNO(101)) and a chain of
 * 200 more small filters on top, each getsid(M2) -> ERRNO(1 + its index):
 * the newest one's errno (200) wins. All of them come back, in order.
 */
#include <sys/prctl.h>

#include "zdtmtst.h"
#include "seccomp-tst.h"

#define M1 SCT_MAGIC(1)
#define M2 SCT_MAGIC(2)
#define NR_SMALL 200

static struct sock_filter big[BPF_MAXINSNS];

static int install_big(void)
{
	struct sock_fprog fp = { BPF_MAXINSNS, big };
	unsigned int n = 0;

	/* sct_build() with an argument makes 8 instructions */
	while (n < BPF_MAXINSNS - 8)
		big[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	n += sct_build(big + n, SCT_PROBE_NR, M1, SECCOMP_RET_ERRNO | 101);
	return n == BPF_MAXINSNS ? (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) : -1;
}

static void check(const char *when)
{
	if (sct_probe(M1) != -101 || sct_probe(M2) != -NR_SMALL)
		fail("%s: getsid(M1) %ld, getsid(M2) %ld: not -101 and -%d", when, sct_probe(M1), sct_probe(M2),
		     NR_SMALL);
	if (sct_status(0, "Seccomp_filters") != NR_SMALL + 1)
		fail("%s: %d filters, not %d", when, sct_status(0, "Seccomp_filters"), NR_SMALL + 1);
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || install_big()) {
		fail("can't install the big filter");
		return 1;
	}
	for (int i = 1; i <= NR_SMALL; i++)
		if (sct_install(SCT_PROBE_NR, M2, SECCOMP_RET_ERRNO | i, 0)) {
			fail("can't install small filter %d", i);
			return 1;
		}
	check("before the dump");
	if (test_failed())
		return 1;
	test_daemon();
	test_waitsig();
	check("after restore");
	if (test_failed())
		return 1;
	pass();
	return 0;
}

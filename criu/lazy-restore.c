// SPDX-License-Identifier: GPL-2.0
/*
 * restore --lazy-pages: the restore's side of lazy pages (lazy-pages.h).
 * criu connects to `criu lazy-pages` before anything is forked; the morph
 * leaves the pages of lazy VMAs out of the fill (mem-restore.c), then makes a
 * userfaultfd in the task's mm with a remote syscall, takes it with
 * pidfd_getfd(), registers the lazy VMAs and sends it to the daemon.
 */
#define LOG_PREFIX "lazy-rst: "
#include <fcntl.h>
#include <inttypes.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include "common.h"
#include "lazy-pages.h"
#include "restore.h"
#include "rst-ctx.h"
#include "syscalls.h"
#include "compel/compel.h"
#include "pagemap.h"
#include "pstree.h"

#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "vma.pb-c.h"

#ifndef __NR_userfaultfd
#define __NR_userfaultfd 323
#endif
#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18
#endif

/* The daemon's first word: whether it checked the pages images (their CRCs need not be read again). */
static int read_hello(struct rst_ctx *ctx)
{
	struct timeval tv = { .tv_sec = 30 };
	struct lazy_msg m;
	ssize_t n;

	setsockopt(ctx->lazy_sk, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = recv(ctx->lazy_sk, &m, sizeof(m), MSG_WAITALL);
	if (n != sizeof(m) || m.type != LAZY_MSG_HELLO)
		return pr_fail(n < 0 ? -errno : -EPROTO, "no hello from the lazy-pages daemon\n");
	ctx->lazy_pages_checked = m.pid == 1;
	ctx->lazy_manifest_crc = m.manifest_crc;
	ctx->lazy_remote = m.nr_runs & LAZY_HELLO_REMOTE;
	pr_info("connected to the lazy-pages daemon (it %s the pages images%s)\n",
		ctx->lazy_pages_checked ? "checked" : "did not check",
		ctx->lazy_remote ? "; it has a page server for the pages left on the source" : "");
	return 0;
}

int lazy_restore_connect(struct rst_ctx *ctx)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", ctx->img_dfd, LAZY_SK_NAME);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return pr_fail_errno("can't make a socket for the lazy-pages daemon");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return pr_fail(err, "--lazy-pages: no `criu lazy-pages` listens on %s in the images dir: %s\n",
			       LAZY_SK_NAME, strerror(-err));
	}
	ctx->lazy_sk = fd;
	return read_hello(ctx);
}

/*
 * Private anonymous memory, as CRIU's PE_LAZY: not a stack
 * (growsdown: the morph writes below a thread's stack pointer), not locked
 * (mlock faults it all in), not hugetlb, not wiped on fork (the child would
 * read the image's pages instead of zeroes), not built by the stub
 * (mem-cow.c). Shared and file memory is always restored in full.
 */
bool vma_can_be_lazy(const VmaEntry *v)
{
	if (!(v->status & VMA_AREA_REGULAR) || !(v->status & VMA_ANON_PRIVATE))
		return false;
	if (v->status & (VMA_FILE_PRIVATE | VMA_FILE_SHARED | VMA_ANON_SHARED | VMA_AREA_SYSVIPC | VMA_AREA_STACK |
			 VMA_AREA_VDSO | VMA_AREA_VVAR | VMA_AREA_VSYSCALL))
		return false;
	if (!(v->flags & MAP_PRIVATE) || (v->flags & (MAP_GROWSDOWN | MAP_LOCKED | MAP_HUGETLB)))
		return false;
	return !(v->has_madv && (v->madv & (1ULL << MADV_WIPEONFORK)));
}

bool lazy_vma(const struct rst_ctx *ctx, const struct rst_mem *mem, size_t i)
{
	const VmaEntry *v = mem->mm->vmas[i];

	if (ctx->lazy_sk < 0 || !mem->lazy || !vma_can_be_lazy(v))
		return false;
	if (mem->cow && mem->cow[i] == COW_KEPT)
		return false;
	return mem_vma_has_pages(mem, v);
}

/* The runs of present pages inside the lazy VMAs, with their offsets in the pages fd. */
static int collect_runs(const struct rst_ctx *ctx, const struct rst_mem *mem, struct lazy_run **ret, size_t *ret_nr)
{
	struct lazy_run *runs = NULL;
	size_t nr = 0, cap = 0, vi = 0;
	uint64_t off = 0;

	for (size_t i = 0; i < mem->nr_pmes; i++) {
		const PagemapEntry *pe = mem->pmes[i];
		uint64_t a = pe->vaddr, end = a + (uint64_t)pe->nr_pages * PAGE_SIZE;

		bool remote = pagemap_entry_remote(pe);	/* on the source: no bytes here, no offset */

		if (pe->has_flags && !(pe->flags & PE_PRESENT) && !remote)
			continue;
		/* pmes and VMAs are both sorted: walk them together */
		while (a < end) {
			const VmaEntry *v;
			uint64_t to;

			while (vi < mem->mm->n_vmas && mem->mm->vmas[vi]->end <= a)
				vi++;
			if (vi == mem->mm->n_vmas)
				return pr_fail(-EINVAL, "pages at %#" PRIx64 " outside the VMAs\n", a);
			v = mem->mm->vmas[vi];
			to = min(end, v->end);
			if (!(pe->flags & PE_RST_SKIP) && lazy_vma(ctx, mem, vi)) {
				uint64_t roff = remote ? LAZY_OFF_REMOTE : off;

				/* one run per VMA at most: UFFDIO_COPY works inside one VMA */
				if (nr && runs[nr - 1].end == a && a != v->start &&
				    (remote ? runs[nr - 1].off == roff : runs[nr - 1].off + (a - runs[nr - 1].start) == off)) {
					runs[nr - 1].end = to;
				} else {
					if (nr == cap) {
						size_t ncap = cap ? cap * 2 : 64;
						struct lazy_run *n = xrealloc(runs, ncap * sizeof(*runs));

						if (!n) {
							free(runs);
							return -ENOMEM;
						}
						runs = n;
						cap = ncap;
					}
					runs[nr++] = (struct lazy_run){ a, to, roff };
				}
			}
			if (!remote)
				off += to - a;
			a = to;
		}
	}
	*ret = runs;
	*ret_nr = nr;
	return 0;
}

int lazy_check_remote(struct rst_ctx *ctx)
{
	struct pstree_item *item;

	for_each_pstree_item(&ctx->tree, item) {
		const struct rst_mem *mem = &rsti(item)->mem;

		if (item->state == TASK_DEAD || !mem->mm)
			continue;
		for (size_t i = 0; i < mem->mm->n_vmas; i++) {
			const VmaEntry *v = mem->mm->vmas[i];

			if (mem_vma_has_remote_pages(mem, v) && !lazy_vma(ctx, mem, i))
				return pr_fail(-EOPNOTSUPP, "task %d: VMA %#" PRIx64 "-%#" PRIx64 " has pages left on the "
							    "source (dump --lazy-pages), but it can't be restored lazily "
							    "(status %#x, flags %#x): nothing restored\n",
					       item->pid, v->start, v->end, v->status, v->flags);
		}
	}
	return 0;
}

/* The task's userfaultfd, made in its mm and taken into criu. */
static int make_task_uffd(struct compel_rsys *rs, pid_t pid, int pidfd)
{
	struct uffdio_api api = { .api = UFFD_API, .features = LAZY_UFFD_FEATURES };
	long r = rst_rsys(rs, __NR_userfaultfd, O_CLOEXEC | O_NONBLOCK, 0, 0, 0, 0, 0);
	int fd;

	if (r < 0)
		return pr_fail((int)r, "%d: can't make a userfaultfd in the task: %s\n", pid, strerror((int)-r));
	fd = sys_pidfd_getfd(pidfd, (int)r, 0);
	if (fd < 0)
		fd = pr_fail_errno("%d: can't take its userfaultfd", pid);
	rst_rsys(rs, __NR_close, r, 0, 0, 0, 0, 0);
	if (fd < 0)
		return fd;
	if (ioctl(fd, UFFDIO_API, &api)) {
		int err = pr_fail_errno("%d: UFFDIO_API (features %#llx)", pid, (unsigned long long)LAZY_UFFD_FEATURES);

		close(fd);
		return err;
	}
	return fd;
}

static int register_vmas(const struct rst_ctx *ctx, int uffd, pid_t pid, const struct rst_mem *mem)
{
	for (size_t i = 0; i < mem->mm->n_vmas; i++) {
		const VmaEntry *v = mem->mm->vmas[i];
		struct uffdio_register reg = {
			.range = { .start = v->start, .len = v->end - v->start },
			.mode = UFFDIO_REGISTER_MODE_MISSING,
		};

		if (!lazy_vma(ctx, mem, i))
			continue;
		if (ioctl(uffd, UFFDIO_REGISTER, &reg))
			return pr_fail_errno("%d: can't register VMA %#" PRIx64 "-%#" PRIx64 " with its userfaultfd", pid,
					     v->start, v->end);
		if (!(reg.ioctls & (1ULL << _UFFDIO_COPY)) || !(reg.ioctls & (1ULL << _UFFDIO_ZEROPAGE)))
			return pr_fail(-EOPNOTSUPP, "%d: VMA %#" PRIx64 ": no UFFDIO_COPY/ZEROPAGE on it\n", pid, v->start);
	}
	return 0;
}

/* One message: the header with the three fds (two without a pages fd), then the runs. */
static int send_task(int sk, pid_t img_pid, const int fds[3], const struct lazy_run *runs, size_t nr)
{
	struct lazy_msg m = { .type = LAZY_MSG_TASK, .pid = img_pid, .nr_runs = (uint32_t)nr };
	int nfds = fds[2] >= 0 ? 3 : 2;
	char cbuf[CMSG_SPACE(3 * sizeof(int))] = {};
	struct iovec iov = { &m, sizeof(m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	const char *p = (const char *)runs;
	size_t left = nr * sizeof(*runs);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
	mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
	memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	if (sendmsg(sk, &mh, MSG_NOSIGNAL) != sizeof(m))
		return -errno ?: -EIO;
	while (left) {
		ssize_t n = send(sk, p, left, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? -errno : -EIO;
		p += n;
		left -= n;
	}
	return 0;
}

int lazy_restore_task(struct rst_ctx *ctx, struct compel_rsys *rs, pid_t real_pid, pid_t img_pid,
		      const struct rst_mem *mem)
{
	_cleanup_free_ struct lazy_run *runs = NULL;
	_cleanup_close_ int pidfd = -1, uffd = -1;
	uint64_t bytes = 0;
	size_t nr;
	int ret;

	if (ctx->lazy_sk < 0 || !mem->lazy)
		return 0;
	ret = collect_runs(ctx, mem, &runs, &nr);
	if (ret || !nr)
		return ret;
	pidfd = sys_pidfd_open(real_pid, 0);
	if (pidfd < 0)
		return pr_fail_errno("%d: pidfd_open", img_pid);
	uffd = make_task_uffd(rs, img_pid, pidfd);
	if (uffd < 0)
		return uffd;
	ret = register_vmas(ctx, uffd, img_pid, mem);
	if (ret)
		return ret;
	ret = send_task(ctx->lazy_sk, img_pid, (int[3]){ uffd, pidfd, mem->pages_fd }, runs, nr);
	if (ret)
		return pr_fail(ret, "%d: can't hand its userfaultfd to the lazy-pages daemon: %s\n", img_pid,
			       strerror(-ret));
	for (size_t i = 0; i < nr; i++)
		bytes += runs[i].end - runs[i].start;
	pr_info("%d: %zu runs, %" PRIu64 " KiB left to the lazy-pages daemon\n", img_pid, nr, bytes >> 10);
	return 0;
}

void lazy_restore_finish(struct rst_ctx *ctx, bool ok)
{
	struct lazy_msg m = { .type = ok ? LAZY_MSG_DONE : LAZY_MSG_FAILED };

	if (ctx->lazy_sk < 0)
		return;
	if (send(ctx->lazy_sk, &m, sizeof(m), MSG_NOSIGNAL) != sizeof(m))
		pr_warn("can't tell the lazy-pages daemon the restore %s: %s\n", ok ? "is done" : "failed",
			strerror(errno));
	close(ctx->lazy_sk);
	ctx->lazy_sk = -1;
}

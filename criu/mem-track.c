// SPDX-License-Identifier: GPL-2.0
/*
 * Write tracking within one criu process (mem-track.h). The userfaultfd is
 * made in the task (a remote syscall: a uffd belongs to the mm of the
 * process that makes it), taken into criu with pidfd_getfd() and closed in
 * the task; criu does the ioctls on its copy. Only private anonymous VMAs
 * are registered: shared memory can be written through another mapping
 * without touching this task's ptes.
 *
 * A range counts as tracked in a pass only when registering it again on our
 * uffd succeeds and the VMA already had VmFlags uw: a VMA of the task's own
 * userfaultfd makes the register fail (EBUSY), a VMA made since (or moved by
 * mremap, which drops the registration) had no uw. Such ranges are
 * registered now and count from the next pass on.
 *
 * Every pass tracks each task when the dump reads the task's VMAs (one smaps
 * read per task, not two). The final dump only looks (no protection again)
 * and keeps the uffds until the session ends (mem_track_pass_done()), after
 * the tree is resumed or killed: their closing is off the freeze.
 */
#define LOG_PREFIX "mem-track: "
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"
#include "compel/compel.h"
#include "dump-core.h"
#include "mem-track.h"
#include "mem-track-holder.h"
#include "proc_parse.h"
#include "pstree.h"
#include "syscalls.h"

#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#define TRK_PM_SCAN_WP_MATCHING (1 << 0)
#define TRK_PM_SCAN_CHECK_WPASYNC (1 << 1)
#define TRK_PAGE_IS_WRITTEN (1 << 1)
#define TRK_PAGEMAP_SCAN _IOWR('f', 16, struct trk_scan_arg)

struct trk_region {
	uint64_t start, end, categories;
};

struct trk_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};

struct range {
	unsigned long start, end;
};

struct range_set {
	struct range *r;
	int nr, cap;
};

struct task_track {
	pid_t pid;
	int pidfd;			/* ours: tells a pid reused by another process */
	int uffd;
	struct range_set ours;		/* VMAs registered on uffd in this pass */
	struct range_set trusted;	/* those of them registered since the last pass */
	struct range_set written;	/* pages of trusted written since the last pass */
	unsigned long nr_skipped;	/* pages taken as unchanged without reading */
};

static struct {
	bool allowed;
	bool open;			/* a pass: each task is tracked when the dump reads its VMAs */
	bool final;			/* the DUMP: it only looks */
	bool trust;			/* the pass's parent is the last pass's dir */
	struct task_track *t;
	int nr;
	bool have_dir;
	dev_t dev;
	ino_t ino;
} trk;

void mem_track_allow(bool on)
{
	trk.allowed = on;
	if (!on)
		mem_track_close_all();
}

static int range_add(struct range_set *s, unsigned long start, unsigned long end)
{
	if (s->nr && s->r[s->nr - 1].end == start) {
		s->r[s->nr - 1].end = end;
		return 0;
	}
	if (s->nr == s->cap) {
		int cap = s->cap ? s->cap * 2 : 16;
		struct range *r = realloc(s->r, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		s->r = r;
		s->cap = cap;
	}
	s->r[s->nr++] = (struct range){ start, end };
	return 0;
}

static bool range_has(const struct range_set *s, unsigned long addr)
{
	int lo = 0, hi = s->nr;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (addr < s->r[mid].start)
			hi = mid;
		else if (addr >= s->r[mid].end)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

static void range_free(struct range_set *s)
{
	free(s->r);
	*s = (struct range_set){};
}

static void track_drop(struct task_track *t, const char *why)
{
	if (why)
		pr_info("task %d: no write tracking any more (%s): its pages are compared\n", t->pid, why);
	track_holders_reap();	/* a dying holder's reference would keep the registrations */
	if (t->uffd >= 0)
		close(t->uffd);	/* the registrations and the protection of the ptes go with the last reference */
	if (t->pidfd >= 0)
		close(t->pidfd);
	range_free(&t->ours);
	range_free(&t->trusted);
	range_free(&t->written);
	t->uffd = t->pidfd = -1;
	t->pid = 0;
}

void mem_track_close_all(void)
{
	int nr = 0;

	track_holders_reap();

	for (int i = 0; i < trk.nr; i++)
		if (trk.t[i].pid) {
			track_drop(&trk.t[i], NULL);
			nr++;
		}
	if (nr)
		pr_info("the write tracking of %d tasks ends: their uffds are closed\n", nr);
	free(trk.t);
	trk.t = NULL;
	trk.nr = 0;
	trk.have_dir = false;
	track_holder_note_pass(-1, false);
}

static struct task_track *track_lookup(pid_t pid)
{
	for (int i = 0; i < trk.nr; i++)
		if (trk.t[i].pid == pid)
			return &trk.t[i];
	return NULL;
}

const struct task_track *mem_track_find(pid_t pid)
{
	struct task_track *t = pid ? track_lookup(pid) : NULL;

	return t && t->trusted.nr ? t : NULL;
}

bool mem_track_unwritten(const struct task_track *t, unsigned long addr)
{
	return t && range_has(&t->trusted, addr) && !range_has(&t->written, addr);
}

/* The index of the first range of s ending after addr (s->nr when none). */
static int range_lower(const struct range_set *s, unsigned long addr)
{
	int lo = 0, hi = s->nr;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (s->r[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool mem_track_unwritten_run(const struct task_track *t, unsigned long addr, unsigned long end,
			     unsigned long *ret_next)
{
	int i = range_lower(&t->trusted, addr), w = range_lower(&t->written, addr);
	const struct range *tr = i < t->trusted.nr ? &t->trusted.r[i] : NULL;
	const struct range *wr = w < t->written.nr ? &t->written.r[w] : NULL;

	if (!tr || tr->start > addr) {	/* not tracked up to the next tracked range */
		*ret_next = tr ? min(tr->start, end) : end;
		return false;
	}
	if (wr && wr->start <= addr) {	/* written up to the end of that run */
		*ret_next = min(wr->end, end);
		return false;
	}
	*ret_next = min(tr->end, end);
	if (wr)
		*ret_next = min(*ret_next, wr->start);
	return true;
}

bool mem_track_owns(pid_t pid, unsigned long start, unsigned long end)
{
	const struct task_track *t = track_lookup(pid);

	if (!t)
		return false;
	for (int i = 0; i < t->ours.nr; i++)
		if (t->ours.r[i].start <= start && end <= t->ours.r[i].end)
			return true;
	return false;
}

void mem_track_count_skipped(const struct task_track *t, unsigned long nr)
{
	((struct task_track *)t)->nr_skipped += nr;
}

/* userfaultfd() run in the task; its fd number there, or -errno. */
static int remote_userfaultfd(struct pstree_item *item)
{
	struct compel_rsys rs = { .mem_fd = -1 };
	unsigned long code;
	unsigned int flags;
	long fd = -1;
	int ret, fin;

	ret = task_rsys_code_flags(item, &code, &flags);
	if (ret)
		return ret;
	ret = compel_rsys_prepare_flags(&rs, item->pid, code, flags | COMPEL_RSYS_POKE);
	if (ret)
		return ret;
	ret = compel_rsys(&rs, &fd, __NR_userfaultfd, O_CLOEXEC | O_NONBLOCK, 0, 0, 0, 0, 0);
	if (!ret && fd == -EPERM)	/* no CAP_SYS_PTRACE and vm.unprivileged_userfaultfd=0 */
		ret = compel_rsys(&rs, &fd, __NR_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY, 0, 0,
				  0, 0, 0);
	if (!ret && fd >= 0) {
		int lfd = sys_pidfd_getfd(item->pidfd, fd, 0);
		long r;

		ret = lfd < 0 ? -errno : lfd;
		compel_rsys(&rs, &r, __NR_close, fd, 0, 0, 0, 0, 0);
		if (r < 0 && ret >= 0) {
			close(ret);
			ret = (int)r;
		}
	} else if (!ret) {
		ret = (int)fd;
	}
	fin = compel_rsys_finish(&rs);
	if (fin && ret >= 0) {
		close(ret);
		ret = fin;
	}
	return ret;
}

static int uffd_api(int uffd)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_WP_ASYNC };

	if (ioctl(uffd, UFFDIO_API, &api))
		return -errno;
	return 0;
}

static struct task_track *track_new(struct pstree_item *item)
{
	struct task_track *t = trk.nr ? realloc(trk.t, (trk.nr + 1) * sizeof(*t)) : malloc(sizeof(*t));
	int uffd, pidfd, ret;

	if (!t)
		return NULL;
	trk.t = t;
	uffd = remote_userfaultfd(item);
	if (uffd < 0) {
		pr_info("task %d: no userfaultfd in it (%s): its pages are compared\n", item->pid, strerror(-uffd));
		return NULL;
	}
	ret = uffd_api(uffd);
	pidfd = ret ? -1 : sys_pidfd_open(item->pid, 0);
	if (ret || pidfd < 0) {
		pr_info("task %d: no write tracking (%s)\n", item->pid, strerror(ret ? -ret : errno));
		close(uffd);
		return NULL;
	}
	t = &trk.t[trk.nr++];
	*t = (struct task_track){ .pid = item->pid, .pidfd = pidfd, .uffd = uffd };
	return t;
}

/*
 * The pages of [start, end) written since the last protection go to
 * written (when not NULL); protect: all of them are protected again (a
 * pre-dump; the final dump only looks, nothing counts after it).
 */
static int scan_written(int pm_fd, unsigned long start, unsigned long end, struct range_set *written, bool protect)
{
	struct trk_region r[64];
	unsigned long addr = start;

	while (addr < end) {
		struct trk_scan_arg a = {
			.size = sizeof(a),
			.flags = TRK_PM_SCAN_CHECK_WPASYNC | (protect ? TRK_PM_SCAN_WP_MATCHING : 0),
			.start = addr, .end = end, .vec = (uintptr_t)r, .vec_len = ARRAY_SIZE(r),
			.category_mask = TRK_PAGE_IS_WRITTEN, .return_mask = TRK_PAGE_IS_WRITTEN,
		};
		int n;

		do
			n = ioctl(pm_fd, TRK_PAGEMAP_SCAN, &a);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return -errno;
		for (int i = 0; i < n && written; i++) {
			int ret = range_add(written, r[i].start, r[i].end);

			if (ret)
				return ret;
		}
		if (a.walk_end <= addr)
			return -EIO;
		addr = a.walk_end;
	}
	return 0;
}

int mem_track_probe(void)
{
	_cleanup_close_ int uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	_cleanup_close_ int pm_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	char *p = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)p, .len = PAGE_SIZE }, .mode = UFFDIO_REGISTER_MODE_WP,
	};
	struct range_set w = {};
	int ret;

	if (p == MAP_FAILED)
		return -errno;
	if (uffd < 0 || pm_fd < 0)
		ret = -errno;
	else if (uffd_api(uffd) || ioctl(uffd, UFFDIO_REGISTER, &reg))
		ret = -EOPNOTSUPP;
	else	/* protect the page, write it, and the scan must find it written */
		ret = scan_written(pm_fd, (uintptr_t)p, (uintptr_t)p + PAGE_SIZE, NULL, true);
	if (!ret) {
		p[0] = 1;
		ret = scan_written(pm_fd, (uintptr_t)p, (uintptr_t)p + PAGE_SIZE, &w, false);
		if (!ret && (w.nr != 1 || w.r[0].start != (uintptr_t)p))
			ret = -EOPNOTSUPP;
	}
	range_free(&w);
	munmap(p, PAGE_SIZE);
	return ret;
}

static bool trackable(const struct proc_vma *v)
{
	return v->kind != PVMA_VSYSCALL && !v->shared && !v->ino && !v->dev_major && !v->dev_minor &&
	       v->have_vmflags && !(v->vmflags & (PVMF_UM | PVMF_UI | PVMF_HT)) &&
	       (!v->path[0] || !strcmp(v->path, "[heap]") || !strcmp(v->path, "[stack]"));
}

/* Register v on t's uffd: 1 when it was registered there since the last pass, 0 when new, -errno. */
static int register_vma(struct task_track *t, const struct proc_vma *v)
{
	struct uffdio_register reg = {
		.range = { .start = v->start, .len = v->end - v->start },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};
	bool had = v->vmflags & PVMF_UW;

	if (ioctl(t->uffd, UFFDIO_REGISTER, &reg))
		return -errno;
	return had;
}

/*
 * The kernel can write a task's pages without a fault through pages it pinned
 * earlier: AIO and io_uring requests in flight across the passes. Such a
 * task is not tracked (its pages are compared).
 */
static bool kernel_writes_pinned(struct pstree_item *item, const struct proc_maps *m, bool final)
{
	_cleanup_close_ int dfd = -1;
	struct dirent *de;
	DIR *d;
	bool found = false;

	for (int i = 0; i < m->nr; i++)
		if (!strncmp(m->vmas[i].path, "/[aio]", 6))
			return true;
	/*
	 * The final dump refuses a task holding an io_uring fd anyway (its fd
	 * loop, files-check.c): no need to list its fds a second time in the
	 * freeze. A pre-dump dumps no fds, so it looks here.
	 */
	if (final)
		return false;
	dfd = openat(item->proc_dfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return true;	/* can't tell: not tracked */
	d = fdopendir(dfd);
	if (!d)
		return true;
	dfd = -1;	/* closedir() closes it */
	while (!found && (de = readdir(d))) {
		char link[64];
		ssize_t n = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);

		if (n > 0) {
			link[n] = 0;
			found = !strcmp(link, "anon_inode:[io_uring]");
		}
	}
	closedir(d);
	return found;
}

/* The VMAs m of one task: refresh the registrations, find the written pages, protect again (not final). */
static int track_vmas(struct task_track *t, struct pstree_item *item, const struct proc_maps *m, bool trust,
		      bool final)
{
	_cleanup_close_ int pm_fd = openat(item->proc_dfd, "pagemap", O_RDONLY | O_CLOEXEC);
	unsigned long nr_written = 0, nr_trusted = 0;
	int ret = 0;

	range_free(&t->ours);
	range_free(&t->trusted);
	range_free(&t->written);
	if (pm_fd < 0)
		return -errno;
	if (kernel_writes_pinned(item, m, final))
		ret = -EBUSY;	/* told as "an AIO ring or an io_uring" by the caller */
	for (int i = 0; i < m->nr && !ret; i++) {
		const struct proc_vma *v = &m->vmas[i];
		int had;

		if (!trackable(v) || (final && !(v->vmflags & PVMF_UW)))
			continue;	/* the DUMP: a VMA made since the last pass is compared, not registered for nothing */
		had = register_vma(t, v);
		if (had == -ESRCH || had == -ENOMEM) {	/* ESRCH: the mm is gone (an exec) */
			ret = had;
			break;
		}
		if (had < 0) {	/* EBUSY: a userfaultfd of the task's own */
			pr_debug("task %d: %#lx-%#lx can't be registered (%s): compared\n", t->pid, v->start, v->end,
				 strerror(-had));
			continue;
		}
		ret = range_add(&t->ours, v->start, v->end);
		if (!ret && had && trust) {
			ret = range_add(&t->trusted, v->start, v->end) ?:
			      scan_written(pm_fd, v->start, v->end, &t->written, !final);
			nr_trusted += (v->end - v->start) / PAGE_SIZE;
		} else if (!ret && !final) {
			ret = scan_written(pm_fd, v->start, v->end, NULL, true);
		}
	}
	for (int i = 0; i < t->written.nr; i++)
		nr_written += (t->written.r[i].end - t->written.r[i].start) / PAGE_SIZE;
	if (!ret)
		pr_info("task %d: %d ranges write-tracked, %lu pages tracked since the last pass, %lu of them written\n",
			t->pid, t->ours.nr, nr_trusted, nr_written);
	return ret;
}

/* A task whose tracking failed in this pass: why, for the log (track_drop()). */
static const char *track_failed(struct task_track *t, int err)
{
	if (err == -EBUSY)
		return "it has an AIO ring or an io_uring, whose requests write without faults";
	pr_info("task %d: write tracking failed: %s\n", t->pid, strerror(-err));
	return "an error";
}

static bool parent_is_last_pass(int img_dfd)
{
	struct stat st;

	if (!trk.have_dir || fstatat(img_dfd, "parent", &st, 0))
		return false;
	return st.st_dev == trk.dev && st.st_ino == trk.ino;
}

static bool same_process(struct task_track *t)
{
	return sys_pidfd_send_signal(t->pidfd, 0, NULL, 0) == 0;
}

void mem_track_before_seize(void)
{
	if (!trk.nr)
		track_holders_find();
}

void mem_track_pass(struct pstree *tree, int img_dfd, bool final)
{
	bool trust = parent_is_last_pass(img_dfd);

	if (!trk.nr) {	/* a criu of its own for this pass: a holder may have the tracking since the last one */
		track_holders_take(tree, img_dfd, trk.allowed);
		trust = parent_is_last_pass(img_dfd);
	}
	if (!trk.allowed)
		return;
	if (!trust && trk.nr)
		pr_info("the parent images are not the last pass's: written pages are not trusted in this pass\n");
	for (int i = 0; i < trk.nr; i++)	/* a task gone (or its pid reused) takes its tracking with it */
		if (trk.t[i].pid && !same_process(&trk.t[i]))
			track_drop(&trk.t[i], "the process is gone");
	/* each task waits for the dump to read its VMAs (mem_track_dump_task()): one smaps read */
	trk.open = true;
	trk.final = final;
	trk.trust = trust;
}

int mem_track_dump_task(struct pstree_item *item, const struct proc_maps *m)
{
	struct task_track *t;
	int ret;

	if (!trk.allowed || !trk.open || item->state != TASK_ALIVE || item->proc_dfd < 0 || item->pidfd < 0)
		return 0;
	t = track_lookup(item->pid);
	if (!t && !trk.final)
		t = track_new(item);	/* the DUMP registers nothing new: nothing counts after it */
	if (!t)
		return 0;
	/*
	 * A pre-dump registers and protects before the task's pages are
	 * walked. The DUMP only looks: nothing is protected again, and the
	 * uffd stays open (closing it walks every pte to drop the protection)
	 * until mem_track_pass_done(), once the tree is resumed or killed.
	 * Until then the dump meets VmFlags uw on the ranges of ours
	 * (mem_track_owns()).
	 */
	ret = track_vmas(t, item, m, trk.trust, trk.final);
	if (!ret)
		return 0;
	track_drop(t, track_failed(t, ret));	/* its uffd closed: m's uw are stale */
	return 1;
}

void mem_track_pass_done(int img_dfd, bool ok)
{
	struct stat st;

	trk.open = false;
	trk.final = false;
	for (int i = 0; i < trk.nr; i++) {
		struct task_track *t = &trk.t[i];

		if (t->pid && t->trusted.nr)
			pr_info("task %d: %lu pages taken as unchanged from the write tracking, not read\n", t->pid,
				t->nr_skipped);
		t->nr_skipped = 0;
	}
	if (!ok || !trk.allowed || fstat(img_dfd, &st)) {
		mem_track_close_all();
		return;
	}
	trk.have_dir = true;
	trk.dev = st.st_dev;
	trk.ino = st.st_ino;
	track_holder_note_pass(img_dfd, true);
}

int mem_track_adopt(pid_t pid, int pidfd, int uffd)
{
	struct task_track *t;

	if (track_lookup(pid))
		return -EEXIST;	/* two holders of one task: the first one's is kept */
	t = realloc(trk.t, (trk.nr + 1) * sizeof(*t));
	if (!t)
		return -ENOMEM;
	trk.t = t;
	trk.t[trk.nr++] = (struct task_track){ .pid = pid, .pidfd = pidfd, .uffd = uffd };
	return 0;
}

void mem_track_adopt_dir(dev_t dev, ino_t ino)
{
	trk.have_dir = true;
	trk.dev = dev;
	trk.ino = ino;
}

int mem_track_held(int *fds, int max)
{
	int n = 0;

	for (int i = 0; i < trk.nr && n < max; i++) {
		if (!trk.t[i].pid || trk.t[i].uffd < 0)
			continue;
		fds[2 * n] = trk.t[i].pidfd;
		fds[2 * n + 1] = trk.t[i].uffd;
		n++;
	}
	return n;
}

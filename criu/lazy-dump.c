// SPDX-License-Identifier: GPL-2.0
/*
 * dump --lazy-pages: the source's side of a lazy migration
 * (Documentation/migration.md, "Lazy pages from a page server").
 *
 * The dump writes every image but leaves the pages of the VMAs a lazy restore
 * takes (vma_can_be_lazy()) in the tasks: their pagemap entries are PE_LAZY
 * without PE_PRESENT and have no bytes. Once the images are written the tree
 * stays stopped and this page server answers CRIU's PS_IOV_GET (pid, dumped
 * address, count) from the tasks' memory, for `criu lazy-pages --page-server`
 * on the target, until the client ends the session (PS_IOV_CLOSE). Then the
 * dump ends as any dump (the tree is killed, or resumed with
 * --leave-running); a session that breaks first fails the dump and resumes
 * the tree: the target's daemon kills what it restored.
 *
 * Ready, it writes '\0' to --status-fd and runs the status-ready action
 * (scripts; the RPC notification runc waits for).
 *
 * The listening socket is made before the tree is seized: a port that can't
 * be had fails the dump with the tree untouched.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "action-scripts.h"
#include "common.h"
#include "cr_options.h"
#include "image.h"
#include "lazy-dump.h"
#include "page-server.h"
#include "page-xfer.h"
#include "pagemap.h"
#include "protobuf.h"
#include "pstree.h"
#include "tls.h"

#include "pagemap.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "lazy-dump: "

#define SERVE_BUF (4UL << 20)	/* the most one answer carries (CRIU's client asks for up to 4 MiB) */

struct lazy_dump_run {
	uint64_t start, end;
};

struct lazy_dump_task {
	pid_t vpid;		/* in the images: PS_IOV_GET's dst_id */
	pid_t pid;		/* as criu sees it */
	int mem_fd;		/* /proc/PID/mem, for what process_vm_readv() can't read (no PROT_READ) */
	struct lazy_dump_run *runs;	/* sorted */
	size_t nr;
};

int lazy_dump_listen(struct lazy_dump *ld)
{
	memset(ld, 0, sizeof(*ld));
	ld->lsk = -1;
	if (opts.use_page_server)
		return pr_fail(-EINVAL, "dump --lazy-pages serves the pages itself: --page-server can't go with it\n");
	if (opts.prev_imgs_dir)
		return pr_fail(-EOPNOTSUPP, "dump --lazy-pages with --prev-images-dir is not supported\n");
	ps_conf_from_opts(&ld->conf, &ld->tc);
	if (ld->conf.fd >= 0)
		return 0;	/* --ps-socket: the client is on it already */
	ld->lsk = ps_listen(&ld->conf, &ld->port);
	if (ld->lsk < 0)
		return pr_fail(ld->lsk, "dump --lazy-pages: can't serve pages: nothing dumped, the tree runs on\n");
	return 0;
}

static void tasks_free(struct lazy_dump *ld)
{
	for (size_t i = 0; i < ld->nr; i++) {
		if (ld->tasks[i].mem_fd >= 0)
			close(ld->tasks[i].mem_fd);
		free(ld->tasks[i].runs);
	}
	free(ld->tasks);
	ld->tasks = NULL;
	ld->nr = 0;
}

void lazy_dump_fini(struct lazy_dump *ld)
{
	if (ld->lsk >= 0)
		close(ld->lsk);
	ld->lsk = -1;
	tasks_free(ld);
	if (ld->buf)
		munmap(ld->buf, SERVE_BUF);
	ld->buf = NULL;
}

static int add_run(struct lazy_dump_task *t, size_t *cap, uint64_t start, uint64_t end)
{
	if (t->nr && t->runs[t->nr - 1].end == start) {
		t->runs[t->nr - 1].end = end;
		return 0;
	}
	if (t->nr == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct lazy_dump_run *n = xrealloc(t->runs, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->runs = n;
		*cap = ncap;
	}
	t->runs[t->nr++] = (struct lazy_dump_run){ start, end };
	return 0;
}

/* The runs the dump left in the task, read back from its pagemap image. */
static int read_runs(int img_dfd, struct lazy_dump_task *t)
{
	struct cr_img *img = open_image_at(img_dfd, CR_FD_PAGEMAP, O_RSTR, t->vpid);
	PagemapHead *h = NULL;
	PagemapEntry *pe;
	size_t cap = 0;
	int ret;

	if (!img)
		return pr_fail_errno("can't read back pagemap-%d.img", t->vpid);
	ret = pb_read_one(img, (void **)&h, PB_PAGEMAP_HEAD);
	if (!ret)
		pb_free(h, PB_PAGEMAP_HEAD);
	while (!ret && (ret = pb_read_one_eof(img, (void **)&pe, PB_PAGEMAP)) > 0) {
		ret = 0;
		/*
		 * CRIU's daemon asks for every PE_LAZY page, those the images
		 * have too (PE_PRESENT: a stack's, which our restore fills
		 * itself): the stopped task has them all.
		 */
		if (!pagemap_entry_fixup(pe) && (pe->flags & PE_LAZY) && !(pe->flags & PE_PARENT))
			ret = add_run(t, &cap, pe->vaddr, pe->vaddr + pe->nr_pages * PAGE_SIZE);
		pb_free(pe, PB_PAGEMAP);
	}
	close_image(img);
	return ret < 0 ? pr_fail(ret, "pagemap-%d.img: can't read it back\n", t->vpid) : 0;
}

static int collect_tasks(struct lazy_dump *ld, int img_dfd, struct pstree *tree)
{
	struct pstree_item *item;
	uint64_t pages = 0;
	int ret;

	ld->tasks = xzalloc(tree->nr_items * sizeof(*ld->tasks));
	if (!ld->tasks)
		return -ENOMEM;
	for_each_pstree_item(tree, item) {
		struct lazy_dump_task *t = &ld->tasks[ld->nr];
		char path[32];

		if (item->state == TASK_DEAD)
			continue;
		t->vpid = item_vpid(item);
		t->pid = item->pid;
		snprintf(path, sizeof(path), "/proc/%d/mem", item->pid);
		t->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
		ld->nr++;
		if (t->mem_fd < 0)
			return pr_fail_errno("task %d: can't open %s", item->pid, path);
		ret = read_runs(img_dfd, t);
		if (ret)
			return ret;
		for (size_t i = 0; i < t->nr; i++)
			pages += (t->runs[i].end - t->runs[i].start) / PAGE_SIZE;
	}
	pr_info("%zu tasks, %" PRIu64 " pages to serve\n", ld->nr, pages);
	return 0;
}

static struct lazy_dump_task *find_task(struct lazy_dump *ld, uint64_t vpid)
{
	for (size_t i = 0; i < ld->nr; i++)
		if ((uint64_t)ld->tasks[i].vpid == vpid)
			return &ld->tasks[i];
	return NULL;
}

static const struct lazy_dump_run *find_run(const struct lazy_dump_task *t, uint64_t addr)
{
	size_t lo = 0, hi = t->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->runs[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < t->nr && t->runs[lo].start <= addr ? &t->runs[lo] : NULL;
}

/* len bytes of the stopped task at addr: process_vm_readv(), then /proc/PID/mem for what it could not read. */
static int read_task(const struct lazy_dump_task *t, uint64_t addr, size_t len, char *buf)
{
	struct iovec l = { buf, len }, r = { (void *)addr, len };
	ssize_t n = process_vm_readv(t->pid, &l, 1, &r, 1, 0);
	size_t done = n > 0 ? (size_t)n : 0;

	return pread_exact(t->mem_fd, buf + done, len - done, (off_t)(addr + done));
}

static int serve_get(void *arg, struct ps_conn *c, const struct ps_iov *iov)
{
	struct lazy_dump *ld = arg;
	const struct lazy_dump_task *t = find_task(ld, iov->dst_id);
	const struct lazy_dump_run *r;
	uint64_t nr;
	int ret;

	if (!t)
		return pr_fail(-EPROTO, "PS_IOV_GET for task %" PRIu64 ", which this dump has not\n", iov->dst_id);
	r = find_run(t, iov->vaddr);
	if (!r || (iov->vaddr & (PAGE_SIZE - 1)) || !iov->nr_pages)
		return pr_fail(-EPROTO, "PS_IOV_GET of task %d at %#" PRIx64 " (%" PRIu64 " pages): no page was left "
					"in the task there\n",
			       t->vpid, iov->vaddr, iov->nr_pages);
	nr = min(min(iov->nr_pages, (r->end - iov->vaddr) / PAGE_SIZE), (uint64_t)(SERVE_BUF / PAGE_SIZE));
	ret = read_task(t, iov->vaddr, nr * PAGE_SIZE, ld->buf);
	if (ret)
		return pr_fail(ret, "task %d: can't read its pages at %#" PRIx64 ": %s\n", t->vpid, iov->vaddr,
			       strerror(-ret));
	ret = ps_send_entry(c, iov->dst_id, PE_PRESENT, iov->vaddr, nr, ld->buf);
	if (ret)
		return pr_fail(ret, "can't send pages: %s\n", strerror(-ret));
	ld->nr_requests++;
	ld->nr_pages += nr;
	return 0;
}

int lazy_dump_serve(struct lazy_dump *ld, int img_dfd, struct pstree *tree)
{
	struct ps_conn c;
	int ret;

	ld->buf = mmap(NULL, SERVE_BUF, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ld->buf == MAP_FAILED) {
		ld->buf = NULL;
		return pr_fail_errno("no buffer");
	}
	ret = collect_tasks(ld, img_dfd, tree);
	if (ret)
		return ret;
	pr_info("the images are written: serving the pages left in the tree on port %u\n", ld->port);
	ps_status_ready();
	/* as CRIU's: the status-ready scripts, and the RPC notification (runc waits for it, not for status_fd) */
	ret = run_scripts(ACT_STATUS_READY, img_dfd, 0);
	if (ret)
		return pr_fail(ret, "the status-ready action failed: no pages served\n");
	if (ld->lsk >= 0) {
		ret = ps_accept(ld->lsk, &ld->conf, &c);
		close(ld->lsk);
		ld->lsk = -1;
	} else {
		memset(&c, 0, sizeof(c));
		c.sk = ld->conf.fd;
		ret = ld->conf.tls ? tls_start(c.sk, true, ld->conf.tls_conf, &c.tls) : 0;
	}
	if (ret)
		return ret;
	ret = ps_serve_gets(&c, serve_get, ld);
	tls_end(c.tls, ret != 0);
	c.tls = NULL;
	if (!ret && c.own_sk) {
		char ch;

		/* the client closes first: no TIME_WAIT left on this side */
		while (recv(c.sk, &ch, 1, 0) > 0)
			;
	}
	ps_conn_close(&c, ret != 0);
	pr_info("%" PRIu64 " pages served in %" PRIu64 " requests\n", ld->nr_pages, ld->nr_requests);
	return ret;
}

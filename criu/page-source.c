// SPDX-License-Identifier: GPL-2.0
/*
 * The local page source of the lazy-pages daemon (page-source.h): each task's
 * pages fd as the restore sent it (pages-N.img, or the memfd a parent chain
 * was gathered into), read with pread().
 */
#define LOG_PREFIX "lazy-pages: "
#include <errno.h>
#include <unistd.h>

#include "common.h"
#include "page-source.h"

struct local_task {
	pid_t pid;
	int fd;
};

struct local_source {
	struct page_source src;
	struct local_task *tasks;
	size_t nr;
};

static int local_add_task(struct page_source *s, pid_t pid, int fd)
{
	struct local_source *ls = container_of(s, struct local_source, src);
	struct local_task *n;

	for (size_t i = 0; i < ls->nr; i++)
		if (ls->tasks[i].pid == pid) {
			/* the same task again (a second restore of it?): keep the newer fd */
			close(ls->tasks[i].fd);
			ls->tasks[i].fd = fd;
			return 0;
		}
	n = xrealloc(ls->tasks, (ls->nr + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	ls->tasks = n;
	ls->tasks[ls->nr++] = (struct local_task){ pid, fd };
	return 0;
}

static int local_read(struct page_source *s, pid_t pid, uint64_t vaddr, uint64_t off, size_t len, void *buf)
{
	struct local_source *ls = container_of(s, struct local_source, src);
	int fd = -1;

	(void)vaddr;
	for (size_t i = 0; i < ls->nr; i++)
		if (ls->tasks[i].pid == pid)
			fd = ls->tasks[i].fd;
	if (fd < 0)
		return -ENOENT;
	for (size_t done = 0; done < len;) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? -errno : -EIO;	/* short: the image lost its tail */
		done += n;
	}
	return 0;
}

static void local_destroy(struct page_source *s)
{
	struct local_source *ls = container_of(s, struct local_source, src);

	for (size_t i = 0; i < ls->nr; i++)
		close(ls->tasks[i].fd);
	free(ls->tasks);
	free(ls);
}

static const struct page_source_ops local_ops = {
	.add_task = local_add_task,
	.read = local_read,
	.destroy = local_destroy,
};

struct page_source *page_source_local(void)
{
	struct local_source *ls = xzalloc(sizeof(*ls));

	if (!ls)
		return NULL;
	ls->src = (struct page_source){ .ops = &local_ops, .name = "local images" };
	return &ls->src;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Memory the freeze will touch, touched before the seize.
 *
 * On a VM that hands idle memory back to its host (free page reporting,
 * as on the machines this runs on), the first touch of a page the kernel
 * hands to criu costs a fault in the host as well. Measured in the final
 * dump of a pre-dump chain (bench/predump.py 256, -v4 log and timings put
 * around each call): a 512 KiB pwrite() into a new pages image took
 * 1.4-1.5 ms in the freeze, and the same pwrite() again 15-20 us; the
 * first process_vm_readv() into a copying thread's new buffer 0.3-1 ms
 * against 0.07. An incremental pass writes few pages, so these first
 * touches were a third of its freeze.
 *
 * So, before the seize:
 *  - the copying threads' buffers are made and touched
 *    (mem_copy_bufs_prepare());
 *  - a pass with a parent (pre-dump or dump with --prev-images-dir) that
 *    writes its pages into the images dir writes about as many bytes as it
 *    will write in the freeze into an unnamed file there (O_TMPFILE), in
 *    the chunks the copying threads use, and drops it. The page cache's
 *    folios freed with the file are, as measured, what the allocator hands
 *    to the pages images next: the pwrite()s of the freeze then took 75-90
 *    us each. Nothing guarantees it, and nothing depends on it.
 * On the same bench (6 interleaved rounds, quiet machine) the final dump's
 * freeze went from 13-21 ms (median 16) to 9-12 ms (median 10), its copies
 * from 5-6 ms of CPU a task to under 1. Before the seize this costs what
 * the freeze saved, or more when the memory is cold: 32 MiB took 87 ms.
 * How much: twice the pages of the parent's pages images (a pass writes
 * about what the pass before it did, when the passes are evenly spaced),
 * from 2 to 32 MiB. A plain dump writes all of the tree's memory: warming
 * a part of it would save little of a long freeze, so it is not done.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "cr_options.h"
#include "log.h"
#include "prewarm.h"
#include "stats.h"

#undef LOG_PREFIX
#define LOG_PREFIX "prewarm: "

#define WARM_MIN (2ULL << 20)
#define WARM_MAX (32ULL << 20)

/* Bytes of page cache the pass will likely write in its freeze; 0: none to warm. */
static uint64_t warm_bytes(int img_dfd)
{
	_cleanup_close_ int parent = -1;
	uint64_t bytes;

	if (!opts.prev_imgs_dir || opts.use_page_server || opts.lazy_pages)
		return 0;	/* no parent, or the pages do not go to this dir */
	parent = openat(img_dfd, "parent", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bytes = parent >= 0 ? 2 * stats_pages_in_images(parent) * PAGE_SIZE : 0;
	return bytes < WARM_MIN ? WARM_MIN : bytes > WARM_MAX ? WARM_MAX : bytes;
}

/* bytes written into an unnamed file of the images dir from buf (chunk bytes), then dropped with it. */
static void warm_page_cache(int img_dfd, const char *buf, size_t chunk, uint64_t bytes)
{
	_cleanup_close_ int fd = openat(img_dfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	uint64_t t0 = stats_now_us(), off;

	if (fd < 0) {
		pr_debug("no unnamed file in the images dir (%s): the page cache is not warmed\n", strerror(errno));
		return;
	}
	for (off = 0; off < bytes; off += chunk)
		if (pwrite(fd, buf, chunk, (off_t)off) != (ssize_t)chunk)
			break;
	pr_debug("%llu KiB of page cache written and dropped in %llu us\n", (unsigned long long)(off >> 10),
		 (unsigned long long)(stats_now_us() - t0));
}

void prewarm_before_seize(int img_dfd, struct mem_copy_bufs *bufs)
{
	uint64_t t0 = stats_now_us(), bytes;

	if (mem_copy_bufs_prepare(bufs)) {
		pr_debug("no buffers for the copying threads now: they make their own\n");
		return;
	}
	pr_debug("%d copy buffers made and touched in %llu us\n", bufs->nr,
		 (unsigned long long)(stats_now_us() - t0));
	bytes = warm_bytes(img_dfd);
	if (bytes)
		warm_page_cache(img_dfd, bufs->base, mem_copy_chunk(), bytes);
}

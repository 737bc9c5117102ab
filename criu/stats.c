// SPDX-License-Identifier: GPL-2.0
/*
 * stats-dump and stats-restore: CRIU's service images (IMG_SERVICE_MAGIC
 * first, outside the manifest: written once the images are complete, into
 * the work dir as CRIU does: -W, else the images dir), with
 * what a dump or a restore took. podman's `checkpoint --print-stats` and
 * `restore --print-stats` read them, and fail without them.
 *
 * Our dump reads and writes a task's pages in one pass, so memdump_time is
 * the time of both and memwrite_time 0; pages_scanned counts the pages the
 * dump looked at and wrote or left in the parent images. A restore that
 * can't write into a read-only images dir only says so.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "cr_options.h"
#include "image.h"
#include "log.h"
#include "protobuf.h"
#include "stats.h"

#include "stats.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "stats: "

uint64_t stats_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void stats_cpu_now(struct stats_cpu *c)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	c->thread_us = (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	c->process_us = (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint32_t span(uint64_t from, uint64_t to)
{
	uint64_t d = to > from ? to - from : 0;

	return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

/* Into the work dir (-W, or the images dir), where CRIU writes them and podman looks. */
static void write_stats(int img_dfd, int type, StatsEntry *e, const char *name)
{
	_cleanup_close_ int wfd = opts.work_dir ? open(opts.work_dir, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
	struct cr_img *img;
	int ret;

	if (opts.work_dir && wfd < 0) {
		pr_warn("can't write %s: can't open the work dir %s: %s\n", name, opts.work_dir, strerror(errno));
		return;
	}
	img = open_image_at(wfd >= 0 ? wfd : img_dfd, type, O_DUMP);

	if (!img) {
		pr_warn("can't write %s: %s\n", name, img_last_error());
		return;
	}
	ret = pb_write_one(img, e, PB_STATS);
	if (ret) {
		close_image(img);
		pr_warn("can't write %s: %s\n", name, strerror(-ret));
		return;
	}
	ret = close_image_checked(img);
	if (ret)
		pr_warn("can't write %s: %s\n", name, strerror(-ret));
}

uint64_t stats_pages_in_images(int img_dfd)
{
	_cleanup_close_ int dfd = openat(img_dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd < 0 ? NULL : fdopendir(dup(dfd));
	uint64_t bytes = 0;
	struct dirent *de;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		struct stat st;

		if (!strncmp(de->d_name, "pages-", 6) && strstr(de->d_name, ".img") &&
		    !fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) && S_ISREG(st.st_mode))
			bytes += st.st_size;
	}
	closedir(d);
	return bytes / 4096;
}

void stats_write_dump(int img_dfd, const struct dump_stats *s)
{
	uint64_t in_images = stats_pages_in_images(img_dfd);
	DumpStatsEntry d = DUMP_STATS_ENTRY__INIT;
	StatsEntry e = STATS_ENTRY__INIT;

	d.freezing_time = span(s->start, s->seized);
	d.frozen_time = span(s->seized, s->end);
	d.memdump_time = span(0, s->memdump_us);
	d.memwrite_time = 0;
	d.pages_written = s->pages_written;
	d.pages_skipped_parent = s->pages_parent;
	d.pages_scanned = s->pages_written + s->pages_parent;
	d.pages_lazy = 0;
	d.has_shpages_written = d.has_shpages_scanned = true;
	d.shpages_written = d.shpages_scanned = s->shpages_written;
	/*
	 * Every page in the pages images is counted, as CRIU's tools check
	 * (pages_written + shpages_written = their size): what is not a
	 * task's private page (shared anonymous memory, memfd and SysV
	 * contents) is shared memory.
	 */
	if (in_images > d.pages_written + d.shpages_written)
		d.shpages_written = d.shpages_scanned = in_images - d.pages_written;
	e.dump = &d;
	pr_info("freezing %u us, frozen %u us, memory %u us, %llu pages written, %llu in the parent\n",
		d.freezing_time, d.frozen_time, d.memdump_time, (unsigned long long)d.pages_written,
		(unsigned long long)d.pages_skipped_parent);
	/* how much of the frozen time criu was on a CPU; the rest it waited (for a CPU, the tasks, the disk) */
	pr_info("frozen: criu's main thread on a CPU %u us, all its threads %u us\n",
		span(s->cpu_seized.thread_us, s->cpu_end.thread_us), span(s->cpu_seized.process_us, s->cpu_end.process_us));
	write_stats(img_dfd, CR_FD_STATS_DUMP, &e, "stats-dump");
}

void stats_write_restore(int img_dfd, const struct restore_stats *s)
{
	RestoreStatsEntry r = RESTORE_STATS_ENTRY__INIT;
	StatsEntry e = STATS_ENTRY__INIT;

	r.forking_time = span(s->start, s->forked);
	r.restore_time = span(s->start, s->end);
	r.pages_compared = 0;
	r.pages_skipped_cow = 0;
	/* pages_restored: not counted (the pages go in by several ways), so not written */
	e.restore = &r;
	pr_info("forking %u us, restore %u us\n", r.forking_time, r.restore_time);
	write_stats(img_dfd, CR_FD_STATS_RESTORE, &e, "stats-restore");
}

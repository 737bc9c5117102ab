/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CRIU_STATS_H
#define CRIU_STATS_H

#include <stdint.h>

/*
 * stats-dump and stats-restore (criu/stats.c): CRIU's service images with
 * what a dump or a restore took, read by podman --print-stats and crit.
 */
/* CPU time used by criu's calling thread and by the whole process, microseconds */
struct stats_cpu {
	uint64_t thread_us, process_us;
};

struct dump_stats {
	uint64_t start, seized, end;	/* stats_now_us(): the seize starts, ends; the tree is let go */
	struct stats_cpu cpu_seized, cpu_end;
	uint64_t memdump_us;
	uint64_t pages_written, pages_parent, shpages_written;
};

struct restore_stats {
	uint64_t start, forked, end;
};

/* A monotonic clock in microseconds. */
uint64_t stats_now_us(void);
void stats_cpu_now(struct stats_cpu *c);
/* Pages in the pages-*.img files of a dir; 0 when there are none (a page server has them). */
uint64_t stats_pages_in_images(int img_dfd);
/* Write stats-dump / stats-restore into the images dir; a failure is a warning, never the dump's. */
void stats_write_dump(int img_dfd, const struct dump_stats *s);
void stats_write_restore(int img_dfd, const struct restore_stats *s);

#endif

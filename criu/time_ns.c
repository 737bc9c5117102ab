// SPDX-License-Identifier: GPL-2.0
/*
 * Time namespaces (Documentation/namespaces.md): the monotonic and boot-time
 * clocks as the namespace's tasks saw them at dump (timens-ID.img, CRIU's
 * TimensEntry). The restore gives the new namespace the offsets that make
 * both clocks go on from those values, as CRIU does: a task never sees its
 * monotonic clock go back.
 *
 * unshare(CLONE_NEWTIME) makes the namespace for the caller's children
 * only; the offsets can be written while nobody is in it, then the stub
 * enters it itself (setns on its time_for_children) before its children
 * are made.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_PREFIX "time: "
#include "common.h"
#include "image.h"
#include "log.h"
#include "namespaces.h"
#include "protobuf.h"

#include "timens.pb-c.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define NSEC_PER_SEC 1000000000LL

int time_ns_dump(int img_dfd, uint32_t id)
{
	TimensEntry e = TIMENS_ENTRY__INIT;
	Timespec mono = TIMESPEC__INIT, boot = TIMESPEC__INIT;
	struct timespec ts;
	struct cr_img *img;
	int ret;

	/* the helper joined the namespace: its clocks are the namespace's */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	mono.tv_sec = ts.tv_sec;
	mono.tv_nsec = ts.tv_nsec;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	boot.tv_sec = ts.tv_sec;
	boot.tv_nsec = ts.tv_nsec;
	e.monotonic = &mono;
	e.boottime = &boot;
	img = open_image_at(img_dfd, CR_FD_TIMENS, O_DUMP, id);
	if (!img)
		return pr_fail_errno("can't create timens-%u.img", id);
	ret = pb_write_one(img, &e, PB_TIMENS);
	if (ret) {
		close_image(img);
		return ret;
	}
	return close_image_checked(img);
}

int time_ns_read(int img_dfd, uint32_t id, void **ret_data, int *ret_join_fd)
{
	struct cr_img *img = open_image_at(img_dfd, CR_FD_TIMENS, O_RSTR, id);
	TimensEntry *e;
	int ret;

	if (!img)
		return pr_fail_errno("can't open timens-%u.img", id);
	ret = pb_read_one(img, (void **)&e, PB_TIMENS);
	close_image(img);
	if (ret)
		return ret;
	if (e->monotonic->tv_nsec >= NSEC_PER_SEC || e->boottime->tv_nsec >= NSEC_PER_SEC) {
		pb_free(e, PB_TIMENS);
		return pr_fail(-EINVAL, "timens-%u.img: a clock with a second or more of nanoseconds\n", id);
	}
	*ret_data = e;
	return 0;
}

void time_ns_free(void *data)
{
	pb_free(data, PB_TIMENS);
}

/* The offsets of the namespace our next children go to: a new one starts with its parent's. */
static int read_offsets(struct timespec *mono, struct timespec *boot)
{
	FILE *f = fopen("/proc/self/timens_offsets", "re");
	char name[32];
	long long sec;
	long nsec;
	int n = 0;

	if (!f)
		return pr_fail_errno("can't open /proc/self/timens_offsets");
	while (fscanf(f, "%31s %lld %ld", name, &sec, &nsec) == 3) {
		struct timespec *t = !strcmp(name, "monotonic") ? mono : !strcmp(name, "boottime") ? boot : NULL;

		if (t) {
			t->tv_sec = sec;
			t->tv_nsec = nsec;
			n++;
		}
	}
	fclose(f);
	return n == 2 ? 0 : pr_fail(-EINVAL, "/proc/self/timens_offsets has no monotonic and boottime lines\n");
}

/* offset = the dumped value - the clock of the root time namespace now */
static void new_offset(clockid_t clk, const Timespec *dumped, const struct timespec *prev, long long *sec, long *nsec)
{
	struct timespec now;
	long long ns;

	clock_gettime(clk, &now);
	ns = ((long long)dumped->tv_sec - (now.tv_sec - prev->tv_sec)) * NSEC_PER_SEC +
	     ((long long)dumped->tv_nsec - (now.tv_nsec - prev->tv_nsec));
	*sec = ns / NSEC_PER_SEC;
	*nsec = ns % NSEC_PER_SEC;
	if (*nsec < 0) {
		*nsec += NSEC_PER_SEC;
		(*sec)--;
	}
}

int time_ns_restore(void *data)
{
	TimensEntry *e = data;
	struct timespec pm = {}, pb = {};
	_cleanup_close_ int fd = -1;
	long long ms, bs;
	long mn, bn;
	char buf[128];
	int len, ret;

	ret = read_offsets(&pm, &pb);
	if (ret)
		return ret;
	new_offset(CLOCK_MONOTONIC, e->monotonic, &pm, &ms, &mn);
	new_offset(CLOCK_BOOTTIME, e->boottime, &pb, &bs, &bn);
	len = snprintf(buf, sizeof(buf), "%d %lld %ld\n%d %lld %ld\n", CLOCK_MONOTONIC, ms, mn, CLOCK_BOOTTIME, bs, bn);
	fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, buf, len) != len)
		return pr_fail_errno("can't set the clock offsets of the new time namespace (%.*s)", len - 1, buf);
	close(fd);
	fd = open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWTIME))
		return pr_fail_errno("can't enter the new time namespace");
	pr_debug("time namespace offsets: monotonic %lld.%09ld, boottime %lld.%09ld\n", ms, mn, bs, bn);
	return 0;
}

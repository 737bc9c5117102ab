// SPDX-License-Identifier: GPL-2.0
/*
 * timerfd: clock, settime flags, the time left until the next expiry and the
 * interval, and the expirations not read yet ("ticks"), all from fdinfo, read
 * after a timerfd_gettime() that brings an expired periodic timer up to date.
 *
 * Time while dumped: as in CRIU, a timer's remaining time is frozen at the
 * dump and runs again from the moment the timer is armed at restore, which
 * is the controller's late hook, right before the restored tree runs. So a
 * timer never fires earlier than it would have for the program (measured in
 * the time it was running), and an absolute timer (TFD_TIMER_ABSTIME) is
 * re-armed at now + the time it had left, keeping its flags.
 * Unread expirations are put back with TFD_IOC_SET_TICKS after arming (arming
 * clears them); a kernel without it (no CONFIG_CHECKPOINT_RESTORE) fails the
 * restore of a timer that had some, rather than losing them silently.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <time.h>

#include "anon-fd.h"
#include "common.h"
#include "file-ext.h"
#include "files.h"
#include "rst-ctx.h"
#include "image.h"
#include "protobuf.h"

#include "fdinfo.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "timerfd: "

#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#endif

static bool timerfd_detect(const struct fd_parms *p)
{
	return anon_link_is(p, "anon_inode:[timerfd]");
}

/* "(12, 345)" */
static int parse_pair(const char *s, uint64_t *sec, uint64_t *nsec)
{
	unsigned long long a, b;

	if (!s || sscanf(s, "(%llu, %llu)", &a, &b) != 2 || b >= 1000000000ULL)
		return -EINVAL;
	*sec = a;
	*nsec = b;
	return 0;
}

int timerfd_parse_fdinfo(const struct proc_fdinfo *fi, TimerfdEntry *tfe)
{
	const char *clk = fdinfo_get(fi, "clockid"), *ticks = fdinfo_get(fi, "ticks"),
		   *fl = fdinfo_get(fi, "settime flags");
	unsigned long long t;
	unsigned int c, f;

	if (!clk || sscanf(clk, "%u", &c) != 1 || !ticks || sscanf(ticks, "%llu", &t) != 1 || !fl ||
	    sscanf(fl, "%o", &f) != 1)
		return -EINVAL;
	tfe->clockid = c;
	tfe->ticks = t;
	tfe->settime_flags = f;
	if (parse_pair(fdinfo_get(fi, "it_value"), &tfe->vsec, &tfe->vnsec) ||
	    parse_pair(fdinfo_get(fi, "it_interval"), &tfe->isec, &tfe->insec))
		return -EINVAL;
	return 0;
}

/*
 * A periodic timer that expired and was not read yet is not re-armed by the
 * kernel until someone reads it or asks for its time: its fdinfo then shows
 * ticks 1 and it_value 0 whatever the real count is. timerfd_gettime() on our
 * copy (the same file) brings it up to date exactly as the program's next read
 * would (ticks += elapsed periods, timer restarted), then fdinfo is accurate.
 */
static int timerfd_fresh_fdinfo(int lfd, struct proc_fdinfo *fi)
{
	_cleanup_close_ int self = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct itimerspec its;

	if (self < 0)
		return -errno;
	if (timerfd_gettime(lfd, &its))
		return -errno;
	return parse_pid_fdinfo(self, lfd, fi);
}

static int timerfd_dump(struct dump_files_ctx *ctx, uint32_t id, const struct fd_parms *p)
{
	TimerfdEntry tfe = TIMERFD_ENTRY__INIT;
	FileEntry fe = FILE_ENTRY__INIT;
	struct proc_fdinfo fi = {};
	FownEntry fown;
	int ret;

	ret = timerfd_fresh_fdinfo(p->lfd, &fi);
	if (!ret)
		ret = timerfd_parse_fdinfo(&fi, &tfe);
	proc_fdinfo_free(&fi);
	if (ret)
		return pr_fail(-EINVAL, "fd %d of task %d: can't read the timerfd's state from fdinfo\n", p->fd,
			       p->item->pid);
	ret = fill_fown(ctx, p, &fown);
	if (ret)
		return ret;
	tfe.id = id;
	tfe.flags = p->flags;
	tfe.fown = &fown;
	pr_debug("fd %d of task %d: clock %u flags %o ticks %llu left (%llu, %llu) interval (%llu, %llu)\n", p->fd,
		 p->item->pid, tfe.clockid, tfe.settime_flags, (unsigned long long)tfe.ticks,
		 (unsigned long long)tfe.vsec, (unsigned long long)tfe.vnsec, (unsigned long long)tfe.isec,
		 (unsigned long long)tfe.insec);

	fe.type = FD_TYPES__TIMERFD;
	fe.id = id;
	fe.tfd = &tfe;
	return write_file_entry(ctx, &fe);
}

static int timerfd_collect(struct rst_ctx *ctx, struct file_desc *d)
{
	TimerfdEntry *t = d->fe->tfd;

	if (!t)
		return pr_fail(-EINVAL, "files.img: timerfd %u has no timerfd entry\n", d->id);
	if (t->vnsec >= 1000000000ULL || t->insec >= 1000000000ULL)
		return pr_fail(-EINVAL, "files.img: timerfd %u has bad nanoseconds\n", d->id);
	return 0;
}

/* Created disarmed here; armed in timerfd_late(). */
static int timerfd_open(struct rst_ctx *ctx, struct file_desc *d, int *ret_fd)
{
	TimerfdEntry *t = d->fe->tfd;
	_cleanup_close_ int fd = timerfd_create(t->clockid, TFD_CLOEXEC);
	int ret;

	if (fd < 0)
		return pr_fail_errno("can't create timerfd %u on clock %u", d->id, t->clockid);
	ret = anon_fd_restore_flags(fd, t->flags, t->fown);
	if (ret)
		return pr_fail(ret, "timerfd %u: can't restore flags/owner: %s\n", d->id, strerror(-ret));
	*ret_fd = TAKE_FD(fd);
	return 0;
}

static int timerfd_late(struct rst_ctx *ctx, struct file_desc *d, int fd)
{
	TimerfdEntry *t = d->fe->tfd;
	struct itimerspec its = {
		.it_value = { .tv_sec = t->vsec, .tv_nsec = t->vnsec },
		.it_interval = { .tv_sec = t->isec, .tv_nsec = t->insec },
	};
	bool armed = t->vsec || t->vnsec;

	/*
	 * A periodic timer that expired and was not read (CRIU dumps it as its
	 * fdinfo shows it: it_value 0, the ticks counted so far; ours brings it
	 * up to date first, timerfd_fresh_fdinfo()): its next expiry is an
	 * interval away, not never.
	 */
	if (!armed && (t->isec || t->insec) && t->ticks) {
		its.it_value = its.it_interval;
		armed = true;
	}
	if (armed && (t->settime_flags & TFD_TIMER_ABSTIME)) {
		struct timespec now;

		if (clock_gettime(t->clockid, &now))
			return pr_fail_errno("timerfd %u: can't read clock %u", d->id, t->clockid);
		its.it_value.tv_sec += now.tv_sec;
		its.it_value.tv_nsec += now.tv_nsec;
		if (its.it_value.tv_nsec >= 1000000000L) {
			its.it_value.tv_sec++;
			its.it_value.tv_nsec -= 1000000000L;
		}
	}
	if ((armed || t->settime_flags) && timerfd_settime(fd, t->settime_flags, &its, NULL))
		return pr_fail_errno("can't arm timerfd %u", d->id);
	if (t->ticks) {
		uint64_t ticks = t->ticks;

		if (ioctl(fd, TFD_IOC_SET_TICKS, &ticks))
			return pr_fail_errno("timerfd %u: can't put back %llu unread expirations (TFD_IOC_SET_TICKS)",
				       d->id, (unsigned long long)ticks);
	}
	pr_debug("timerfd %u armed: left (%llu, %llu) interval (%llu, %llu) ticks %llu\n", d->id,
		 (unsigned long long)t->vsec, (unsigned long long)t->vnsec, (unsigned long long)t->isec,
		 (unsigned long long)t->insec, (unsigned long long)t->ticks);
	return 0;
}

const struct file_type timerfd_file_type = {
	.name = "timerfd",
	.type = FD_TYPES__TIMERFD,
	.detect = timerfd_detect,
	.dump = timerfd_dump,
	.collect = timerfd_collect,
	.open = timerfd_open,
	.late = timerfd_late,
	.stage = FILE_OPEN_EARLY,
};

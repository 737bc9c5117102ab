// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the fdinfo parsers of the event fd types (eventfd, signalfd,
 * timerfd, epoll, inotify) on fdinfo recorded on the dev machine
 * (test/unit/fixtures/proc-fdinfo-*), and on malformed lines, which must be
 * refused. TAP output; exit 0 when every check passed.
 *
 * usage: test-evfd-parse [FIXTURES_DIR]
 */
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>

#include "anon-fd.h"
#include "common.h"
#include "proc_parse.h"

#include "eventpoll.pb-c.h"
#include "timerfd.pb-c.h"

#include "tap.h"

static int fix_dfd = -1;

/* Parse a recorded fdinfo file; false (and a failed check) when it can't. */
static bool load(const char *name, struct proc_fdinfo *fi)
{
	char *buf = NULL;

	memset(fi, 0, sizeof(*fi));
	if (read_file_alloc_at(fix_dfd, name, &buf) < 0) {
		check(false, "read fixture %s", name);
		return false;
	}
	if (parse_fdinfo_buf(buf, fi)) {
		check(false, "parse fixture %s", name);
		return false;
	}
	return true;
}

/* the type-specific lines of an fdinfo, after the common ones */
static bool load_text(const char *lines, struct proc_fdinfo *fi)
{
	char *buf = xmalloc(strlen(lines) + 64);

	memset(fi, 0, sizeof(*fi));
	if (!buf)
		return false;
	sprintf(buf, "pos:\t0\nflags:\t02\nmnt_id:\t17\nino:\t1038\n%s", lines);
	if (parse_fdinfo_buf(buf, fi)) {
		check(false, "parse fdinfo text '%s'", lines);
		return false;
	}
	return true;
}

static void test_eventfd(void)
{
	struct proc_fdinfo fi;
	uint64_t v = 0;
	int sem = 7;

	if (load("proc-fdinfo-eventfd", &fi)) {
		check(!eventfd_parse_fdinfo(&fi, &v, &sem) && v == 0x2a && sem == 0, "eventfd: count 0x2a, not semaphore");
		proc_fdinfo_free(&fi);
	}
	if (load_text("eventfd-count:                5\n", &fi)) {
		check(!eventfd_parse_fdinfo(&fi, &v, &sem) && v == 5 && sem == -1,
		   "eventfd: an older kernel without eventfd-semaphore gives -1");
		proc_fdinfo_free(&fi);
	}
	if (load_text("eventfd-count: zz\n", &fi)) {
		check(eventfd_parse_fdinfo(&fi, &v, &sem) == -EINVAL, "eventfd: a bad count is refused");
		proc_fdinfo_free(&fi);
	}
	if (load_text("", &fi)) {
		check(eventfd_parse_fdinfo(&fi, &v, &sem) == -ENOENT, "eventfd: no count is refused");
		proc_fdinfo_free(&fi);
	}
}

static void test_signalfd(void)
{
	struct proc_fdinfo fi;
	uint64_t m = 0;

	if (load("proc-fdinfo-signalfd", &fi)) {
		/* SIGUSR1 (10) and SIGRTMIN+2 (36) */
		int ret = signalfd_parse_fdinfo(&fi, &m);

		check(!ret && m == ((1ULL << 9) | (1ULL << 35)), "signalfd: mask %#llx is SIGUSR1 and SIGRTMIN+2",
		   (unsigned long long)m);
		proc_fdinfo_free(&fi);
	}
	if (load_text("sigmask:\t00000008000x0200\n", &fi)) {
		check(signalfd_parse_fdinfo(&fi, &m) == -EINVAL, "signalfd: a bad mask is refused");
		proc_fdinfo_free(&fi);
	}
}

static void test_timerfd(void)
{
	TimerfdEntry t = TIMERFD_ENTRY__INIT;
	struct proc_fdinfo fi;

	if (load("proc-fdinfo-timerfd", &fi)) {
		check(!timerfd_parse_fdinfo(&fi, &t) && t.clockid == 1 && t.ticks == 0 && t.settime_flags == 0 &&
			   t.vsec == 999 && t.vnsec == 999137912 && t.isec == 5 && t.insec == 0,
		   "timerfd: monotonic, (999, 999137912) left, every 5 s");
		proc_fdinfo_free(&fi);
	}
	if (load("proc-fdinfo-timerfd-abs", &fi)) {
		check(!timerfd_parse_fdinfo(&fi, &t) && t.clockid == 0 && t.ticks == 1 && t.settime_flags == 3 &&
			   t.vsec == 99 && t.vnsec == 998499380 && t.isec == 0 && t.insec == 1000000,
		   "timerfd: realtime, ABSTIME|CANCEL_ON_SET (octal 03), 1 tick");
		proc_fdinfo_free(&fi);
	}
	if (load_text("clockid: 1\nticks: 0\nsettime flags: 00\nit_value: (1, 1000000000)\nit_interval: (0, 0)\n",
		      &fi)) {
		check(timerfd_parse_fdinfo(&fi, &t) == -EINVAL, "timerfd: nanoseconds >= 1e9 are refused");
		proc_fdinfo_free(&fi);
	}
	if (load_text("clockid: 1\nticks: 0\nsettime flags: 00\nit_value: (1, 0)\n", &fi)) {
		check(timerfd_parse_fdinfo(&fi, &t) == -EINVAL, "timerfd: a missing it_interval is refused");
		proc_fdinfo_free(&fi);
	}
}

static void test_epoll(void)
{
	EventpollTfdEntry e = EVENTPOLL_TFD_ENTRY__INIT;
	struct proc_fdinfo fi;
	int n = 0;

	if (load("proc-fdinfo-epoll", &fi)) {
		const char *v = fdinfo_get(&fi, "tfd");

		check(v && !eventpoll_parse_tfd(v, &e) && e.tfd == 20 && e.events == 0x80000019 && e.data == 0x1234 &&
			   e.pos == 0 && e.inode == 0x40e && e.dev == 0x10,
		   "epoll: fd 20, EPOLLET|IN|ERR|HUP, data 0x1234");
		proc_fdinfo_free(&fi);
	}
	if (load("proc-fdinfo-epoll-2", &fi)) {
		for (int i = 0; i < fi.nr_extra; i++) {
			if (strcmp(fi.extra[i].key, "tfd"))
				continue;
			if (!eventpoll_parse_tfd(fi.extra[i].val, &e))
				n++;
			if (n == 2)
				check(e.tfd == 3 && e.data == 0x1234567890ULL, "epoll: second item fd 3 data 0x1234567890");
		}
		check(n == 2, "epoll: two items");
		proc_fdinfo_free(&fi);
	}
	check(eventpoll_parse_tfd("5 events: 1c data:", &e) == -EINVAL, "epoll: a truncated line is refused");
	check(eventpoll_parse_tfd("-1 events: 1c data: 7 pos:0 ino:40e sdev:10", &e) == -EINVAL,
	   "epoll: a negative fd is refused");
}

static void test_inotify(void)
{
	struct inotify_wd_line w;
	struct proc_fdinfo fi;
	int n = 0;

	if (load("proc-fdinfo-inotify", &fi)) {
		for (int i = 0; i < fi.nr_extra; i++) {
			if (strcmp(fi.extra[i].key, "inotify wd"))
				continue;
			if (inotify_parse_wd(fi.extra[i].val, &w))
				continue;
			if (n++ == 0)
				check(w.wd == 3 && w.ino == 0x3c51a && w.sdev == 0xfe00000 && w.mask == 0x100 &&
					   w.ignored_mask == 0 && w.fh_bytes == 8 && w.fh_type == 1 && w.fh[0] == 0x1a &&
					   w.fh[1] == 0xc5 && w.fh[2] == 0x03 && w.fh[7] == 0,
				   "inotify: wd 3, inode 0x3c51a on 254:0, IN_CREATE, 8-byte handle 1ac50300...");
		}
		check(n == 2, "inotify: two watches");
		proc_fdinfo_free(&fi);
	}
	check(inotify_parse_wd("1 ino:13 sdev:fe00000 mask:2 ignored_mask:0 fhandle-bytes:8 fhandle-type:1 f_handle:1300",
			    &w) == -EINVAL,
	   "inotify: a handle shorter than fhandle-bytes is refused");
	check(inotify_parse_wd("1 ino:13 sdev:fe00000 mask:2 ignored_mask:0 fhandle-bytes:ff fhandle-type:1 f_handle:13",
			    &w) == -EINVAL,
	   "inotify: a handle longer than the kernel allows is refused");
	check(inotify_parse_wd("1 ino:13 sdev:fe00000 mask:2", &w) == -EINVAL, "inotify: a truncated line is refused");
	check(!inotify_parse_wd("1f ino:13 sdev:fe00000 mask:2 ignored_mask:0 fhandle-bytes:1 fhandle-type:1 f_handle:13",
				&w) && w.wd == 0x1f,
	   "inotify: the wd is hex (1f is 31)");
	check(!inotify_parse_wd("10 ino:13 sdev:fe00000 mask:2 ignored_mask:0 fhandle-bytes:1 fhandle-type:1 f_handle:13",
				&w) && w.wd == 16,
	   "inotify: the wd is hex (10 is 16)");
}

int main(int argc, char **argv)
{
	char dir[4096];

	if (argc > 1)
		snprintf(dir, sizeof(dir), "%s", argv[1]);
	else
		snprintf(dir, sizeof(dir), "%s/fixtures", dirname((char[4096]){ __FILE__ }));
	fix_dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fix_dfd < 0) {
		printf("not ok 1 - open %s: %s\n", dir, strerror(errno));
		return 1;
	}
	test_eventfd();
	test_signalfd();
	test_timerfd();
	test_epoll();
	test_inotify();
	printf("1..%d\n", nr_test);
	return nr_fail ? 1 : 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test of the image layer (criu/image.c, criu/protobuf.c).
 *
 *  - round trip of every PB_* message: fill it, write it with pb_write_one(),
 *    read it back with pb_read_one_eof(), compare fields, and compare the
 *    re-packed bytes with the original packing;
 *  - the on-disk framing (magics, u32 length, body) byte for byte;
 *  - corrupt images: wrong common magic, wrong image magic, truncated
 *    header, length or body, oversized length, garbage body, every
 *    truncation point and random byte flips of a valid image: each gives
 *    the documented error, and the log names the file;
 *  - write-side errors: a message of another type, a required field unset,
 *    a full disk;
 *  - crit: writes a small image set and runs test/unit/crit-check.sh on it
 *    with our crit (./crit), strict (byte-identical decode+encode); then, when
 *    Debian's crit is installed, with it too: strict for images holding only
 *    fields CRIU 3.17 knows, decode-only for images with pidfd entries.
 *
 * Build and run: `make unit` (test/Makefile.inc builds test/build/unit/test-image
 * and test/unit/run-unit.sh runs it), or by hand from the top directory:
 *   make build/criu/image.o build/criu/protobuf.o
 *   gcc -D_GNU_SOURCE -Ibuild -Ibuild/images -Icriu/include -o /tmp/test-image \
 *       test/unit/test-image.c build/criu/{image,protobuf,log,util}.o build/images/[a-z]*.o -lprotobuf-c
 *   /tmp/test-image
 * The crit check finds the script next to the sources (from the top
 * directory, or through argv[0] as test/build/unit/test-image); set
 * CRIT_CHECK=/path/to/crit-check.sh otherwise. Output is TAP; exit 0 when
 * every check passed, 1 otherwise. KEEP=1 leaves the temporary directory.
 */
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "common.h"
#include "image.h"
#include "pagemap.h"
#include "protobuf.h"

#include "inventory.pb-c.h"
#include "pstree.pb-c.h"
#include "core.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "fdinfo.pb-c.h"
#include "pipe-data.pb-c.h"
#include "fs.pb-c.h"
#include "tty.pb-c.h"
#include "sk-packet.pb-c.h"
#include "memfd.pb-c.h"
#include "ghost-file.pb-c.h"
#include "remap-file-path.pb-c.h"

#include "tap.h"

static char tmpdir[] = "/tmp/test-image.XXXXXX";
static char logpath[PATH_MAX];
static off_t log_seen;
static bool covered[PB_MAX];

/* The log written since the last call (NUL-terminated, static). */
static const char *new_log(void)
{
	static char buf[16384];
	_cleanup_close_ int fd = open(logpath, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	buf[0] = '\0';
	if (fd < 0)
		return buf;
	n = pread(fd, buf, sizeof(buf) - 1, log_seen);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	log_seen += n;
	return buf;
}

static int make_dir(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if (mkdir(path, 0700) < 0)
		return -errno;
	return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* ------------------------------------------------------------------------
 * Message builders: each fills a message in static storage with distinctive
 * values, so that fields cannot be confused with each other.
 */

static InventoryEntry *mk_inventory(void)
{
	static TaskKobjIdsEntry ids = TASK_KOBJ_IDS_ENTRY__INIT;
	static InventoryEntry e = INVENTORY_ENTRY__INIT;

	ids.vm_id = 11;
	ids.files_id = 12;
	ids.fs_id = 13;
	ids.sighand_id = 14;
	ids.has_pid_ns_id = true;
	ids.pid_ns_id = 0xeffffff1;
	e.img_version = CRTOOLS_IMAGES_V1_1;
	e.has_fdinfo_per_id = true;
	e.fdinfo_per_id = true;
	e.root_ids = &ids;
	e.has_ns_per_id = true;
	e.ns_per_id = true;
	e.has_dump_uptime = true;
	e.dump_uptime = 123456789012345ULL;
	return &e;
}

static bool cmp_inventory(const void *a, const void *b)
{
	const InventoryEntry *x = a, *y = b;

	return x->img_version == y->img_version && x->fdinfo_per_id == y->fdinfo_per_id && y->has_dump_uptime &&
	       x->dump_uptime == y->dump_uptime && y->root_ids && y->root_ids->files_id == 12 &&
	       y->root_ids->has_pid_ns_id && y->root_ids->pid_ns_id == 0xeffffff1;
}

static PstreeEntry *mk_pstree(void)
{
	static uint32_t threads[] = { 4242, 4243, 32767 };
	static PstreeEntry e = PSTREE_ENTRY__INIT;

	e.pid = 4242;
	e.ppid = 1;
	e.pgid = 4200;
	e.sid = 4100;
	e.n_threads = ARRAY_SIZE(threads);
	e.threads = threads;
	return &e;
}

static bool cmp_pstree(const void *a, const void *b)
{
	const PstreeEntry *x = a, *y = b;

	return x->pid == y->pid && x->ppid == y->ppid && x->pgid == y->pgid && x->sid == y->sid &&
	       y->n_threads == 3 && y->threads[2] == 32767;
}

/* crit_only: only fields CRIU 3.17's crit knows (for the strict crit check) */
static CoreEntry *mk_core_ext(bool crit_only)
{
	static UserX86RegsEntry regs = USER_X86_REGS_ENTRY__INIT;
	static uint32_t st[32], xmm[64], ymmh[64], pkru[1] = { 0x55555554 };
	static uint64_t opmask[8];
	static UserX86XsaveEntry xsave = USER_X86_XSAVE_ENTRY__INIT;
	static UserX86FpregsEntry fpregs = USER_X86_FPREGS_ENTRY__INIT;
	static ThreadInfoX86 ti = THREAD_INFO_X86__INIT;
	static ItimerEntry real = ITIMER_ENTRY__INIT, virt = ITIMER_ENTRY__INIT, prof = ITIMER_ENTRY__INIT;
	static PosixTimerEntry ptimer = POSIX_TIMER_ENTRY__INIT, *ptimers[] = { &ptimer };
	static TaskTimersEntry timers = TASK_TIMERS_ENTRY__INIT;
	static RlimitEntry rl[16], *rlp[16];
	static TaskRlimitsEntry rlimits = TASK_RLIMITS_ENTRY__INIT;
	static SaEntry sa[64], *sap[64];
	static uint8_t si_bytes[128];
	static SiginfoEntry si = SIGINFO_ENTRY__INIT, *sis[] = { &si };
	static SignalQueueEntry sq = SIGNAL_QUEUE_ENTRY__INIT;
	static TaskCoreEntry tc = TASK_CORE_ENTRY__INIT;
	static TaskKobjIdsEntry ids = TASK_KOBJ_IDS_ENTRY__INIT;
	static ThreadSasEntry sas = THREAD_SAS_ENTRY__INIT;
	static uint32_t caps[2] = { 0xfeffffff, 0x1ff }, groups[] = { 0, 4, 27 };
	static CredsEntry creds = CREDS_ENTRY__INIT;
	static RseqEntry rseq = RSEQ_ENTRY__INIT;
	static ThreadCoreEntry thc = THREAD_CORE_ENTRY__INIT;
	static CoreEntry e = CORE_ENTRY__INIT;
	unsigned int i;

	regs.r15 = 15;
	regs.ax = 0xffffffffffffffdaULL;	/* -ERESTARTSYS style values stay intact */
	regs.orig_ax = 7;
	regs.ip = 0x7f0000001234ULL;
	regs.sp = 0x7ffc00000000ULL;
	regs.cs = 0x33;
	regs.ss = 0x2b;
	regs.flags = 0x246;
	regs.fs_base = 0x7f1122334455ULL;
	regs.has_mode = true;
	regs.mode = USER_X86_REGS_MODE__NATIVE;
	for (i = 0; i < ARRAY_SIZE(st); i++)
		st[i] = i * 3;
	for (i = 0; i < ARRAY_SIZE(xmm); i++)
		xmm[i] = 0xa5a50000 | i;
	for (i = 0; i < ARRAY_SIZE(ymmh); i++)
		ymmh[i] = 0x5a5a0000 | i;
	for (i = 0; i < ARRAY_SIZE(opmask); i++)
		opmask[i] = 1ULL << (i * 7);
	xsave.xstate_bv = 0x2e7;
	xsave.n_ymmh_space = ARRAY_SIZE(ymmh);
	xsave.ymmh_space = ymmh;
	xsave.n_opmask_reg = ARRAY_SIZE(opmask);
	xsave.opmask_reg = opmask;
	xsave.n_pkru = 1;
	xsave.pkru = pkru;
	fpregs.cwd = 0x37f;
	fpregs.mxcsr = 0x1f80;
	fpregs.mxcsr_mask = 0xffff;
	fpregs.n_st_space = ARRAY_SIZE(st);
	fpregs.st_space = st;
	fpregs.n_xmm_space = ARRAY_SIZE(xmm);
	fpregs.xmm_space = xmm;
	fpregs.xsave = &xsave;
	ti.clear_tid_addr = 0x7f00deadbee0ULL;
	ti.gpregs = &regs;
	ti.fpregs = &fpregs;

	real.isec = 1;
	real.iusec = 500000;
	real.vsec = 2;
	prof.vusec = 7;
	ptimer.it_id = 3;
	ptimer.clock_id = 1;
	ptimer.si_signo = 10;
	ptimer.it_sigev_notify = 0;
	ptimer.sival_ptr = 0xdead;
	ptimer.vnsec = 999999999;
	timers.real = &real;
	timers.virt = &virt;
	timers.prof = &prof;
	timers.n_posix = 1;
	timers.posix = ptimers;
	for (i = 0; i < ARRAY_SIZE(rl); i++) {
		rlimit_entry__init(&rl[i]);
		rl[i].cur = i == 7 ? 1024 : UINT64_MAX;
		rl[i].max = UINT64_MAX;
		rlp[i] = &rl[i];
	}
	rlimits.n_rlimits = ARRAY_SIZE(rl);
	rlimits.rlimits = rlp;
	for (i = 0; i < ARRAY_SIZE(sa); i++) {
		sa_entry__init(&sa[i]);
		sa[i].sigaction = i == 14 ? 0x401000 : 0;
		sa[i].flags = 0x04000000;
		sa[i].restorer = 0x7f0000005678ULL;
		sa[i].mask = 1ULL << i;
		sap[i] = &sa[i];
	}
	for (i = 0; i < sizeof(si_bytes); i++)
		si_bytes[i] = i ^ 0x5c;
	si.siginfo.len = sizeof(si_bytes);
	si.siginfo.data = si_bytes;
	sq.n_signals = 1;
	sq.signals = sis;

	tc.task_state = 1;
	tc.exit_code = 0;
	tc.personality = 0;
	tc.flags = 0x400100;
	tc.blk_sigset = 0x10000;
	tc.comm = "test-image";
	tc.timers = &timers;
	tc.rlimits = &rlimits;
	tc.signals_s = &sq;
	tc.has_loginuid = true;
	tc.loginuid = UINT32_MAX;
	tc.has_oom_score_adj = true;
	tc.oom_score_adj = -500;
	tc.n_sigactions = ARRAY_SIZE(sa);
	tc.sigactions = sap;
	tc.has_child_subreaper = true;
	tc.child_subreaper = true;
	tc.has_stop_signo = !crit_only;
	tc.stop_signo = 19;

	ids.vm_id = 1;
	ids.files_id = 2;
	ids.fs_id = 3;
	ids.sighand_id = 4;

	sas.ss_sp = 0x7f0000100000ULL;
	sas.ss_size = 65536;
	sas.ss_flags = 0;
	creds.uid = 1000;
	creds.gid = 1001;
	creds.euid = 1002;
	creds.egid = 1003;
	creds.suid = 1004;
	creds.sgid = 1005;
	creds.fsuid = 1006;
	creds.fsgid = 1007;
	creds.n_cap_eff = creds.n_cap_prm = creds.n_cap_bnd = creds.n_cap_inh = 2;
	creds.cap_eff = creds.cap_prm = creds.cap_bnd = creds.cap_inh = caps;
	creds.secbits = 0;
	creds.n_groups = ARRAY_SIZE(groups);
	creds.groups = groups;
	rseq.rseq_abi_pointer = 0x7f00aaaa0000ULL;
	rseq.rseq_abi_size = 32;
	rseq.signature = 0x53053053;
	thc.futex_rla = 0x7f00bbbb0000ULL;
	thc.futex_rla_len = 24;
	thc.has_sched_nice = true;
	thc.sched_nice = -5;
	thc.has_blk_sigset = true;
	thc.blk_sigset = 0x4000;
	thc.sas = &sas;
	thc.creds = &creds;
	thc.signals_p = &sq;
	thc.comm = "test-thread";
	thc.rseq_entry = &rseq;

	e.mtype = CORE_ENTRY__MARCH__X86_64;
	e.thread_info = &ti;
	e.tc = &tc;
	e.ids = &ids;
	e.thread_core = &thc;
	return &e;
}

static CoreEntry *mk_core(void)
{
	return mk_core_ext(false);
}

static bool cmp_core(const void *a, const void *b)
{
	const CoreEntry *x = a, *y = b;
	const ThreadInfoX86 *ti = y->thread_info;
	const TaskCoreEntry *tc = y->tc;
	const ThreadCoreEntry *thc = y->thread_core;

	if (y->mtype != CORE_ENTRY__MARCH__X86_64 || !ti || !tc || !thc || !y->ids)
		return false;
	if (ti->gpregs->ax != x->thread_info->gpregs->ax || ti->gpregs->ip != 0x7f0000001234ULL ||
	    ti->fpregs->n_xmm_space != 64 || ti->fpregs->xmm_space[63] != (0xa5a50000 | 63) ||
	    !ti->fpregs->xsave || ti->fpregs->xsave->n_ymmh_space != 64 || ti->fpregs->xsave->pkru[0] != 0x55555554)
		return false;
	if (strcmp(tc->comm, "test-image") || tc->n_sigactions != 64 || tc->sigactions[14]->sigaction != 0x401000 ||
	    tc->oom_score_adj != -500 || tc->rlimits->n_rlimits != 16 || tc->rlimits->rlimits[7]->cur != 1024 ||
	    tc->timers->posix[0]->vnsec != 999999999 || tc->signals_s->signals[0]->siginfo.len != 128 ||
	    tc->has_stop_signo != x->tc->has_stop_signo)
		return false;
	return thc->sched_nice == -5 && thc->creds->euid == 1002 && thc->creds->n_groups == 3 &&
	       thc->rseq_entry->signature == 0x53053053 && !strcmp(thc->comm, "test-thread") &&
	       thc->sas->ss_size == 65536 && y->ids->sighand_id == 4;
}

static TaskKobjIdsEntry *mk_ids(void)
{
	static TaskKobjIdsEntry e = TASK_KOBJ_IDS_ENTRY__INIT;

	e.vm_id = 21;
	e.files_id = 22;
	e.fs_id = 23;
	e.sighand_id = 24;
	e.has_time_ns_id = true;
	e.time_ns_id = 25;
	return &e;
}

static bool cmp_ids(const void *a, const void *b)
{
	const TaskKobjIdsEntry *y = b;

	(void)a;
	return y->vm_id == 21 && y->files_id == 22 && y->fs_id == 23 && y->sighand_id == 24 && y->has_time_ns_id &&
	       y->time_ns_id == 25 && !y->has_net_ns_id;
}

static MmEntry *mk_mm(void)
{
	static uint64_t auxv[44];
	static VmaEntry vma[3], *vmas[3];
	static MmEntry e = MM_ENTRY__INIT;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(auxv); i += 2) {
		auxv[i] = i / 2 + 1;
		auxv[i + 1] = 0x1000ULL * i;
	}
	for (i = 0; i < ARRAY_SIZE(vma); i++) {
		vma_entry__init(&vma[i]);
		vma[i].start = 0x400000ULL + i * 0x10000;
		vma[i].end = vma[i].start + 0x1000;
		vma[i].pgoff = i;
		vma[i].prot = 3;
		vma[i].flags = 0x22;
		vma[i].status = 0x201;
		vma[i].fd = i == 0 ? 7 : -1;
		vmas[i] = &vma[i];
	}
	e.mm_start_code = 0x400000;
	e.mm_end_code = 0x401000;
	e.mm_start_brk = 0x600000;
	e.mm_brk = 0x621000;
	e.mm_arg_start = 0x7ffc0000f000ULL;
	e.mm_env_end = 0x7ffc0000ff00ULL;
	e.exe_file_id = 7;
	e.n_mm_saved_auxv = ARRAY_SIZE(auxv);
	e.mm_saved_auxv = auxv;
	e.n_vmas = ARRAY_SIZE(vma);
	e.vmas = vmas;
	e.has_dumpable = true;
	e.dumpable = 1;
	return &e;
}

static bool cmp_mm(const void *a, const void *b)
{
	const MmEntry *y = b;

	(void)a;
	return y->exe_file_id == 7 && y->mm_brk == 0x621000 && y->n_mm_saved_auxv == 44 &&
	       y->mm_saved_auxv[43] == 0x1000ULL * 42 && y->n_vmas == 3 && y->vmas[0]->fd == 7 &&
	       y->vmas[2]->fd == -1 && y->vmas[2]->start == 0x420000 && y->dumpable == 1;
}

static PagemapHead *mk_pagemap_head(void)
{
	static PagemapHead e = PAGEMAP_HEAD__INIT;

	e.pages_id = 3;
	return &e;
}

static bool cmp_pagemap_head(const void *a, const void *b)
{
	return ((const PagemapHead *)b)->pages_id == ((const PagemapHead *)a)->pages_id;
}

static PagemapEntry *mk_pagemap(void)
{
	static PagemapEntry e = PAGEMAP_ENTRY__INIT;

	e.vaddr = 0x7f0000000000ULL;
	e.has_nr_pages = true;	/* CRIU 4.2's count (compat_nr_pages stays 0) */
	e.nr_pages = 513;
	e.has_flags = true;
	e.flags = 2;
	return &e;
}

static bool cmp_pagemap(const void *a, const void *b)
{
	const PagemapEntry *x = a, *y = b;

	return x->vaddr == y->vaddr && y->has_nr_pages && y->nr_pages == 513 && !y->compat_nr_pages && y->has_flags &&
	       y->flags == 2 && !y->has_in_parent;
}

static FdinfoEntry *mk_fdinfo(void)
{
	static FdinfoEntry e = FDINFO_ENTRY__INIT;

	e.id = 5;
	e.flags = 1;
	e.type = FD_TYPES__PIDFD;
	e.fd = 1023;
	return &e;
}

static bool cmp_fdinfo(const void *a, const void *b)
{
	const FdinfoEntry *y = b;

	(void)a;
	return y->id == 5 && y->flags == 1 && y->type == FD_TYPES__PIDFD && y->fd == 1023;
}

static FownEntry fown_zero = FOWN_ENTRY__INIT;

/* files.img entries: one per object type the protos cover */
static FileEntry *mk_file_reg(void)
{
	static RegFileEntry reg = REG_FILE_ENTRY__INIT;
	static FileEntry e = FILE_ENTRY__INIT;

	reg.id = 1;
	reg.flags = 02;
	reg.pos = 1ULL << 40;
	reg.fown = &fown_zero;
	reg.name = "/tmp/some file/with spaces";
	reg.has_size = true;
	reg.size = 12345;
	reg.has_mode = true;
	reg.mode = 0100644;
	e.type = FD_TYPES__REG;
	e.id = 1;
	e.reg = &reg;
	return &e;
}

static FileEntry *mk_file_pidfd(void)
{
	static uint8_t handle[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	static FownEntry fown = FOWN_ENTRY__INIT;
	static PidfdEntry pfd = PIDFD_ENTRY__INIT;
	static FileEntry e = FILE_ENTRY__INIT;

	fown.pid = 77;
	fown.signum = 10;
	pfd.id = 9;
	pfd.ino = 0x100000005ULL;
	pfd.flags = 04000 | 0200;
	pfd.nspid = -1;
	pfd.fown = &fown;
	pfd.has_target_kind = true;
	pfd.target_kind = PIDFD_TARGET_KIND__PIDFD_TGT_REAPED;
	pfd.has_target_pid = true;
	pfd.target_pid = 31000;
	pfd.has_exit_status = true;
	pfd.exit_status = 42 << 8;
	pfd.boot_id = "6d1f2a8e-0000-4000-8000-123456789abc";
	pfd.has_start_time = true;
	pfd.start_time = 987654321ULL;
	pfd.has_pidfs_ino = true;
	pfd.pidfs_ino = 0x100000005ULL;
	pfd.has_file_handle = true;
	pfd.file_handle.len = sizeof(handle);
	pfd.file_handle.data = handle;
	pfd.has_file_handle_type = true;
	pfd.file_handle_type = 0xfe;
	pfd.has_is_thread = true;
	pfd.is_thread = true;
	e.type = FD_TYPES__PIDFD;
	e.id = 9;
	e.pidfd = &pfd;
	return &e;
}

static FileEntry *mk_file_misc(int which)
{
	static PipeEntry pipe = PIPE_ENTRY__INIT;
	static FifoEntry fifo = FIFO_ENTRY__INIT;
	static TtyFileEntry tty = TTY_FILE_ENTRY__INIT;
	static EventfdFileEntry efd = EVENTFD_FILE_ENTRY__INIT;
	static EventpollTfdEntry tfd = EVENTPOLL_TFD_ENTRY__INIT, *tfds[] = { &tfd };
	static EventpollFileEntry epfd = EVENTPOLL_FILE_ENTRY__INIT;
	static SignalfdEntry sgfd = SIGNALFD_ENTRY__INIT;
	static TimerfdEntry tmfd = TIMERFD_ENTRY__INIT;
	static uint64_t fh_words[2] = { 0x1122334455667788ULL, 42 };
	static FhEntry fh = FH_ENTRY__INIT;
	static InotifyWdEntry wd = INOTIFY_WD_ENTRY__INIT, *wds[] = { &wd };
	static InotifyFileEntry ify = INOTIFY_FILE_ENTRY__INIT;
	static SkOptsEntry skopts = SK_OPTS_ENTRY__INIT;
	static UnixSkEntry usk = UNIX_SK_ENTRY__INIT;
	static MemfdFileEntry memfd = MEMFD_FILE_ENTRY__INIT;
	static FileEntry e;

	file_entry__init(&e);
	e.id = 100 + which;
	switch (which) {
	case 0:
		pipe.id = e.id;
		pipe.pipe_id = 0x12345;
		pipe.flags = 04001;
		pipe.fown = &fown_zero;
		e.type = FD_TYPES__PIPE;
		e.pipe = &pipe;
		break;
	case 1:
		fifo.id = e.id;
		fifo.pipe_id = 0x54321;
		fifo.has_regf_id = true;
		fifo.regf_id = 1;
		e.type = FD_TYPES__FIFO;
		e.fifo = &fifo;
		break;
	case 2:
		tty.id = e.id;
		tty.tty_info_id = 3;
		tty.flags = 02;
		tty.fown = &fown_zero;
		e.type = FD_TYPES__TTY;
		e.tty = &tty;
		break;
	case 3:
		efd.id = e.id;
		efd.flags = 04000;
		efd.fown = &fown_zero;
		efd.counter = UINT64_MAX - 1;
		e.type = FD_TYPES__EVENTFD;
		e.efd = &efd;
		break;
	case 4:
		tfd.id = 9;
		tfd.tfd = 5;
		tfd.events = 0x80000001;
		tfd.data = 0xfeedface;
		epfd.id = e.id;
		epfd.flags = 02;
		epfd.fown = &fown_zero;
		epfd.n_tfd = 1;
		epfd.tfd = tfds;
		e.type = FD_TYPES__EVENTPOLL;
		e.epfd = &epfd;
		break;
	case 5:
		sgfd.id = e.id;
		sgfd.flags = 04000;
		sgfd.fown = &fown_zero;
		sgfd.sigmask = 1ULL << 16;
		e.type = FD_TYPES__SIGNALFD;
		e.sgfd = &sgfd;
		break;
	case 6:
		tmfd.id = e.id;
		tmfd.flags = 02;
		tmfd.fown = &fown_zero;
		tmfd.clockid = 1;
		tmfd.ticks = 3;
		tmfd.vsec = 10;
		tmfd.vnsec = 5;
		tmfd.isec = 1;
		e.type = FD_TYPES__TIMERFD;
		e.tfd = &tmfd;
		break;
	case 7:
		fh.bytes = 12;
		fh.type = 1;
		fh.n_handle = 2;
		fh.handle = fh_words;
		wd.id = e.id;
		wd.i_ino = 1234567;
		wd.mask = 0x100;
		wd.s_dev = 0x803;
		wd.wd = 1;
		wd.f_handle = &fh;
		ify.id = e.id;
		ify.flags = 0;
		ify.fown = &fown_zero;
		ify.n_wd = 1;
		ify.wd = wds;
		e.type = FD_TYPES__INOTIFY;
		e.ify = &ify;
		break;
	case 8:
		skopts.so_sndbuf = 212992;
		skopts.so_rcvbuf = 212992;
		skopts.has_so_passcred = true;
		skopts.so_passcred = true;
		usk.id = e.id;
		usk.ino = 99999;
		usk.type = 1;
		usk.state = 1;
		usk.peer = 99998;
		usk.fown = &fown_zero;
		usk.opts = &skopts;
		usk.name.len = 5;
		usk.name.data = (uint8_t *)"\0abcd";
		usk.has_shutdown = true;
		usk.shutdown = SK_SHUTDOWN__WRITE;
		e.type = FD_TYPES__UNIXSK;
		e.usk = &usk;
		break;
	default:
		memfd.id = e.id;
		memfd.flags = 02;
		memfd.pos = 17;
		memfd.fown = &fown_zero;
		memfd.inode_id = 4;
		e.type = FD_TYPES__MEMFD;
		e.memfd = &memfd;
		break;
	}
	return &e;
}

static bool cmp_file(const void *a, const void *b)
{
	const FileEntry *x = a, *y = b;

	if (x->type != y->type || x->id != y->id)
		return false;
	switch (y->type) {
	case FD_TYPES__REG:
		return y->reg && !strcmp(y->reg->name, x->reg->name) && y->reg->pos == 1ULL << 40 &&
		       y->reg->mnt_id == -1 /* the default */ && y->reg->fown;
	case FD_TYPES__PIDFD:
		return y->pidfd && y->pidfd->nspid == -1 && y->pidfd->ino == 0x100000005ULL &&
		       y->pidfd->target_kind == PIDFD_TARGET_KIND__PIDFD_TGT_REAPED &&
		       y->pidfd->exit_status == 42 << 8 && !strcmp(y->pidfd->boot_id, x->pidfd->boot_id) &&
		       y->pidfd->file_handle.len == 12 && y->pidfd->file_handle.data[11] == 12 &&
		       y->pidfd->is_thread && y->pidfd->fown->pid == 77;
	case FD_TYPES__PIPE:
		return y->pipe && y->pipe->pipe_id == 0x12345;
	case FD_TYPES__FIFO:
		return y->fifo && y->fifo->regf_id == 1;
	case FD_TYPES__TTY:
		return y->tty && y->tty->tty_info_id == 3;
	case FD_TYPES__EVENTFD:
		return y->efd && y->efd->counter == UINT64_MAX - 1;
	case FD_TYPES__EVENTPOLL:
		return y->epfd && y->epfd->n_tfd == 1 && y->epfd->tfd[0]->data == 0xfeedface;
	case FD_TYPES__SIGNALFD:
		return y->sgfd && y->sgfd->sigmask == 1ULL << 16;
	case FD_TYPES__TIMERFD:
		return y->tfd && y->tfd->ticks == 3 && y->tfd->vnsec == 5;
	case FD_TYPES__INOTIFY:
		return y->ify && y->ify->n_wd == 1 && y->ify->wd[0]->f_handle->handle[0] == 0x1122334455667788ULL;
	case FD_TYPES__UNIXSK:
		return y->usk && y->usk->name.len == 5 && !memcmp(y->usk->name.data, "\0abcd", 5) &&
		       y->usk->opts->so_passcred && y->usk->shutdown == SK_SHUTDOWN__WRITE;
	case FD_TYPES__MEMFD:
		return y->memfd && y->memfd->inode_id == 4 && y->memfd->pos == 17;
	default:
		return false;
	}
}

static PipeDataEntry *mk_pipe_data(void)
{
	static PipeDataEntry e = PIPE_DATA_ENTRY__INIT;

	e.pipe_id = 0x12345;
	e.bytes = 10;
	e.has_size = true;
	e.size = 65536;
	return &e;
}

static bool cmp_pipe_data(const void *a, const void *b)
{
	const PipeDataEntry *y = b;

	(void)a;
	return y->pipe_id == 0x12345 && y->bytes == 10 && y->size == 65536;
}

static FsEntry *mk_fs(void)
{
	static FsEntry e = FS_ENTRY__INIT;

	e.cwd_id = 31;
	e.root_id = 32;
	e.has_umask = true;
	e.umask = 022;
	return &e;
}

static bool cmp_fs(const void *a, const void *b)
{
	const FsEntry *y = b;

	(void)a;
	return y->cwd_id == 31 && y->root_id == 32 && y->has_umask && y->umask == 022;
}

static TtyInfoEntry *mk_tty_info(void)
{
	static uint32_t cc[19];
	static TermiosEntry tio = TERMIOS_ENTRY__INIT;
	static WinsizeEntry ws = WINSIZE_ENTRY__INIT;
	static TtyPtyEntry pty = TTY_PTY_ENTRY__INIT;
	static TtyInfoEntry e = TTY_INFO_ENTRY__INIT;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cc); i++)
		cc[i] = i + 1;
	tio.c_lflag = 0x8a3b;
	tio.n_c_cc = ARRAY_SIZE(cc);
	tio.c_cc = cc;
	ws.ws_row = 50;
	ws.ws_col = 132;
	pty.index = 7;
	e.id = 3;
	e.type = TTY_TYPE__PTY;
	e.locked = true;
	e.packet_mode = false;
	e.sid = 4100;
	e.pgrp = 4200;
	e.rdev = 0x8807;
	e.termios = &tio;
	e.winsize = &ws;
	e.pty = &pty;
	return &e;
}

static bool cmp_tty_info(const void *a, const void *b)
{
	const TtyInfoEntry *y = b;

	(void)a;
	return y->id == 3 && y->type == TTY_TYPE__PTY && y->locked && y->termios && y->termios->n_c_cc == 19 &&
	       y->termios->c_cc[18] == 19 && y->winsize->ws_col == 132 && y->pty->index == 7 && !y->termios_locked;
}

static TtyDataEntry *mk_tty_data(void)
{
	static TtyDataEntry e = TTY_DATA_ENTRY__INIT;

	e.tty_id = 3;
	e.data.len = 6;
	e.data.data = (uint8_t *)"ls -l\n";
	return &e;
}

static bool cmp_tty_data(const void *a, const void *b)
{
	const TtyDataEntry *y = b;

	(void)a;
	return y->tty_id == 3 && y->data.len == 6 && !memcmp(y->data.data, "ls -l\n", 6);
}

static SkPacketEntry *mk_sk_queue(void)
{
	static uint32_t rights[] = { 101, 102 };
	static ScmEntry scm = SCM_ENTRY__INIT, *scms[] = { &scm };
	static SkPacketEntry e = SK_PACKET_ENTRY__INIT;

	scm.type = 1;
	scm.n_rights = ARRAY_SIZE(rights);
	scm.rights = rights;
	e.id_for = 108;
	e.length = 10;
	e.n_scm = 1;
	e.scm = scms;
	return &e;
}

static bool cmp_sk_queue(const void *a, const void *b)
{
	const SkPacketEntry *y = b;

	(void)a;
	return y->id_for == 108 && y->length == 10 && y->n_scm == 1 && y->scm[0]->rights[1] == 102;
}

static MemfdInodeEntry *mk_memfd_inode(void)
{
	static MemfdInodeEntry e = MEMFD_INODE_ENTRY__INIT;

	e.name = "memfd:test";
	e.uid = 0;
	e.gid = 0;
	e.size = 1 << 20;
	e.shmid = 55;
	e.seals = 0xf;
	e.inode_id = 4;
	return &e;
}

static bool cmp_memfd_inode(const void *a, const void *b)
{
	const MemfdInodeEntry *y = b;

	(void)a;
	return !strcmp(y->name, "memfd:test") && y->size == 1 << 20 && y->seals == 0xf && y->inode_id == 4;
}

static RemapFilePathEntry *mk_remap(void)
{
	static RemapFilePathEntry e = REMAP_FILE_PATH_ENTRY__INIT;

	e.orig_id = 9;
	e.remap_id = 3;
	e.has_remap_type = true;
	e.remap_type = REMAP_TYPE__GHOST;
	return &e;
}

static bool cmp_remap(const void *a, const void *b)
{
	const RemapFilePathEntry *y = b;

	(void)a;
	return y->orig_id == 9 && y->remap_id == 3 && y->has_remap_type && y->remap_type == REMAP_TYPE__GHOST;
}

/* A ghost with our nanosecond fields; its one chunk is the 10 raw bytes after it. */
static GhostFileEntry *mk_ghost(void)
{
	static GhostFileEntry e = GHOST_FILE_ENTRY__INIT;
	static Timeval at = TIMEVAL__INIT, mt = TIMEVAL__INIT;

	e.uid = 1234;
	e.gid = 5678;
	e.mode = 0100644;
	e.has_dev = e.has_ino = true;
	e.dev = 0xfe00;
	e.ino = 1ULL << 33;
	at.tv_sec = 1000000000;
	at.tv_usec = 123456;
	mt.tv_sec = 1200000000;
	mt.tv_usec = 987654;
	e.atim = &at;
	e.mtim = &mt;
	e.has_atim_nsec = e.has_mtim_nsec = true;
	e.atim_nsec = 123456789;
	e.mtim_nsec = 987654321;
	e.has_chunks = e.chunks = true;
	e.has_size = true;
	e.size = 1 << 20;
	return &e;
}

static bool cmp_ghost(const void *a, const void *b)
{
	const GhostFileEntry *y = b;

	(void)a;
	return y->uid == 1234 && y->gid == 5678 && y->mode == 0100644 && y->ino == 1ULL << 33 && y->atim &&
	       y->mtim && y->mtim->tv_usec == 987654 && y->atim_nsec == 123456789 && y->mtim_nsec == 987654321 &&
	       y->chunks && y->size == 1 << 20;
}

static GhostChunkEntry *mk_ghost_chunk(void)
{
	static GhostChunkEntry e = GHOST_CHUNK_ENTRY__INIT;

	e.off = 65536;
	e.len = 10;
	return &e;
}

static bool cmp_ghost_chunk(const void *a, const void *b)
{
	const GhostChunkEntry *y = b;

	(void)a;
	return y->off == 65536 && y->len == 10;
}

/* ------------------------------------------------------------------------
 * Round trips
 */

struct rt_entry {
	int pb_type;
	const void *msg;
	bool (*cmp)(const void *orig, const void *read);
	const void *raw;	/* raw bytes following the entry (pipes-data style) */
	size_t raw_len;
};

/* Same bytes when packed again: every field, known or not, came back. */
static bool same_packing(const void *a, const void *b)
{
	size_t la = protobuf_c_message_get_packed_size(a), lb = protobuf_c_message_get_packed_size(b);
	_cleanup_free_ uint8_t *pa = malloc(la + 1), *pb = malloc(lb + 1);

	if (!pa || !pb || la != lb)
		return false;
	protobuf_c_message_pack(a, pa);
	protobuf_c_message_pack(b, pb);
	return !memcmp(pa, pb, la);
}

static int write_entries(int dfd, int img_type, int id, const struct rt_entry *ents, int n)
{
	struct cr_img *img = open_image_at(dfd, img_type, O_DUMP, id);
	int i, ret = 0;

	if (!img)
		return -errno;
	for (i = 0; i < n && !ret; i++) {
		ret = pb_write_one(img, ents[i].msg, ents[i].pb_type);
		if (!ret && ents[i].raw_len)
			ret = write_img_buf(img, ents[i].raw, ents[i].raw_len);
	}
	if (ret) {
		close_image(img);
		return ret;
	}
	return close_image_checked(img);
}

/* Reads the entries back and checks them; returns a description of the first problem or NULL. */
static const char *check_entries(int dfd, int img_type, int id, const struct rt_entry *ents, int n)
{
	static char why[256];
	struct cr_img *img = open_image_at(dfd, img_type, O_RSTR, id);
	char raw[4096];
	void *msg;
	int i, ret;

	if (!img)
		return "open for reading failed";
	if (img_is_empty(img)) {
		close_image(img);
		return "image missing";
	}
	for (i = 0; i < n; i++) {
		msg = NULL;
		ret = pb_read_one_eof(img, &msg, ents[i].pb_type);
		if (ret != 1) {
			snprintf(why, sizeof(why), "entry %d: pb_read_one_eof returned %d", i, ret);
			goto fail;
		}
		if (!ents[i].cmp(ents[i].msg, msg) || !same_packing(ents[i].msg, msg)) {
			snprintf(why, sizeof(why), "entry %d (%s) differs after the round trip", i,
				 pb_type_name(ents[i].pb_type));
			pb_free(msg, ents[i].pb_type);
			goto fail;
		}
		pb_free(msg, ents[i].pb_type);
		covered[ents[i].pb_type] = true;
		if (ents[i].raw_len) {
			if (ents[i].raw_len > sizeof(raw) ||
			    read_img_buf(img, raw, ents[i].raw_len) != (int)ents[i].raw_len ||
			    memcmp(raw, ents[i].raw, ents[i].raw_len)) {
				snprintf(why, sizeof(why), "entry %d: raw data differs", i);
				goto fail;
			}
		}
	}
	msg = NULL;
	ret = pb_read_one_eof(img, &msg, n ? ents[n - 1].pb_type : PB_PSTREE);
	if (ret != 0) {
		snprintf(why, sizeof(why), "expected EOF after %d entries, got %d", n, ret);
		if (ret == 1)
			pb_free(msg, ents[n - 1].pb_type);
		goto fail;
	}
	close_image(img);
	return NULL;
fail:
	close_image(img);
	return why;
}

static void round_trip(int dfd, const char *what, int img_type, int id, const struct rt_entry *ents, int n)
{
	int ret = write_entries(dfd, img_type, id, ents, n);
	const char *why;

	if (!check(ret == 0, "%s: write %d entries", what, n)) {
		printf("# write failed: %s\n", strerror(-ret));
		return;
	}
	why = check_entries(dfd, img_type, id, ents, n);
	if (!check(why == NULL, "%s: read back and compare", what))
		printf("# %s\n", why);
}

static void test_round_trips(int dfd)
{
	static const char pipe_bytes[] = "0123456789";
	struct rt_entry inv[] = { { PB_INVENTORY, mk_inventory(), cmp_inventory } };
	struct rt_entry ps[] = { { PB_PSTREE, mk_pstree(), cmp_pstree } };
	struct rt_entry core[] = { { PB_CORE, mk_core(), cmp_core } };
	struct rt_entry ids[] = { { PB_IDS, mk_ids(), cmp_ids } };
	struct rt_entry mm[] = { { PB_MM, mk_mm(), cmp_mm } };
	struct rt_entry pm[] = {
		{ PB_PAGEMAP_HEAD, mk_pagemap_head(), cmp_pagemap_head },
		{ PB_PAGEMAP, mk_pagemap(), cmp_pagemap },
		{ PB_PAGEMAP, mk_pagemap(), cmp_pagemap },
	};
	struct rt_entry fdi[] = { { PB_FDINFO, mk_fdinfo(), cmp_fdinfo } };
	struct rt_entry pd[] = {
		{ PB_PIPE_DATA, mk_pipe_data(), cmp_pipe_data, pipe_bytes, 10 },
		{ PB_PIPE_DATA, mk_pipe_data(), cmp_pipe_data, pipe_bytes, 10 },
	};
	struct rt_entry fs[] = { { PB_FS, mk_fs(), cmp_fs } };
	struct rt_entry ttyi[] = { { PB_TTY_INFO, mk_tty_info(), cmp_tty_info } };
	struct rt_entry ttyd[] = { { PB_TTY_DATA, mk_tty_data(), cmp_tty_data } };
	struct rt_entry skq[] = { { PB_SK_QUEUES, mk_sk_queue(), cmp_sk_queue, pipe_bytes, 10 } };
	struct rt_entry mfd[] = { { PB_MEMFD_INODE, mk_memfd_inode(), cmp_memfd_inode } };
	struct rt_entry remap[] = {
		{ PB_REMAP_FPATH, mk_remap(), cmp_remap },
		{ PB_REMAP_FPATH, mk_remap(), cmp_remap },
	};
	struct rt_entry ghost[] = {
		{ PB_GHOST_FILE, mk_ghost(), cmp_ghost },
		{ PB_GHOST_CHUNK, mk_ghost_chunk(), cmp_ghost_chunk, pipe_bytes, 10 },
	};
	/* mk_file_misc() reuses one static FileEntry: its entries are written and read one at a time */
	struct rt_entry files[] = {
		{ PB_FILE, mk_file_reg(), cmp_file },
		{ PB_FILE, mk_file_pidfd(), cmp_file },
	};
	int i;

	round_trip(dfd, "inventory", CR_FD_INVENTORY, 0, inv, 1);
	round_trip(dfd, "pstree", CR_FD_PSTREE, 0, ps, 1);
	round_trip(dfd, "core", CR_FD_CORE, 4242, core, 1);
	round_trip(dfd, "ids", CR_FD_IDS, 4242, ids, 1);
	round_trip(dfd, "mm", CR_FD_MM, 1, mm, 1);
	round_trip(dfd, "pagemap head + entries", CR_FD_PAGEMAP, 1, pm, 3);
	round_trip(dfd, "fdinfo", CR_FD_FDINFO, 2, fdi, 1);
	round_trip(dfd, "files: reg + pidfd with our extension fields", CR_FD_FILES, 0, files, 2);
	for (i = 0; i < 10; i++) {
		struct rt_entry one[] = { { PB_FILE, mk_file_misc(i), cmp_file } };
		char what[64];

		snprintf(what, sizeof(what), "files: %s entry", protobuf_c_enum_descriptor_get_value(
				 &fd_types__descriptor, one[0].msg ? ((FileEntry *)one[0].msg)->type : 0)->name);
		round_trip(dfd, what, CR_FD_FILES, 0, one, 1);
	}
	round_trip(dfd, "pipes-data with raw data after each entry", CR_FD_PIPES_DATA, 0, pd, 2);
	round_trip(dfd, "fifo-data", CR_FD_FIFO_DATA, 0, pd, 1);
	round_trip(dfd, "fs", CR_FD_FS, 4242, fs, 1);
	round_trip(dfd, "tty-info", CR_FD_TTY_INFO, 0, ttyi, 1);
	round_trip(dfd, "tty-data", CR_FD_TTY_DATA, 0, ttyd, 1);
	round_trip(dfd, "sk-queues with packet data", CR_FD_SK_QUEUES, 0, skq, 1);
	round_trip(dfd, "memfd inodes", CR_FD_MEMFD_INODE, 0, mfd, 1);
	round_trip(dfd, "remap-fpath", CR_FD_REMAP_FPATH, 0, remap, 2);
	round_trip(dfd, "ghost file with a chunk of raw data", CR_FD_GHOST_FILE, 3, ghost, 2);
}

/*
 * A message of any type filled from its descriptor alone: every field set
 * (repeated ones twice, nested messages to a depth of 3), each scalar with a
 * value of its own. So a message added to objects.def is round-tripped
 * without a hand-written filler here. Allocations go on a list freed at the end.
 */
struct gen_alloc {
	struct gen_alloc *next;
	char mem[];
};
static struct gen_alloc *gen_allocs;
static unsigned int gen_seed = 1;

static void *gen_zalloc(size_t size)
{
	struct gen_alloc *a = calloc(1, sizeof(*a) + size);

	if (!a)
		abort();
	a->next = gen_allocs;
	gen_allocs = a;
	return a->mem;
}

static void gen_free_all(void)
{
	while (gen_allocs) {
		struct gen_alloc *a = gen_allocs;

		gen_allocs = a->next;
		free(a);
	}
}

static void *gen_message(const ProtobufCMessageDescriptor *d, int depth);

static size_t gen_value_size(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING: case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	default:
		return 4;
	}
}

/* One value of f's type at p; false when it can't be made (a message too deep). */
static bool gen_value(const ProtobufCFieldDescriptor *f, void *p, int depth)
{
	unsigned int v = gen_seed++;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
		*(int64_t *)p = -(int64_t)v * 1000003;
		return true;
	case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
		*(uint64_t *)p = (uint64_t)v << 33 | v;
		return true;
	case PROTOBUF_C_TYPE_DOUBLE:
		*(double *)p = v + 0.5;
		return true;
	case PROTOBUF_C_TYPE_FLOAT:
		*(float *)p = v + 0.25f;
		return true;
	case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
		*(int32_t *)p = -(int32_t)v;
		return true;
	case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
		*(uint32_t *)p = v * 7919;
		return true;
	case PROTOBUF_C_TYPE_BOOL:
		*(protobuf_c_boolean *)p = 1;
		return true;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumDescriptor *e = f->descriptor;

		*(int *)p = e->values[v % e->n_values].value;
		return true;
	}
	case PROTOBUF_C_TYPE_STRING: {
		char *str = gen_zalloc(16);

		snprintf(str, 16, "s%u", v);
		*(char **)p = str;
		return true;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData *b = p;

		b->len = 3;
		b->data = gen_zalloc(3);
		memcpy(b->data, &v, 3);
		return true;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		*(void **)p = gen_message(f->descriptor, depth + 1);
		return *(void **)p != NULL;
	}
	return false;
}

static void *gen_message(const ProtobufCMessageDescriptor *d, int depth)
{
	char *msg;

	if (depth > 3)
		return NULL;
	msg = gen_zalloc(d->sizeof_message);
	d->message_init((ProtobufCMessage *)msg);
	for (unsigned int i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		size_t sz = gen_value_size(f);

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			char *arr = gen_zalloc(2 * sz);
			size_t n = 0;

			while (n < 2 && gen_value(f, arr + n * sz, depth))
				n++;
			*(size_t *)(msg + f->quantifier_offset) = n;
			*(void **)(msg + f->offset) = arr;
			continue;
		}
		if (!gen_value(f, msg + f->offset, depth)) {
			if (f->label == PROTOBUF_C_LABEL_REQUIRED)
				return NULL;
			continue;
		}
		if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset &&
		    f->type != PROTOBUF_C_TYPE_MESSAGE && f->type != PROTOBUF_C_TYPE_STRING)
			*(protobuf_c_boolean *)(msg + f->quantifier_offset) = 1;
	}
	return msg;
}

static bool cmp_by_packing(const void *orig, const void *read)
{
	return same_packing(orig, read);
}

/*
 * Every PB_* type filled from its descriptor: the only round trip of a type
 * without a hand-written filler above, and a check of every field of the others.
 */
static void test_generic_round_trips(int dfd)
{
	for (int t = 0; t < PB_MAX; t++) {
		struct rt_entry one[1] = { { t, NULL, cmp_by_packing } };
		char what[64];

		one[0].msg = gen_message(pb_desc(t), 0);
		snprintf(what, sizeof(what), "%s, filled from its descriptor", pb_type_name(t));
		if (!check(one[0].msg != NULL, "%s: made", what))
			continue;
		round_trip(dfd, what, CR_FD_FILES, 0, one, 1);
	}
	gen_free_all();
}

/* Every image kind: an empty image written and opened again passes its own header check and has its own file. */
static void test_all_kinds(void)
{
	int dfd = make_dir("kinds"), t, bad = 0, nfiles = 0;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	for (t = 0; dfd >= 0 && t < CR_FD_MAX; t++) {
		struct cr_img *img = open_image_at(dfd, t, O_DUMP, 1UL);

		if (!img || close_image_checked(img)) {
			printf("# kind %d: can't write: %s\n", t, img_last_error());
			bad++;
			continue;
		}
		img = open_image_at(dfd, t, O_RSTR, 1UL);
		if (!img || img_is_empty(img)) {
			printf("# kind %d: can't open it again: %s\n", t, img_last_error());
			bad++;
		}
		close_image(img);
	}
	d = dfd >= 0 ? fdopendir(dup(dfd)) : NULL;
	while (d && (de = readdir(d)))
		nfiles += de->d_name[0] != '.';
	check(dfd >= 0 && !bad && nfiles == CR_FD_MAX,
	   "each of the %d image kinds writes its own file (%d files) and reads back its header", CR_FD_MAX, nfiles);
	if (dfd >= 0)
		close(dfd);
}

/* Many entries cross the write and read buffer boundaries many times. */
static void test_many_entries(int dfd)
{
	PstreeEntry *e = mk_pstree();
	struct cr_img *img = open_image_at(dfd, CR_FD_PSTREE, O_DUMP, 0);
	int i, ret = 0, n = 20000, got = 0;
	void *msg;

	for (i = 0; img && i < n && !ret; i++) {
		e->pid = i + 1;
		ret = pb_write_one(img, e, PB_PSTREE);
	}
	ret = ret ?: close_image_checked(img);
	if (!check(img && ret == 0, "write %d pstree entries", n))
		return;
	img = open_image_at(dfd, CR_FD_PSTREE, O_RSTR, 0);
	while (img && (ret = pb_read_one_eof(img, &msg, PB_PSTREE)) == 1) {
		if (((PstreeEntry *)msg)->pid != (uint32_t)got + 1 || ((PstreeEntry *)msg)->n_threads != 3)
			break;
		got++;
		pb_free(msg, PB_PSTREE);
	}
	check(img && ret == 0 && got == n, "read %d pstree entries back in order (got %d, last ret %d)", n, got, ret);
	close_image(img);
	e->pid = 4242;
}

/* An entry bigger than the I/O buffer, between small ones. */
static void test_big_entry(int dfd)
{
	static uint8_t data[300000];
	TtyDataEntry big = TTY_DATA_ENTRY__INIT;
	struct rt_entry ents[] = {
		{ PB_TTY_DATA, mk_tty_data(), cmp_tty_data },
		{ PB_TTY_DATA, &big, NULL },
		{ PB_TTY_DATA, mk_tty_data(), cmp_tty_data },
	};
	struct cr_img *img;
	void *msg[3] = {};
	int i, ret, r[4];
	bool same;

	for (i = 0; i < (int)sizeof(data); i++)
		data[i] = i * 7;
	big.tty_id = 9;
	big.data.len = sizeof(data);
	big.data.data = data;
	ret = write_entries(dfd, CR_FD_TTY_DATA, 0, ents, 3);
	img = open_image_at(dfd, CR_FD_TTY_DATA, O_RSTR, 0);
	for (i = 0; i < 3; i++)
		r[i] = img ? pb_read_one_eof(img, &msg[i], PB_TTY_DATA) : -1;
	r[3] = img ? pb_read_one_eof(img, &msg[0 + 0], PB_TTY_DATA) : -1;
	same = r[1] == 1 && ((TtyDataEntry *)msg[1])->data.len == sizeof(data) &&
	       !memcmp(((TtyDataEntry *)msg[1])->data.data, data, sizeof(data)) && r[2] == 1 &&
	       cmp_tty_data(NULL, msg[2]);
	check(ret == 0 && r[0] == 1 && same && r[3] == 0, "a 300 KB entry between small ones round-trips");
	for (i = 0; i < 3; i++)
		pb_free(msg[i], PB_TTY_DATA);
	close_image(img);
}

/* Raw images: pages, a large write, and img_raw_fd() positions. */
static void test_raw(int dfd)
{
	static char page[4][4096];
	static char big[1 << 20], back[1 << 20];
	struct cr_img *img;
	int i, fd, ret;
	struct stat st;

	for (i = 0; i < 4; i++)
		memset(page[i], 'a' + i, sizeof(page[i]));
	for (i = 0; i < (int)sizeof(big); i++)
		big[i] = i % 251;
	img = open_image_at(dfd, CR_FD_PAGES, O_DUMP, 3);
	ret = img ? 0 : -errno;
	for (i = 0; i < 4 && !ret; i++)
		ret = write_img_buf(img, page[i], sizeof(page[i]));
	ret = ret ?: write_img_buf(img, big, sizeof(big));
	ret = ret ?: close_image_checked(img);
	check(ret == 0 && !fstatat(dfd, "pages-3.img", &st, 0) && st.st_size == 4 * 4096 + (1 << 20),
	   "pages-3.img: raw image with no header, %d bytes", 4 * 4096 + (1 << 20));

	img = open_image_at(dfd, CR_FD_PAGES, O_RSTR, 3);
	ret = img ? read_img_buf(img, back, 4096) : -1;
	check(ret == 4096 && !memcmp(back, page[0], 4096), "read_img_buf returns the first page");
	fd = img ? img_raw_fd(img) : -1;
	check(fd >= 0 && lseek(fd, 0, SEEK_CUR) == 4096, "img_raw_fd after buffered reads is at the logical offset");
	ret = fd >= 0 ? pread(fd, back, 4096, 2 * 4096) : -1;
	check(ret == 4096 && !memcmp(back, page[2], 4096), "pread on the raw fd");
	ret = img ? read_img_buf(img, back, 3 * 4096) : -1;
	ret = ret == 3 * 4096 ? read_img_buf(img, back, sizeof(big)) : -1;
	check(ret == (int)sizeof(big) && !memcmp(back, big, sizeof(big)), "a 1 MB read_img_buf");
	ret = img ? read_img_buf(img, back, 1) : 0;
	check(ret == -EINVAL, "read_img_buf past the end: %d (-EINVAL)", ret);
	close_image(img);

	/* the write side: pending entries are flushed before the fd is handed out */
	img = open_image_at(dfd, CR_FD_PIPES_DATA, O_DUMP, 0);
	ret = img ? pb_write_one(img, mk_pipe_data(), PB_PIPE_DATA) : -1;
	fd = !ret ? img_raw_fd(img) : -1;
	ret = fd >= 0 ? (int)write(fd, "0123456789", 10) : -1;
	ret = ret == 10 ? close_image_checked(img) : (close_image(img), -1);
	{
		struct rt_entry pd[] = { { PB_PIPE_DATA, mk_pipe_data(), cmp_pipe_data, "0123456789", 10 } };
		const char *why = ret ? "write failed" : check_entries(dfd, CR_FD_PIPES_DATA, 0, pd, 1);

		if (!check(!why, "img_raw_fd on a written image flushes first"))
			printf("# %s\n", why);
	}
}

/* The exact bytes on disk: magics, host-endian u32 length, the packed message. */
static void test_framing(int dfd)
{
	PstreeEntry *e = mk_pstree();
	uint8_t file[256], packed[128];
	uint32_t w[3];
	size_t len = protobuf_c_message_get_packed_size(&e->base);
	ssize_t n;
	int fd;

	protobuf_c_message_pack(&e->base, packed);
	fd = openat(dfd, "pstree.img", O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, file, sizeof(file)) : -1;
	if (fd >= 0)
		close(fd);
	memcpy(w, file, sizeof(w));
	check(n == (ssize_t)(12 + len) && w[0] == IMG_COMMON_MAGIC && w[1] == PSTREE_MAGIC && w[2] == len &&
		   !memcmp(file + 12, packed, len),
	   "pstree.img is IMG_COMMON_MAGIC, PSTREE_MAGIC, u32 %zu, the packed entry", len);

	fd = openat(dfd, "inventory.img", O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, file, sizeof(file)) : -1;
	if (fd >= 0)
		close(fd);
	memcpy(w, file, sizeof(w));
	len = protobuf_c_message_get_packed_size(&mk_inventory()->base);
	check(n == (ssize_t)(8 + len) && w[0] == INVENTORY_MAGIC && w[1] == len,
	   "inventory.img is INVENTORY_MAGIC (no common magic), u32 %zu, the entry", len);
}

/* ------------------------------------------------------------------------
 * Corrupt images
 */

static int write_file(int dfd, const char *name, const void *data, size_t len)
{
	_cleanup_close_ int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	return write_all(fd, data, len);
}

/* A core image file: header words, then arbitrary bytes. */
static int write_core_file(int dfd, int id, uint32_t m1, uint32_t m2, const void *rest, size_t len)
{
	uint8_t buf[256];
	char name[32];

	memcpy(buf, &m1, 4);
	memcpy(buf + 4, &m2, 4);
	memcpy(buf + 8, rest, len);
	snprintf(name, sizeof(name), "core-%d.img", id);
	return write_file(dfd, name, buf, 8 + len);
}

static void expect_open_fails(int dfd, int type, int id, const char *what, const char *name)
{
	struct cr_img *img;
	const char *log;

	errno = 0;
	img = open_image_at(dfd, type, O_RSTR, id);
	log = img_last_error();
	check(!img && errno == EINVAL && strstr(log, name), "%s: open fails with EINVAL (\"%s\")", what, log);
	close_image(img);
}

/* Opens core-<id>.img, reads entries until a non-1 result; that result must be -EINVAL, logged with the name. */
static void expect_read_fails(int dfd, int id, int good_entries, const char *what)
{
	struct cr_img *img = open_image_at(dfd, CR_FD_CORE, O_RSTR, id);
	char name[32];
	void *msg = NULL;
	int ret = -1, n = 0;
	const char *log;

	snprintf(name, sizeof(name), "core-%d.img", id);
	new_log();
	while (img && (ret = pb_read_one_eof(img, &msg, PB_CORE)) == 1) {
		pb_free(msg, PB_CORE);
		msg = NULL;
		n++;
	}
	log = new_log();
	check(img && ret == -EINVAL && n == good_entries && strstr(log, name),
	   "%s: pb_read_one_eof gives -EINVAL after %d good entries (ret %d)", what, n, ret);
	if (strstr(log, name))
		printf("# log: %s", strstr(log, name));
	close_image(img);
}

static void test_corrupt(int dfd)
{
	uint32_t len;
	uint8_t body[64], gar[20];
	size_t plen = protobuf_c_message_get_packed_size(&mk_ids()->base);
	struct cr_img *img;
	void *msg = NULL;
	int ret;

	/* headers */
	write_core_file(dfd, 10, 0xdeadbeef, CORE_MAGIC, "", 0);
	expect_open_fails(dfd, CR_FD_CORE, 10, "wrong common magic", "core-10.img");
	write_core_file(dfd, 11, IMG_COMMON_MAGIC, MM_MAGIC, "", 0);
	expect_open_fails(dfd, CR_FD_CORE, 11, "wrong image magic (an mm image named core)", "core-11.img");
	write_file(dfd, "core-12.img", "\x19\x43\x56\x54\x47", 5);
	expect_open_fails(dfd, CR_FD_CORE, 12, "truncated header (5 bytes)", "core-12.img");
	write_file(dfd, "core-13.img", "", 0);
	expect_open_fails(dfd, CR_FD_CORE, 13, "empty file", "core-13.img");
	{
		uint32_t m[2] = { IMG_COMMON_MAGIC, INVENTORY_MAGIC };
		int idfd = make_dir("badinv");

		write_file(idfd, "inventory.img", m, sizeof(m));
		expect_open_fails(idfd, CR_FD_INVENTORY, 0, "inventory with the common magic first", "inventory.img");
		close(idfd);
	}

	/* entries */
	write_core_file(dfd, 20, IMG_COMMON_MAGIC, CORE_MAGIC, "\x10\x00", 2);
	expect_read_fails(dfd, 20, 0, "truncated length (2 of 4 bytes)");

	len = 100;
	memcpy(body, &len, 4);
	memset(body + 4, 0, 10);
	write_core_file(dfd, 21, IMG_COMMON_MAGIC, CORE_MAGIC, body, 14);
	expect_read_fails(dfd, 21, 0, "truncated body (10 of 100 bytes)");

	len = 0xfffffff0;
	memcpy(body, &len, 4);
	write_core_file(dfd, 22, IMG_COMMON_MAGIC, CORE_MAGIC, body, 4);
	expect_read_fails(dfd, 22, 0, "oversized length 0xfffffff0");

	len = IMG_ENTRY_MAX + 1;
	memcpy(body, &len, 4);
	write_core_file(dfd, 23, IMG_COMMON_MAGIC, CORE_MAGIC, body, 4);
	expect_read_fails(dfd, 23, 0, "length one over IMG_ENTRY_MAX");

	len = sizeof(gar);
	memset(gar, 0xff, sizeof(gar));
	memcpy(body, &len, 4);
	memcpy(body + 4, gar, sizeof(gar));
	write_core_file(dfd, 24, IMG_COMMON_MAGIC, CORE_MAGIC, body, 4 + sizeof(gar));
	expect_read_fails(dfd, 24, 0, "garbage body (0xff bytes)");

	/* well-formed protobuf of another message: required fields of CoreEntry missing */
	len = plen;
	memcpy(body, &len, 4);
	protobuf_c_message_pack(&mk_ids()->base, body + 4);
	memcpy(body + 4 + plen, &len, 4);
	protobuf_c_message_pack(&mk_ids()->base, body + 8 + plen);
	write_core_file(dfd, 25, IMG_COMMON_MAGIC, CORE_MAGIC, body, 8 + 2 * plen);
	expect_read_fails(dfd, 25, 0, "an ids entry in a core image (required field missing)");

	/* a length bigger than the I/O buffer, with the file ending early */
	{
		_cleanup_free_ uint8_t *big = calloc(1, 8 + 4 + 200000);
		uint32_t h[3] = { IMG_COMMON_MAGIC, CORE_MAGIC, 1 << 20 };

		if (big) {
			memcpy(big, h, sizeof(h));
			write_file(dfd, "core-26.img", big, 8 + 4 + 200000);
			expect_read_fails(dfd, 26, 0, "1 MB entry, 200 KB present");
		}
	}

	/* missing image: empty */
	img = open_image_at(dfd, CR_FD_CORE, O_RSTR, 99999);
	ret = img ? pb_read_one_eof(img, &msg, PB_CORE) : -1;
	check(img && img_is_empty(img) && ret == 0, "a missing image opens as empty and reads EOF");
	ret = img ? pb_read_one(img, &msg, PB_CORE) : -1;
	check(ret == -ENODATA, "pb_read_one on an empty image: %d (-ENODATA)", ret);
	close_image(img);

	/* a valid header and nothing else: empty, not corrupt */
	write_core_file(dfd, 27, IMG_COMMON_MAGIC, CORE_MAGIC, "", 0);
	img = open_image_at(dfd, CR_FD_CORE, O_RSTR, 27);
	ret = img ? pb_read_one_eof(img, &msg, PB_CORE) : -1;
	check(img && !img_is_empty(img) && ret == 0, "a header-only image has no entries");
	close_image(img);

	/* a good entry, then a truncated one */
	{
		CoreEntry *c = mk_core();
		size_t clen = protobuf_c_message_get_packed_size(&c->base);
		_cleanup_free_ uint8_t *buf = malloc(8 + 2 * (4 + clen));
		uint32_t h[3] = { IMG_COMMON_MAGIC, CORE_MAGIC, clen };

		if (buf) {
			memcpy(buf, h, 12);
			protobuf_c_message_pack(&c->base, buf + 12);
			memcpy(buf + 12 + clen, &h[2], 4);
			protobuf_c_message_pack(&c->base, buf + 16 + clen);
			write_file(dfd, "core-28.img", buf, 8 + 2 * (4 + clen) - 1);
			expect_read_fails(dfd, 28, 1, "one good entry, then one a byte short");
		}
	}

	/* bad requests */
	errno = 0;
	img = open_image_at(dfd, CR_FD_MAX, O_RSTR, 0);
	check(!img && errno == EINVAL, "open_image_at with a bad type: EINVAL");
	img = open_image_at(dfd, CR_FD_CORE, O_RDWR, 1);
	check(!img && errno == EINVAL, "open_image_at with O_RDWR: EINVAL");
}

/* Every truncation point and random byte flips of a valid image: never a crash, only 1/0/-EINVAL. */
static void test_fuzz(int dfd)
{
	_cleanup_free_ uint8_t *orig = NULL, *buf = NULL;
	_cleanup_close_ int fd = openat(dfd, "core-4242.img", O_RDONLY | O_CLOEXEC);
	struct stat st;
	int cut, iter, ret, bad = 0, corrupt = 0;
	void *msg;

	if (fd < 0 || fstat(fd, &st) || !(orig = malloc(st.st_size)) || !(buf = malloc(st.st_size)) ||
	    read_all(fd, orig, st.st_size) != st.st_size) {
		check(false, "fuzz: read core-4242.img");
		return;
	}
	log_set_loglevel(LOG_MSG);	/* thousands of expected errors */
	for (cut = 0; cut < st.st_size; cut++) {
		struct cr_img *img;

		write_file(dfd, "core-30.img", orig, cut);
		img = open_image_at(dfd, CR_FD_CORE, O_RSTR, 30);
		if (!img) {
			if (errno != EINVAL || cut >= 8)
				bad++;
			continue;
		}
		while ((ret = pb_read_one_eof(img, &msg, PB_CORE)) == 1)
			pb_free(msg, PB_CORE);
		/* only cut == 8 (the bare header) may read as empty */
		if (ret != (cut == 8 ? 0 : -EINVAL))
			bad++;
		close_image(img);
	}
	check(bad == 0, "fuzz: all %lld truncations of a core image are rejected (%d wrong results)",
	   (long long)st.st_size, bad);

	srandom(12345);
	bad = 0;
	for (iter = 0; iter < 2000; iter++) {
		struct cr_img *img;
		int flips = 1 + random() % 4, i;

		memcpy(buf, orig, st.st_size);
		for (i = 0; i < flips; i++)
			buf[8 + random() % (st.st_size - 8)] ^= 1 + random() % 255;
		write_file(dfd, "core-31.img", buf, st.st_size);
		img = open_image_at(dfd, CR_FD_CORE, O_RSTR, 31);
		if (!img) {
			bad++;
			continue;
		}
		while ((ret = pb_read_one_eof(img, &msg, PB_CORE)) == 1)
			pb_free(msg, PB_CORE);
		if (ret == -EINVAL)
			corrupt++;
		else if (ret != 0)
			bad++;
		close_image(img);
	}
	log_set_loglevel(LOG_DEBUG);
	check(bad == 0, "fuzz: 2000 images with flipped bytes: no crash, %d rejected as corrupt, %d wrong results",
	   corrupt, bad);
}

/* Write-side errors: wrong type, unset required field, full disk. */
static void test_write_errors(int dfd)
{
	FileEntry fe = FILE_ENTRY__INIT;
	RegFileEntry reg = REG_FILE_ENTRY__INIT;
	PstreeEntry ps = PSTREE_ENTRY__INIT;
	struct cr_img *img = open_image_at(dfd, CR_FD_FILES, O_DUMP, 0);
	void *msg = NULL;
	int ret;

	ret = img ? pb_write_one(img, &ps, PB_FILE) : -1;
	check(ret == -EINVAL, "pb_write_one of a pstree entry as PB_FILE: %d (-EINVAL)", ret);
	reg.name = "/x";	/* fown, a required message, left NULL */
	fe.type = FD_TYPES__REG;
	fe.reg = &reg;
	ret = img ? pb_write_one(img, &fe, PB_FILE) : -1;
	check(ret == -EINVAL, "pb_write_one with a required sub-message unset: %d (-EINVAL), no crash", ret);
	ret = img ? pb_write_one(img, &ps, PB_MAX) : -1;
	check(ret == -EINVAL, "pb_write_one with a bad PB type: %d (-EINVAL)", ret);
	ret = img ? pb_read_one_eof(img, &msg, PB_FILE) : -1;
	check(ret == -EBADF, "pb_read_one_eof on an image open for writing: %d (-EBADF)", ret);
	check(img && close_image_checked(img) == 0, "closing it leaves a valid empty image");

	img = open_image_at(dfd, CR_FD_PSTREE, O_RSTR, 0);
	ret = img ? pb_write_one(img, mk_pstree(), PB_PSTREE) : -1;
	check(ret == -EBADF, "pb_write_one on an image open for reading: %d (-EBADF)", ret);
	close_image(img);

	if (access("/dev/full", W_OK) == 0) {
		int i;

		unlinkat(dfd, "core-40.img", 0);
		symlinkat("/dev/full", dfd, "core-40.img");
		img = open_image_at(dfd, CR_FD_CORE, O_DUMP, 40);
		ret = img ? 0 : -errno;
		for (i = 0; i < 200 && !ret; i++)	/* > 64 KB: the buffer must spill */
			ret = pb_write_one(img, mk_core(), PB_CORE);
		check(ret == -ENOSPC, "writes to a full disk fail with -ENOSPC once the buffer spills (%d)", ret);
		ret = img ? pb_write_one(img, mk_pstree(), PB_PSTREE) : 0;
		check(ret == -ENOSPC, "later writes keep failing (%d)", ret);
		close_image(img);

		img = open_image_at(dfd, CR_FD_CORE, O_DUMP, 40);
		ret = img ? pb_write_one(img, mk_ids(), PB_IDS) : -1;
		ret = !ret ? close_image_checked(img) : (close_image(img), -1);
		check(ret == -ENOSPC, "close_image_checked reports a failed final flush: %d (-ENOSPC)", ret);
		unlinkat(dfd, "core-40.img", 0);
	} else {
		printf("# /dev/full not writable: full-disk checks skipped\n");
	}
}

/* ------------------------------------------------------------------------
 * CRIU compatibility through crit
 */

/* test/unit/NAME, found from the top directory or from argv[0] (test/build/unit/test-image) */
static const char *unit_script(const char *argv0, const char *name)
{
	static char path[PATH_MAX];
	char tmp[PATH_MAX];

	snprintf(path, sizeof(path), "test/unit/%s", name);
	if (!access(path, R_OK))
		return path;
	snprintf(tmp, sizeof(tmp), "%s", argv0);
	snprintf(path, sizeof(path), "%s/../../unit/%s", dirname(tmp), name);
	if (!access(path, R_OK))
		return path;
	return NULL;
}

static const char *crit_check_script(const char *argv0)
{
	const char *env = getenv("CRIT_CHECK");

	return env ? env : unit_script(argv0, "crit-check.sh");
}

/* Debian's crit (package criu), an optional second reader of our images */
#define DEBIAN_CRIT "/usr/bin/crit"

static bool have_crit(void)
{
	return access(DEBIAN_CRIT, X_OK) == 0;
}

/* Runs a shell command, shows its output as TAP comments, returns its exit code. */
static int run_shown(const char *cmd)
{
	char full[PATH_MAX * 5], out[PATH_MAX];
	int st;

	snprintf(out, sizeof(out), "%s/command.out", tmpdir);
	snprintf(full, sizeof(full), "%s >'%s' 2>&1; rc=$?; sed 's/^/#   /' '%s'; exit $rc", cmd, out, out);
	fflush(stdout);
	st = system(full);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* "SHELL" is "sh" or "CRIT='crit' sh" */
static int run_crit_check(const char *shell, const char *script, const char *opt, const char *dir)
{
	char cmd[PATH_MAX * 4];

	snprintf(cmd, sizeof(cmd), "%s '%s' %s '%s'", shell, script, opt, dir);
	return run_shown(cmd);
}

/* files.img with a regular file and every other object type; a pidfd too unless crit_only */
static int write_files_img(int dfd, bool crit_only)
{
	struct cr_img *img = open_image_at(dfd, CR_FD_FILES, O_DUMP, 0);
	int i, ret;

	if (!img)
		return -errno;
	ret = pb_write_one(img, mk_file_reg(), PB_FILE);
	for (i = 0; i < 10 && !ret; i++)
		ret = pb_write_one(img, mk_file_misc(i), PB_FILE);
	if (!ret && !crit_only)
		ret = pb_write_one(img, mk_file_pidfd(), PB_FILE);
	if (ret) {
		close_image(img);
		return ret;
	}
	return close_image_checked(img);
}

/* A dump-like image set: every image kind crit-check.sh knows. */
static int write_image_set(int dfd, bool crit_only)
{
	static const char data[] = "0123456789";
	struct rt_entry inv[] = { { PB_INVENTORY, mk_inventory(), cmp_inventory } };
	struct rt_entry ps[] = { { PB_PSTREE, mk_pstree(), cmp_pstree } };
	struct rt_entry core[] = { { PB_CORE, mk_core_ext(crit_only), cmp_core } };
	struct rt_entry ids[] = { { PB_IDS, mk_ids(), cmp_ids } };
	struct rt_entry mm[] = { { PB_MM, mk_mm(), cmp_mm } };
	struct rt_entry pm[] = {
		{ PB_PAGEMAP_HEAD, mk_pagemap_head(), cmp_pagemap_head },
		{ PB_PAGEMAP, mk_pagemap(), cmp_pagemap },
	};
	FdinfoEntry fdi = *mk_fdinfo();
	struct rt_entry fdinfo[] = { { PB_FDINFO, &fdi, cmp_fdinfo } };
	struct rt_entry fs[] = { { PB_FS, mk_fs(), cmp_fs } };
	struct rt_entry pd[] = { { PB_PIPE_DATA, mk_pipe_data(), cmp_pipe_data, data, 10 } };
	struct rt_entry ttyi[] = { { PB_TTY_INFO, mk_tty_info(), cmp_tty_info } };
	struct rt_entry ttyd[] = { { PB_TTY_DATA, mk_tty_data(), cmp_tty_data } };
	struct rt_entry skq[] = { { PB_SK_QUEUES, mk_sk_queue(), cmp_sk_queue, data, 10 } };
	struct rt_entry mfd[] = { { PB_MEMFD_INODE, mk_memfd_inode(), cmp_memfd_inode } };
	struct rt_entry remap[] = { { PB_REMAP_FPATH, mk_remap(), cmp_remap } };
	GhostFileEntry gfe = *mk_ghost();
	struct rt_entry ghost[] = {
		{ PB_GHOST_FILE, &gfe, cmp_ghost },
		{ PB_GHOST_CHUNK, mk_ghost_chunk(), cmp_ghost_chunk, data, 10 },
	};
	int ret = 0;

	if (crit_only) {
		fdi.type = FD_TYPES__REG;
		gfe.has_atim_nsec = gfe.has_mtim_nsec = false;	/* ours: crit drops them */
	}
	ret = ret ?: write_entries(dfd, CR_FD_INVENTORY, 0, inv, 1);
	ret = ret ?: write_entries(dfd, CR_FD_PSTREE, 0, ps, 1);
	ret = ret ?: write_entries(dfd, CR_FD_CORE, 4242, core, 1);
	ret = ret ?: write_entries(dfd, CR_FD_IDS, 4242, ids, 1);
	ret = ret ?: write_entries(dfd, CR_FD_MM, 1, mm, 1);
	ret = ret ?: write_entries(dfd, CR_FD_PAGEMAP, 1, pm, 2);
	ret = ret ?: write_entries(dfd, CR_FD_FDINFO, 2, fdinfo, 1);
	ret = ret ?: write_files_img(dfd, crit_only);
	ret = ret ?: write_entries(dfd, CR_FD_FS, 4242, fs, 1);
	ret = ret ?: write_entries(dfd, CR_FD_PIPES_DATA, 0, pd, 1);
	ret = ret ?: write_entries(dfd, CR_FD_FIFO_DATA, 0, pd, 1);
	ret = ret ?: write_entries(dfd, CR_FD_TTY_INFO, 0, ttyi, 1);
	ret = ret ?: write_entries(dfd, CR_FD_TTY_DATA, 0, ttyd, 1);
	ret = ret ?: write_entries(dfd, CR_FD_SK_QUEUES, 0, skq, 1);
	ret = ret ?: write_entries(dfd, CR_FD_MEMFD_INODE, 0, mfd, 1);
	ret = ret ?: write_entries(dfd, CR_FD_REMAP_FPATH, 0, remap, 1);
	ret = ret ?: write_entries(dfd, CR_FD_GHOST_FILE, 3, ghost, 2);
	mk_core_ext(false);
	return ret;
}

/* One line per field of every message reachable from the PB table: "message field number label type". */
static const ProtobufCMessageDescriptor *schema_seen[256];
static int schema_nseen;

static void dump_schema_msg(FILE *f, const ProtobufCMessageDescriptor *d)
{
	static const char *const types[] = {
		[PROTOBUF_C_TYPE_INT32] = "int32",	 [PROTOBUF_C_TYPE_SINT32] = "sint32",
		[PROTOBUF_C_TYPE_SFIXED32] = "sfixed32", [PROTOBUF_C_TYPE_INT64] = "int64",
		[PROTOBUF_C_TYPE_SINT64] = "sint64",	 [PROTOBUF_C_TYPE_SFIXED64] = "sfixed64",
		[PROTOBUF_C_TYPE_UINT32] = "uint32",	 [PROTOBUF_C_TYPE_FIXED32] = "fixed32",
		[PROTOBUF_C_TYPE_UINT64] = "uint64",	 [PROTOBUF_C_TYPE_FIXED64] = "fixed64",
		[PROTOBUF_C_TYPE_FLOAT] = "float",	 [PROTOBUF_C_TYPE_DOUBLE] = "double",
		[PROTOBUF_C_TYPE_BOOL] = "bool",	 [PROTOBUF_C_TYPE_ENUM] = "enum",
		[PROTOBUF_C_TYPE_STRING] = "string",	 [PROTOBUF_C_TYPE_BYTES] = "bytes",
		[PROTOBUF_C_TYPE_MESSAGE] = "message",
	};
	unsigned int i;
	int j;

	for (j = 0; j < schema_nseen; j++)
		if (schema_seen[j] == d)
			return;
	if (schema_nseen == (int)ARRAY_SIZE(schema_seen))
		return;
	schema_seen[schema_nseen++] = d;
	for (i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];

		fprintf(f, "%s %s %u %d %s\n", d->name, fd->name, fd->id, (int)fd->label, types[fd->type]);
		if (fd->type == PROTOBUF_C_TYPE_MESSAGE)
			dump_schema_msg(f, fd->descriptor);
	}
}

static int run_schema_check(const char *script, const char *file)
{
	char cmd[PATH_MAX * 3];

	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 '%s' '%s'", script, file);
	return run_shown(cmd);
}

/* Every field we share with CRIU 3.17 has its number, label and type. */
static void test_schema(const char *argv0)
{
	const char *script = unit_script(argv0, "crit-schema.py");
	char path[PATH_MAX];
	FILE *f;
	int i, rc;

	if (!have_crit()) {
		printf("# SKIP schema check: crit (pycriu) is not installed\n");
		return;
	}
	if (!check(script != NULL, "found crit-schema.py"))
		return;
	snprintf(path, sizeof(path), "%s/schema.txt", tmpdir);
	f = fopen(path, "we");
	if (!check(f != NULL, "write our schema"))
		return;
	for (i = 0; i < PB_MAX; i++)
		dump_schema_msg(f, pb_desc(i));
	fclose(f);
	rc = run_schema_check(script, path);
	check(rc == 0, "every field of our %d messages that CRIU 3.17 has matches its number, label and type (exit %d)",
	   schema_nseen, rc);

	/* the check must be able to fail: a renumbered and a retyped field */
	snprintf(path, sizeof(path), "%s/schema-bad.txt", tmpdir);
	f = fopen(path, "we");
	if (f) {
		fprintf(f, "pstree_entry ppid 6 0 uint32\nthread_core_entry sched_nice 3 1 int32\n");
		fclose(f);
	}
	rc = run_schema_check(script, path);
	check(rc == 1, "the schema check catches a renumbered and a retyped field (exit %d)", rc);
}

/*
 * crit-check.sh on an image set: with our crit (CRIT unset: ./crit) strict on
 * both sets, since it knows every field of ours; with Debian's (crit =
 * DEBIAN_CRIT) strict only on the set of CRIU 3.17's fields.
 */
static void crit_check_sets(const char *script, const char *crit)
{
	const char *who = crit ? "Debian's crit" : "our crit";
	char dir[PATH_MAX], opt[PATH_MAX];
	int rc;

	if (crit)
		snprintf(opt, sizeof(opt), "CRIT='%s' sh", crit);
	else
		snprintf(opt, sizeof(opt), "sh");

	snprintf(dir, sizeof(dir), "%s/crit-strict", tmpdir);
	rc = run_crit_check(opt, script, "-s", dir);
	check(rc == 0, "%s decodes the CRIU 3.17 set and encodes it back byte for byte (crit-check.sh -s, exit %d)",
	      who, rc);

	snprintf(dir, sizeof(dir), "%s/crit-pidfd", tmpdir);
	rc = run_crit_check(opt, script, crit ? "" : "-s", dir);
	if (crit)
		check(rc == 0, "%s (which predates pidfd) still decodes the set with pidfd entries (exit %d)", who, rc);
	else
		check(rc == 0, "%s decodes the set with pidfd entries and our fields, and encodes it back byte for byte (exit %d)",
		      who, rc);

	snprintf(dir, sizeof(dir), "%s/crit-bad", tmpdir);
	rc = run_crit_check(opt, script, "", dir);
	check(rc == 1, "%s: crit-check.sh fails on a garbage core image and a misnamed one (exit %d)", who, rc);
}

static void test_crit(const char *argv0)
{
	const char *script = crit_check_script(argv0);
	int dfd;

	if (!check(script != NULL, "found crit-check.sh (run from the top directory or set CRIT_CHECK)"))
		return;

	dfd = make_dir("crit-strict");
	check(dfd >= 0 && write_image_set(dfd, true) == 0, "write an image set with CRIU 3.17 fields only");
	if (dfd >= 0)
		close(dfd);
	dfd = make_dir("crit-pidfd");
	check(dfd >= 0 && write_image_set(dfd, false) == 0, "write an image set with pidfd entries and newer fields");
	if (dfd >= 0)
		close(dfd);
	/* the check itself must be able to fail */
	dfd = make_dir("crit-bad");
	if (dfd >= 0) {
		uint32_t h[3] = { IMG_COMMON_MAGIC, CORE_MAGIC, 3 };

		write_file(dfd, "core-1.img", "\x19\x43\x56\x54\x47\x38\x05\x55\x03\x00\x00\x00\xff\xff\xff", 15);
		write_file(dfd, "mm-1.img", h, 8);	/* an mm image with the core magic */
		close(dfd);
	}

	crit_check_sets(script, NULL);
	if (have_crit())
		crit_check_sets(script, DEBIAN_CRIT);
	else
		printf("# Debian's crit is not installed: no check with it\n");
}

static void cleanup_tmpdir(void)
{
	char cmd[PATH_MAX + 16];

	if (getenv("KEEP")) {
		printf("# images kept in %s\n", tmpdir);
		return;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd))
		printf("# could not remove %s\n", tmpdir);
}

/* Pagemap entries as CRIU writes them, of 4.2 and before: what the restore makes of each. */
static void test_pagemap_forms(void)
{
	PagemapEntry e = PAGEMAP_ENTRY__INIT;
	const char *why;

	/* CRIU before 4.x: the count in compat_nr_pages, no flags */
	e.vaddr = 0x1000;
	e.compat_nr_pages = 5;
	why = pagemap_entry_fixup(&e);
	check(!why && e.has_nr_pages && e.nr_pages == 5 && e.has_flags && e.flags == PE_PRESENT,
	      "old CRIU entry: nr_pages from compat_nr_pages, flags PE_PRESENT");

	/* CRIU 4.2: compat_nr_pages 0, nr_pages (field 5), PE_PRESENT | PE_LAZY */
	pagemap_entry__init(&e);
	e.has_nr_pages = true;
	e.nr_pages = 1ULL << 33;
	e.has_flags = true;
	e.flags = PE_PRESENT | PE_LAZY;
	why = pagemap_entry_fixup(&e);
	check(!why && e.nr_pages == 1ULL << 33, "CRIU 4.2 entry: a 64-bit nr_pages, PE_LAZY with PE_PRESENT read");

	pagemap_entry__init(&e);
	e.compat_nr_pages = 2;
	e.has_in_parent = true;
	e.in_parent = true;
	why = pagemap_entry_fixup(&e);
	check(!why && e.flags == PE_PARENT && e.nr_pages == 2, "in_parent: read as a PE_PARENT entry (%s)",
	      why ?: "accepted");

	/* pages both in the parent and here: no writer makes that */
	e.flags = PE_PARENT | PE_PRESENT;
	why = pagemap_entry_fixup(&e);
	check(why && strstr(why, "PE_PARENT"), "PE_PARENT with PE_PRESENT: refused, naming PE_PARENT (%s)",
	      why ?: "accepted");

	pagemap_entry__init(&e);
	e.has_nr_pages = true;
	e.nr_pages = 2;
	e.has_flags = true;
	e.flags = PE_LAZY;
	why = pagemap_entry_fixup(&e);
	check(!why && pagemap_entry_remote(&e),
	      "PE_LAZY without PE_PRESENT (dump --lazy-pages): read, as pages left on the source (%s)", why ?: "accepted");
	check(!pagemap_entry_remote(&(PagemapEntry){ .has_flags = true, .flags = PE_LAZY | PE_PRESENT }) &&
		      !pagemap_entry_remote(&(PagemapEntry){ .has_flags = true, .flags = PE_LAZY | PE_PARENT }),
	      "PE_LAZY with PE_PRESENT or PE_PARENT: not pages left on the source");
	e.flags = 0;
	why = pagemap_entry_fixup(&e);
	check(why && strstr(why, "PE_PRESENT"), "flags 0: refused, no pages for the entry (%s)", why ?: "accepted");

	e.flags = PE_PRESENT | (1 << 5);
	why = pagemap_entry_fixup(&e);
	check(why && strstr(why, "unknown"), "unknown flag bits: refused (%s)", why ?: "accepted");
}

int main(int argc, char **argv)
{
	int dfd, i;
	bool all = true;

	(void)argc;
	if (!mkdtemp(tmpdir)) {
		printf("not ok 1 - mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	snprintf(logpath, sizeof(logpath), "%s/test.log", tmpdir);
	log_init(logpath);
	log_set_loglevel(LOG_DEBUG);

	dfd = make_dir("img");
	if (dfd < 0) {
		printf("not ok 1 - create the image directory: %s\n", strerror(-dfd));
		return 1;
	}

	test_round_trips(dfd);
	test_generic_round_trips(dfd);
	for (i = 0; i < PB_MAX; i++)
		all &= covered[i];
	check(all, "every PB_* type (%d) was round-tripped", PB_MAX);
	for (i = 0; i < PB_MAX; i++)
		if (!covered[i])
			printf("# not covered: %s\n", pb_type_name(i));
	test_framing(dfd);
	test_all_kinds();
	test_many_entries(dfd);
	test_big_entry(dfd);
	test_raw(dfd);
	test_corrupt(dfd);
	test_fuzz(dfd);
	test_write_errors(dfd);
	test_crit(argv[0]);
	test_schema(argv[0]);
	test_pagemap_forms();

	close(dfd);
	log_fini();
	if (nr_fail) {
		printf("# log: %s\n", logpath);
		setenv("KEEP", "1", 1);
	}
	cleanup_tmpdir();
	printf("# %d tests, %d failed\n", nr_test, nr_fail);
	return nr_fail ? 1 : 0;
}

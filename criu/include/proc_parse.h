/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Parsers of /proc/PID files. They read through a directory fd (proc_dfd, an
 * open /proc/PID or /proc/PID/task/TID), return 0 or a negative errno and never
 * log above debug. Each parse_pid_X() has a parse_X_buf() twin that works on
 * text already in memory, which the unit tests feed with recorded fixtures.
 */
#ifndef CRIU_PROC_PARSE_H
#define CRIU_PROC_PARSE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* The fields of /proc/PID/stat we use (see proc(5) for the numbering). */
struct proc_pid_stat {
	pid_t pid;
	char comm[64];
	char state;
	pid_t ppid, pgid, sid;
	int tty_nr;
	pid_t tpgid;		/* field 8: the foreground group of its controlling terminal, -1 for none */
	unsigned long flags;
	unsigned long long start_time;	/* field 22, clock ticks since boot */
	unsigned long vsize;
	unsigned long start_code, end_code, start_stack;	/* 26, 27, 28 */
	unsigned long sigpending, sigblocked, sigignore, sigcatch; /* 31-34 (obsolete, bitmaps) */
	int exit_signal;			/* 38 */
	int processor;				/* 39: the CPU it last ran on */
	unsigned long start_data, end_data, start_brk;	/* 45, 46, 47 */
	unsigned long arg_start, arg_end, env_start, env_end;	/* 48-51 */
	int exit_code;				/* 52: wait status of a zombie */
};

/* Parse the "stat" file relative to proc_dfd (a /proc/PID or /proc/PID/task/TID dir fd). */
int parse_pid_stat(int proc_dfd, struct proc_pid_stat *ret);
/* Parse a stat line already in memory (used by the unit tests on fixtures). */
int parse_pid_stat_buf(const char *buf, struct proc_pid_stat *ret);

/* ---- /proc/PID/maps (+ VmFlags from smaps) ---- */

enum proc_vma_kind {
	PVMA_ANON,		/* no file: private or shared anonymous memory */
	PVMA_FILE,		/* a file mapping (path may end in " (deleted)") */
	PVMA_SHMEM_ANON,	/* MAP_SHARED|MAP_ANONYMOUS: "/dev/zero (deleted)" or "[anon_shmem:NAME]" */
	PVMA_SYSV_SHM,		/* "/SYSV%08x (deleted)": a SysV IPC segment */
	PVMA_HEAP,		/* [heap] */
	PVMA_STACK,		/* [stack] */
	PVMA_VDSO,		/* [vdso] */
	PVMA_VVAR,		/* [vvar] */
	PVMA_VVAR_VCLOCK,	/* [vvar_vclock] (6.13+) */
	PVMA_VSYSCALL,		/* [vsyscall] */
	PVMA_UPROBES,		/* [uprobes] */
	PVMA_OTHER,		/* any other "[...]" name we do not know */
};

/* Bits of smaps "VmFlags:" (two-letter mnemonics, see proc(5)). */
#define PVMF_GD (1u << 0)	/* gd: grows down */
#define PVMF_LO (1u << 1)	/* lo: locked (mlock) */
#define PVMF_DC (1u << 2)	/* dc: do not copy on fork (MADV_DONTFORK) */
#define PVMF_DE (1u << 3)	/* de: do not expand on remap */
#define PVMF_DD (1u << 4)	/* dd: not in core dumps (MADV_DONTDUMP) */
#define PVMF_WF (1u << 5)	/* wf: wipe on fork (MADV_WIPEONFORK) */
#define PVMF_HG (1u << 6)	/* hg: MADV_HUGEPAGE */
#define PVMF_NH (1u << 7)	/* nh: MADV_NOHUGEPAGE */
#define PVMF_MG (1u << 8)	/* mg: MADV_MERGEABLE */
#define PVMF_SR (1u << 9)	/* sr: MADV_SEQUENTIAL */
#define PVMF_RR (1u << 10)	/* rr: MADV_RANDOM */
#define PVMF_IO (1u << 11)	/* io: I/O memory */
#define PVMF_PF (1u << 12)	/* pf: pure PFN range */
#define PVMF_SH (1u << 13)	/* sh: shared */
#define PVMF_MS (1u << 14)	/* ms: may share */
#define PVMF_SS (1u << 15)	/* ss: shadow stack */
#define PVMF_SL (1u << 16)	/* sl: sealed */
#define PVMF_GU (1u << 17)	/* gu: has guard regions (MADV_GUARD_INSTALL) */
#define PVMF_LF (1u << 18)	/* lf: lock on fault (mlock2 MLOCK_ONFAULT) */
#define PVMF_NR (1u << 19)	/* nr: no swap reserved (MAP_NORESERVE) */
#define PVMF_HT (1u << 20)	/* ht: hugetlb (MAP_HUGETLB, hugetlbfs) */
#define PVMF_SF (1u << 21)	/* sf: synchronous page faults (MAP_SYNC) */
#define PVMF_UM (1u << 22)	/* um: userfaultfd missing-page tracking */
#define PVMF_UW (1u << 23)	/* uw: userfaultfd write-protect tracking */
#define PVMF_UI (1u << 24)	/* ui: userfaultfd minor-fault tracking */
#define PVMF_DP (1u << 25)	/* dp: droppable (MAP_DROPPABLE) */

struct proc_vma {
	unsigned long start, end;	/* [start, end) */
	unsigned long pgoff;		/* offset in the file, in bytes (maps prints bytes) */
	unsigned int prot;		/* PROT_READ|PROT_WRITE|PROT_EXEC */
	bool shared;			/* 's' in the flags column (VM_MAYSHARE) */
	bool deleted;			/* the path ends in " (deleted)" */
	bool have_vmflags;		/* vmflags was filled from smaps */
	unsigned int dev_major, dev_minor;
	unsigned long ino;
	enum proc_vma_kind kind;
	unsigned int vmflags;		/* PVMF_* when have_vmflags */
	int pkey;			/* smaps "ProtectionKey:", 0 without one */
	unsigned long kpage_size;	/* smaps "KernelPageSize:" in bytes (a hugetlb vma's page size), 0 unknown */
	const char *path;		/* the name column, without " (deleted)"; "" when none */
};

struct proc_maps {
	int nr;
	struct proc_vma *vmas;		/* sorted by start, as the kernel prints them */
	char *buf;			/* owns the strings the vmas point to */
};

/* Read and parse maps. Free with proc_maps_free() (also on error: safe on a zeroed struct). */
int parse_pid_maps(int proc_dfd, struct proc_maps *ret);
/* Parse maps text; takes ownership of buf (malloc'ed, NUL-terminated) even on error. */
int parse_maps_buf(char *buf, struct proc_maps *ret);
void proc_maps_free(struct proc_maps *m);
/*
 * Where remote syscalls can put their code (compel's COMPEL_RSYS_POKE): the
 * start of the first file-backed executable mapping, else of any executable
 * one but [vsyscall]. -ENOENT when the task has none.
 */
int proc_exec_addr(int proc_dfd, unsigned long *ret);
/* Fill vmflags and pkey of every vma from smaps ("VmFlags:", "ProtectionKey:"), matched by start address. */
int parse_pid_smaps_vmflags(int proc_dfd, struct proc_maps *m);
int parse_smaps_vmflags_buf(const char *buf, struct proc_maps *m);
/* PVMF_* bits of one "VmFlags:" value ("rd wr mr mw me gd ac"). */
unsigned int parse_vmflags_str(const char *s);
/* Open the file behind a mapping through map_files/START-END (needs CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN). */
int open_proc_map_file(int proc_dfd, unsigned long start, unsigned long end, int flags);

/* ---- /proc/PID/status ---- */

#define PROC_MAX_NS_LEVEL 32	/* the kernel's MAX_PID_NS_LEVEL */

struct proc_status {
	char name[64];
	char state;
	int umask;			/* -1 when the kernel has no Umask: line */
	pid_t tgid, pid, ppid, tracer_pid;
	uint32_t uid[4], gid[4];	/* real, effective, saved, fs */
	int ngroups;
	uint32_t *groups;		/* ngroups entries, malloc'ed; free with proc_status_free() */
	int ns_levels;			/* entries in nstgid/nspid/nspgid/nssid */
	pid_t nstgid[PROC_MAX_NS_LEVEL], nspid[PROC_MAX_NS_LEVEL];
	pid_t nspgid[PROC_MAX_NS_LEVEL], nssid[PROC_MAX_NS_LEVEL];
	int threads;
	uint64_t sigpnd, shdpnd, sigblk, sigign, sigcgt;
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	int no_new_privs;
	int seccomp;			/* 0 disabled, 1 strict, 2 filter; -1 when absent */
	int seccomp_filters;		/* -1 when absent */
	int thp_enabled;		/* THP_enabled: (PR_GET_THP_DISABLE inverted); -1 when absent */
};

int parse_pid_status(int proc_dfd, struct proc_status *ret);
int parse_status_buf(const char *buf, struct proc_status *ret);
void proc_status_free(struct proc_status *st);

/* ---- /proc/PID/fdinfo/N ---- */

/* One line of fdinfo that is not one of the common keys, handed to the file type. */
struct fdinfo_kv {
	const char *key;	/* text before the first ':' (may hold spaces: "settime flags") */
	const char *val;	/* text after it, leading blanks skipped, no newline */
};

struct proc_fdinfo {
	unsigned long long pos;
	unsigned int flags;		/* octal in the file: O_* including O_CLOEXEC */
	int mnt_id;
	unsigned long long ino;		/* 0 when the kernel has no ino: line */
	int nr_extra;
	struct fdinfo_kv *extra;	/* every other line, in file order (Pid:, NSpid:, tfd:, eventfd-count: ...) */
	char *buf;			/* owns the strings */
};

int parse_pid_fdinfo(int proc_dfd, int fd, struct proc_fdinfo *ret);
/* Takes ownership of buf (malloc'ed, NUL-terminated) even on error. */
int parse_fdinfo_buf(char *buf, struct proc_fdinfo *ret);
void proc_fdinfo_free(struct proc_fdinfo *fi);
/* buf cut to the text extra points into (the read took a page): 0 or -ENOMEM (fi unchanged). */
int proc_fdinfo_shrink(struct proc_fdinfo *fi);
/* The value of the first extra line with this key, or NULL. */
const char *fdinfo_get(const struct proc_fdinfo *fi, const char *key);

/* ---- /proc/PID/limits ---- */

#define PROC_RLIM_NLIMITS 16
struct proc_rlimits {
	int nr;				/* lines parsed, indexed by RLIMIT_* */
	struct {
		uint64_t cur, max;	/* RLIM_INFINITY for "unlimited" */
	} r[PROC_RLIM_NLIMITS];
};

int parse_pid_limits(int proc_dfd, struct proc_rlimits *ret);
int parse_limits_buf(const char *buf, struct proc_rlimits *ret);

/* ---- /proc/PID/auxv ---- */

#define PROC_AUXV_MAX_WORDS 128
/* Fills ret with the raw words (type, value pairs up to and including AT_NULL); returns the number of words. */
int parse_pid_auxv(int proc_dfd, uint64_t *ret, int max_words);
int parse_auxv_buf(const void *buf, size_t len, uint64_t *ret, int max_words);

/* ---- /proc/PID/mountinfo ---- */

/* One line; the strings point into proc_mounts.buf. */
struct proc_mount {
	int mnt_id, parent_id;
	unsigned int major, minor;	/* the superblock's device */
	char *root;			/* within the filesystem, unescaped */
	char *mountpoint;		/* from the reader's root, unescaped */
	char *mnt_opts;			/* per-mount options: "rw,nosuid,relatime" */
	int shared_id, master_id;	/* "shared:N", "master:N"; 0 when absent */
	bool unbindable;
	char *fstype;
	char *source;			/* unescaped */
	char *sb_opts;			/* the superblock's options */
};

struct proc_mounts {
	struct proc_mount *m;
	int nr;
	char *buf;
};

int parse_pid_mountinfo(int proc_dfd, struct proc_mounts *ret);
/* Takes ownership of buf (malloc'ed, NUL-terminated) even on error. */
int parse_mountinfo_buf(char *buf, struct proc_mounts *ret);
void proc_mounts_free(struct proc_mounts *ms);

#endif

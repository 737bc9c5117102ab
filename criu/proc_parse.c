// SPDX-License-Identifier: GPL-2.0
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "common.h"
#include "proc_parse.h"

int parse_pid_stat_buf(const char *buf, struct proc_pid_stat *ret)
{
	struct proc_pid_stat s = {};
	const char *open = strchr(buf, '('), *close = strrchr(buf, ')');
	unsigned long long skip;
	int n;

	/* comm may hold spaces and parentheses: it runs from the first '(' to the last ')'. */
	if (!open || !close || close < open || sscanf(buf, "%d", &s.pid) != 1)
		return -EINVAL;
	snprintf(s.comm, sizeof(s.comm), "%.*s", (int)min((size_t)(close - open - 1), sizeof(s.comm) - 1), open + 1);

	n = sscanf(close + 2,
		   "%c %d %d %d %d %d %lu %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu %lu %*d %*u %lu %lu %lu"
		   " %*u %*u %lu %lu %lu %lu %*u %*u %*u %d %d %*u %*u %*u %llu %*d %lu %lu %lu %lu %lu %lu %lu %d",
		   &s.state, &s.ppid, &s.pgid, &s.sid, &s.tty_nr, &s.tpgid, &s.flags, &s.start_time, &s.vsize, &s.start_code,
		   &s.end_code, &s.start_stack, &s.sigpending, &s.sigblocked, &s.sigignore, &s.sigcatch,
		   &s.exit_signal, &s.processor, &skip, &s.start_data, &s.end_data, &s.start_brk, &s.arg_start, &s.arg_end,
		   &s.env_start, &s.env_end, &s.exit_code);
	if (n != 27)
		return -EINVAL;
	*ret = s;
	return 0;
}

int parse_pid_stat(int proc_dfd, struct proc_pid_stat *ret)
{
	char buf[1024];
	int n = read_file_at(proc_dfd, "stat", buf, sizeof(buf));

	if (n < 0)
		return n;
	return parse_pid_stat_buf(buf, ret);
}

/* ---- helpers ---- */

/* Next line of a NUL-terminated buffer, NUL-terminating it in place; NULL at the end. */
static char *next_line(char **pos)
{
	char *s = *pos, *nl;

	if (!s || !*s)
		return NULL;
	nl = strchr(s, '\n');
	if (nl) {
		*nl = '\0';
		*pos = nl + 1;
	} else {
		*pos = s + strlen(s);
	}
	return s;
}

static bool startswith(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* ---- maps ---- */

static const struct {
	const char *name;
	enum proc_vma_kind kind;
} special_vmas[] = {
	{ "[heap]", PVMA_HEAP },	   { "[stack]", PVMA_STACK },
	{ "[vdso]", PVMA_VDSO },	   { "[vvar]", PVMA_VVAR },
	{ "[vvar_vclock]", PVMA_VVAR_VCLOCK }, { "[vsyscall]", PVMA_VSYSCALL },
	{ "[uprobes]", PVMA_UPROBES },
};

static enum proc_vma_kind vma_kind(const struct proc_vma *v)
{
	size_t i;

	if (!v->path[0])
		return PVMA_ANON;
	if (v->path[0] != '[') {
		if (v->shared && v->deleted && !strcmp(v->path, "/dev/zero"))
			return PVMA_SHMEM_ANON;
		if (v->deleted && startswith(v->path, "/SYSV"))
			return PVMA_SYSV_SHM;
		return PVMA_FILE;
	}
	for (i = 0; i < ARRAY_SIZE(special_vmas); i++)
		if (!strcmp(v->path, special_vmas[i].name))
			return special_vmas[i].kind;
	if (startswith(v->path, "[anon_shmem:"))
		return PVMA_SHMEM_ANON;
	if (startswith(v->path, "[anon:"))
		return PVMA_ANON;
	return PVMA_OTHER;
}

static int parse_maps_line(char *line, struct proc_vma *v)
{
	char perms[5];
	int n = 0;

	memset(v, 0, sizeof(*v));
	if (sscanf(line, "%lx-%lx %4s %lx %x:%x %lu %n", &v->start, &v->end, perms, &v->pgoff, &v->dev_major,
		   &v->dev_minor, &v->ino, &n) != 7 || !n)
		return -EINVAL;
	if (v->end <= v->start || strlen(perms) != 4)
		return -EINVAL;
	if (perms[0] == 'r')
		v->prot |= PROT_READ;
	if (perms[1] == 'w')
		v->prot |= PROT_WRITE;
	if (perms[2] == 'x')
		v->prot |= PROT_EXEC;
	if (perms[3] != 's' && perms[3] != 'p')
		return -EINVAL;
	v->shared = perms[3] == 's';

	char *path = line + n;
	size_t len = strlen(path);
	static const char del[] = " (deleted)";

	if (len >= sizeof(del) - 1 && !strcmp(path + len - (sizeof(del) - 1), del) && path[0] == '/') {
		path[len - (sizeof(del) - 1)] = '\0';
		v->deleted = true;
	}
	v->path = path;
	v->kind = vma_kind(v);
	return 0;
}

void proc_maps_free(struct proc_maps *m)
{
	if (!m)
		return;
	free(m->vmas);
	free(m->buf);
	m->vmas = NULL;
	m->buf = NULL;
	m->nr = 0;
}

int parse_maps_buf(char *buf, struct proc_maps *ret)
{
	struct proc_maps m = { .buf = buf };
	char *pos = buf, *line;
	int cap = 0, err;

	while ((line = next_line(&pos))) {
		if (!*line)
			continue;
		if (m.nr == cap) {
			struct proc_vma *nv;

			cap = cap ? cap * 2 : 64;
			nv = realloc(m.vmas, cap * sizeof(*nv));
			if (!nv) {
				proc_maps_free(&m);
				return -ENOMEM;
			}
			m.vmas = nv;
		}
		err = parse_maps_line(line, &m.vmas[m.nr]);
		if (err) {
			pr_debug("maps: bad line '%s'\n", line);
			proc_maps_free(&m);
			return err;
		}
		if (m.nr && m.vmas[m.nr].start < m.vmas[m.nr - 1].end) {
			pr_debug("maps: overlapping or unsorted line '%s'\n", line);
			proc_maps_free(&m);
			return -EINVAL;
		}
		m.nr++;
	}
	*ret = m;
	return 0;
}

int parse_pid_maps(int proc_dfd, struct proc_maps *ret)
{
	char *buf = NULL;
	ssize_t n = read_file_alloc_at(proc_dfd, "maps", &buf);

	if (n < 0)
		return n;
	return parse_maps_buf(buf, ret);
}

int proc_exec_addr(int proc_dfd, unsigned long *ret)
{
	struct proc_maps m = {};
	unsigned long fallback = 0;
	int err = parse_pid_maps(proc_dfd, &m);

	for (int i = 0; !err && i < m.nr; i++) {
		const struct proc_vma *v = &m.vmas[i];

		if (!(v->prot & PROT_EXEC) || v->kind == PVMA_VSYSCALL || v->end - v->start < 16)
			continue;
		if (v->kind == PVMA_FILE) {
			*ret = v->start;
			proc_maps_free(&m);
			return 0;
		}
		if (!fallback)
			fallback = v->start;
	}
	proc_maps_free(&m);
	if (err)
		return err;
	if (!fallback)
		return -ENOENT;
	*ret = fallback;
	return 0;
}

static const char vmflag_names[][3] = {
	[0] = "gd", [1] = "lo", [2] = "dc", [3] = "de", [4] = "dd", [5] = "wf", [6] = "hg",
	[7] = "nh", [8] = "mg", [9] = "sr", [10] = "rr", [11] = "io", [12] = "pf", [13] = "sh",
	[14] = "ms", [15] = "ss", [16] = "sl", [17] = "gu", [18] = "lf", [19] = "nr", [20] = "ht",
	[21] = "sf", [22] = "um", [23] = "uw", [24] = "ui", [25] = "dp",
};

unsigned int parse_vmflags_str(const char *s)
{
	unsigned int flags = 0;
	size_t i;

	while (*s) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!s[0] || !s[1])
			break;
		for (i = 0; i < ARRAY_SIZE(vmflag_names); i++)
			if (s[0] == vmflag_names[i][0] && s[1] == vmflag_names[i][1] &&
			    (!s[2] || s[2] == ' ' || s[2] == '\n'))
				flags |= 1u << i;
		while (*s && *s != ' ' && *s != '\n')
			s++;
		if (*s == '\n')
			break;
	}
	return flags;
}

/* A header line of smaps starts with "START-END " in hex; key lines start with "Key:". */
static bool smaps_header(const char *line, unsigned long *start)
{
	char *end;

	*start = strtoul(line, &end, 16);
	return end != line && *end == '-';
}

int parse_smaps_vmflags_buf(const char *buf, struct proc_maps *m)
{
	const char *s = buf;
	int i = -1, j = 0;

	while (s && *s) {
		unsigned long start;
		const char *nl = strchr(s, '\n');

		if (smaps_header(s, &start)) {
			/* both lists are sorted: walk them together */
			while (j < m->nr && m->vmas[j].start < start)
				j++;
			i = (j < m->nr && m->vmas[j].start == start) ? j : -1;
		} else if (startswith(s, "VmFlags:") && i >= 0) {
			m->vmas[i].vmflags = parse_vmflags_str(s + strlen("VmFlags:"));
			m->vmas[i].have_vmflags = true;
		} else if (startswith(s, "KernelPageSize:") && i >= 0) {
			m->vmas[i].kpage_size = strtoul(s + strlen("KernelPageSize:"), NULL, 10) << 10;
		} else if (startswith(s, "ProtectionKey:") && i >= 0) {
			m->vmas[i].pkey = (int)strtol(s + strlen("ProtectionKey:"), NULL, 10);
		}
		s = nl ? nl + 1 : NULL;
	}
	return 0;
}

/*
 * Bytes per read() of smaps. To print a vma's record the kernel walks all its pages
 * (Rss, Pss, ...). seq_file builds the records of one read() in a buffer of a page; a
 * record that does not fit in what is left of it is thrown away and built again, walk
 * and all, by the next read(). A read() smaller than any record stops after the first
 * one, so no record is built twice: a 1 GiB vma costs one walk (12 ms here) instead of
 * two whenever its record fell on such a boundary (23 ms with 4 KiB reads).
 */
#define SMAPS_READ_CHUNK 512

int parse_pid_smaps_vmflags(int proc_dfd, struct proc_maps *m)
{
	_cleanup_free_ char *buf = NULL;
	ssize_t n = read_file_alloc_chunked_at(proc_dfd, "smaps", SMAPS_READ_CHUNK, &buf);

	if (n < 0)
		return n;
	return parse_smaps_vmflags_buf(buf, m);
}

int open_proc_map_file(int proc_dfd, unsigned long start, unsigned long end, int flags)
{
	char name[64];

	snprintf(name, sizeof(name), "map_files/%lx-%lx", start, end);
	return RET_NERRNO(openat(proc_dfd, name, flags | O_CLOEXEC));
}

/* ---- status ---- */

static int parse_hex64(const char *s, uint64_t *ret)
{
	char *end;

	errno = 0;
	*ret = strtoull(s, &end, 16);
	if (errno || end == s)
		return -EINVAL;
	return 0;
}

/* A tab-separated list of numbers; returns how many were read, or -EINVAL/-E2BIG. */
static int parse_int_list(const char *s, long *out, int max)
{
	int n = 0;

	for (;;) {
		char *end;
		long v;

		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			return n;
		errno = 0;
		v = strtol(s, &end, 10);
		if (errno || end == s)
			return -EINVAL;
		if (n == max)
			return -E2BIG;
		out[n++] = v;
		s = end;
	}
}

static int parse_pid_list(const char *s, pid_t *out, int *nr)
{
	long v[PROC_MAX_NS_LEVEL];
	int n = parse_int_list(s, v, PROC_MAX_NS_LEVEL), i;

	if (n <= 0)
		return n < 0 ? n : -EINVAL;
	if (*nr && *nr != n)
		return -EINVAL;	/* every NS* line has one entry per level */
	for (i = 0; i < n; i++)
		out[i] = v[i];
	*nr = n;
	return 0;
}

static int parse_ids4(const char *s, uint32_t *out)
{
	long v[4];

	if (parse_int_list(s, v, 4) != 4)
		return -EINVAL;
	for (int i = 0; i < 4; i++)
		out[i] = v[i];
	return 0;
}

static int parse_groups(const char *s, struct proc_status *st)
{
	int cap = 0;

	for (;;) {
		char *end;
		unsigned long v;

		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			return 0;
		errno = 0;
		v = strtoul(s, &end, 10);
		if (errno || end == s || v > UINT32_MAX)
			return -EINVAL;
		if (st->ngroups == cap) {
			uint32_t *ng;

			cap = cap ? cap * 2 : 16;
			ng = realloc(st->groups, cap * sizeof(*ng));
			if (!ng)
				return -ENOMEM;
			st->groups = ng;
		}
		st->groups[st->ngroups++] = v;
		s = end;
	}
}

void proc_status_free(struct proc_status *st)
{
	if (!st)
		return;
	free(st->groups);
	st->groups = NULL;
	st->ngroups = 0;
}

/* Bits of struct proc_status that a complete status file must have filled. */
enum {
	ST_NAME = 1 << 0, ST_STATE = 1 << 1, ST_PIDS = 1 << 2, ST_UID = 1 << 3, ST_GID = 1 << 4,
	ST_SIG = 1 << 5, ST_CAP = 1 << 6,
	ST_REQUIRED = ST_NAME | ST_STATE | ST_PIDS | ST_UID | ST_GID | ST_SIG | ST_CAP,
};

static int parse_status_line(const char *key, const char *val, struct proc_status *st, unsigned int *seen)
{
	uint64_t *sig = NULL, *cap = NULL;
	long l;

	if (!strcmp(key, "Name")) {
		snprintf(st->name, sizeof(st->name), "%s", val);
		*seen |= ST_NAME;
	} else if (!strcmp(key, "State")) {
		st->state = val[0];
		*seen |= ST_STATE;
	} else if (!strcmp(key, "Umask")) {
		return sscanf(val, "%o", &st->umask) == 1 ? 0 : -EINVAL;
	} else if (!strcmp(key, "Tgid") || !strcmp(key, "Pid") || !strcmp(key, "PPid") || !strcmp(key, "TracerPid") ||
		   !strcmp(key, "Threads") || !strcmp(key, "NoNewPrivs") || !strcmp(key, "Seccomp") ||
		   !strcmp(key, "Seccomp_filters") || !strcmp(key, "THP_enabled")) {
		if (parse_int_list(val, &l, 1) != 1)
			return -EINVAL;
		if (!strcmp(key, "Tgid"))
			st->tgid = l;
		else if (!strcmp(key, "Pid"))
			st->pid = l, *seen |= ST_PIDS;
		else if (!strcmp(key, "PPid"))
			st->ppid = l;
		else if (!strcmp(key, "TracerPid"))
			st->tracer_pid = l;
		else if (!strcmp(key, "Threads"))
			st->threads = l;
		else if (!strcmp(key, "NoNewPrivs"))
			st->no_new_privs = l;
		else if (!strcmp(key, "Seccomp"))
			st->seccomp = l;
		else if (!strcmp(key, "THP_enabled"))
			st->thp_enabled = l;
		else
			st->seccomp_filters = l;
	} else if (!strcmp(key, "Uid")) {
		*seen |= ST_UID;
		return parse_ids4(val, st->uid);
	} else if (!strcmp(key, "Gid")) {
		*seen |= ST_GID;
		return parse_ids4(val, st->gid);
	} else if (!strcmp(key, "Groups")) {
		return parse_groups(val, st);
	} else if (!strcmp(key, "NStgid")) {
		return parse_pid_list(val, st->nstgid, &st->ns_levels);
	} else if (!strcmp(key, "NSpid")) {
		return parse_pid_list(val, st->nspid, &st->ns_levels);
	} else if (!strcmp(key, "NSpgid")) {
		return parse_pid_list(val, st->nspgid, &st->ns_levels);
	} else if (!strcmp(key, "NSsid")) {
		return parse_pid_list(val, st->nssid, &st->ns_levels);
	} else if (!strcmp(key, "SigPnd")) {
		sig = &st->sigpnd;
	} else if (!strcmp(key, "ShdPnd")) {
		sig = &st->shdpnd;
	} else if (!strcmp(key, "SigBlk")) {
		sig = &st->sigblk, *seen |= ST_SIG;
	} else if (!strcmp(key, "SigIgn")) {
		sig = &st->sigign;
	} else if (!strcmp(key, "SigCgt")) {
		sig = &st->sigcgt;
	} else if (!strcmp(key, "CapInh")) {
		cap = &st->cap_inh;
	} else if (!strcmp(key, "CapPrm")) {
		cap = &st->cap_prm;
	} else if (!strcmp(key, "CapEff")) {
		cap = &st->cap_eff, *seen |= ST_CAP;
	} else if (!strcmp(key, "CapBnd")) {
		cap = &st->cap_bnd;
	} else if (!strcmp(key, "CapAmb")) {
		cap = &st->cap_amb;
	}
	if (sig)
		return parse_hex64(val, sig);
	if (cap)
		return parse_hex64(val, cap);
	return 0;
}

int parse_status_buf(const char *buf, struct proc_status *ret)
{
	struct proc_status st = { .umask = -1, .seccomp = -1, .seccomp_filters = -1, .thp_enabled = -1 };
	unsigned int seen = 0;
	const char *s = buf;

	while (*s) {
		const char *nl = strchr(s, '\n'), *colon;
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		char line[512];
		int err;

		/* Name: is the only line with free text; it is escaped by the kernel and short */
		if (len >= sizeof(line))
			len = sizeof(line) - 1;
		memcpy(line, s, len);
		line[len] = '\0';
		s += nl ? (size_t)(nl - s) + 1 : strlen(s);

		colon = strchr(line, ':');
		if (!colon)
			continue;
		line[colon - line] = '\0';
		const char *val = colon + 1;
		if (strcmp(line, "Name"))
			while (*val == ' ' || *val == '\t')
				val++;
		else if (*val == '\t')
			val++;	/* the name itself may start with blanks */

		err = parse_status_line(line, val, &st, &seen);
		if (err) {
			pr_debug("status: bad %s: '%s'\n", line, val);
			proc_status_free(&st);
			return err;
		}
	}
	if ((seen & ST_REQUIRED) != ST_REQUIRED) {
		pr_debug("status: missing lines (have %#x)\n", seen);
		proc_status_free(&st);
		return -EINVAL;
	}
	*ret = st;
	return 0;
}

int parse_pid_status(int proc_dfd, struct proc_status *ret)
{
	_cleanup_free_ char *buf = NULL;
	ssize_t n = read_file_alloc_at(proc_dfd, "status", &buf);

	if (n < 0)
		return n;
	return parse_status_buf(buf, ret);
}

/* ---- fdinfo ---- */

void proc_fdinfo_free(struct proc_fdinfo *fi)
{
	if (!fi)
		return;
	free(fi->extra);
	free(fi->buf);
	fi->extra = NULL;
	fi->buf = NULL;
	fi->nr_extra = 0;
}

static int parse_ull(const char *s, int base, unsigned long long *ret)
{
	char *end;

	errno = 0;
	*ret = strtoull(s, &end, base);
	if (errno || end == s || (*end && *end != ' ' && *end != '\t'))
		return -EINVAL;
	return 0;
}

int proc_fdinfo_shrink(struct proc_fdinfo *fi)
{
	size_t len = 0;
	char *nbuf;

	for (int i = 0; i < fi->nr_extra; i++) {
		size_t end = (size_t)(fi->extra[i].val - fi->buf) + strlen(fi->extra[i].val) + 1;

		len = max(len, end);
	}
	if (!len) {
		free(fi->buf);
		fi->buf = NULL;
		return 0;
	}
	nbuf = malloc(len);
	if (!nbuf)
		return -ENOMEM;
	memcpy(nbuf, fi->buf, len);
	for (int i = 0; i < fi->nr_extra; i++) {
		fi->extra[i].key = nbuf + (fi->extra[i].key - fi->buf);
		fi->extra[i].val = nbuf + (fi->extra[i].val - fi->buf);
	}
	free(fi->buf);
	fi->buf = nbuf;
	return 0;
}

int parse_fdinfo_buf(char *buf, struct proc_fdinfo *ret)
{
	struct proc_fdinfo fi = { .buf = buf, .mnt_id = -1 };
	char *pos = buf, *line;
	unsigned int seen = 0;
	int cap = 0;

	while ((line = next_line(&pos))) {
		char *colon = strchr(line, ':'), *val;
		unsigned long long v;
		int err = 0;

		if (!*line)
			continue;
		if (colon) {
			*colon = '\0';
			val = colon + 1;
			while (*val == ' ' || *val == '\t')
				val++;
		} else {
			val = line + strlen(line);
		}
		if (!strcmp(line, "pos")) {
			err = parse_ull(val, 10, &fi.pos);
			seen |= 1;
		} else if (!strcmp(line, "flags")) {
			err = parse_ull(val, 8, &v);
			fi.flags = v;
			seen |= 2;
		} else if (!strcmp(line, "mnt_id")) {
			err = parse_ull(val, 10, &v);
			fi.mnt_id = v;
		} else if (!strcmp(line, "ino")) {
			err = parse_ull(val, 10, &fi.ino);
		} else {
			if (fi.nr_extra == cap) {
				struct fdinfo_kv *nk;

				cap = cap ? cap * 2 : 8;
				nk = realloc(fi.extra, cap * sizeof(*nk));
				if (!nk) {
					proc_fdinfo_free(&fi);
					return -ENOMEM;
				}
				fi.extra = nk;
			}
			fi.extra[fi.nr_extra].key = line;
			fi.extra[fi.nr_extra].val = val;
			fi.nr_extra++;
		}
		if (err) {
			pr_debug("fdinfo: bad %s: '%s'\n", line, val);
			proc_fdinfo_free(&fi);
			return err;
		}
	}
	if (seen != 3) {
		pr_debug("fdinfo: no pos: or flags: line\n");
		proc_fdinfo_free(&fi);
		return -EINVAL;
	}
	*ret = fi;
	return 0;
}

int parse_pid_fdinfo(int proc_dfd, int fd, struct proc_fdinfo *ret)
{
	char name[32], *buf = NULL;
	ssize_t n;

	snprintf(name, sizeof(name), "fdinfo/%d", fd);
	n = read_record_alloc_at(proc_dfd, name, &buf);
	if (n < 0)
		return n;
	return parse_fdinfo_buf(buf, ret);
}

const char *fdinfo_get(const struct proc_fdinfo *fi, const char *key)
{
	for (int i = 0; i < fi->nr_extra; i++)
		if (!strcmp(fi->extra[i].key, key))
			return fi->extra[i].val;
	return NULL;
}

/* ---- limits ---- */

/* The kernel's names, in RLIMIT_* order. */
static const char *const rlimit_names[PROC_RLIM_NLIMITS] = {
	"Max cpu time",	      "Max file size",	     "Max data size",	      "Max stack size",
	"Max core file size", "Max resident set",    "Max processes",	      "Max open files",
	"Max locked memory",  "Max address space",   "Max file locks",	      "Max pending signals",
	"Max msgqueue size",  "Max nice priority",   "Max realtime priority", "Max realtime timeout",
};

static int parse_rlim_value(const char **s, uint64_t *ret)
{
	const char *p = *s;
	char *end;

	while (*p == ' ')
		p++;
	if (startswith(p, "unlimited")) {
		*ret = UINT64_MAX;	/* RLIM_INFINITY */
		*s = p + strlen("unlimited");
		return 0;
	}
	errno = 0;
	*ret = strtoull(p, &end, 10);
	if (errno || end == p)
		return -EINVAL;
	*s = end;
	return 0;
}

int parse_limits_buf(const char *buf, struct proc_rlimits *ret)
{
	struct proc_rlimits rl = {};
	const char *s = buf;

	while (s && *s) {
		const char *nl = strchr(s, '\n');
		int i;

		for (i = 0; i < PROC_RLIM_NLIMITS; i++) {
			size_t len = strlen(rlimit_names[i]);

			if (!strncmp(s, rlimit_names[i], len) && s[len] == ' ') {
				const char *p = s + len;

				if (parse_rlim_value(&p, &rl.r[i].cur) || parse_rlim_value(&p, &rl.r[i].max)) {
					pr_debug("limits: bad line for %s\n", rlimit_names[i]);
					return -EINVAL;
				}
				if (i + 1 > rl.nr)
					rl.nr = i + 1;
				break;
			}
		}
		s = nl ? nl + 1 : NULL;
	}
	if (!rl.nr)
		return -EINVAL;
	*ret = rl;
	return 0;
}

int parse_pid_limits(int proc_dfd, struct proc_rlimits *ret)
{
	char buf[4096];
	int n = read_file_at(proc_dfd, "limits", buf, sizeof(buf));

	if (n < 0)
		return n;
	return parse_limits_buf(buf, ret);
}

/* ---- auxv ---- */

int parse_auxv_buf(const void *buf, size_t len, uint64_t *ret, int max_words)
{
	const uint64_t *w = buf;
	size_t n = len / sizeof(uint64_t), i;

	if (len % (2 * sizeof(uint64_t)))
		return -EINVAL;
	for (i = 0; i + 1 < n; i += 2) {
		if ((int)(i + 2) > max_words)
			return -E2BIG;
		ret[i] = w[i];
		ret[i + 1] = w[i + 1];
		if (w[i] == 0)	/* AT_NULL ends the vector */
			return i + 2;
	}
	return -EINVAL;	/* no AT_NULL */
}

int parse_pid_auxv(int proc_dfd, uint64_t *ret, int max_words)
{
	uint64_t buf[PROC_AUXV_MAX_WORDS + 2];
	_cleanup_close_ int fd = openat(proc_dfd, "auxv", O_RDONLY | O_CLOEXEC);
	int n;

	if (fd < 0)
		return -errno;
	n = read_all(fd, buf, sizeof(buf));
	if (n < 0)
		return n;
	return parse_auxv_buf(buf, n, ret, max_words);
}

/* ---- mountinfo ---- */

/* Undo the kernel's octal escapes (\040 for a space, \011, \012, \134) in place. */
static void unescape_octal(char *s)
{
	char *d = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
		    s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = '\0';
}

/* The next space-separated word of *pos, NUL-terminated in place; NULL at the end. */
static char *next_word(char **pos)
{
	char *s = *pos, *sp;

	while (*s == ' ')
		s++;
	if (!*s)
		return NULL;
	sp = strchr(s, ' ');
	if (sp) {
		*sp = '\0';
		*pos = sp + 1;
	} else {
		*pos = s + strlen(s);
	}
	return s;
}

static int parse_mountinfo_line(char *line, struct proc_mount *m)
{
	char *pos = line, *w, *f[6];
	unsigned int maj, min;

	memset(m, 0, sizeof(*m));
	for (int i = 0; i < 6; i++) {
		f[i] = next_word(&pos);
		if (!f[i])
			return -EINVAL;
	}
	if (sscanf(f[0], "%d", &m->mnt_id) != 1 || sscanf(f[1], "%d", &m->parent_id) != 1 ||
	    sscanf(f[2], "%u:%u", &maj, &min) != 2)
		return -EINVAL;
	m->major = maj;
	m->minor = min;
	m->root = f[3];
	m->mountpoint = f[4];
	m->mnt_opts = f[5];
	/* optional fields up to the "-" */
	while ((w = next_word(&pos)) && strcmp(w, "-")) {
		if (!strncmp(w, "shared:", 7))
			m->shared_id = atoi(w + 7);
		else if (!strncmp(w, "master:", 7))
			m->master_id = atoi(w + 7);
		else if (!strcmp(w, "unbindable"))
			m->unbindable = true;
		/* propagate_from: only a hint for the reader, not state */
	}
	if (!w)
		return -EINVAL;
	m->fstype = next_word(&pos);
	m->source = next_word(&pos);
	m->sb_opts = next_word(&pos);
	if (!m->fstype || !m->source || !m->sb_opts)
		return -EINVAL;
	unescape_octal(m->root);
	unescape_octal(m->mountpoint);
	unescape_octal(m->source);
	return 0;
}

int parse_mountinfo_buf(char *buf, struct proc_mounts *ret)
{
	struct proc_mounts ms = { .buf = buf };
	char *pos = buf, *line;
	int err;

	while ((line = next_line(&pos))) {
		struct proc_mount *n;

		if (!*line)
			continue;
		n = realloc(ms.m, (ms.nr + 1) * sizeof(*ms.m));
		if (!n) {
			err = -ENOMEM;
			goto fail;
		}
		ms.m = n;
		err = parse_mountinfo_line(line, &ms.m[ms.nr]);
		if (err) {
			pr_debug("mountinfo: bad line %d\n", ms.nr + 1);
			goto fail;
		}
		ms.nr++;
	}
	*ret = ms;
	return 0;
fail:
	proc_mounts_free(&ms);
	return err;
}

int parse_pid_mountinfo(int proc_dfd, struct proc_mounts *ret)
{
	char *buf = NULL;
	ssize_t n;

	n = read_file_alloc_at(proc_dfd, "mountinfo", &buf);
	if (n < 0)
		return n;
	return parse_mountinfo_buf(buf, ret);
}

void proc_mounts_free(struct proc_mounts *ms)
{
	free(ms->m);
	free(ms->buf);
	memset(ms, 0, sizeof(*ms));
}

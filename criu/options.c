// SPDX-License-Identifier: GPL-2.0
/*
 * The options: one table with every option of CRIU 4.2's command line, what
 * it does here, and whether it works, is accepted without effect (a hint, or
 * nothing to do for what this criu restores), or is refused ("not supported
 * yet"). --help is printed from the same table. Documentation/criu.txt lists
 * the same three groups.
 */
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "cr_options.h"
#include "log.h"
#include "lsm.h"
#include "version.h"
#include "page-xfer.h"

/* Process-wide: the options of this criu run (command line, config files or one RPC request). */
struct cr_options opts;

void opts_init(void)
{
	memset(&opts, 0, sizeof(opts));
	opts.loglevel = DEFAULT_LOGLEVEL;
	opts.status_fd = -1;
	opts.ps_socket = -1;
	opts.ps_port = PS_DEFAULT_PORT;
	opts.ghost_limit = DEFAULT_GHOST_LIMIT;
	opts.timeout = DEFAULT_TIMEOUT;
}

bool fault_injected(const char *step)
{
	return opts.fault_inject && !strcmp(opts.fault_inject, step);
}

/* Process-wide, like opts: the number of the last fault_step() of this dump or restore. */
static unsigned int fault_step_nr;

void fault_steps_reset(void)
{
	fault_step_nr = 0;
}

int fault_step(const char *name)
{
	char *end;
	unsigned long n;

	fault_step_nr++;
	pr_info("fault step %u: %s\n", fault_step_nr, name);
	if (!opts.fault_inject)
		return 0;
	n = strtoul(opts.fault_inject, &end, 10);
	if (strcmp(opts.fault_inject, name) && (*end || end == opts.fault_inject || n != fault_step_nr))
		return 0;
	return pr_fail(-EIO, "fault injected: %s (step %u)\n", name, fault_step_nr);
}

/* ------------------------------------------------------------ errors */

/*
 * "--name", "--no-name" or "-c" of the option being applied, and where it came
 * from. File scope: parser scratch for opt_error(), one option at a time.
 */
static char cur_opt[80];
static const char *cur_source;

static int __attribute__((format(printf, 1, 2))) opt_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "criu: %s", cur_opt);
	if (cur_source)
		fprintf(stderr, " (in %s)", cur_source);
	fprintf(stderr, ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -EINVAL;
}

/* ------------------------------------------------------------ value parsers */

static int parse_int(const char *s, long min, long max, long *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int parse_pid(const char *s, pid_t *ret)
{
	long v;

	if (parse_int(s, 1, INT_MAX, &v))
		return -EINVAL;
	*ret = v;
	return 0;
}

/* like CRIU's: a number with an optional K, M or G suffix */
static int parse_size(const char *s, unsigned long long *ret)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	switch (*end) {
	case 'K':
		v <<= 10;
		end++;
		break;
	case 'M':
		v <<= 20;
		end++;
		break;
	case 'G':
		v <<= 30;
		end++;
		break;
	}
	if (*end)
		return -EINVAL;
	*ret = v;
	return 0;
}

static bool one_of(const char *arg, const char *const *words)
{
	for (; *words; words++)
		if (!strcmp(arg, *words))
			return true;
	return false;
}

/* ------------------------------------------------------------ setters */

static int set_tree(const char *arg)
{
	if (parse_pid(arg, &opts.tree_id))
		return opt_error("'%s' is not a pid", arg);
	return 0;
}

/* -v, -vN, -vvv, --verbosity, --verbosity=N, and "-verbosity=N" (-v with "erbosity=N") as zdtm.py sends it */
static int set_verbosity(const char *arg)
{
	long v;

	if (!arg)
		v = opts.loglevel + 1;
	else if (strspn(arg, "v") == strlen(arg))
		v = opts.loglevel + 1 + strlen(arg);
	else if (!strncmp(arg, "erbosity=", 9) && !parse_int(arg + 9, 0, INT_MAX, &v))
		;
	else if (parse_int(arg, 0, INT_MAX, &v))
		return opt_error("'%s' is not a log level", arg);
	opts.loglevel = min(v, (long)LOG_DEBUG);
	return 0;
}

static int set_script(const char *arg)
{
	char **s = xrealloc(opts.scripts, (opts.nr_scripts + 1) * sizeof(*s));

	if (!s)
		return -ENOMEM;
	opts.scripts = s;
	opts.scripts[opts.nr_scripts++] = (char *)arg;
	return 0;
}

static int set_status_fd(const char *arg)
{
	long fd;

	if (parse_int(arg, 0, INT_MAX, &fd))
		return opt_error("'%s' is not a file descriptor", arg);
	opts.status_fd = fd;
	return 0;
}

static int set_port(const char *arg)
{
	long port;

	if (parse_int(arg, 0, 65535, &port))
		return opt_error("'%s' is not a port number", arg);
	opts.ps_port = port;
	return 0;
}

static int set_ps_socket(const char *arg)
{
	long fd;

	if (parse_int(arg, 0, INT_MAX, &fd))
		return opt_error("'%s' is not a file descriptor", arg);
	opts.ps_socket = fd;
	return 0;
}

/* CRIU's hidden --close FD: close an fd criu was started with */
static int set_close(const char *arg)
{
	long fd;

	if (parse_int(arg, 0, INT_MAX, &fd))
		return opt_error("'%s' is not a file descriptor", arg);
	close(fd);
	return 0;
}

static int set_ghost_limit(const char *arg)
{
	if (parse_size(arg, &opts.ghost_limit))
		return opt_error("'%s' is not a size (NUM[K|M|G])", arg);
	return 0;
}

static int set_timeout(const char *arg)
{
	long v;

	if (parse_int(arg, 0, INT_MAX, &v))
		return opt_error("'%s' is not a number of seconds", arg);
	opts.timeout = v;
	return 0;
}

static int set_pidfd_external(const char *arg)
{
	if (!strcmp(arg, "dead"))
		opts.pidfd_external = PIDFD_EXT_DEAD;
	else if (!strcmp(arg, "strict"))
		opts.pidfd_external = PIDFD_EXT_STRICT;
	else
		return opt_error("takes 'dead' or 'strict', not '%s'", arg);
	return 0;
}

static int set_pidfd_map(const char *arg)
{
	const char *colon = strchr(arg, ':');
	struct pidfd_ext_map *m;
	char from_s[32];
	pid_t from, to;

	if (!colon || colon == arg || (size_t)(colon - arg) >= sizeof(from_s))
		return opt_error("takes PID:NEWPID, not '%s'", arg);
	memcpy(from_s, arg, colon - arg);
	from_s[colon - arg] = '\0';
	if (parse_pid(from_s, &from) || parse_pid(colon + 1, &to))
		return opt_error("takes PID:NEWPID, not '%s'", arg);
	m = xrealloc(opts.pidfd_ext_maps, (opts.nr_pidfd_ext_maps + 1) * sizeof(*m));
	if (!m)
		return -ENOMEM;
	m[opts.nr_pidfd_ext_maps].key = from;
	m[opts.nr_pidfd_ext_maps].pid = to;
	opts.pidfd_ext_maps = m;
	opts.nr_pidfd_ext_maps++;
	return 0;
}

/* --external net[INO]:KEY */
static int set_external_net(const char *arg)
{
	unsigned long long ino;
	struct ext_net_opt *e;
	char *end;

	ino = strtoull(arg + 4, &end, 10);
	if (end == arg + 4 || strncmp(end, "]:", 2) || !end[2])
		return opt_error("takes net[INO]:KEY, not '%s'", arg);
	e = xrealloc(opts.ext_net, (opts.nr_ext_net + 1) * sizeof(*e));
	if (!e)
		return -ENOMEM;
	opts.ext_net = e;
	e[opts.nr_ext_net].ino = ino;
	e[opts.nr_ext_net].key = xstrdup(end + 2);
	if (!e[opts.nr_ext_net].key)
		return -ENOMEM;
	opts.nr_ext_net++;
	return 0;
}

static int add_ext_unix_ino(const char *s, const char **ret_end)
{
	unsigned long ino;
	uint32_t *v;
	char *end;

	errno = 0;
	ino = strtoul(s, &end, 10);
	if (end == s || errno || !ino || ino > UINT32_MAX || *s == '-')
		return -EINVAL;
	v = xrealloc(opts.ext_unix_inos, (opts.nr_ext_unix_inos + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	opts.ext_unix_inos = v;
	v[opts.nr_ext_unix_inos++] = (uint32_t)ino;
	*ret_end = end;
	return 0;
}

/* --ext-unix-sk[=INO[,INO...]], -x[INO,...]: without inodes, peers that are named datagram sockets */
static int set_ext_unix_sk(const char *arg)
{
	const char *s = arg;

	opts.ext_unix_sk = true;
	while (s && *s) {
		int ret = add_ext_unix_ino(s, &s);

		if (ret == -ENOMEM)
			return ret;
		if (ret || (*s && *s != ','))
			return opt_error("takes socket inode numbers separated by commas, not '%s'", arg);
		s += *s == ',';
	}
	return 0;
}

/* --external unix[INO] */
static int set_external_unix(const char *arg)
{
	const char *end;
	int ret = add_ext_unix_ino(arg + 5, &end);

	if (ret == -ENOMEM)
		return ret;
	if (ret || strcmp(end, "]"))
		return opt_error("takes unix[INO], not '%s'", arg);
	return 0;
}

/* --external file[MNT_ID:INO], both hex (CRIU's spelling: the mount id of the fd's fdinfo, the inode) */
static int set_external_file(const char *arg)
{
	unsigned long long mnt, ino;
	char **v, *key;
	int n = 0;

	if (sscanf(arg, "file[%llx:%llx]%n", &mnt, &ino, &n) != 2 || arg[n])
		return opt_error("takes file[MNT_ID:INODE] in hex, not '%s'", arg);
	if (asprintf(&key, "file[%llx:%llx]", mnt, ino) < 0)
		return -ENOMEM;
	v = xrealloc(opts.ext_files, (opts.nr_ext_files + 1) * sizeof(*v));
	if (!v) {
		free(key);
		return -ENOMEM;
	}
	opts.ext_files = v;
	v[opts.nr_ext_files++] = key;
	return 0;
}

const char *opts_ext_file(int mnt_id, unsigned long long ino)
{
	char key[64];

	snprintf(key, sizeof(key), "file[%x:%llx]", mnt_id, ino);
	for (int i = 0; i < opts.nr_ext_files; i++)
		if (!strcmp(opts.ext_files[i], key))
			return opts.ext_files[i];
	return NULL;
}

bool opts_ext_unix_ino(uint32_t ino)
{
	for (int i = 0; i < opts.nr_ext_unix_inos; i++)
		if (opts.ext_unix_inos[i] == ino)
			return true;
	return false;
}

/* --inherit-fd fd[N]:KEY */
static int set_inherit_fd(const char *arg)
{
	struct inherit_fd_opt *e;
	char *end;
	long fd;

	if (strncmp(arg, "fd[", 3))
		return opt_error("takes fd[N]:KEY, not '%s'", arg);
	fd = strtol(arg + 3, &end, 10);
	if (end == arg + 3 || fd < 0 || fd > INT_MAX || strncmp(end, "]:", 2) || !end[2])
		return opt_error("takes fd[N]:KEY, not '%s'", arg);
	e = xrealloc(opts.inherit_fds, (opts.nr_inherit_fds + 1) * sizeof(*e));
	if (!e)
		return -ENOMEM;
	opts.inherit_fds = e;
	e[opts.nr_inherit_fds].fd = (int)fd;
	e[opts.nr_inherit_fds].key = xstrdup(end + 2);
	if (!e[opts.nr_inherit_fds].key)
		return -ENOMEM;
	opts.nr_inherit_fds++;
	return 0;
}

int inherit_fd_lookup(const char *key)
{
	for (int i = 0; i < opts.nr_inherit_fds; i++)
		if (!strcmp(opts.inherit_fds[i].key, key))
			return opts.inherit_fds[i].fd;
	return -1;
}

static int set_empty_ns(const char *arg)
{
	if (strcmp(arg, "net"))
		return opt_error("only 'net' is supported, not '%s'", arg);
	opts.empty_ns |= CLONE_NEWNET;
	return 0;
}

/* --join-ns NS:PID|PATH (CRIU's extra options, for user namespaces, are not supported) */
static int set_join_ns(const char *arg)
{
	static const char *const kinds[] = { [NS_UTS] = "uts", [NS_IPC] = "ipc", [NS_NET] = "net", [NS_TIME] = "time" };
	const char *colon = strchr(arg, ':'), *target;
	char path[64];
	pid_t pid;

	if (!colon || !colon[1])
		return opt_error("takes NS:PID or NS:PATH, not '%s'", arg);
	target = colon + 1;
	if (strchr(target, ','))
		return opt_error("extra options are not supported: '%s'", arg);
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		if (!kinds[k] || strncmp(arg, kinds[k], colon - arg) || kinds[k][colon - arg])
			continue;
		if (!parse_pid(target, &pid)) {
			snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, kinds[k]);
			target = path;
		}
		free(opts.join_ns[k]);
		opts.join_ns[k] = xstrdup(target);
		return opts.join_ns[k] ? 0 : -ENOMEM;
	}
	return opt_error("can join a net, uts, ipc or time namespace, not '%.*s'", (int)(colon - arg), arg);
}

/* A key and a value for the mount maps, as given (each non-empty). */
int opts_add_ext_mnt(const char *key, size_t key_len, const char *val)
{
	struct ext_mnt_map *m;

	if (!key_len || !*val)
		return -EINVAL;
	m = xrealloc(opts.ext_mnts, (opts.nr_ext_mnts + 1) * sizeof(*m));
	if (!m)
		return -ENOMEM;
	opts.ext_mnts = m;
	m[opts.nr_ext_mnts].key = strndup(key, key_len);
	m[opts.nr_ext_mnts].val = strdup(val);
	if (!m[opts.nr_ext_mnts].key || !m[opts.nr_ext_mnts].val)
		return -ENOMEM;
	opts.nr_ext_mnts++;
	return 0;
}

/* --root: a relative path is taken from the directory criu was started in (it moves to the work dir) */
static int set_root(const char *arg)
{
	char cwd[PATH_MAX];
	char *abs = NULL;

	if (!*arg)
		return opt_error("takes a directory");
	if (arg[0] == '/')
		abs = strdup(arg);
	else if (getcwd(cwd, sizeof(cwd)) && asprintf(&abs, "%s/%s", cwd, arg) < 0)
		abs = NULL;
	if (!abs)
		return opt_error("can't make '%s' absolute", arg);
	opts.root = abs;
	return 0;
}

/* --ext-mount-map A:B (dump: mountpoint A gets key B; restore: key A comes from path B) */
static int set_ext_mount_map(const char *arg)
{
	const char *colon = strchr(arg, ':');

	if (!colon || opts_add_ext_mnt(arg, colon - arg, colon + 1))
		return opt_error("takes KEY:VALUE, not '%s'", arg);
	return 0;
}

/* --external mnt[A]:B, the mount maps' other spelling */
static int set_external_mnt(const char *arg)
{
	const char *close = strstr(arg, "]:");

	if (!close || opts_add_ext_mnt(arg + 4, close - arg - 4, close + 2))
		return opt_error("takes mnt[KEY]:VALUE with both non-empty (mnt[]: auto-detection is not supported), "
				 "not '%s'",
				 arg);
	return 0;
}

/* --external net[INO]:KEY, mnt[A]:B, unix[INO] or file[MNT_ID:INO] */
static int set_external(const char *arg)
{
	if (!strncmp(arg, "net[", 4))
		return set_external_net(arg);
	if (!strncmp(arg, "mnt[", 4))
		return set_external_mnt(arg);
	if (!strncmp(arg, "unix[", 5))
		return set_external_unix(arg);
	if (!strncmp(arg, "file[", 5))
		return set_external_file(arg);
	return opt_error("only net[INO]:KEY, mnt[KEY]:VALUE, unix[INO] and file[MNT_ID:INO] are supported yet, not '%s'",
			 arg);
}

static int set_lsm_profile(const char *arg)
{
	enum lsm_kind kind;
	const char *name;

	if (lsm_parse_profile(arg, &kind, &name))
		return opt_error("takes apparmor:PROFILE or selinux:CONTEXT, not '%s'", arg);
	opts.lsm_profile = arg;
	return 0;
}

static int set_all(const char *arg)
{
	opts.check_extra = opts.check_experimental = true;
	return 0;
}

/* --config is read before the options are applied (config.c); in a configuration file it does nothing, as in CRIU */
static int set_nothing(const char *arg)
{
	return 0;
}

/* criu never compares CPUs: only 'none' (no check) is what it does */
static int set_cpu_cap(const char *arg)
{
	if (arg && !strcmp(arg, "none"))
		return 0;
	return opt_error("not supported yet (criu does not compare CPUs: only --cpu-cap=none)");
}

/* --manage-cgroups[=MODE]: CRIU's modes; without a mode, soft */
static int set_manage_cgroups(const char *arg)
{
	static const struct {
		const char *name;
		enum cg_mode mode;
	} modes[] = {
		{ "soft", CG_MODE_SOFT }, { "ignore", CG_MODE_IGNORE }, { "none", CG_MODE_NONE },
		{ "props", CG_MODE_PROPS }, { "full", CG_MODE_FULL }, { "strict", CG_MODE_STRICT },
	};

	if (!arg) {
		opts.manage_cgroups = CG_MODE_SOFT;
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++)
		if (!strcmp(arg, modes[i].name)) {
			opts.manage_cgroups = modes[i].mode;
			return 0;
		}
	return opt_error("unknown cgroups mode '%s' (none, props, soft, full, strict or ignore)", arg);
}

int opts_add_cgroup_root(const char *ctl, const char *path)
{
	struct cg_root_opt *n;

	if (path[0] != '/')
		return -EINVAL;
	n = realloc(opts.cg_roots, (opts.nr_cg_roots + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	opts.cg_roots = n;
	n = &opts.cg_roots[opts.nr_cg_roots];
	n->ctl = ctl ? strdup(ctl) : NULL;
	n->path = strdup(path);
	if (!n->path || (ctl && !n->ctl)) {
		free(n->ctl);
		free(n->path);
		return -ENOMEM;
	}
	opts.nr_cg_roots++;
	return 0;
}

int opts_add_cgroup_dump_ctl(const char *name)
{
	char **n = realloc(opts.cg_dump_ctls, (opts.nr_cg_dump_ctls + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	opts.cg_dump_ctls = n;
	n[opts.nr_cg_dump_ctls] = strdup(name);
	if (!n[opts.nr_cg_dump_ctls])
		return -ENOMEM;
	opts.nr_cg_dump_ctls++;
	return 0;
}

static int set_cgroup_dump_ctl(const char *arg)
{
	return opts_add_cgroup_dump_ctl(arg) ? opt_error("out of memory") : 0;
}

/* --cgroup-root [CONTROLLER:]/PATH, CRIU's syntax: "cpu:/a", ":/a" for cgroup2, "/a" for every hierarchy */
static int set_cgroup_root(const char *arg)
{
	const char *colon = strchr(arg, ':');
	_cleanup_free_ char *ctl = colon ? strndup(arg, colon - arg) : NULL;
	int ret;

	if (colon && !ctl)
		return -ENOMEM;
	ret = opts_add_cgroup_root(ctl, colon ? colon + 1 : arg);
	if (ret == -EINVAL)
		return opt_error("takes [CONTROLLER:]/PATH, not '%s'", arg);
	return ret ? opt_error("%s", strerror(-ret)) : 0;
}

static int set_pre_dump_mode(const char *arg)
{
	static const char *const modes[] = { "splice", "read", NULL };

	return one_of(arg, modes) ? 0 : opt_error("takes 'splice' or 'read', not '%s'", arg);
}

static int set_network_lock(const char *arg)
{
	if (!strcmp(arg, "iptables"))
		opts.network_lock = NETWORK_LOCK_IPTABLES;
	else if (!strcmp(arg, "nftables"))
		opts.network_lock = NETWORK_LOCK_NFTABLES;
	else if (!strcmp(arg, "skip") || !strcmp(arg, "none"))
		opts.network_lock = NETWORK_LOCK_SKIP;
	else
		return opt_error("takes 'iptables', 'nftables' or 'skip', not '%s'", arg);
	return 0;
}

static int set_file_validation(const char *arg)
{
	static const char *const methods[] = { "filesize", "buildid", NULL };

	return one_of(arg, methods) ? 0 : opt_error("takes 'filesize' or 'buildid', not '%s'", arg);
}

static int set_ms(const char *arg)
{
	return opt_error("deprecated in CRIU (see \"criu check --help\")");
}

static int show_help(const char *arg)
{
	opts_usage(stdout);
	exit(0);
}

static int show_version(const char *arg)
{
	/* CRIU's format: "Version: X.Y" first; then this implementation */
	printf("Version: %s\n", CRIU_INTERFACE_VERSION);
	printf("Edition: %s %s\n", CRIU_EDITION_NAME, CRIU_EDITION_VERSION);
	exit(0);
}

/* ------------------------------------------------------------ the table */

enum opt_kind {
	WORKS,		/* does what CRIU's does */
	HINT,		/* accepted; nothing to do for this criu (criu.txt says why) */
	NOT_YET,	/* refused: "criu: --NAME: not supported yet", exit 1 */
};

struct opt_def {
	const char *name;	/* long name; NULL: a section title for --help */
	char short_name;
	unsigned char arg;	/* no_argument, required_argument, optional_argument */
	unsigned char kind;	/* enum opt_kind */
	bool negatable;		/* CRIU's boolean options also have --no-NAME */
	bool *flag;		/* a boolean: true, false for --no-NAME */
	const char **str;	/* a string: the argument */
	int (*set)(const char *arg);	/* anything else: 0 or -errno after opt_error() */
	const char *argname;	/* for --help */
	const char *help;	/* NULL: not in --help (CRIU does not list it either) */
};

#define SECTION(title)				{ .help = title }
#define FLAG(n, s, neg, f, h)			{ n, s, no_argument, WORKS, neg, .flag = f, .help = h }
#define STR(n, s, f, a, h)			{ n, s, required_argument, WORKS, false, .str = f, .argname = a, .help = h }
#define FUNC(n, s, arg, kind, fn, a, h)		{ n, s, arg, kind, false, .set = fn, .argname = a, .help = h }
#define ACCEPT(n, s, neg, h)			{ n, s, no_argument, HINT, neg, .help = h }
#define ACCEPT_ARG(n, s, a, h)			{ n, s, required_argument, HINT, false, .argname = a, .help = h }
#define STR_HINT(n, s, f, a, h)			{ n, s, required_argument, HINT, false, .str = f, .argname = a, .help = h }
#define NOPE(n, s, neg, h)			{ n, s, no_argument, NOT_YET, neg, .help = h }
#define NOPE_ARG(n, s, arg, a, h)		{ n, s, arg, NOT_YET, false, .argname = a, .help = h }

static const struct opt_def defs[] = {
	SECTION("Dump/Restore options:"),
	FUNC("tree", 't', required_argument, WORKS, set_tree, "PID", "checkpoint the process tree rooted at PID"),
	STR("images-dir", 'D', &opts.imgs_dir, "DIR", "directory of the image files (default: .)"),
	STR("work-dir", 'W', &opts.work_dir, "DIR", "directory criu works in: logs, relative paths (default: -D)"),
	FLAG("leave-running", 'R', false, &opts.leave_running, "dump: leave the tree running"),
	NOPE("leave-stopped", 's', false, "leave the tree stopped after dump or restore"),
	FLAG("restore-detached", 'd', true, &opts.restore_detached, "restore: exit once the tree runs"),
	FLAG("daemon", 0, true, &opts.restore_detached, "the same as --restore-detached; page-server: run in the background"),
	NOPE("restore-sibling", 'S', true, "restore the root task as a sibling of criu"),
	FLAG("shell-job", 'j', true, &opts.shell_job, "the tree is a shell job using criu's terminal"),
	FLAG("orphan-pts-master", 0, true, &opts.orphan_pts_master,
	     "a pty slave whose master is outside the tree: restore makes a new pty and hands its master to "
	     "the RPC client"),
	FLAG("skip-image-check", 0, false, &opts.skip_image_check,
	     "restore: don't check the images against manifest.img (hand-edited images)"),
	STR("pidfile", 0, &opts.pidfile, "FILE", "restore: write the root task's pid to FILE; page-server: its own pid (dump: ignored)"),
	FUNC("action-script", 0, required_argument, WORKS, set_script, "FILE",
	     "run FILE at each stage (CRTOOLS_SCRIPT_ACTION)"),
	FUNC("status-fd", 0, required_argument, WORKS, set_status_fd, "FD",
	     "restore: write '\\0' to FD and close it once the tree runs; page-server: once it listens"),
	FUNC("ghost-limit", 0, required_argument, WORKS, set_ghost_limit, "SIZE",
	     "dump: refuse deleted files bigger than SIZE (default 1G)"),
	FUNC("pidfd-external", 0, required_argument, WORKS, set_pidfd_external, "MODE",
	     "restore: pidfds to gone outside processes: 'dead' (default) or 'strict'"),
	FUNC("pidfd-map", 0, required_argument, WORKS, set_pidfd_map, "PID:NEWPID",
	     "restore: pidfds to outside process PID point to NEWPID"),
	FUNC("manage-cgroups", 0, optional_argument, WORKS, set_manage_cgroups, "MODE",
	     "cgroups: soft (default), full, strict, none, props or ignore"),
	FUNC("cgroup-root", 0, required_argument, WORKS, set_cgroup_root, "[CTL:]/ROOT",
	     "dump: walk the cgroups from ROOT; restore: put them under ROOT"),
	STR("cgroup-yard", 0, &opts.cgroup_yard, "PATH",
	    "use the cgroup hierarchies mounted under PATH (CRIU's layout) instead of criu's mounts"),
	STR("freeze-cgroup", 0, &opts.freeze_cgroup, "PATH",
	    "dump: freeze the cgroup directory PATH (v1 freezer or cgroup2), seize its tasks, thaw it"),
	FUNC("cgroup-dump-controller", 0, required_argument, WORKS, set_cgroup_dump_ctl, "NAME",
	     "dump: only this cgroup hierarchy (as /proc/PID/cgroup names it); repeatable"),
	FUNC("cpu-cap", 0, optional_argument, WORKS, set_cpu_cap, "CAP", "only 'none': criu does not compare CPUs"),
	FUNC("close", 0, required_argument, WORKS, set_close, "FD", NULL),
	FUNC("inherit-fd", 0, required_argument, WORKS, set_inherit_fd, "fd[NUM]:KEY",
	     "restore: criu's fd NUM is the external resource KEY"),
	FUNC("empty-ns", 0, required_argument, WORKS, set_empty_ns, "net",
	     "restore: leave the tree's network namespace empty for the setup-namespaces script"),
	FUNC("join-ns", 'J', required_argument, WORKS, set_join_ns, "NS:PID|PATH",
	     "restore: the tree joins this net, uts, ipc or time namespace"),
	FUNC("root", 'r', required_argument, WORKS, set_root, "PATH",
	     "restore: the tree's root mount is a bind of PATH (default: criu's /)"),
	FUNC("external", 0, required_argument, WORKS, set_external, "RES",
	     "net[INO]:KEY (dump: the net namespace INO is the runtime's), mnt[MOUNTPOINT]:KEY (dump), "
	     "mnt[KEY]:PATH (restore), unix[INO] (dump: socket INO's peer is outside), file[MNT_ID:INO] (dump: "
	     "restored from --inherit-fd fd[N]:file[MNT_ID:INO]): an external resource"),
	FUNC("ext-mount-map", 'M', required_argument, WORKS, set_ext_mount_map, "KEY:VAL",
	     "the same as --external mnt[KEY]:VAL"),
	FUNC("lsm-profile", 0, required_argument, WORKS, set_lsm_profile, "TYPE:NAME",
	     "restore: the LSM label of the tasks (apparmor:PROFILE or selinux:CONTEXT)"),
	FUNC("ext-unix-sk", 'x', optional_argument, WORKS, set_ext_unix_sk, "INO,...",
	     "unix sockets connected to a socket outside the tree: named datagram peers (connected to the name "
	     "again), or the sockets INO (restore: --inherit-fd fd[N]:socket:[INO])"),
	FLAG("file-locks", 'l', true, &opts.file_locks,
	     "dump and restore file locks and leases (without it a tree holding one is refused)"),
	FLAG("tcp-established", 0, true, &opts.tcp_established, "dump established TCP connections (TCP repair)"),
	FLAG("tcp-close", 0, true, &opts.tcp_close, "dump TCP connections, restore them closed"),
	FLAG("skip-in-flight", 0, true, &opts.tcp_skip_in_flight,
	     "dump: drop connections a listener has not accepted yet"),
	FLAG("tcp-skip-in-flight", 0, true, &opts.tcp_skip_in_flight, "the same as --skip-in-flight"),
	FUNC("network-lock", 0, required_argument, WORKS, set_network_lock, "METHOD",
	     "lock connections with iptables (default), nftables or skip"),

	FLAG("lazy-pages", 0, false, &opts.lazy_pages,
	     "restore: private memory comes in on demand from `criu lazy-pages`; dump: that memory stays in the "
	     "tree, served at --address:--port to `criu lazy-pages --page-server`"),
	FLAG("auto-dedup", 0, true, &opts.auto_dedup,
	     "dump, pre-dump: punch the pages written out of the parent dirs; restore: punch the images restored"),
	FLAG("track-mem", 0, true, &opts.track_mem, "dump, pre-dump: write only what changed since --prev-images-dir"),
	STR("prev-images-dir", 0, &opts.prev_imgs_dir, "DIR",
	    "dump, pre-dump: the previous pass's images (relative to -D), linked as `parent`"),
	SECTION("Page server (criu page-server; dump, pre-dump --page-server):"),
	FLAG("page-server", 0, true, &opts.use_page_server,
	     "dump, pre-dump: send the pages to a page server; lazy-pages: fetch them from one (dump --lazy-pages)"),
	STR("address", 0, &opts.ps_addr, "ADDR", "the page server's address (page-server: where to listen)"),
	FUNC("port", 0, required_argument, WORKS, set_port, "PORT", "the page server's port (default 27; 0: any)"),
	FUNC("ps-socket", 0, required_argument, WORKS, set_ps_socket, "FD",
	     "an already connected socket to or from the page server"),
	FLAG("tls", 0, true, &opts.tls, "the page server's connection through TLS"),
	STR("tls-cacert", 0, &opts.tls_cacert, "FILE", "TLS: the CA certificate (default /etc/pki/CA/cacert.pem)"),
	STR("tls-cacrl", 0, &opts.tls_cacrl, "FILE", "TLS: the CA's revocation list (default /etc/pki/CA/cacrl.pem)"),
	STR("tls-cert", 0, &opts.tls_cert, "FILE", "TLS: this side's certificate (default /etc/pki/criu/cert.pem)"),
	STR("tls-key", 0, &opts.tls_key, "FILE", "TLS: its key (default /etc/pki/criu/private/key.pem)"),
	FLAG("tls-no-cn-verify", 0, false, &opts.tls_no_cn_verify, "TLS: don't check that the peer's certificate names --address"),
	SECTION("Accepted, without effect here (see criu(8)):"),
	FUNC("timeout", 0, required_argument, WORKS, set_timeout, "NUM", "seconds to seize the tree (and freeze a cgroup)"),
	FUNC("pre-dump-mode", 0, required_argument, HINT, set_pre_dump_mode, "MODE",
	     "splice or read: the same here (pages are copied while the tree is stopped)"),
	FUNC("file-validation", 0, required_argument, HINT, set_file_validation, "METHOD",
	     "filesize or buildid (criu compares sizes)"),
	ACCEPT("link-remap", 0, true, "allow linking deleted files back (criu saves their contents)"),
	ACCEPT("evasive-devices", 0, true, "allow any path to a device (criu uses the dumped one)"),
	ACCEPT("ghost-fiemap", 0, true, "read deleted files with fiemap (criu reads them whole)"),
	ACCEPT("weak-sysctls", 0, true, "skip missing sysctls (criu restores none)"),
	ACCEPT("skip-file-rwx-check", 0, true, "skip file permission checks on restore"),
	ACCEPT("mntns-compat-mode", 0, true, "mount engine mode (criu has one)"),
	FLAG("unprivileged", 0, true, &opts.unprivileged,
	     "run as non-root with CAP_SYS_PTRACE and CAP_CHECKPOINT_RESTORE"),
	ACCEPT("allow-uprobes", 0, true, "allow uprobes vmas"),
	ACCEPT("deprecated", 0, true, "allow deprecated features (criu has none)"),
	ACCEPT("log-pid", 0, true, "one log per process (criu writes one log)"),
	ACCEPT_ARG("libdir", 'L', "DIR", "plugin directory (criu loads no plugins)"),
	ACCEPT("force-irmap", 0, true, "record inotify watch paths (criu always does)"),
	ACCEPT_ARG("irmap-scan-path", 0, "PATH", "where to look for watch paths (criu opens the handles)"),
	STR_HINT("lsm-mount-context", 0, &opts.lsm_mount_context, "CTX",
		 "SELinux context of restored mounts (criu restores no mounts yet)"),

	SECTION("Not supported yet (criu exits 1):"),
	NOPE("exec-cmd", 0, false, "restore: run a command as the tree's parent"),
	NOPE("stream", 0, true, "images through criu-image-streamer"),
	NOPE_ARG("veth-pair", 0, required_argument, "IN=OUT", NULL),
	NOPE_ARG("skip-mnt", 0, required_argument, "PATH", "skip a mount"),
	NOPE_ARG("enable-fs", 0, required_argument, "FSNAMES", "dump these filesystems' mounts"),
	NOPE("enable-external-sharing", 0, false, NULL),
	NOPE("enable-external-masters", 0, false, NULL),
	NOPE_ARG("cgroup-props", 0, required_argument, "STRING", "cgroup properties"),
	NOPE_ARG("cgroup-props-file", 0, required_argument, "FILE", "cgroup properties"),
	NOPE("display-stats", 0, true, "print dump/restore statistics"),
	FUNC("ms", 0, no_argument, WORKS, set_ms, NULL, NULL),

	SECTION("Logging:"),
	STR("log-file", 'o', &opts.log_file, "FILE", "log to FILE, relative to the work dir ('-': stderr)"),
	FUNC("verbosity", 'v', optional_argument, WORKS, set_verbosity, "NUM",
	     "-vNUM or --verbosity=NUM: 0 none .. 4 debug; -v, -vv.. add levels"),

	SECTION("Check options:"),
	STR("feature", 0, &opts.feature, "FEAT", "check one feature ('criu check --feature list')"),
	FLAG("extra", 0, true, &opts.check_extra, "also check CRIU's extra features"),
	FLAG("experimental", 0, true, &opts.check_experimental, "also check CRIU's experimental features"),
	FUNC("all", 0, no_argument, WORKS, set_all, NULL, "--extra and --experimental"),

	SECTION("Configuration files:"),
	FUNC("config", 0, required_argument, WORKS, set_nothing, "FILE", "read options from FILE, not the defaults"),
	FUNC("no-default-config", 0, no_argument, WORKS, set_nothing, NULL, "skip the default configuration files"),

	SECTION("Other options:"),
	FUNC("help", 'h', no_argument, WORKS, show_help, NULL, "this text"),
	FUNC("version", 'V', no_argument, WORKS, show_version, NULL, "print the version"),
};

/* ------------------------------------------------------------ getopt glue */

#define OPT_VAL_BASE	0x1000	/* getopt's val: OPT_VAL_BASE + index in defs[] */
#define OPT_VAL_NEG	0x8000	/* ... | OPT_VAL_NEG for --no-NAME */

static struct option long_opts[2 * ARRAY_SIZE(defs) + 1];
static char short_opts[3 * ARRAY_SIZE(defs) + 2];
static char neg_names[ARRAY_SIZE(defs)][64];

static void build_getopt_tables(void)
{
	size_t nl = 0, ns = 0;

	if (short_opts[0])
		return;
	short_opts[ns++] = ':';	/* ':' for a missing argument, '?' for an unknown option */
	for (size_t i = 0; i < ARRAY_SIZE(defs); i++) {
		const struct opt_def *d = &defs[i];

		if (!d->name)
			continue;
		long_opts[nl++] = (struct option){ d->name, d->arg, NULL, OPT_VAL_BASE + i };
		if (d->negatable) {
			snprintf(neg_names[i], sizeof(neg_names[i]), "no-%s", d->name);
			long_opts[nl++] = (struct option){ neg_names[i], no_argument, NULL, OPT_VAL_BASE + i + OPT_VAL_NEG };
		}
		if (d->short_name) {
			short_opts[ns++] = d->short_name;
			if (d->arg != no_argument)
				short_opts[ns++] = ':';
			if (d->arg == optional_argument)
				short_opts[ns++] = ':';
		}
	}
}

static const struct opt_def *def_of(int val, bool *neg)
{
	*neg = false;
	if (val >= OPT_VAL_BASE) {
		*neg = val & OPT_VAL_NEG;
		return &defs[(val & ~OPT_VAL_NEG) - OPT_VAL_BASE];
	}
	for (size_t i = 0; i < ARRAY_SIZE(defs); i++)
		if (defs[i].name && defs[i].short_name == val)
			return &defs[i];
	return NULL;
}

static void name_option(const struct opt_def *d, bool neg, bool as_short)
{
	if (as_short)
		snprintf(cur_opt, sizeof(cur_opt), "-%c", d->short_name);
	else
		snprintf(cur_opt, sizeof(cur_opt), "--%s%s", neg ? "no-" : "", d->name);
}

static int apply_one(const struct opt_def *d, bool neg, const char *arg)
{
	if (neg) {
		/* --no-NAME asks for the default: fine even when NAME itself is not supported */
		if (d->flag)
			*d->flag = false;
		return 0;
	}
	if (d->kind == NOT_YET)
		return opt_error("not supported yet");
	if (d->flag)
		*d->flag = true;
	else if (d->str)
		*d->str = arg;
	else if (d->set)
		return d->set(arg);
	return 0;
}

/* One line for what getopt refused: an unknown option, a missing or an unexpected argument. */
static int getopt_error(int c, char **argv)
{
	const struct opt_def *d = NULL;
	bool neg = false;
	const char *tok = argv[optind - 1];

	if (optopt)
		d = def_of(optopt, &neg);
	if (d)
		name_option(d, neg, optopt < OPT_VAL_BASE);
	else if (optopt)
		snprintf(cur_opt, sizeof(cur_opt), "-%c", optopt);
	else
		snprintf(cur_opt, sizeof(cur_opt), "%.*s", (int)strcspn(tok, "="), tok);
	if (c == ':')
		return opt_error("needs an argument");
	if (d)
		return opt_error("takes no argument");
	return opt_error("unknown option (criu --help)");
}

int opts_parse(int argc, char **argv, const char *source, char ***ret_args, int *ret_nr_args)
{
	int c, idx;

	build_getopt_tables();
	cur_source = source;
	optind = 0;	/* glibc: start over, for each source */
	opterr = 0;
	while ((c = getopt_long(argc, argv, short_opts, long_opts, &idx)) != -1) {
		const struct opt_def *d;
		bool neg;
		int ret;

		if (c == '?' || c == ':')
			return getopt_error(c, argv);
		d = def_of(c, &neg);
		if (!d)
			return -EINVAL;
		name_option(d, neg, c < OPT_VAL_BASE);
		ret = apply_one(d, neg, optarg);
		if (ret)
			return ret;
	}
	if (ret_args) {
		*ret_args = argv + optind;
		*ret_nr_args = argc - optind;
	} else if (optind < argc) {
		snprintf(cur_opt, sizeof(cur_opt), "'%s'", argv[optind]);
		return opt_error("not an option");
	}
	cur_source = NULL;
	return 0;
}

/* ------------------------------------------------------------ --help */

void opts_usage(FILE *f)
{
	fprintf(f, "Usage:\n"
		   "  criu dump -t PID [<options>]\n"
		   "  criu pre-dump -t PID [<options>]\n"
		   "  criu restore [<options>]\n"
		   "  criu lazy-pages -D DIR [-d] [--pidfile FILE] [--page-server --address ADDR --port PORT]\n"
		   "  criu check [--feature FEAT] [--extra] [--experimental] [--all]\n"
		   "  criu page-server [--address ADDR] [--port PORT] [-D DIR] [--daemon] [<options>]\n"
		   "  criu dedup -D DIR\n"
		   "\n"
		   "Commands:\n"
		   "  dump           checkpoint a process tree identified by pid\n"
		   "  restore        restore a process tree\n"
		   "  pre-dump       copy the memory of a process tree, which runs on (incremental dumps)\n"
		   "  check          check what the kernel and this criu support\n"
		   "  lazy-pages     serve the pages of a restore --lazy-pages (-D DIR: its images)\n"
		   "  page-server    receive the pages of a dump or pre-dump into the images dir\n"
		   "  dedup          punch the pages DIR holds out of its parent images dirs\n"
		   "  (cpuinfo: not supported yet)\n"
		   "\n"
		   "Boolean options marked [no-] can be negated: --no-NAME.\n");
	for (size_t i = 0; i < ARRAY_SIZE(defs); i++) {
		const struct opt_def *d = &defs[i];
		char left[64];

		if (!d->name) {
			fprintf(f, "\n%s\n", d->help);
			continue;
		}
		if (!d->help)
			continue;
		char sh[4] = "   ";

		if (d->short_name)
			snprintf(sh, sizeof(sh), "-%c|", d->short_name);
		snprintf(left, sizeof(left), "%s--%s%s%s%s%s", sh, d->negatable ? "[no-]" : "", d->name,
			 d->arg == optional_argument ? "[=" : (d->arg ? " " : ""), d->arg ? d->argname : "",
			 d->arg == optional_argument ? "]" : "");
		if (strlen(left) > 28)
			fprintf(f, "  %s\n  %-28s %s\n", left, "", d->help);
		else
			fprintf(f, "  %-28s %s\n", left, d->help);
	}
	fprintf(f, "\nConfiguration files, in order: /etc/criu/default.conf, ~/.criu/default.conf,\n"
		   "$CRIU_CONFIG_FILE, --config FILE; then the command line.\n");
}

// SPDX-License-Identifier: GPL-2.0
/* criu: the command line. */
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "common.h"
#include "compel/compel.h"
#include "cr_options.h"
#include "crtools.h"
#include "restore.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage:\n"
		"  criu dump -t PID [<options>]\n"
		"  criu restore [<options>]\n"
		"  criu check [--feature NAME]\n"
		"\n"
		"Commands:\n"
		"  dump           checkpoint a process tree identified by pid\n"
		"  restore        restore a process tree\n"
		"  check          check whether the kernel supports what criu needs\n"
		"\n"
		"Dump/Restore options:\n"
		"  -t|--tree PID           checkpoint the process tree rooted at PID\n"
		"  -D|--images-dir DIR     directory for the image files\n"
		"  -W|--work-dir DIR       directory for logs and pidfiles (default: the images dir)\n"
		"  -R|--leave-running      leave the tree running after dump\n"
		"  -j|--shell-job          the tree was started from a shell and uses its tty\n"
		"  -d|--restore-detached   detach from the restored tree once it runs\n"
		"  --pidfile FILE          write the root task's pid to FILE after restore\n"
		"  --pidfd-external MODE   pidfds to processes outside the tree that are gone on\n"
		"                          restore: 'dead' (default: restore them as pidfds of an\n"
		"                          exited process) or 'strict' (fail the restore)\n"
		"  --pidfd-map PID:NEWPID  restore pidfds to the outside process PID as pidfds\n"
		"                          to the live process NEWPID (may be repeated)\n"
		"\n"
		"Logging:\n"
		"  -o|--log-file FILE      log to FILE (relative to the work dir; '-' is stderr)\n"
		"  -v[NUM]                 verbosity: 0 none, 1 errors, 2 warnings (default),\n"
		"                          3 info, 4 debug; -v alone adds one level\n"
		"\n"
		"Check options:\n"
		"  --feature NAME          check one feature; exit 0 if supported, 1 if not\n"
		"                          ('criu check --feature list' lists them)\n"
		"\n"
		"Other:\n"
		"  -V|--version            print the version\n"
		"  -h|--help               this text\n");
}

static int parse_pid(const char *s, pid_t *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v <= 0 || v > INT_MAX)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int add_pidfd_map(const char *arg)
{
	char *colon = strchr(arg, ':');
	struct pidfd_ext_map *m;
	pid_t from, to;

	if (!colon)
		return -EINVAL;
	{
		char from_s[32];
		size_t n = colon - arg;

		if (n == 0 || n >= sizeof(from_s))
			return -EINVAL;
		memcpy(from_s, arg, n);
		from_s[n] = '\0';
		if (parse_pid(from_s, &from) || parse_pid(colon + 1, &to))
			return -EINVAL;
	}
	m = xrealloc(opts.pidfd_ext_maps, (opts.nr_pidfd_ext_maps + 1) * sizeof(*m));
	if (!m)
		return -ENOMEM;
	m[opts.nr_pidfd_ext_maps].key = from;
	m[opts.nr_pidfd_ext_maps].pid = to;
	opts.pidfd_ext_maps = m;
	opts.nr_pidfd_ext_maps++;
	return 0;
}

enum {
	OPT_PIDFILE = 1000,
	OPT_FEATURE,
	OPT_PIDFD_EXTERNAL,
	OPT_PIDFD_MAP,
};

/* Returns the index of the first non-option argument, or -1 after printing a usage error. */
static int parse_options(int argc, char **argv)
{
	static const char short_opts[] = "t:D:W:o:v::RjdhV";
	static const struct option long_opts[] = {
		{ "tree", required_argument, NULL, 't' },
		{ "images-dir", required_argument, NULL, 'D' },
		{ "work-dir", required_argument, NULL, 'W' },
		{ "log-file", required_argument, NULL, 'o' },
		{ "leave-running", no_argument, NULL, 'R' },
		{ "shell-job", no_argument, NULL, 'j' },
		{ "restore-detached", no_argument, NULL, 'd' },
		{ "pidfile", required_argument, NULL, OPT_PIDFILE },
		{ "feature", required_argument, NULL, OPT_FEATURE },
		{ "pidfd-external", required_argument, NULL, OPT_PIDFD_EXTERNAL },
		{ "pidfd-map", required_argument, NULL, OPT_PIDFD_MAP },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int opt, loglevel_set = 0;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1) {
		switch (opt) {
		case 't':
			if (parse_pid(optarg, &opts.tree_id)) {
				fprintf(stderr, "Error: bad pid '%s' for -t\n", optarg);
				return -1;
			}
			break;
		case 'D':
			opts.imgs_dir = optarg;
			break;
		case 'W':
			opts.work_dir = optarg;
			break;
		case 'o':
			opts.log_file = optarg;
			break;
		case 'v':
			if (optarg) {
				char *end;
				long v = strtol(optarg, &end, 10);

				/* -vvv: count the v's, as CRIU does */
				if (*optarg == 'v' && strspn(optarg, "v") == strlen(optarg))
					v = (loglevel_set ? opts.loglevel : DEFAULT_LOGLEVEL) + 1 + strlen(optarg);
				else if (*end || v < 0) {
					fprintf(stderr, "Error: bad verbosity level '%s'\n", optarg);
					return -1;
				}
				opts.loglevel = v;
			} else {
				opts.loglevel = (loglevel_set ? opts.loglevel : DEFAULT_LOGLEVEL) + 1;
			}
			if (opts.loglevel > LOG_DEBUG)
				opts.loglevel = LOG_DEBUG;
			loglevel_set = 1;
			break;
		case 'R':
			opts.leave_running = true;
			break;
		case 'j':
			opts.shell_job = true;
			break;
		case 'd':
			opts.restore_detached = true;
			break;
		case OPT_PIDFILE:
			opts.pidfile = optarg;
			break;
		case OPT_FEATURE:
			opts.feature = optarg;
			break;
		case OPT_PIDFD_EXTERNAL:
			if (!strcmp(optarg, "dead"))
				opts.pidfd_external = PIDFD_EXT_DEAD;
			else if (!strcmp(optarg, "strict"))
				opts.pidfd_external = PIDFD_EXT_STRICT;
			else {
				fprintf(stderr, "Error: --pidfd-external takes 'dead' or 'strict', not '%s'\n", optarg);
				return -1;
			}
			break;
		case OPT_PIDFD_MAP:
			if (add_pidfd_map(optarg)) {
				fprintf(stderr, "Error: --pidfd-map takes PID:NEWPID, not '%s'\n", optarg);
				return -1;
			}
			break;
		case 'V':
			printf("Version: %s (pidfd edition)\n", CRIU_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			fprintf(stderr, "Error: option '%s' requires an argument\n", argv[optind - 1]);
			return -1;
		default:
			if (optopt)
				fprintf(stderr, "Error: unknown option '-%c'\n", optopt);
			else
				fprintf(stderr, "Error: unknown option '%s'\n", argv[optind - 1]);
			return -1;
		}
	}
	return optind;
}

/* Open the images dir (created for dump) and set up the log in the work dir. */
static int setup_dirs_and_log(bool create_imgs, int *ret_dfd)
{
	const char *imgs = opts.imgs_dir ? opts.imgs_dir : ".";
	int dfd;

	if (create_imgs && mkdir(imgs, 0700) && errno != EEXIST) {
		fprintf(stderr, "Error: can't create images dir %s: %s\n", imgs, strerror(errno));
		return -1;
	}
	dfd = open(imgs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		fprintf(stderr, "Error: can't open images dir %s: %s\n", imgs, strerror(errno));
		return -1;
	}
	if (!opts.work_dir)
		opts.work_dir = imgs;
	if (opts.log_file && strcmp(opts.log_file, "-") && opts.log_file[0] != '/') {
		static char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/%s", opts.work_dir, opts.log_file);
		opts.log_file = path;
	}
	if (log_init(opts.log_file)) {
		close(dfd);
		return -1;
	}
	*ret_dfd = dfd;
	return 0;
}

int cr_restore(int img_dfd)
{
	struct restore_opts o = {
		.img_dfd = img_dfd,
		.detached = opts.restore_detached,
		.pidfile = opts.pidfile,
		.shell_job = opts.shell_job,
	};

	return cr_restore_tasks(&o);
}

int main(int argc, char **argv)
{
	const char *cmd;
	int idx, ret, dfd;

	/* RPC: criu swrk FD, criu service [...] (cr-service.c parses its own arguments) */
	if (argc > 1 && (!strcmp(argv[1], "swrk") || !strcmp(argv[1], "service")))
		return cr_service_main(argc - 1, argv + 1);
	idx = parse_options(argc, argv);
	if (idx < 0) {
		usage(stderr);
		return 1;
	}
	if (idx >= argc) {
		fprintf(stderr, "Error: no command given\n");
		usage(stderr);
		return 1;
	}
	cmd = argv[idx];
	if (idx + 1 < argc) {
		fprintf(stderr, "Error: unexpected argument '%s'\n", argv[idx + 1]);
		usage(stderr);
		return 1;
	}
	log_set_loglevel(opts.loglevel);
	compel_log_init(vprint_on_level);
	opts.fault_inject = getenv("CRIU_FAULT");

	if (!strcmp(cmd, "check")) {
		if (opts.log_file && log_init(opts.log_file))
			return 1;
		ret = cr_check(opts.feature);
		log_fini();
		return ret ? 1 : 0;
	}

	if (!strcmp(cmd, "dump")) {
		if (!opts.tree_id) {
			fprintf(stderr, "Error: dump needs a process tree: -t PID\n");
			return 1;
		}
		if (setup_dirs_and_log(true, &dfd))
			return 1;
		pr_info("Version: %s (pidfd edition)\n", CRIU_VERSION);
		ret = cr_dump_tasks(dfd, opts.tree_id);
		if (ret)
			pr_err("Dumping FAILED.\n");
		else
			pr_info("Dumping finished successfully\n");
		close(dfd);
		log_fini();
		return ret ? 1 : 0;
	}

	if (!strcmp(cmd, "restore")) {
		if (setup_dirs_and_log(false, &dfd))
			return 1;
		pr_info("Version: %s (pidfd edition)\n", CRIU_VERSION);
		ret = cr_restore(dfd);
		if (ret < 0)
			pr_err("Restoring FAILED.\n");
		close(dfd);
		log_fini();
		return ret < 0 ? 1 : ret;
	}

	fprintf(stderr, "Error: unknown command '%s'\n", cmd);
	usage(stderr);
	return 1;
}

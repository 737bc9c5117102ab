// SPDX-License-Identifier: GPL-2.0
/*
 * criu: the command line. Options come from the configuration files and
 * argv (config.c, options.c); then one command runs. Exit codes are CRIU's:
 * 0 success, 1 failure or a usage error, 255 when the post-dump script
 * failed (the tree then runs on); a foreground restore exits with the
 * restored root's status (Documentation/criu.txt, EXIT STATUS).
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "compel/compel.h"
#include "cr-config.h"
#include "cr_options.h"
#include "privs.h"
#include "cr-service.h"
#include "crtools.h"
#include "lazy-pages.h"
#include "restore.h"
#include "page-server.h"
#include "page-xfer.h"
#include "tls.h"
#include "version.h"
#include "dedup.h"
#include "mem-track.h"
#include "mem-track-holder.h"

/* criu swrk FD: the RPC worker (cr-service.c), when it is built in */

/* CRIU's commands that this criu does not have */
static const struct {
	const char *name;
	const char *why;
} other_commands[] = {
	{ "cpuinfo", "not supported yet" },
	{ "exec", "deprecated in CRIU (use compel)" },
	{ "show", "deprecated in CRIU (use crit decode)" },
};

static int log_version(void)
{
	pr_info("Version: %s (%s %s)\n", CRIU_INTERFACE_VERSION, CRIU_EDITION_NAME, CRIU_EDITION_VERSION);
	return 0;
}

/* Open the images dir (created for dump), go to the work dir (CRIU's -W), open the log there. */
static int setup_dirs_and_log(bool create_imgs, int *ret_dfd)
{
	const char *imgs = opts.imgs_dir ? opts.imgs_dir : ".";
	const char *work = opts.work_dir ? opts.work_dir : imgs;
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
	if (chdir(work)) {
		fprintf(stderr, "Error: can't change directory to %s: %s\n", work, strerror(errno));
		close(dfd);
		return -1;
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
		.lsm_profile = opts.lsm_profile,
		.skip_image_check = opts.skip_image_check,
		.lazy_pages = opts.lazy_pages,
		.auto_dedup = opts.auto_dedup,
	};

	return cr_restore_tasks(&o);
}

static int cmd_check(void)
{
	int ret;

	if (opts.work_dir && chdir(opts.work_dir)) {
		fprintf(stderr, "Error: can't change directory to %s: %s\n", opts.work_dir, strerror(errno));
		return 1;
	}
	if (opts.log_file && log_init(opts.log_file))
		return 1;
	log_version();
	ret = cr_check(opts.feature);
	log_fini();
	return ret ? 1 : 0;
}

static int cmd_dump(void)
{
	int ret, dfd;

	if (!opts.tree_id) {
		fprintf(stderr, "criu: %s needs the tree to dump: -t PID\n", opts.pre_dump ? "pre-dump" : "dump");
		return 1;
	}
	if (opts.lazy_pages && opts.pre_dump) {
		/* as CRIU's: only the final dump leaves pages on the source */
		fprintf(stderr, "criu: pre-dump --lazy-pages: only a dump can leave its pages to lazy-pages\n");
		return 1;
	}
	if (opts.auto_dedup && opts.use_page_server) {
		/* the pages go to the page server's dir: criu dedup runs there */
		fprintf(stderr, "criu: --auto-dedup with --page-server: the pages are not here; run criu dedup -D on the page server's dir\n");
		return 1;
	}
	if (setup_dirs_and_log(true, &dfd))
		return 1;
	log_version();
	mem_track_allow(mem_track_wanted(opts.pre_dump));	/* across criu processes through a holder (mem-track-holder.h) */
	ret = link_parent_dir(dfd, opts.prev_imgs_dir);
	if (!ret)
		ret = opts.pre_dump ? cr_pre_dump_tasks(dfd, opts.tree_id) : cr_dump_tasks(dfd, opts.tree_id);
	if (ret)
		pr_err("Dumping FAILED.\n");
	else
		pr_info("Dumping finished successfully\n");
	if (!ret)
		ret = dedup_after_dump(dfd);
	if (!ret && opts.pre_dump)
		track_holder_leave();
	if (!opts.pre_dump)
		mem_track_pass_done(dfd, false);	/* the count of pages taken unread; every uffd closed */
	mem_track_close_all();
	close(dfd);
	log_fini();
	if (ret == CR_DUMP_POST_SCRIPT_FAILED)
		return 255;	/* CRIU's: the post-dump script failed, the tree runs on */
	return ret ? 1 : 0;
}

/* criu dedup -D DIR */
static int cmd_dedup(void)
{
	struct dedup_stats st;
	int ret, dfd;

	if (setup_dirs_and_log(false, &dfd))
		return 1;
	log_version();
	ret = dedup_chain(dfd, true, &st);
	if (ret)
		pr_err("Dedup FAILED.\n");
	else
		pr_info("Dedup done: %llu pages punched in %d parent dirs\n", (unsigned long long)st.pages, st.levels);
	close(dfd);
	log_fini();
	return ret ? 1 : 0;
}

static int cmd_page_server(void)
{
	int ret, dfd;

	if (setup_dirs_and_log(true, &dfd))
		return 1;
	log_version();
	/* --lazy-pages serves a finished dump's dir: its `parent` link is the dump's, left alone */
	if (opts.lazy_pages && opts.prev_imgs_dir)
		ret = pr_fail(-EINVAL, "--prev-images-dir with --lazy-pages: a lazy page server serves the images dir "
				       "as it is (a parent chain is not served), it receives nothing\n");
	else
		ret = opts.lazy_pages ? 0 : link_parent_dir(dfd, opts.prev_imgs_dir);
	if (!ret)
		ret = cr_page_server(dfd);
	if (ret)
		pr_err("The page server FAILED.\n");
	close(dfd);
	log_fini();
	return ret ? 1 : 0;
}

static int cmd_restore(void)
{
	int ret, dfd;

	if (setup_dirs_and_log(false, &dfd))
		return 1;
	log_version();
	if (opts.tree_id)
		pr_warn("-t is ignored by restore\n");
	ret = cr_restore(dfd);
	if (ret < 0)
		pr_err("Restoring FAILED.\n");
	close(dfd);
	log_fini();
	return ret < 0 ? 1 : ret;
}

static int cmd_lazy_pages(void)
{
	int ret, dfd;

	struct tls_conf tc;
	struct ps_conf ps;

	if (opts.use_page_server && !opts.ps_addr && opts.ps_socket < 0) {
		fprintf(stderr, "criu: lazy-pages --page-server needs --address (and --port) of the source\n");
		return 1;
	}
	ps_conf_from_opts(&ps, &tc);
	if (setup_dirs_and_log(false, &dfd))
		return 1;
	log_version();
	ret = cr_lazy_pages(dfd, opts.restore_detached, opts.pidfile, opts.use_page_server ? &ps : NULL);
	if (ret < 0)
		pr_err("lazy-pages FAILED.\n");
	close(dfd);
	log_fini();
	return ret < 0 ? 1 : 0;
}

static int cmd_swrk(char **args, int nr_args)
{
	long fd;
	char *end;

	if (nr_args != 2) {
		fprintf(stderr, "Usage: criu swrk <fd>\n");
		return 1;
	}
	fd = strtol(args[1], &end, 10);
	if (*end || end == args[1] || fd < 0 || fd > INT_MAX) {
		fprintf(stderr, "criu: swrk: '%s' is not a file descriptor\n", args[1]);
		return 1;
	}
	return cr_service_work(fd) ? 1 : 0;
}

static int run_command(char **args, int nr_args)
{
	const char *cmd = args[0];

	if (!strcmp(cmd, "swrk"))
		return cmd_swrk(args, nr_args);
	if (!strcmp(cmd, "service"))
		return cr_service_main(nr_args, args);
	for (size_t i = 0; i < ARRAY_SIZE(other_commands); i++) {
		if (!strcmp(cmd, other_commands[i].name)) {
			fprintf(stderr, "criu: %s: %s\n", cmd, other_commands[i].why);
			return 1;
		}
	}
	if (!strcmp(cmd, "pre-dump"))
		opts.pre_dump = true;
	if (strcmp(cmd, "dump") && strcmp(cmd, "pre-dump") && strcmp(cmd, "restore") && strcmp(cmd, "check") &&
	    strcmp(cmd, "lazy-pages") && strcmp(cmd, "page-server") && strcmp(cmd, "dedup")) {
		fprintf(stderr, "criu: unknown command '%s' (criu --help)\n", cmd);
		return 1;
	}
	if (nr_args > 1) {
		fprintf(stderr, "criu: excessive parameter '%s' for command %s\n", args[1], cmd);
		return 1;
	}
	if (!strcmp(cmd, "check"))
		return cmd_check();
	if (!strcmp(cmd, "page-server"))
		return cmd_page_server();	/* no privileges needed: it writes files only */
	if (!strcmp(cmd, "dedup"))
		return cmd_dedup();		/* files only too */
	if (check_my_privileges(cmd))
		return 1;
	if (!strcmp(cmd, "dump") || !strcmp(cmd, "pre-dump"))
		return cmd_dump();
	if (!strcmp(cmd, "lazy-pages"))
		return cmd_lazy_pages();
	return cmd_restore();
}

int main(int argc, char **argv)
{
	char **args;
	int nr_args;

	opts_init();
	/* RPC: criu swrk FD, criu service [...] (cr-service.c parses its own arguments) */
	if (argc > 1 && (!strcmp(argv[1], "swrk") || !strcmp(argv[1], "service")))
		return cr_service_main(argc - 1, argv + 1);
	if (config_prescan(argc, argv)) {
		opts_usage(stdout);
		return 0;
	}
	if (config_apply_defaults())
		return 1;
	if (opts_parse(argc, argv, NULL, &args, &nr_args))
		return 1;
	if (!nr_args) {
		fprintf(stderr, "criu: no command given (criu --help)\n");
		return 1;
	}
	log_set_loglevel(opts.loglevel);
	compel_log_init(vprint_on_level);
	opts.fault_inject = getenv("CRIU_FAULT");
	return run_command(args, nr_args);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * --freeze-cgroup (freezer.h): freeze a cgroup, seize its threads, thaw.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <unistd.h>

#define LOG_PREFIX "freezer: "
#include "common.h"
#include "compel/compel.h"
#include "cr_options.h"
#include "freezer.h"
#include "log.h"

struct freeze_kind {
	const char *file;	/* the freezer's switch */
	const char *frozen, *thawed;
	const char *state;	/* the file that says it is frozen ... */
	const char *done;	/* ... with this line */
	const char *threads;	/* the threads of a cgroup */
};

static const struct freeze_kind v1 = { "freezer.state", "FROZEN", "THAWED", "freezer.state", "FROZEN", "tasks" };
static const struct freeze_kind v2 = { "cgroup.freeze", "1", "0", "cgroup.events", "frozen 1", "cgroup.threads" };

static int read_at(int dfd, const char *file, char *buf, size_t size)
{
	int ret = read_file_at(dfd, file, buf, size);

	return ret < 0 ? ret : 0;
}

/* Does file hold the line want (or start with it, for freezer.state's single word)? */
static bool has_line(const char *buf, const char *want)
{
	size_t n = strlen(want);

	for (const char *p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, want, n) && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

static int wait_frozen(int dfd, const struct freeze_kind *k, const char *path)
{
	char buf[4096];
	/* the kernel freezes asynchronously; --timeout bounds the wait, as in CRIU */
	long rounds = (long)(opts.timeout > 0 ? opts.timeout : 10) * 100;

	for (long i = 0; i < rounds; i++) {
		int ret = read_at(dfd, k->state, buf, sizeof(buf));

		if (ret)
			return pr_fail(ret, "can't read %s/%s: %s\n", path, k->state, strerror(-ret));
		if (has_line(buf, k->done))
			return 0;
		usleep(10000);
	}
	return pr_fail(-ETIMEDOUT, "%s did not freeze in %d s\n", path, opts.timeout);
}

static int add_tid(struct freezer *fz, pid_t tid)
{
	pid_t *n = realloc(fz->tids, (fz->nr + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	fz->tids = n;
	fz->tids[fz->nr++] = tid;
	return 0;
}

/* Seize and interrupt every thread listed in dfd's threads file, then the same below it. */
static int seize_dir(int dfd, const struct freeze_kind *k, struct freezer *fz, const char *path, int depth)
{
	_cleanup_free_ char *buf = NULL;
	DIR *d;
	struct dirent *de;
	int ret = 0;

	if (depth > 64)
		return pr_fail(-ELOOP, "%s: cgroups nested too deep\n", path);
	if (read_file_alloc_at(dfd, k->threads, &buf) < 0)
		return pr_fail_errno("can't read %s/%s", path, k->threads);
	for (char *p = buf, *end; *p; p = end) {
		long tid = strtol(p, &end, 10);

		if (end == p)
			break;
		if (compel_seize((pid_t)tid))
			continue;	/* gone, or a zombie thread */
		if (ptrace(PTRACE_INTERRUPT, (pid_t)tid, NULL, NULL) && errno != ESRCH)
			pr_warn("PTRACE_INTERRUPT %ld: %s\n", tid, strerror(errno));
		ret = add_tid(fz, (pid_t)tid);
		if (ret)
			return ret;
	}
	d = fdopendir(dup(dfd));
	if (!d)
		return pr_fail_errno("can't list %s", path);
	while (!ret && (de = readdir(d))) {
		_cleanup_close_ int sub = -1;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sub < 0)
			ret = pr_fail_errno("can't open %s/%s", path, de->d_name);
		else
			ret = seize_dir(sub, k, fz, path, depth + 1);
	}
	closedir(d);
	return ret;
}

static int tid_cmp(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return x < y ? -1 : x > y;
}

static void detach_all(struct freezer *fz)
{
	for (int i = 0; i < fz->nr; i++)
		compel_detach(fz->tids[i], COMPEL_TASK_ALIVE, 0);
	free(fz->tids);
	fz->tids = NULL;
	fz->nr = 0;
}

int freezer_seize(const char *path, struct freezer *fz)
{
	_cleanup_close_ int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	const struct freeze_kind *k;
	char buf[64];
	int ret, thaw;

	memset(fz, 0, sizeof(*fz));
	if (dfd < 0)
		return pr_fail_errno("--freeze-cgroup: can't open %s", path);
	k = !faccessat(dfd, v1.file, W_OK, 0) ? &v1 : !faccessat(dfd, v2.file, W_OK, 0) ? &v2 : NULL;
	if (!k)
		return pr_fail(-EINVAL, "--freeze-cgroup: %s is neither a v1 freezer cgroup nor a cgroup2 one "
				       "(no freezer.state or cgroup.freeze)\n", path);
	ret = read_at(dfd, k->file, buf, sizeof(buf));
	if (ret)
		return pr_fail(ret, "can't read %s/%s: %s\n", path, k->file, strerror(-ret));
	if (!has_line(buf, k->thawed))
		return pr_fail(-EBUSY, "--freeze-cgroup: %s is frozen already (%s is '%s'): not supported, "
				       "criu would leave it thawed\n", path, k->file, strtok(buf, "\n") ?: "");
	ret = write_file_at(dfd, k->file, k->frozen);
	if (ret)
		return pr_fail(ret, "can't freeze %s: %s\n", path, strerror(-ret));
	pr_info("froze %s (%s)\n", path, k->file);
	ret = wait_frozen(dfd, k, path);
	if (!ret)
		ret = seize_dir(dfd, k, fz, path, 0);
	/* every path out thaws it: the seized threads stop at their pending interrupt */
	thaw = write_file_at(dfd, k->file, k->thawed);
	if (thaw)
		pr_err("can't thaw %s: %s\n", path, strerror(-thaw));
	else
		pr_info("thawed %s: %d threads seized\n", path, fz->nr);
	ret = ret ?: thaw;
	if (ret) {
		detach_all(fz);
		return ret;
	}
	qsort(fz->tids, fz->nr, sizeof(*fz->tids), tid_cmp);
	return 0;
}

void freezer_fini(struct freezer *fz, struct pstree *t)
{
	for (int i = 0; i < fz->nr; i++) {
		int idx;

		if (t && pstree_find_tid(t, fz->tids[i], &idx))
			continue;
		pr_debug("thread %d of the frozen cgroup is not in the tree: let go\n", fz->tids[i]);
		compel_detach(fz->tids[i], COMPEL_TASK_ALIVE, 0);
	}
	free(fz->tids);
	fz->tids = NULL;
	fz->nr = 0;
}

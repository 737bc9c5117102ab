// SPDX-License-Identifier: GPL-2.0
/* The generic part of file dump and restore (Documentation/architecture.md); types live in their own files. */
#include <fcntl.h>
#include <stddef.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "common.h"
#include "cr_options.h"
#include "file-ext.h"
#include "deadproc.h"
#include "file-lock.h"
#include "files.h"
#include "fds-ahead.h"
#include "ghost.h"
#include "image.h"
#include "protobuf.h"
#include "restore.h"
#include "rst-ctx.h"
#include "syscalls.h"

#include "fdinfo.pb-c.h"
#include "fs.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "files: "

/* The table of file types: detection order matters (pidfs before regular files). */
static const struct file_type *const file_types[] = {
#define FILE_TYPE(name) &name##_file_type,
#include "objects.def"
};

static const struct file_type *file_type_by_num(int type)
{
	for (size_t i = 0; i < ARRAY_SIZE(file_types); i++)
		if (file_types[i]->type == type)
			return file_types[i];
	return NULL;
}

/* ===================== dump ===================== */

/*
 * Open files already written to files.img, to recognise other fds of them.
 * Files are grouped by inode; inside a group (say, every pidfd of one
 * process, which share the process's pidfs inode) the members are kept in
 * kcmp order, so finding one costs O(log n) kcmp calls however many distinct
 * files of that inode there are.
 *
 * An fd read ahead (fds-ahead.c) comes with the kcmp answer already: the
 * first fd, in the dump's order, of the same open file among the fds the
 * thread read (p->same). That first fd's id is found by its number alone
 * (reps); a first fd itself is new unless some other fd of the inode came
 * without an answer (then it is searched in m, which holds only those). The
 * first fds are kept unsorted in h, and sorted into m (by kcmp) only when an
 * fd without an answer is looked for in the group.
 */
struct seen_group {
	struct seen_group *next;	/* hash chain */
	dev_t dev;
	ino_t ino;
	uint32_t lfd_id;		/* id of criu's own reopen (exe, mappings), 0: none */
	int nr, cap;
	struct seen_member *m;		/* sorted by kcmp */
	int hnr, hcap;
	struct seen_member *h;		/* new by fds-ahead's answer, not in m: unsorted */
};

/* The id of an fd that fds-ahead names as the first of its open file, by (pid, fd). */
struct seen_rep {
	struct seen_rep *next;
	pid_t pid;
	int fd;
	uint32_t id;
};

#define SEEN_HASH_SIZE 4096
#define REP_HASH_SIZE 16384

static unsigned int seen_hash_fn(dev_t dev, ino_t ino)
{
	return (unsigned int)((ino * 2654435761u) ^ dev) % SEEN_HASH_SIZE;
}

static unsigned int rep_hash_fn(pid_t pid, int fd)
{
	return ((unsigned int)pid * 2654435761u ^ (unsigned int)fd * 40503u) % REP_HASH_SIZE;
}

static struct seen_group *seen_group(struct dump_files_ctx *ctx, dev_t dev, ino_t ino, bool create)
{
	struct seen_group **seen_hash = ctx->seen_hash;
	unsigned int h = seen_hash_fn(dev, ino);
	struct seen_group *g;

	for (g = seen_hash[h]; g; g = g->next)
		if (g->dev == dev && g->ino == ino)
			return g;
	if (!create)
		return NULL;
	g = xzalloc(sizeof(*g));
	if (!g)
		return NULL;
	g->dev = dev;
	g->ino = ino;
	g->next = seen_hash[h];
	seen_hash[h] = g;
	return g;
}

static int rep_find(struct dump_files_ctx *ctx, pid_t pid, int fd, uint32_t *ret_id)
{
	for (struct seen_rep *r = ctx->rep_hash[rep_hash_fn(pid, fd)]; r; r = r->next) {
		if (r->pid == pid && r->fd == fd) {
			*ret_id = r->id;
			return 1;
		}
	}
	return 0;
}

static int rep_add(struct dump_files_ctx *ctx, pid_t pid, int fd, uint32_t id)
{
	unsigned int h = rep_hash_fn(pid, fd);
	struct seen_rep *r = xmalloc(sizeof(*r));

	if (!r)
		return -ENOMEM;
	*r = (struct seen_rep){ .next = ctx->rep_hash[h], .pid = pid, .fd = fd, .id = id };
	ctx->rep_hash[h] = r;
	return 0;
}

int kcmp_file_search(const struct seen_member *m, int nr, pid_t pid, int fd, int *ret_idx)
{
	int lo = 0, hi = nr;

	while (lo < hi) {
		int mid = (lo + hi) / 2, r;

		if (m[mid].pid == pid && m[mid].fd == fd) {
			*ret_idx = mid;
			return 1;
		}
		r = sys_kcmp(pid, m[mid].pid, KCMP_FILE, fd, m[mid].fd);
		if (r < 0)
			return -errno;
		if (r == 0) {
			*ret_idx = mid;
			return 1;
		}
		if (r == 1)
			hi = mid;
		else
			lo = mid + 1;
	}
	*ret_idx = lo;
	return 0;
}

int seen_member_insert(struct seen_member **m, int *nr, int *cap, int idx, struct seen_member v)
{
	if (*nr == *cap) {
		int ncap = *cap ? *cap * 2 : 4;
		struct seen_member *n = xrealloc(*m, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		*m = n;
		*cap = ncap;
	}
	memmove(&(*m)[idx + 1], &(*m)[idx], (*nr - idx) * sizeof(**m));
	(*m)[idx] = v;
	(*nr)++;
	return 0;
}

/* Sort the group's fds-ahead firsts into m: an fd without a kcmp answer is to be compared with them. */
static int seen_merge_hinted(struct seen_group *g)
{
	while (g->hnr) {
		struct seen_member *v = &g->h[g->hnr - 1];
		int idx, ret = kcmp_file_search(g->m, g->nr, v->pid, v->fd, &idx);

		if (ret < 0)
			return ret;
		if (ret == 0) {	/* 1: can't be, fds-ahead found no other fd of that open file: keep m's */
			ret = seen_member_insert(&g->m, &g->nr, &g->cap, idx, *v);
			if (ret)
				return ret;
		}
		g->hnr--;
	}
	return 0;
}

/* Where a file not seen yet goes in its group, as found by seen_lookup(). */
struct seen_pos {
	struct seen_group *g;
	int idx;	/* -1: into h (fds-ahead's answer) */
	int nr;		/* g->nr when idx was found */
};

static bool first_of_its_file(const struct fd_parms *p)
{
	return p->same.known && p->same.pid == p->item->pid && p->same.fd == p->fd;
}

/*
 * 1 and *ret_id if this very open file was dumped already; 0 if not, with
 * its place for seen_add() in *pos; -errno.
 */
static int seen_lookup(struct dump_files_ctx *ctx, const struct fd_parms *p, uint32_t *ret_id, struct seen_pos *pos)
{
	struct seen_group *g = seen_group(ctx, p->stat.st_dev, p->stat.st_ino, true);
	bool hinted = p->same.known;
	int idx, ret;

	if (!g)
		return -ENOMEM;
	if (p->same.known && !first_of_its_file(p)) {
		if (rep_find(ctx, p->same.pid, p->same.fd, ret_id))
			return 1;	/* the same open file as an fd dumped before (kcmp on fds-ahead's thread) */
		hinted = false;	/* its first fd has no id (can't be): search as for any fd */
	}
	if (hinted && !g->nr) {
		*pos = (struct seen_pos){ .g = g, .idx = -1 };
		return 0;	/* no other fd of the inode was read without fds-ahead's answer: new */
	}
	if (!hinted) {
		ret = seen_merge_hinted(g);
		if (ret)
			return ret;
	}
	ret = kcmp_file_search(g->m, g->nr, p->item->pid, p->fd, &idx);
	if (ret == 1) {
		*ret_id = g->m[idx].id;
		if (first_of_its_file(p) && rep_add(ctx, p->item->pid, p->fd, *ret_id))
			return -ENOMEM;
	}
	/* a first fd not among those read without an answer: into h, m stays as short as they are */
	*pos = (struct seen_pos){ .g = g, .idx = hinted ? -1 : idx, .nr = g->nr };
	return ret;
}

static int seen_add(struct dump_files_ctx *ctx, const struct fd_parms *p, uint32_t id, struct seen_pos *pos)
{
	struct seen_member v = { .pid = p->item->pid, .fd = p->fd, .id = id };
	struct seen_group *g = pos->g;
	int idx = pos->idx, ret;

	if (first_of_its_file(p)) {
		ret = rep_add(ctx, v.pid, v.fd, id);
		if (ret)
			return ret;
	}
	if (idx < 0)
		return seen_member_insert(&g->h, &g->hnr, &g->hcap, g->hnr, v);
	/* the type's dump may have added files of this inode meanwhile: search again then */
	if (g->nr != pos->nr) {
		ret = kcmp_file_search(g->m, g->nr, v.pid, v.fd, &idx);
		if (ret < 0)
			return ret;
	}
	return seen_member_insert(&g->m, &g->nr, &g->cap, idx, v);
}

/*
 * A module's own state, one zeroed block per key (the address of a const
 * object of the module), for the dump (dump_files_state()) and the restore
 * (rst_files_state()); fini, if any, frees what the block points to.
 */
struct module_state {
	struct module_state *next;
	const void *key;
	void (*fini)(void *state);
	max_align_t data[];
};

static void *module_state(struct module_state **list, const void *key, size_t size, void (*fini)(void *state))
{
	struct module_state *st;

	for (st = *list; st; st = st->next)
		if (st->key == key)
			return st->data;
	st = xzalloc(sizeof(*st) + size);
	if (!st)
		return NULL;
	st->key = key;
	st->fini = fini;
	st->next = *list;
	*list = st;
	return st->data;
}

static void module_states_free(struct module_state **list)
{
	while (*list) {
		struct module_state *st = *list;

		*list = st->next;
		if (st->fini)
			st->fini(st->data);
		free(st);
	}
}

void *dump_files_state(struct dump_files_ctx *ctx, const void *key, size_t size, void (*fini)(void *state))
{
	return module_state(&ctx->states, key, size, fini);
}


int dump_files_init(struct dump_files_ctx *ctx, int img_dfd, struct pstree *tree)
{
	*ctx = (struct dump_files_ctx){ .img_dfd = img_dfd, .tree = tree, .next_id = 1 };
	ctx->seen_hash = xzalloc(SEEN_HASH_SIZE * sizeof(*ctx->seen_hash));
	ctx->rep_hash = xzalloc(REP_HASH_SIZE * sizeof(*ctx->rep_hash));
	if (!ctx->seen_hash || !ctx->rep_hash)
		return -ENOMEM;
	ctx->files_img = open_image_at(img_dfd, CR_FD_FILES, O_DUMP);
	if (!ctx->files_img)
		return pr_fail_errno("can't create files.img");
	return 0;
}

struct cr_img *dump_files_img(struct dump_files_ctx *ctx, int type)
{
	if (type < 0 || type >= CR_FD_MAX)
		return NULL;
	if (!ctx->imgs[type]) {
		ctx->imgs[type] = open_image_at(ctx->img_dfd, type, O_DUMP);
		if (!ctx->imgs[type])
			pr_err("can't create %s\n", img_last_error());
	}
	return ctx->imgs[type];
}

int dump_files_fini(struct dump_files_ctx *ctx)
{
	int ret = 0, r;

	/* a watch on a removed inode needs its ghost, which a later fd may have made */
	if (!ctx->failed) {
		ret = dump_ghost_check_watched(ctx);
		ctx->failed = ret != 0;
	}
	if (ctx->failed)
		discard_image(ctx->files_img);
	else if (ctx->files_img)
		ret = close_image_checked(ctx->files_img);
	ctx->files_img = NULL;
	dump_ghost_fini(ctx);
	for (int i = 0; i < CR_FD_MAX; i++) {
		if (!ctx->imgs[i])
			continue;
		r = 0;
		if (ctx->failed)
			discard_image(ctx->imgs[i]);
		else
			r = close_image_checked(ctx->imgs[i]);
		ret = ret ?: r;
		ctx->imgs[i] = NULL;
	}
	for (int i = 0; ctx->seen_hash && i < SEEN_HASH_SIZE; i++) {
		while (ctx->seen_hash[i]) {
			struct seen_group *g = ctx->seen_hash[i];

			ctx->seen_hash[i] = g->next;
			free(g->m);
			free(g->h);
			free(g);
		}
	}
	free(ctx->seen_hash);
	ctx->seen_hash = NULL;
	for (int i = 0; ctx->rep_hash && i < REP_HASH_SIZE; i++) {
		while (ctx->rep_hash[i]) {
			struct seen_rep *r = ctx->rep_hash[i];

			ctx->rep_hash[i] = r->next;
			free(r);
		}
	}
	free(ctx->rep_hash);
	ctx->rep_hash = NULL;
	module_states_free(&ctx->states);
	return ret;
}


/*
 * fstatfs() of a file, but for a pidfd: pidfs is a single superblock, so once one
 * pidfd has shown its st_dev, a file with that st_dev is on pidfs and has the
 * same statfs (one syscall less per pidfd, of about 15).
 */
static int fd_statfs(struct pidfs_cache *pc, const struct fd_parms *p, struct statfs *ret_sfs)
{
	if (pc->known && p->stat.st_dev == pc->dev) {
		*ret_sfs = pc->sfs;
		return 0;
	}
	if (fstatfs(p->lfd, ret_sfs))
		return -errno;
	if (ret_sfs->f_type == PID_FS_MAGIC) {
		pc->sfs = *ret_sfs;
		pc->dev = p->stat.st_dev;
		pc->known = true;
	}
	return 0;
}

int fd_read_parms(struct pidfs_cache *pc, struct pstree_item *item, int fd_dfd, int fd, struct fd_parms *p,
		  const char **ret_what)
{
	ssize_t n;
	int ret;

	memset(p, 0, sizeof(*p));
	p->fd = fd;
	p->item = item;
	p->lfd = sys_pidfd_getfd(item->pidfd, fd, 0);
	*ret_what = "take it with pidfd_getfd";
	if (p->lfd < 0)
		return -errno;
	*ret_what = "stat it";
	if (fstat(p->lfd, &p->stat))
		return -errno;
	*ret_what = "statfs it";
	ret = fd_statfs(pc, p, &p->sfs);
	if (ret)
		return ret;
	if (p->sfs.f_type == PID_FS_MAGIC) {
		/* every pidfd's link, thread pidfds' too (KERNEL-FACTS 1a): one proc lookup less per pidfd */
		snprintf(p->link, sizeof(p->link), "anon_inode:[pidfd]");
	} else {
		char name[16];

		snprintf(name, sizeof(name), "%d", fd);
		*ret_what = "read its link";
		n = readlinkat(fd_dfd, name, p->link, sizeof(p->link) - 1);
		if (n < 0)
			return -errno;
		p->link[n] = '\0';
	}
	*ret_what = "parse its fdinfo";
	ret = parse_pid_fdinfo(item->proc_dfd, fd, &p->fdinfo);
	if (ret)
		return ret;
	p->flags = p->fdinfo.flags & ~O_CLOEXEC;
	p->fd_flags = (p->fdinfo.flags & O_CLOEXEC) ? FD_CLOEXEC : 0;
	return 0;
}

static int fill_fd_parms(struct dump_files_ctx *ctx, struct pstree_item *item, int fd_dfd, int fd,
			 struct fd_parms *p)
{
	const char *what;
	int ret = fd_read_parms(&ctx->pidfs, item, fd_dfd, fd, p, &what);

	if (ret)
		return pr_fail(ret, "can't %s: fd %d of task %d: %s\n", what, fd, item->pid, strerror(-ret));
	return 0;
}

static const struct file_type *detect_type(const struct fd_parms *p)
{
	for (size_t i = 0; i < ARRAY_SIZE(file_types); i++)
		if (file_types[i]->detect && file_types[i]->detect(p))
			return file_types[i];
	return NULL;
}

/* Write the object behind one fd of a task to files.img, unless it is there already. */
static int dump_fd_object(struct dump_files_ctx *ctx, const struct fd_parms *p, uint32_t *ret_id,
			  const struct file_type **ret_t)
{
	const struct file_type *t;
	struct seen_pos pos;
	uint32_t id = 0;
	int ret;

	t = detect_type(p);
	if (!t && refused_fd_name(p))
		return pr_fail(-EOPNOTSUPP, "fd %d of task %d is %s: not supported\n", p->fd, p->item->pid,
			       refused_fd_name(p));
	if (!t)
		return pr_fail(-EOPNOTSUPP,
			       "fd %d of task %d (%s) has a file type criu can't dump yet (mode 0%o, fs magic 0x%lx)\n",
			       p->fd, p->item->pid, p->link, p->stat.st_mode, (unsigned long)p->sfs.f_type);

	ret = seen_lookup(ctx, p, &id, &pos);
	if (ret < 0)
		return pr_fail(ret, "can't compare fd %d of task %d with other files (kcmp): %s\n", p->fd,
			       p->item->pid, strerror(-ret));
	if (ret) {
		pr_debug("fd %d of %d: %s, same file as id %u\n", p->fd, p->item->pid, t->name, id);
	} else {
		id = ctx->next_id++;
		pr_debug("fd %d of %d: %s, new file id %u (%s)\n", p->fd, p->item->pid, t->name, id, p->link);
		/*
		 * known before its dump: a file reached again from its own dump (a socket
		 * whose queue passes an epoll that watches that socket) is this id
		 */
		ret = seen_add(ctx, p, id, &pos);
		if (ret)
			return ret;
		ret = t->dump(ctx, id, p);
		if (ret)
			return ret;
	}
	*ret_id = id;
	*ret_t = t;
	return 0;
}

int dump_task_fd_object(struct dump_files_ctx *ctx, struct pstree_item *item, int fd, uint32_t *ret_id)
{
	_cleanup_close_ int fd_dfd = -1;
	const struct file_type *t;
	struct fd_parms p;
	int ret;

	fd_dfd = openat(item->proc_dfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd_dfd < 0)
		return pr_fail_errno("can't open /proc/%d/fd", item->pid);
	ret = fill_fd_parms(ctx, item, fd_dfd, fd, &p);
	if (!ret)
		ret = dump_fd_object(ctx, &p, ret_id, &t);
	if (p.lfd > 0)
		close(p.lfd);
	proc_fdinfo_free(&p.fdinfo);
	return ret;
}

static int dump_one_file(struct dump_files_ctx *ctx, struct fd_parms *p, struct cr_img *fdinfo_img)
{
	FdinfoEntry fe = FDINFO_ENTRY__INIT;
	const struct file_type *t;
	uint32_t id;
	int ret;

	ret = check_fd_proc(ctx->tree, p) ?: dump_fd_object(ctx, p, &id, &t) ?: dump_fd_locks(ctx, p, id);
	if (ret)
		return ret;

	fe.id = id;
	fe.flags = p->fd_flags;
	fe.type = t->type;
	fe.fd = p->fd;
	return pb_write_one(fdinfo_img, &fe, PB_FDINFO);
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int list_task_fds(int fd_dfd, int **ret_fds, int *ret_nr)
{
	_cleanup_closedir_ DIR *d = NULL;
	int dup_fd = dup(fd_dfd), *fds = NULL, nr = 0, cap = 0;
	struct dirent *de;

	if (dup_fd < 0)
		return -errno;
	d = fdopendir(dup_fd);
	if (!d) {
		close(dup_fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (nr == cap) {
			int *n;

			cap = cap ? cap * 2 : 64;
			n = xrealloc(fds, cap * sizeof(int));
			if (!n) {
				free(fds);
				return -ENOMEM;
			}
			fds = n;
		}
		fds[nr++] = atoi(de->d_name);
	}
	qsort(fds, nr, sizeof(int), cmp_int);
	*ret_fds = fds;
	*ret_nr = nr;
	return 0;
}

/* One fd of the task: its reads done ahead (fds-ahead.c) or done now. */
static int dump_task_fd(struct dump_files_ctx *ctx, struct pstree_item *item, int fd_dfd, struct fds_ahead_task *ahead,
			int i, int fd, struct cr_img *img)
{
	struct fd_parms p;
	int ret;

	ret = ahead && fds_ahead_parms(ahead, i, &p) ? 0 : fill_fd_parms(ctx, item, fd_dfd, fd, &p);
	if (!ret)
		ret = dump_one_file(ctx, &p, img);
	if (p.lfd >= 0)
		close(p.lfd);
	proc_fdinfo_free(&p.fdinfo);
	return ret;
}

int dump_task_files(struct dump_files_ctx *ctx, struct pstree_item *item)
{
	_cleanup_close_ int fd_dfd = openat(item->proc_dfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct fds_ahead_task *ahead = NULL;
	_cleanup_free_ int *fds = NULL;
	struct cr_img *img;
	int nr = 0, ret = 0;

	if (fd_dfd < 0)
		return pr_fail_errno("can't open /proc/%d/fd", item->pid);
	/* listed, and each fd read, on fds-ahead's thread while the earlier tasks were dumped */
	ahead = fds_ahead_take(item, &fds, &nr);
	if (!ahead) {
		ret = list_task_fds(fd_dfd, &fds, &nr);
		if (ret)
			return pr_fail(ret, "can't list the fds of task %d: %s\n", item->pid, strerror(-ret));
	}

	img = open_image_at(ctx->img_dfd, CR_FD_FDINFO, O_DUMP, item->files_id);
	if (!img) {
		fds_ahead_done(ahead);
		return pr_fail_errno("can't create fdinfo-%u.img", item->files_id);
	}
	for (int i = 0; i < nr && !ret; i++)
		ret = dump_task_fd(ctx, item, fd_dfd, ahead, i, fds[i], img);
	fds_ahead_done(ahead);
	close_image(img);
	if (!ret)
		pr_info("Dumped %d fds of task %d\n", nr, item->pid);
	return ret;
}

int dump_file_lfd(struct dump_files_ctx *ctx, struct pstree_item *item, int lfd, uint32_t *ret_id)
{
	struct fd_parms p = { .fd = -1, .lfd = lfd, .item = item };
	const struct file_type *t;
	struct seen_group *g;
	char path[64];
	ssize_t n;
	int ret;

	if (fstat(lfd, &p.stat) || fstatfs(lfd, &p.sfs))
		return pr_fail_errno("can't stat a file of the dumped tree");
	g = seen_group(ctx, p.stat.st_dev, p.stat.st_ino, true);
	if (!g)
		return -ENOMEM;
	if (g->lfd_id) {
		*ret_id = g->lfd_id;
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", lfd);
	n = readlink(path, p.link, sizeof(p.link) - 1);
	if (n < 0)
		return -errno;
	p.link[n] = '\0';
	p.flags = fcntl(lfd, F_GETFL) & ~O_CLOEXEC;
	/* criu's O_PATH open (no fsnotify event): the entry as a read-only open has it */
	if (p.flags & O_PATH)
		p.flags = (p.flags & ~O_PATH) | O_LARGEFILE;
	p.fdinfo.mnt_id = -1;
	if (ctx->tree && ctx->tree->mntns_list) {
		/* the mount it is on (mount.c): from criu's own copy's fdinfo */
		_cleanup_close_ int self = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);

		ret = self < 0 ? -errno : parse_pid_fdinfo(self, lfd, &p.fdinfo);
		if (ret)
			return pr_fail(ret, "can't read the fdinfo of %s: %s\n", p.link, strerror(-ret));
	}
	/* a mapped memfd is a memfd object, so that it shares its inode with the fds of it */
	t = memfd_file_type.detect(&p) ? &memfd_file_type : &reg_file_type;
	if (!t->detect(&p)) {
		proc_fdinfo_free(&p.fdinfo);
		return pr_fail(-EOPNOTSUPP, "%s (mapped or exe) is not a regular file criu can dump\n", p.link);
	}
	*ret_id = ctx->next_id++;
	ret = t->dump(ctx, *ret_id, &p);
	proc_fdinfo_free(&p.fdinfo);
	if (ret)
		return ret;
	g->lfd_id = *ret_id;
	return 0;
}

int dump_task_fs(struct dump_files_ctx *ctx, struct pstree_item *item)
{
	FsEntry fe = FS_ENTRY__INIT;
	struct proc_status st;
	struct cr_img *img;
	int ret;

	for (int i = 0; i < 2; i++) {
		const char *name = i ? "root" : "cwd";
		_cleanup_close_ int fd = openat(item->proc_dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		/* a cwd in /proc/PID of a process that is gone (files-deadproc.c; a root there is refused) */
		if (fd < 0 && errno == ESRCH) {
			ret = i ? refuse_dead_proc_root(item) : dump_dead_proc_cwd(ctx, item, &fe.cwd_id);
			if (ret)
				return ret;
			continue;
		}
		if (fd < 0)
			return pr_fail_errno("can't open the %s of task %d", name, item->pid);
		ret = dump_file_lfd(ctx, item, fd, i ? &fe.root_id : &fe.cwd_id);
		if (ret)
			return ret;
	}
	ret = parse_pid_status(item->proc_dfd, &st);
	if (ret)
		return pr_fail(ret, "can't parse /proc/%d/status: %s\n", item->pid, strerror(-ret));
	if (st.umask >= 0) {
		fe.has_umask = true;
		fe.umask = st.umask;
	}
	proc_status_free(&st);

	img = open_image_at(ctx->img_dfd, CR_FD_FS, O_DUMP, item_vpid(item));
	if (!img)
		return pr_fail_errno("can't create fs-%d.img", item_vpid(item));
	ret = pb_write_one(img, &fe, PB_FS);
	close_image(img);
	return ret;
}

/* ===================== restore ===================== */

static size_t desc_slot(uint32_t id, size_t mask)
{
	return (size_t)(id * 2654435761u) & mask;
}

/* O(1): a task looks up every one of its fds, a tree may have tens of thousands of files. */
struct file_desc *find_file_desc(struct rst_ctx *ctx, uint32_t id)
{
	const struct rst_files *f = &ctx->files;

	if (!f->by_id)
		return NULL;
	for (size_t i = desc_slot(id, f->by_id_mask);; i = (i + 1) & f->by_id_mask) {
		struct file_desc *d = f->by_id[i];

		if (!d || d->id == id)
			return d;
	}
}

/* Add d to the hash, growing it to keep it at most half full. */
static int desc_hash_add(struct rst_files *f, struct file_desc *d)
{
	size_t size = f->by_id ? f->by_id_mask + 1 : 0;

	if ((size_t)(f->nr + 1) * 2 > size) {
		size_t nsize = size ? size * 2 : 64;
		struct file_desc **nt = xzalloc(nsize * sizeof(*nt));

		if (!nt)
			return -ENOMEM;
		for (size_t i = 0; i < size; i++) {
			struct file_desc *o = f->by_id[i];
			size_t j;

			if (!o)
				continue;
			for (j = desc_slot(o->id, nsize - 1); nt[j]; j = (j + 1) & (nsize - 1))
				;
			nt[j] = o;
		}
		free(f->by_id);
		f->by_id = nt;
		f->by_id_mask = nsize - 1;
	}
	for (size_t i = desc_slot(d->id, f->by_id_mask);; i = (i + 1) & f->by_id_mask) {
		if (!f->by_id[i]) {
			f->by_id[i] = d;
			return 0;
		}
	}
}

int file_desc_ctl_fd(struct rst_ctx *ctx, const struct file_desc *d)
{
	return ctx->files.ctl_fds ? ctx->files.ctl_fds[d->index] : -1;
}

/* Let the controller hold one fd per restored file, however many there are. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int collect_files(struct rst_ctx *ctx)
{
	struct rst_files *f = &ctx->files;
	struct cr_img *img;
	struct file_exts exts;
	FileEntry *fe;
	int ret;

	ret = file_ext_read(ctx, &exts);
	if (ret)
		return ret;
	img = open_image_at(ctx->img_dfd, CR_FD_FILES, O_RSTR_REQ);
	if (!img) {
		file_ext_free(&exts);
		return pr_fail(-errno, "can't open %s\n", img_last_error());
	}
	while ((ret = pb_read_one_eof(img, (void **)&fe, PB_FILE)) > 0) {
		struct file_desc *d;

		ret = file_ext_merge(&exts, fe);
		if (ret) {
			pb_free(fe, PB_FILE);
			break;
		}
		if (find_file_desc(ctx, fe->id)) {
			ret = pr_fail(-EINVAL, "files.img: file id %u appears twice\n", fe->id);
			pb_free(fe, PB_FILE);
			break;
		}
		d = xzalloc(sizeof(*d));
		if (!d) {
			pb_free(fe, PB_FILE);
			ret = -ENOMEM;
			break;
		}
		d->id = fe->id;
		d->fe = fe;
		d->type = file_type_by_num(fe->type);
		if (desc_hash_add(f, d)) {
			pb_free(fe, PB_FILE);
			free(d);
			ret = -ENOMEM;
			break;
		}
		d->index = f->nr++;
		list_add_tail(&d->list, &f->descs);
		if (!d->type) {
			ret = pr_fail(-EINVAL, "files.img: file id %u has type %d, which this criu can't restore\n",
				      fe->id, fe->type);
			break;
		}
		d->stage = d->type->stage;
		ret = d->type->collect ? d->type->collect(ctx, d) : 0;
		if (ret)
			break;
	}
	close_image(img);
	file_ext_free(&exts);
	if (ret < 0)
		return ret;

	f->ctl_fds_size = PAGE_ALIGN(max(f->nr, 1) * 2 * sizeof(int));
	f->ctl_fds = mmap(NULL, f->ctl_fds_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (f->ctl_fds == MAP_FAILED) {
		f->ctl_fds = NULL;
		return pr_fail_errno("can't map the shared fd table");
	}
	f->post_claimed = f->ctl_fds + max(f->nr, 1);
	for (int i = 0; i < f->nr; i++) {
		f->ctl_fds[i] = -1;
		f->post_claimed[i] = 0;
	}
	raise_nofile();
	pr_info("Collected %d files\n", f->nr);
	return 0;
}

int open_files_ctl(struct rst_ctx *ctx, enum file_open_stage stage)
{
	struct file_desc *d;

	for_each_file_desc(ctx, d) {
		int fd = -1, ret;

		if (d->stage != (int)stage || ctx->files.ctl_fds[d->index] >= 0)
			continue;
		ret = d->type->open(ctx, d, &fd);
		if (ret)
			return ret;
		ctx->files.ctl_fds[d->index] = fd;
		if (fd >= 0)
			pr_debug("opened %s file %u as %d\n", d->type->name, d->id, fd);
	}
	for (size_t i = 0; i < ARRAY_SIZE(file_types); i++) {
		if (file_types[i]->stage == stage && file_types[i]->stage_done) {
			int ret = file_types[i]->stage_done(ctx);
			if (ret)
				return ret;
		}
	}
	return 0;
}

void close_files_ctl(struct rst_ctx *ctx)
{
	for (size_t i = 0; i < ARRAY_SIZE(file_types); i++)
		if (file_types[i]->cleanup)
			file_types[i]->cleanup(ctx);
	if (!ctx->files.ctl_fds)
		return;
	for (int i = 0; i < ctx->files.nr; i++) {
		if (ctx->files.ctl_fds[i] >= 0)
			close(ctx->files.ctl_fds[i]);
		ctx->files.ctl_fds[i] = -1;
	}
}

static int install_fd(struct rst_ctx *ctx, const FdinfoEntry *e, pid_t pid)
{
	struct file_desc *d = find_file_desc(ctx, e->id);
	int cfd, nfd;

	if (!d)
		return pr_fail(-EINVAL, "fd %u of task %d refers to file id %u, which files.img lacks\n", e->fd, pid,
			       e->id);
	if (d->fe->type != e->type)
		return pr_fail(-EINVAL, "fd %u of task %d: type %d in fdinfo, %d in files.img\n", e->fd, pid, e->type,
			       d->fe->type);
	cfd = ctx->files.ctl_fds[d->index];
	if (cfd < 0)
		return pr_fail(-EINVAL, "file %u (fd %u of task %d) was not opened\n", e->id, e->fd, pid);
	/* e->fd is free: prepare_fds() closed all below the service fds and refuses a number twice */
	nfd = sys_pidfd_getfd(ctx->ctl_pidfd, cfd, 0);
	if (nfd < 0)
		return pr_fail_errno("can't get file %u from criu", e->id);
	if (nfd == (int)e->fd && (e->flags & FD_CLOEXEC))
		return 0;	/* pidfd_getfd() sets close-on-exec: the usual case, the fds come in order */
	if (nfd != (int)e->fd) {
		int r = dup3(nfd, e->fd, (e->flags & FD_CLOEXEC) ? O_CLOEXEC : 0);
		int err = errno;

		close(nfd);
		if (r < 0)
			return pr_fail(-err, "can't put file %u at fd %u: %s\n", e->id, e->fd, strerror(err));
	} else if (fcntl(nfd, F_SETFD, (e->flags & FD_CLOEXEC) ? FD_CLOEXEC : 0)) {
		return pr_fail_errno("can't set the flags of fd %u", e->fd);
	}
	return 0;
}

/* Run the object's post_install hook in the first task to get there. */
static int post_install_one(struct rst_ctx *ctx, const FdinfoEntry *e)
{
	struct file_desc *d = find_file_desc(ctx, e->id);

	if (!d || !d->type->post_install)
		return 0;
	if (__atomic_exchange_n(&ctx->files.post_claimed[d->index], 1, __ATOMIC_SEQ_CST))
		return 0;
	return d->type->post_install(ctx, d, e->fd);
}

/* Close every fd below the restore's service fds: the task gets exactly its dumped fds. */
static void close_inherited_fds(int below)
{
	/* one call, not one close() per possible fd: RLIMIT_NOFILE may be large */
	if (below > 0 && !syscall(SYS_close_range, 0, below - 1, 0))
		return;
	for (int fd = 0; fd < below; fd++)
		close(fd);
}

int prepare_fds(struct rst_ctx *ctx, struct pstree_item *me)
{
	struct cr_img *img = open_image_at(ctx->img_dfd, CR_FD_FDINFO, O_RSTR_REQ, me->files_id);
	int base = ctx->sfd_base, ret, n = 0;
	_cleanup_free_ uint8_t *used = NULL;	/* one bit per fd number below base */
	FdinfoEntry **ents = NULL;

	if (!img)
		return pr_fail(-errno, "task %d: can't open %s\n", me->pid, img_last_error());
	for (;;) {
		FdinfoEntry *e, **ne;

		ret = pb_read_one_eof(img, (void **)&e, PB_FDINFO);
		if (ret <= 0)
			break;
		ne = xrealloc(ents, (n + 1) * sizeof(*ents));
		if (!ne) {
			pb_free(e, PB_FDINFO);
			ret = -ENOMEM;
			break;
		}
		ents = ne;
		ents[n++] = e;
		if ((int)e->fd >= base) {
			ret = pr_fail(-EBUSY, "task %d: fd %u collides with criu's service fds (from %d)\n", me->pid,
				      e->fd, base);
			break;
		}
		if (!used && !(used = xzalloc(base / 8 + 1))) {
			ret = -ENOMEM;
			break;
		}
		if (used[e->fd / 8] & (1 << (e->fd % 8))) {
			ret = pr_fail(-EBUSY, "fd %u of task %d is twice in fdinfo-%u.img\n", e->fd, me->pid,
				      me->files_id);
			break;
		}
		used[e->fd / 8] |= 1 << (e->fd % 8);
	}
	close_image(img);
	if (ret < 0)
		goto out;

	close_inherited_fds(base);
	/* the fds come from criu through the stub's service fd of criu's pidfd (ctx->ctl_pidfd) */
	ret = 0;
	for (int i = 0; i < n && !ret; i++)
		ret = install_fd(ctx, ents[i], me->pid);
	for (int i = 0; i < n && !ret; i++) {
		struct file_desc *d = find_file_desc(ctx, ents[i]->id);

		ret = restore_fd_async(ctx, d, ents[i]->fd);
	}
	for (int i = 0; i < n && !ret; i++)
		ret = post_install_one(ctx, ents[i]);
	if (!ret)
		pr_info("task %d: %d fds in place\n", me->pid, n);
out:
	for (int i = 0; i < n; i++)
		pb_free(ents[i], PB_FDINFO);
	free(ents);
	return ret < 0 ? ret : 0;
}

static int path_of_file(struct rst_ctx *ctx, uint32_t id, const char **ret)
{
	struct file_desc *d = find_file_desc(ctx, id);

	if (!d || !d->fe->reg)
		return pr_fail(-EINVAL, "fs image refers to file %u, which is not a regular file in files.img\n", id);
	*ret = d->fe->reg->name;
	return 0;
}

/* chroot to root (unless "/"), then chdir to cwd: both opened from criu's root first. */
static int enter_dirs(struct pstree_item *me, const char *cwd, const char *root)
{
	_cleanup_close_ int cfd = open_img_path(cwd, O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int rfd = -1;

	if (cfd < 0)
		return pr_fail_errno("task %d: can't open its cwd %s", me->pid, cwd);
	if (strcmp(root, "/")) {
		rfd = open_img_path(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (rfd < 0)
			return pr_fail_errno("task %d: can't open its root %s", me->pid, root);
		if (fchdir(rfd) || chroot("."))
			return pr_fail_errno("task %d: can't chroot to %s", me->pid, root);
	}
	if (fchdir(cfd))
		return pr_fail_errno("task %d: can't chdir to %s", me->pid, cwd);
	return 0;
}

/* The controller's open directory of file id, reopened through /proc (O_PATH); -errno. */
static int ctl_dir_fd(struct rst_ctx *ctx, uint32_t id)
{
	struct file_desc *d = find_file_desc(ctx, id);
	int cfd = d ? file_desc_ctl_fd(ctx, d) : -1;
	char path[64];
	int fd;

	if (cfd < 0)
		return -ENOENT;
	snprintf(path, sizeof(path), "%d/fd/%d", ctx->ctl_pid, cfd);
	fd = openat(ctx->proc_fd, path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/*
 * In the tree's own mount namespace (mount-restore.c): the cwd and root are
 * the directories the controller opened on their mounts, not what their
 * paths lead to now (another mount may be on top).
 */
static int enter_fs_by_fd(struct rst_ctx *ctx, struct pstree_item *me, const FsEntry *fe, const char *cwd,
			  const char *root)
{
	_cleanup_close_ int cwd_fd = ctl_dir_fd(ctx, fe->cwd_id), root_fd = ctl_dir_fd(ctx, fe->root_id);

	if (cwd_fd < 0 || root_fd < 0)
		return pr_fail(cwd_fd < 0 ? cwd_fd : root_fd, "task %d: no open directory for its cwd %s or root %s\n",
			       me->pid, cwd, root);
	if (strcmp(root, "/") && (fchdir(root_fd) || chroot(".")))
		return pr_fail_errno("task %d: can't chroot to %s", me->pid, root);
	if (fchdir(cwd_fd))
		return pr_fail_errno("task %d: can't chdir to %s", me->pid, cwd);
	return 0;
}

static bool is_ghost(struct rst_ctx *ctx, uint32_t id)
{
	uint32_t gid;

	return ghost_of_file(ctx, id, &gid) > 0;
}

int prepare_fs(struct rst_ctx *ctx, struct pstree_item *me)
{
	struct cr_img *img = open_image_at(ctx->img_dfd, CR_FD_FS, O_RSTR_REQ, me->pid);
	const char *cwd, *root;
	pid_t dead_pid = 0;
	FsEntry *fe;
	int ret, dead;

	if (!img)
		return pr_fail(-errno, "task %d: can't open %s\n", me->pid, img_last_error());
	ret = pb_read_one(img, (void **)&fe, PB_FS);
	close_image(img);
	if (ret)
		return ret;	/* logged by pb_read_one() */
	ret = path_of_file(ctx, fe->cwd_id, &cwd) ?: path_of_file(ctx, fe->root_id, &root);
	dead = ret ? 0 : dead_proc_of_file(ctx, fe->cwd_id, &dead_pid);
	if (dead < 0)
		ret = dead;
	/* a cwd in /proc/PID of a process that is gone: entered while a helper has the pid */
	if (!ret && dead)
		ret = strcmp(root, "/") ? pr_fail(-EOPNOTSUPP, "task %d: its cwd /proc/%d, of a process that was gone, "
							     "under the root %s: not supported\n", me->pid, dead_pid, root) :
					  enter_dead_proc_cwd(ctx, me, dead_pid);
	/* the tree's own mount namespace, or a removed directory (a ghost): by the controller's fds */
	else if (!ret && (ctx->mnt || is_ghost(ctx, fe->cwd_id) || is_ghost(ctx, fe->root_id)))
		ret = enter_fs_by_fd(ctx, me, fe, cwd, root);
	else if (!ret)	/* both paths are as criu sees them, opened from the root (open_img_path()) */
		ret = enter_dirs(me, cwd, root);
	if (!ret && fe->has_umask)
		umask(fe->umask);
	pb_free(fe, PB_FS);
	return ret;
}

/* The highest fd number in one fdinfo image, into *max; the number of its fds, into *max_nr if more. */
static int fdinfo_max_fd(struct rst_ctx *ctx, uint32_t files_id, int *max, int *max_nr)
{
	struct cr_img *img = open_image_at(ctx->img_dfd, CR_FD_FDINFO, O_RSTR_REQ, files_id);
	FdinfoEntry *e;
	int ret, nr = 0;

	if (!img)
		return pr_fail(-errno, "can't open %s\n", img_last_error());
	while ((ret = pb_read_one_eof(img, (void **)&e, PB_FDINFO)) > 0) {
		if ((int)e->fd > *max)
			*max = (int)e->fd;
		nr++;
		pb_free(e, PB_FDINFO);
	}
	close_image(img);
	if (nr > *max_nr)
		*max_nr = nr;
	return ret;
}

/*
 * The highest fd number a restored task uses: its fds and the fd numbers
 * its epolls' items name (eventpoll.c puts a target at that number for the
 * call). -1 when there is none. The stubs' service fds go right above it.
 * *max_nr: the most fds one task has.
 */
int files_max_fd(struct rst_ctx *ctx, int *max, int *max_nr)
{
	struct pstree_item *item;
	struct file_desc *d;
	int ret;

	*max = -1;
	*max_nr = 0;
	for_each_pstree_item(&ctx->tree, item) {
		if (item->state == TASK_DEAD)
			continue;
		ret = fdinfo_max_fd(ctx, item->files_id, max, max_nr);
		if (ret)
			return ret;
	}
	for_each_file_desc(ctx, d) {
		if (!d->fe->epfd)
			continue;
		for (size_t i = 0; i < d->fe->epfd->n_tfd; i++)
			if ((int)d->fe->epfd->tfd[i]->tfd > *max)
				*max = (int)d->fe->epfd->tfd[i]->tfd;
	}
	return 0;
}

int files_restore_prepare(struct rst_ctx *ctx)
{
	int ret;

	ret = collect_files(ctx);
	if (!ret)
		ret = open_files_ctl(ctx, FILE_OPEN_EARLY);
	return ret;
}

int files_restore_tree_ready(struct rst_ctx *ctx)
{
	return open_files_ctl(ctx, FILE_OPEN_AFTER_TREE);
}

int files_restore_late(struct rst_ctx *ctx)
{
	struct file_desc *d;
	int ret = restore_fowns(ctx);

	if (ret)
		return ret;

	for_each_file_desc(ctx, d) {
		if (d->type->late && ctx->files.ctl_fds[d->index] >= 0) {
			int ret = d->type->late(ctx, d, ctx->files.ctl_fds[d->index]);
			if (ret)
				return ret;
		}
	}
	return 0;
}

void *rst_files_state(struct rst_ctx *ctx, const void *key, size_t size)
{
	return module_state(&ctx->files.states, key, size, NULL);
}

void files_restore_fini(struct rst_ctx *ctx)
{
	struct file_desc *d, *tmp;

	close_files_ctl(ctx);
	module_states_free(&ctx->files.states);
	list_for_each_entry_safe(d, tmp, &ctx->files.descs, list) {
		list_del(&d->list);
		pb_free(d->fe, PB_FILE);
		free(d);
	}
	free(ctx->files.by_id);
	ctx->files.by_id = NULL;
	ctx->files.by_id_mask = 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * memfd: anonymous files from memfd_create(), in CRIU's layout: each open file
 * is a MemfdFileEntry in files.img (flags, position, owner) naming its inode;
 * each inode is one MemfdInodeEntry in memfd.img (name, owner, size, seals,
 * mode) and its contents are shmem pages, pagemap-shmem-<shmid>.img +
 * pages-<N>.img, with shmid = inode_id = the memfd's inode number.
 * A memfd is told apart from other tmpfs/hugetlbfs files by its link,
 * "/memfd:NAME (deleted)", and by F_GET_SEALS working on it.
 *
 * Restore, in the controller: one memfd per inode, created with its name,
 * filled, sized, given its mode and owner, then sealed (after the filling:
 * F_SEAL_WRITE would forbid it). The file memfd_create() gives holds no
 * write access to the inode (the kernel makes it as a pseudo file), while a
 * reopen for writing does, and execveat(fd, "", AT_EMPTY_PATH) of the memfd
 * fails with ETXTBSY as long as anything holds write access. So the first
 * read-write open file of an inode is that very file, and a read-write
 * mapping (shared or private) maps it too (memfd_map_ctl_fd(): the memory
 * restore takes it with pidfd_getfd()); every other open file is a reopen of
 * the inode through /proc/self/fd with its own access mode, flags and
 * position, so files, fds and mappings of one memfd share one inode again.
 * The dump can't tell a reopen for writing from the memfd_create() file, so
 * a task that had a second writable open file gets exec back.
 * Mappings of a memfd name a read-only file object (dump_file_lfd()).
 * Shared anonymous memory that the tree holds as a file is one of these
 * too, named "/dev/zero", with every mapping of it (see ANON_SHMEM_NAME).
 * A hugetlbfs memfd (MFD_HUGETLB, 2 MiB pages only) keeps CRIU's
 * hugetlb_flag in its inode entry; its huge pages that read as zeroes are
 * left out like holes (hugetlbfs has no SEEK_HOLE), and at restore it is
 * sized first and filled through a mapping (hugetlbfs has no write()).
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "anon-fd.h"
#include "common.h"
#include "file-ext.h"
#include "files.h"
#include "hugetlb.h"
#include "rst-ctx.h"
#include "image.h"
#include "pagemap.h"
#include "protobuf.h"
#include "shmem.h"

#include "fdinfo.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "memfd: "

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

#define MEMFD_PREFIX "/memfd:"
#define DELETED_SUFFIX " (deleted)"
/* pages-N.img of memfd contents are numbered apart from the tasks' ones */
#define MEMFD_PAGES_ID_BASE 0x40000000u

/*
 * Shared anonymous memory opened as a file through /proc/PID/map_files
 * ("/dev/zero (deleted)" on the kernel's internal shmem mount) is written as
 * a memfd named ANON_SHMEM_NAME, as CRIU writes it, and made again by
 * mapping new shared anonymous memory and opening it the same way. Which
 * objects are such files is found before any task is dumped
 * (memfd_collect_shmem_files(): a task's fd of it, or a private mapping of
 * the file): every mapping of those, the shared ones too, is then dumped as
 * a mapping of the memfd (mem.c), so that the restore makes the object once,
 * whichever task's mapping or fd the dump meets first. The shared mappings
 * of the other objects stay shared anonymous memory (shmem.c).
 */
#define ANON_SHMEM_LINK "/dev/zero" DELETED_SUFFIX
#define ANON_SHMEM_NAME "/dev/zero"

/* The device of shared anonymous memory: the same for every object of this boot. */
static int anon_shmem_dev(dev_t *ret)
{
	static dev_t dev;
	static bool known;
	_cleanup_close_ int fd = -1;
	char path[64];
	struct stat st;
	void *m;

	if (!known) {
		m = mmap(NULL, PAGE_SIZE, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return -errno;
		snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)m,
			 (unsigned long)m + PAGE_SIZE);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st)) {
			int err = -errno;

			munmap(m, PAGE_SIZE);
			return err;
		}
		munmap(m, PAGE_SIZE);
		dev = st.st_dev;
		known = true;
	}
	*ret = dev;
	return 0;
}

/* An fd of shared anonymous memory, or criu's open of such a mapping's file (fd -1). */
static bool is_anon_shmem(const struct fd_parms *p)
{
	dev_t dev;

	if (!S_ISREG(p->stat.st_mode) || p->stat.st_nlink || strcmp(p->link, ANON_SHMEM_LINK))
		return false;
	return !anon_shmem_dev(&dev) && dev == p->stat.st_dev;
}

static bool memfd_detect(const struct fd_parms *p)
{
	size_t len = strlen(p->link), slen = strlen(DELETED_SUFFIX);

	if (p->sfs.f_type != TMPFS_MAGIC && p->sfs.f_type != HUGETLBFS_MAGIC)
		return false;
	if (is_anon_shmem(p))
		return true;
	if (strncmp(p->link, MEMFD_PREFIX, strlen(MEMFD_PREFIX)) || len < strlen(MEMFD_PREFIX) + slen ||
	    strcmp(p->link + len - slen, DELETED_SUFFIX))
		return false;
	return fcntl(p->lfd, F_GET_SEALS) >= 0;
}

/* ---------- dump ---------- */

struct dumped_inode {
	struct dumped_inode *next;
	dev_t dev;
	ino_t ino;
};

/* the inodes dumped so far, in the dump ctx (dump_files_state()) */
struct memfd_dump {
	struct dumped_inode *inodes;
	struct dumped_inode *shmem_files;	/* shared anonymous objects the tree holds as files */
	bool fds_unscanned;	/* no shared mapping of it in the tree: the tasks' fds were not looked at */
	unsigned int nr_pages_imgs;	/* pages images written: they take ids from MEMFD_PAGES_ID_BASE */
};
static const char memfd_dump_key;

static void free_inodes(struct dumped_inode **list)
{
	while (*list) {
		struct dumped_inode *i = *list;

		*list = i->next;
		free(i);
	}
}

static void memfd_dump_fini(void *state)
{
	struct memfd_dump *st = state;

	free_inodes(&st->inodes);
	free_inodes(&st->shmem_files);
}

static bool in_inodes(const struct dumped_inode *list, dev_t dev, ino_t ino)
{
	for (const struct dumped_inode *i = list; i; i = i->next)
		if (i->dev == dev && i->ino == ino)
			return true;
	return false;
}

static bool inode_dumped(const struct memfd_dump *st, dev_t dev, ino_t ino)
{
	return in_inodes(st->inodes, dev, ino);
}

static int add_inode(struct dumped_inode **list, dev_t dev, ino_t ino)
{
	struct dumped_inode *di = xmalloc(sizeof(*di));

	if (!di)
		return -ENOMEM;
	*di = (struct dumped_inode){ .next = *list, .dev = dev, .ino = ino };
	*list = di;
	return 0;
}

static struct memfd_dump *memfd_dump_state(struct dump_files_ctx *ctx)
{
	return dump_files_state(ctx, &memfd_dump_key, sizeof(struct memfd_dump), memfd_dump_fini);
}

/* Add ino to st->shmem_files once. */
static int note_shmem_file(struct memfd_dump *st, dev_t dev, ino_t ino, pid_t pid, const char *how)
{
	if (in_inodes(st->shmem_files, dev, ino))
		return 0;
	pr_debug("shared anonymous memory %lu is a file of the tree: %s of task %d\n", (unsigned long)ino, how, pid);
	return add_inode(&st->shmem_files, dev, ino);
}

/* The task's fds of shared anonymous memory ("/dev/zero (deleted)" through map_files). */
static int find_shmem_fds(struct memfd_dump *st, struct pstree_item *item, dev_t dev)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int dfd, ret;

	dfd = openat(item->proc_dfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return pr_fail_errno("can't open /proc/%d/fd", item->pid);
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return pr_fail_errno("can't read /proc/%d/fd", item->pid);
	}
	while ((de = readdir(d))) {
		char link[sizeof(ANON_SHMEM_LINK) + 1];
		struct stat s;
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		n = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
		if (n < 0)
			return pr_fail_errno("can't read the link of fd %s of task %d", de->d_name, item->pid);
		link[n] = '\0';
		if (strcmp(link, ANON_SHMEM_LINK))
			continue;
		/* the link followed: the file's inode, without taking the fd */
		if (fstatat(dirfd(d), de->d_name, &s, 0))
			return pr_fail_errno("can't stat fd %s of task %d", de->d_name, item->pid);
		if (!S_ISREG(s.st_mode) || s.st_nlink || s.st_dev != dev)
			continue;
		ret = note_shmem_file(st, dev, s.st_ino, item->pid, "an fd");
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * The task's private mappings of shared anonymous memory's file: the task
 * opened the file once, the object is a file of the tree even with that fd
 * closed. (Its shared mappings of the file are not told apart from shared
 * anonymous memory: nothing needs to.) *ret_shared is set when the task has
 * a shared mapping of shared anonymous memory (PVMA_SHMEM_ANON).
 */
static int find_shmem_maps(struct memfd_dump *st, struct pstree_item *item, dev_t dev, bool *ret_shared)
{
	struct proc_maps maps = {};
	int ret;

	ret = parse_pid_maps(item->proc_dfd, &maps);
	if (ret)
		return pr_fail(ret, "task %d: can't parse maps: %s\n", item->pid, strerror(-ret));
	for (int i = 0; i < maps.nr && !ret; i++) {
		const struct proc_vma *v = &maps.vmas[i];

		if (makedev(v->dev_major, v->dev_minor) != dev)
			continue;
		if (v->kind == PVMA_SHMEM_ANON)	/* "/dev/zero (deleted)" or "[anon_shmem:NAME]" */
			*ret_shared = true;
		else if (v->kind == PVMA_FILE && !v->shared && v->deleted && !strcmp(v->path, ANON_SHMEM_NAME))
			ret = note_shmem_file(st, dev, v->ino, item->pid, "a private mapping");
	}
	proc_maps_free(&maps);
	return ret;
}

/*
 * Which objects of shared anonymous memory the tree holds as files. The maps
 * first: the fds only matter when some task maps such memory shared (that
 * mapping is the memfd's if an fd holds the object, shmem.c's if not), and
 * reading every fd's link is most of the pass's cost in a tree of many
 * pidfds. With no shared mapping in the tree the fds are not read: an fd of
 * such memory is noted when the fd loop meets it (note_unscanned_fd()).
 */
int memfd_collect_shmem_files(struct dump_files_ctx *ctx)
{
	struct memfd_dump *st = memfd_dump_state(ctx);
	struct pstree_item *item;
	bool shared = false;
	int ret, nr = 0;
	dev_t dev;

	if (!st)
		return -ENOMEM;
	if (!ctx->tree)
		return 0;
	ret = anon_shmem_dev(&dev);
	if (ret)
		return pr_fail(ret, "can't find the device of shared anonymous memory: %s\n", strerror(-ret));
	for_each_pstree_item(ctx->tree, item) {
		if (item->state == TASK_DEAD)
			continue;	/* a zombie has neither fds nor memory */
		ret = find_shmem_maps(st, item, dev, &shared);
		if (ret)
			return ret;
	}
	st->fds_unscanned = !shared;
	for_each_pstree_item(ctx->tree, item) {
		if (!shared)
			break;
		if (item->state == TASK_DEAD)
			continue;
		ret = find_shmem_fds(st, item, dev);
		if (ret)
			return ret;
	}
	for (const struct dumped_inode *i = st->shmem_files; i; i = i->next)
		nr++;
	pr_info("%d objects of shared anonymous memory held as files by the tree: dumped as memfds%s\n", nr,
		shared ? "" : " (none mapped shared: the fds not read)");
	return 0;
}

/*
 * A task's fd of shared anonymous memory when the fds were not read before
 * the dump: no task maps such memory shared, so no mapping of the object can
 * have been dumped as shmem.c's; it is a file of the tree from now on.
 */
static int note_unscanned_fd(struct memfd_dump *st, const struct fd_parms *p)
{
	if (!st->fds_unscanned || !p->item || p->fd < 0)
		return 0;
	return note_shmem_file(st, p->stat.st_dev, p->stat.st_ino, p->item->pid, "an fd (met by the fd loop)");
}

bool memfd_is_anon_shmem(int lfd)
{
	struct fd_parms p = { .fd = -1, .lfd = lfd };
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", lfd);
	n = readlink(path, p.link, sizeof(p.link) - 1);
	if (n < 0 || fstat(lfd, &p.stat))
		return false;
	p.link[n] = '\0';
	return is_anon_shmem(&p);
}

bool memfd_shmem_is_file(struct dump_files_ctx *ctx, dev_t dev, unsigned long ino)
{
	struct memfd_dump *st = ctx ? memfd_dump_state(ctx) : NULL;

	return st && in_inodes(st->shmem_files, dev, ino);
}

#define COPY_CHUNK (256 * 1024)

/* Copy [off, off + len) (page aligned; the part past EOF reads as zeros) into the pages image. */
static int copy_range(struct page_xfer *x, int fd, off_t off, size_t len, char *buf)
{
	int ret = page_xfer_add(x, off, len / PAGE_SIZE);

	while (!ret && len) {
		size_t chunk = min(len, (size_t)COPY_CHUNK), got = 0;

		while (got < chunk) {
			ssize_t n = pread(fd, buf + got, chunk - got, off + got);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return -errno;
			if (n == 0)
				break;
			got += n;
		}
		memset(buf + got, 0, chunk - got);	/* the tail of the last page */
		ret = page_xfer_write(x, buf, chunk);
		off += chunk;
		len -= chunk;
	}
	return ret;
}

/* A hugetlbfs memfd: its huge pages that hold data (hugetlb_page_zero()). */
static int copy_hugetlb(struct page_xfer *x, int fd, unsigned long size, char *buf)
{
	void *page = mmap(NULL, HUGETLB_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int ret = 0;

	if (page == MAP_FAILED)
		return -ENOMEM;
	for (unsigned long off = 0; off < size && !ret; off += HUGETLB_PAGE_SIZE) {
		ret = hugetlb_page_zero(fd, (off_t)off, page);
		if (ret == 1)
			ret = 0;
		else if (!ret)
			ret = copy_range(x, fd, (off_t)off, min(HUGETLB_PAGE_SIZE, size - off), buf);
	}
	munmap(page, HUGETLB_PAGE_SIZE);
	return ret;
}

/*
 * The data segments of the memfd (SEEK_DATA/SEEK_HOLE: holes stay holes) into
 * pagemap-shmem-<ino>.img and its own pages image.
 */
static int dump_contents(struct memfd_dump *md, int img_dfd, int task_lfd, unsigned long size, bool huge,
			 unsigned long *ret_shmid)
{
	_cleanup_free_ char *buf = xmalloc(COPY_CHUNK);
	_cleanup_close_ int lfd = -1;
	struct page_xfer x;
	struct stat st;
	char path[64];
	off_t off = 0;
	int ret;

	if (!buf)
		return -ENOMEM;
	/* our own open file: SEEK_DATA/SEEK_HOLE move the offset, and task_lfd's is the task's */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", task_lfd);
	lfd = open(path, O_RDONLY | O_CLOEXEC);
	if (lfd < 0)
		return -errno;
	if (fstat(lfd, &st))
		return -errno;
	*ret_shmid = st.st_ino;
	size = PAGE_ALIGN(size);
	ret = page_xfer_open(&x, img_dfd, CR_FD_SHMEM_PAGEMAP, st.st_ino, MEMFD_PAGES_ID_BASE + md->nr_pages_imgs++);
	if (ret)
		return ret;
	if (huge)
		ret = copy_hugetlb(&x, lfd, size, buf);
	while (!huge && !ret && (unsigned long)off < size) {
		off_t data = lseek(lfd, off, SEEK_DATA), hole;

		if (data < 0) {
			if (errno != ENXIO)
				ret = -errno;
			break;	/* ENXIO: no data after off */
		}
		hole = lseek(lfd, data, SEEK_HOLE);
		if (hole < 0) {
			ret = -errno;
			break;
		}
		data &= ~(off_t)(PAGE_SIZE - 1);
		hole = min((unsigned long)PAGE_ALIGN(hole), size);
		if (data >= hole)
			break;
		ret = copy_range(&x, lfd, data, hole - data, buf);
		off = hole;
	}
	if (ret) {
		page_xfer_abort(&x);
		return ret;
	}
	pr_debug("inode %lu: %lu pages of data\n", (unsigned long)st.st_ino, x.nr_pages);
	return page_xfer_close(&x);
}

static int dump_inode(struct dump_files_ctx *ctx, const struct fd_parms *p)
{
	struct memfd_dump *st = memfd_dump_state(ctx);
	MemfdInodeEntry mie = MEMFD_INODE_ENTRY__INIT;
	struct cr_img *img;
	size_t nlen = strlen(p->link) - strlen(MEMFD_PREFIX) - strlen(DELETED_SUFFIX);
	_cleanup_free_ char *name = xmalloc(strlen(p->link) + sizeof(ANON_SHMEM_NAME));
	unsigned long shmid = 0;
	bool huge = p->sfs.f_type == HUGETLBFS_MAGIC;
	int seals, ret;

	if (!st)
		return -ENOMEM;
	if (inode_dumped(st, p->stat.st_dev, p->stat.st_ino))
		return 0;
	if (!name)
		return -ENOMEM;
	if (huge && p->sfs.f_bsize != HUGETLB_PAGE_SIZE)
		return pr_fail(-EOPNOTSUPP, "%s: a hugetlb memfd of %lu KiB pages, not supported (only 2 MiB pages)\n",
			       p->link, (unsigned long)p->sfs.f_bsize >> 10);
	if (is_anon_shmem(p)) {
		/*
		 * Not found before the dump (neither an fd nor a private
		 * mapping: an exe?): a shared mapping of it may have been
		 * dumped as shared anonymous memory already, another object.
		 */
		ret = note_unscanned_fd(st, p);
		if (ret)
			return ret;
		if (!in_inodes(st->shmem_files, p->stat.st_dev, p->stat.st_ino))
			return pr_fail(-EOPNOTSUPP,
				       "task %d holds shared anonymous memory opened as a file (%s, through "
				       "/proc/PID/map_files) other than by an fd or a private mapping: not supported\n",
				       p->item ? p->item->pid : 0, p->link);
		memcpy(name, ANON_SHMEM_NAME, sizeof(ANON_SHMEM_NAME));
	} else {
		memcpy(name, p->link + strlen(MEMFD_PREFIX), nlen);
		name[nlen] = '\0';
		/* the name CRIU gives shared anonymous memory: restored as that, not as a memfd */
		if (!strcmp(name, ANON_SHMEM_NAME))
			return pr_fail(-EOPNOTSUPP, "%s: a memfd named %s, which CRIU's images can't tell from shared "
					  "anonymous memory: not supported\n", p->link, ANON_SHMEM_NAME);
	}
	seals = fcntl(p->lfd, F_GET_SEALS);
	if (seals < 0)
		return pr_fail_errno("%s: F_GET_SEALS", p->link);
	ret = dump_contents(st, ctx->img_dfd, p->lfd, p->stat.st_size, huge, &shmid);
	if (ret)
		return pr_fail(ret, "can't dump the contents of %s: %s\n", p->link, strerror(-ret));

	mie.name = name;
	mie.uid = p->stat.st_uid;
	mie.gid = p->stat.st_gid;
	mie.size = p->stat.st_size;
	mie.shmid = shmid;
	mie.seals = seals;
	mie.inode_id = p->stat.st_ino;
	mie.has_mode = true;
	mie.mode = p->stat.st_mode & 07777;
	if (huge) {
		/* CRIU's: MFD_HUGETLB and the page size */
		mie.has_hugetlb_flag = true;
		mie.hugetlb_flag = MFD_HUGETLB | (HUGETLB_PAGE_SHIFT << MAP_HUGE_SHIFT);
	}
	img = dump_files_img(ctx, CR_FD_MEMFD_INODE);
	if (!img)
		return -EIO;
	ret = pb_write_one(img, &mie, PB_MEMFD_INODE);
	if (ret)
		return ret;
	ret = add_inode(&st->inodes, p->stat.st_dev, p->stat.st_ino);
	if (ret)
		return ret;
	pr_debug("inode %lu '%s': %llu bytes, seals %#x, mode %o\n", (unsigned long)p->stat.st_ino, name,
		 (unsigned long long)mie.size, seals, mie.mode);
	return 0;
}

static int memfd_dump(struct dump_files_ctx *ctx, uint32_t id, const struct fd_parms *p)
{
	MemfdFileEntry mfe = MEMFD_FILE_ENTRY__INIT;
	FileEntry fe = FILE_ENTRY__INIT;
	FownEntry fown;
	off_t pos;
	int ret;

	ret = dump_inode(ctx, p);
	if (ret)
		return ret;
	/* our copy is the same file: its offset is the task's (files of mappings have no fdinfo) */
	pos = lseek(p->lfd, 0, SEEK_CUR);
	if (pos < 0)
		return pr_fail_errno("%s: can't read the file position", p->link);
	ret = fill_fown(ctx, p, &fown);
	if (ret)
		return ret;
	mfe.id = id;
	mfe.flags = p->flags;
	mfe.pos = pos;
	mfe.fown = &fown;
	mfe.inode_id = p->stat.st_ino;

	fe.type = FD_TYPES__MEMFD;
	fe.id = id;
	fe.memfd = &mfe;
	return write_file_entry(ctx, &fe);
}

/* ---------- restore ---------- */

struct memfd_inode {
	struct memfd_inode *next;
	MemfdInodeEntry *mie;
	int fd;			/* the controller's memfd, -1 until created */
	bool fd_given;		/* fd's open file is some file object's already */
};

/* memfd.img, in the ctx (rst_files_state()) */
struct memfd_rst {
	struct memfd_inode *inodes;
	bool inodes_read;
};
static const char memfd_rst_key;

static struct memfd_rst *memfd_rst(struct rst_ctx *ctx)
{
	return rst_files_state(ctx, &memfd_rst_key, sizeof(struct memfd_rst));
}

static int read_inodes(struct rst_ctx *ctx, struct memfd_rst *st)
{
	struct cr_img *img;
	MemfdInodeEntry *mie;
	int ret;

	if (st->inodes_read)
		return 0;
	st->inodes_read = true;
	img = open_image_at(ctx->img_dfd, CR_FD_MEMFD_INODE, O_RSTR_REQ);
	if (!img)
		return pr_fail(-errno, "can't open %s\n", img_last_error());
	while ((ret = pb_read_one_eof(img, (void **)&mie, PB_MEMFD_INODE)) > 0) {
		struct memfd_inode *i = xzalloc(sizeof(*i));

		if (!i) {
			pb_free(mie, PB_MEMFD_INODE);
			ret = -ENOMEM;
			break;
		}
		i->mie = mie;
		i->fd = -1;
		i->next = st->inodes;
		st->inodes = i;
	}
	close_image(img);
	return ret < 0 ? pr_fail(ret, "memfd.img: bad entry: %s\n", strerror(-ret)) : 0;
}

static struct memfd_inode *find_inode(struct memfd_rst *st, uint64_t inode_id)
{
	for (struct memfd_inode *i = st->inodes; i; i = i->next)
		if (i->mie->inode_id == inode_id)
			return i;
	return NULL;
}

static int memfd_collect(struct rst_ctx *ctx, struct file_desc *d)
{
	struct memfd_rst *st = memfd_rst(ctx);
	MemfdFileEntry *mfe = d->fe->memfd;
	int ret;

	if (!mfe)
		return pr_fail(-EINVAL, "files.img: memfd %u has no memfd entry\n", d->id);
	if (!st)
		return -ENOMEM;
	ret = read_inodes(ctx, st);
	if (ret)
		return ret;
	d->priv = find_inode(st, mfe->inode_id);
	if (!d->priv)
		return pr_fail(-EINVAL, "memfd %u: inode %u is not in memfd.img\n", d->id, mfe->inode_id);
	return 0;
}

/* A hugetlb memfd (sized already): the dumped pages go in through a mapping of it. */
static int fill_hugetlb(const struct pagemap_read *r, int fd, uint64_t size)
{
	char *map;
	int ret = 0;

	if (!size)
		return r->nr ? -EINVAL : 0;
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	for (size_t i = 0; i < r->nr && !ret; i++) {
		uint64_t off = r->pmes[i]->vaddr, left = r->pmes[i]->nr_pages * PAGE_SIZE, src = r->offset[i];

		if (off > size || left > size - off) {
			ret = -EINVAL;	/* pages past the memfd's size */
			break;
		}
		while (left && !ret) {
			ssize_t n = pread(r->pages_fd, map + off, left, src);

			if (n <= 0)
				ret = n < 0 ? -errno : -EIO;
			src += n;
			off += n;
			left -= n;
		}
	}
	munmap(map, size);
	return ret;
}

/* Copy the dumped pages into the new memfd. */
static int fill_contents(struct rst_ctx *ctx, int fd, const MemfdInodeEntry *mie)
{
	struct pagemap_read r;
	char buf[64 * 1024];
	int ret;

	ret = read_pagemap_image(ctx->img_dfd, CR_FD_SHMEM_PAGEMAP, mie->shmid, &r);
	if (ret == -ENOENT)
		return 0;	/* no pages: all holes */
	if (ret)
		return ret;
	if (r.nr_parent) {
		pagemap_read_free(&r);
		return pr_fail(-EOPNOTSUPP, "pagemap-shmem-%llu.img: PE_PARENT entries (memfd data is dumped whole)\n",
			       (unsigned long long)mie->shmid);
	}
	if (mie->has_hugetlb_flag) {
		ret = fill_hugetlb(&r, fd, mie->size);
		pagemap_read_free(&r);
		return ret;
	}
	for (size_t i = 0; i < r.nr && !ret; i++) {
		uint64_t off = r.pmes[i]->vaddr, left = r.pmes[i]->nr_pages * PAGE_SIZE, src = r.offset[i];

		while (left && !ret) {
			ssize_t n = pread(r.pages_fd, buf, min(left, sizeof(buf)), src);

			if (n <= 0)
				ret = n < 0 ? -errno : -EIO;
			else if (pwrite(fd, buf, n, off) != n)
				ret = -errno ?: -EIO;
			src += n;
			off += n;
			left -= n;
		}
	}
	pagemap_read_free(&r);
	return ret;
}

/*
 * New shared anonymous memory, opened as a file as the dumped task had: a
 * mapping of it, at least a page, opened through map_files and unmapped (the
 * contents and the size come after). -1 with errno.
 */
static int new_anon_shmem(uint64_t size)
{
	size_t len = size ? PAGE_ALIGN(size) : PAGE_SIZE;
	char path[64];
	void *m;
	int fd, err;

	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -1;
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)m, (unsigned long)m + len);
	fd = open(path, O_RDWR | O_CLOEXEC);
	err = errno;
	munmap(m, len);
	errno = err;
	return fd;
}

/* The inode: a memfd with the name, contents, size, mode, owner and then the seals. */
static int create_inode(struct rst_ctx *ctx, struct memfd_inode *i)
{
	MemfdInodeEntry *mie = i->mie;
	bool sealable = mie->seals != F_SEAL_SEAL;
	unsigned int huge = 0;
	_cleanup_close_ int fd = -1;
	int ret;

	if (mie->has_hugetlb_flag) {
		/* MFD_HUGETLB alone is the default size, 2 MiB here */
		huge = mie->hugetlb_flag;
		if (huge != (MFD_HUGETLB | (HUGETLB_PAGE_SHIFT << MAP_HUGE_SHIFT)) && huge != MFD_HUGETLB)
			return pr_fail(-EOPNOTSUPP, "memfd '%s': hugetlb_flag %#x: only 2 MiB pages are restored\n",
				       mie->name, huge);
		if (mie->size % HUGETLB_PAGE_SIZE)
			return pr_fail(-EINVAL, "memfd '%s': a hugetlb memfd of %llu bytes (not whole 2 MiB pages)\n",
				       mie->name, (unsigned long long)mie->size);
	}
	if (!huge && !strcmp(mie->name, ANON_SHMEM_NAME))
		fd = new_anon_shmem(mie->size);
	else
		fd = memfd_create(mie->name, MFD_CLOEXEC | (sealable ? MFD_ALLOW_SEALING : 0) | huge);
	if (fd < 0)
		return pr_fail_errno("can't create memfd '%s'", mie->name);
	/* hugetlbfs is filled through a mapping, which needs the size */
	if (huge && ftruncate(fd, mie->size))
		return pr_fail_errno("memfd '%s': can't set the size %llu", mie->name,
			       (unsigned long long)mie->size);
	ret = fill_contents(ctx, fd, mie);
	if (ret)
		return pr_fail(ret, "memfd '%s': can't restore its contents: %s\n", mie->name, strerror(-ret));
	if (!huge && ftruncate(fd, mie->size))
		return pr_fail_errno("memfd '%s': can't set the size %llu", mie->name,
			       (unsigned long long)mie->size);
	if (mie->has_mode && fchmod(fd, mie->mode))
		return pr_fail_errno("memfd '%s': can't set mode %o", mie->name, mie->mode);
	if (fchown(fd, mie->uid, mie->gid))
		return pr_fail_errno("memfd '%s': can't give it to %u:%u", mie->name, mie->uid, mie->gid);
	if (sealable && mie->seals && fcntl(fd, F_ADD_SEALS, mie->seals))
		return pr_fail_errno("memfd '%s': can't add seals %#x", mie->name, mie->seals);
	pr_debug("memfd '%s' (inode %llu): %llu bytes, seals %#x\n", mie->name, (unsigned long long)mie->inode_id,
		 (unsigned long long)mie->size, mie->seals);
	i->fd = TAKE_FD(fd);
	return 0;
}

/* An open file of the inode for d: memfd_create()'s own for the first read-write one, else a reopen. */
static int open_file(struct memfd_inode *i, unsigned int flags)
{
	char path[64];
	int fd;

	if ((flags & O_ACCMODE) == O_RDWR && !i->fd_given) {
		fd = fcntl(i->fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		/* the status flags open() would have set (O_ASYNC and the owner come later) */
		if (fcntl(fd, F_SETFL, flags & (O_APPEND | O_NONBLOCK | O_NOATIME))) {
			int err = -errno;

			close(fd);
			return err;
		}
		i->fd_given = true;
		return fd;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", i->fd);
	fd = open(path, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int memfd_open(struct rst_ctx *ctx, struct file_desc *d, int *ret_fd)
{
	MemfdFileEntry *mfe = d->fe->memfd;
	struct memfd_inode *i = d->priv;
	unsigned int flags = mfe->flags & (O_ACCMODE | O_APPEND | O_NONBLOCK | O_LARGEFILE | O_NOATIME);
	_cleanup_close_ int fd = -1;
	int ret;

	if (i->fd < 0) {
		ret = create_inode(ctx, i);
		if (ret)
			return ret;
	}
	fd = open_file(i, flags);
	if (fd < 0)
		return pr_fail(fd, "memfd %u: can't open '%s' with flags %o: %s\n", d->id, i->mie->name, flags,
			       strerror(-fd));
	if (mfe->pos && lseek(fd, mfe->pos, SEEK_SET) < 0)
		return pr_fail_errno("memfd %u: can't seek to %llu", d->id, (unsigned long long)mfe->pos);
	ret = anon_fd_restore_flags(fd, mfe->flags, mfe->fown);
	if (ret)
		return pr_fail(ret, "memfd %u: can't restore flags/owner: %s\n", d->id, strerror(-ret));
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int memfd_map_ctl_fd(struct rst_ctx *ctx, uint32_t id)
{
	struct file_desc *d = find_file_desc(ctx, id);
	struct memfd_inode *i;

	if (!d || d->type != &memfd_file_type)
		return -ENOENT;
	i = d->priv;
	return i && i->fd >= 0 ? i->fd : -ENOENT;
}

static void memfd_cleanup(struct rst_ctx *ctx)
{
	struct memfd_rst *st = memfd_rst(ctx);

	while (st && st->inodes) {
		struct memfd_inode *i = st->inodes;

		st->inodes = i->next;
		if (i->fd >= 0)
			close(i->fd);
		pb_free(i->mie, PB_MEMFD_INODE);
		free(i);
	}
	if (st)
		st->inodes_read = false;
}

const struct file_type memfd_file_type = {
	.name = "memfd",
	.type = FD_TYPES__MEMFD,
	.detect = memfd_detect,
	.dump = memfd_dump,
	.collect = memfd_collect,
	.open = memfd_open,
	.cleanup = memfd_cleanup,
	.stage = FILE_OPEN_EARLY,
};

// SPDX-License-Identifier: GPL-2.0
/*
 * An images dir shared by a dump and a page server (upstream zdtm's
 * --page-server runs `criu page-server -D` on the dump's own dir).
 *
 * A page server in a dir of its own ends each session with a pre-dump's
 * inventory.img and a manifest covering its pagemaps and pages, so that
 * the dir is a checkable member of a chain. In the dump's dir those two
 * files are the dump's: it writes them last, after the server has
 * confirmed every page, and its manifest then covers the server's pages.
 * Had the server written its own there, the two writers would race and the
 * loser's inventory or manifest would be what restore reads.
 *
 * So a dump (and a pre-dump) holds an exclusive flock() on its dir from
 * its start to its end, and the server, when the session closes and before
 * it replies (so the dump is still waiting, its lock held), asks for a
 * shared one: refused, the dir is a dump's and the server writes only its
 * pagemaps and pages. CRIU's dump takes no lock; its pstree.img, written
 * before it closes the page server session, newer than the session's
 * start, tells the same (so does ours, on a filesystem without flock(),
 * where both sides go on with a warning; a pre-dump writes no pstree.img).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "images-dir.h"

#undef LOG_PREFIX
#define LOG_PREFIX "images-dir: "

static int open_dir_again(int img_dfd)
{
	return openat(img_dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int images_dir_claim(int img_dfd, const char *then)
{
	int fd = open_dir_again(img_dfd);

	if (fd < 0)
		return pr_fail_errno("can't open the images dir to claim it");
	if (!flock(fd, LOCK_EX | LOCK_NB))
		return fd;
	if (errno != EWOULDBLOCK) {	/* a filesystem without flock(): a page server here goes by pstree.img */
		pr_warn("can't lock the images dir (%s): a page server sharing it is not told\n", strerror(errno));
		return fd;
	}
	close(fd);
	return pr_fail(-EBUSY, "the images dir is in use by another criu (a dump, a dedup, or a page server writing its "
			       "inventory): %s\n", then);
}

/* CRIU's dump, which takes no lock: its pstree.img, written during this session. */
static bool pstree_since(int img_dfd, const struct timespec *since)
{
	struct stat st;

	if (fstatat(img_dfd, "pstree.img", &st, 0))
		return false;
	if (st.st_mtim.tv_sec != since->tv_sec)
		return st.st_mtim.tv_sec > since->tv_sec;
	return st.st_mtim.tv_nsec >= since->tv_nsec;
}

bool images_dir_has_dump(int img_dfd, const struct timespec *since, int *lock_fd)
{
	int fd = open_dir_again(img_dfd);

	*lock_fd = -1;
	if (fd < 0) {
		pr_warn("can't open the images dir again (%s): taken as the dump's\n", strerror(errno));
		return true;
	}
	if (flock(fd, LOCK_SH | LOCK_NB)) {
		if (errno == EWOULDBLOCK) {
			close(fd);
			return true;
		}
		pr_warn("can't lock the images dir (%s): only a pstree.img tells a dump's\n", strerror(errno));
	}
	if (pstree_since(img_dfd, since)) {
		close(fd);
		return true;
	}
	*lock_fd = fd;
	return false;
}

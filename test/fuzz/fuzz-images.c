// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness over criu's image readers (Documentation/reliability.md,
 * "Bad images"). Built with clang (-fsanitize=fuzzer,address,undefined) by
 * `make fuzz`, which also makes the seed images from a dump of our own.
 *
 * The seed dump is the directory FUZZ_SEED_DIR (its files sorted by name),
 * copied once to a directory of its own.
 * An input is one or two bytes, then the bytes of one image file:
 *
 *   byte 0 < 0x80: the byte picks a file of the seed dump (modulo their
 *     number); the copy of the dump with that file's contents replaced by the
 *     rest of the input goes through read_images(), every reader the restore
 *     runs before touching a process (inventory, pstree, core, mm, pagemaps,
 *     shmem, ids, seccomp, cgroups, namespaces, mounts), then is freed and
 *     the file written back;
 *   0x80 <= byte 0 < 0xf0: an image of type byte0 - 0x80 (CR_FD_*, modulo
 *     their number) whose body is the input from byte 2 is read entry after
 *     entry with pb_read_one_eof() as messages of type byte 1 (PB_*, modulo),
 *     until the end or an error: the protobuf layer under every reader;
 *   byte 0 >= 0xf0: the manifest reader (image-check.c) checks the seed dump
 *     with the rest of the input as manifest.img.
 *
 * An error is fine; a crash, a hang, a leak of fds or a sanitizer report is
 * a finding.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"
#include "cgroup.h"
#include "image-check.h"
#include "log.h"
#include "mount.h"
#include "protobuf.h"
#include "restore.h"
#include "rst-ctx.h"

struct seed_file {
	char name[256];
	unsigned char *data;
	size_t len;
};

static struct seed_file *seed;
static int nr_seed;
/*
 * The seed dump is written once into `work` (on a tmpfs when /dev/shm is
 * there); an input replaces one file, which is written back after the run.
 * `scratch` holds the images run_messages() writes, so they never replace
 * a file of the seed dump.
 */
static char work[64];
static char scratch[64];
static int work_dfd = -1;
static int scratch_dfd = -1;

static int load_seed(const char *dir)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort);

	if (n < 0)
		return -1;
	seed = calloc(n, sizeof(*seed));
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		if (stat(path, &st) || !S_ISREG(st.st_mode) || strstr(ents[i]->d_name, ".log"))
			goto next;
		f = fopen(path, "r");
		if (!f)
			goto next;
		snprintf(seed[nr_seed].name, sizeof(seed[nr_seed].name), "%s", ents[i]->d_name);
		seed[nr_seed].len = st.st_size;
		seed[nr_seed].data = malloc(st.st_size + 1);
		if (fread(seed[nr_seed].data, 1, st.st_size, f) == (size_t)st.st_size)
			nr_seed++;
		fclose(f);
next:
		free(ents[i]);
	}
	free(ents);
	return nr_seed ? 0 : -1;
}

static void write_file(int dfd, const char *name, const void *data, size_t len)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		abort();
	if (len && write(fd, data, len) != (ssize_t)len)
		abort();
	close(fd);
}

static int make_tmp_dir(char *buf, size_t size, const char *what)
{
	const char *base = access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm";

	snprintf(buf, size, "%s/criu-fuzz-%s.XXXXXX", base, what);
	if (!mkdtemp(buf))
		return -1;
	return open(buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static void remove_dir(const char *dir)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, NULL);
	char path[4096];

	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		unlink(path);
		free(ents[i]);
	}
	if (n >= 0)
		free(ents);
	rmdir(dir);
}

static void remove_dirs(void)
{
	remove_dir(work);
	remove_dir(scratch);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("FUZZ_SEED_DIR");

	if (!dir || load_seed(dir)) {
		fprintf(stderr, "fuzz-images: FUZZ_SEED_DIR must name a dump (make fuzz makes one)\n");
		exit(2);
	}
	work_dfd = make_tmp_dir(work, sizeof(work), "seed");
	scratch_dfd = make_tmp_dir(scratch, sizeof(scratch), "msg");
	if (work_dfd < 0 || scratch_dfd < 0)
		exit(2);
	atexit(remove_dirs);
	for (int i = 0; i < nr_seed; i++)
		write_file(work_dfd, seed[i].name, seed[i].data, seed[i].len);
	/* errors go to /dev/null: a fuzzer run makes millions of them */
	log_init("/dev/null");
	log_set_loglevel(0);
	return 0;
}

/* file `which` of the seed dump replaced by data; put_back() undoes it */
static void replace(int which, const uint8_t *data, size_t len)
{
	write_file(work_dfd, seed[which].name, data, len);
}

static void put_back(int which)
{
	write_file(work_dfd, seed[which].name, seed[which].data, seed[which].len);
}

static int seed_index(const char *name)
{
	for (int i = 0; i < nr_seed; i++)
		if (!strcmp(seed[i].name, name))
			return i;
	return -1;
}

static void run_read_images(int dfd)
{
	struct restore_opts o = { .img_dfd = dfd, .skip_image_check = true };
	struct rst_ctx ctx = { .opts = &o, .img_dfd = dfd, .log_fd = -1, .ctl_pidfd = -1, .proc_fd = -1,
			       .morph_proc_fd = -1, .watchdog_fd = -1 };

	INIT_LIST_HEAD(&ctx.files.descs);
	read_images(&ctx, &o);
	/* what cr_restore_tasks() frees at its end (restore_cleanup(), cg_rst_fini()) */
	ns_restore_free(&ctx);
	mntns_restore_fini(&ctx);
	free_images(&ctx);
	restore_mem_reset(&ctx);
	cow_reset(&ctx);
	free_shmem_imgs(&ctx);
	cg_rst_fini(&ctx, true);
}

/*
 * The rest of the input as the body of an image of type itype (written after
 * its magic, with the id 1 in its name), read as messages of type mtype.
 */
static void run_messages(int dfd, int itype, int mtype, const uint8_t *data, size_t len)
{
	struct cr_img *img = open_image_at(dfd, itype, O_DUMP, 1UL);
	void *msg;

	if (!img)
		return;
	if (write_img_buf(img, data, len) || close_image_checked(img))
		return;
	img = open_image_at(dfd, itype, O_RSTR, 1UL);
	if (!img)
		return;
	for (int i = 0; i < 4096; i++) {
		if (pb_read_one_eof(img, &msg, mtype) <= 0)
			break;
		pb_free(msg, mtype);
	}
	close_image(img);
}

/*
 * The input as manifest.img of the seed dump: read as a sealed one, then as
 * an older dump's, its CRC right (as that dump's inventory.img would hold it).
 */
static void run_manifest(int dfd, const uint8_t *data, size_t len)
{
	struct image_check_how how = {};
	int i = seed_index("manifest.img");
	uint64_t size;

	write_file(dfd, "manifest.img", data, len);
	check_images(dfd, &how);
	if (!image_file_crc(dfd, "manifest.img", &size, &how.manifest_crc)) {
		how.has_manifest_crc = true;
		check_images(dfd, &how);
	}
	if (i >= 0)
		put_back(i);
	else
		unlinkat(dfd, "manifest.img", 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	if (data[0] < 0x80) {
		int which = data[0] % nr_seed;

		replace(which, data + 1, size - 1);
		run_read_images(work_dfd);
		put_back(which);
	} else if (data[0] < 0xf0) {
		run_messages(scratch_dfd, (data[0] - 0x80) % CR_FD_MAX, data[1] % PB_MAX, data + 2, size - 2);
	} else {
		run_manifest(work_dfd, data + 1, size - 1);
	}
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness over criu's image readers (Documentation/reliability.md,
 * "Bad images"). Built with clang (-fsanitize=fuzzer,address,undefined) by
 * `make fuzz`, which also makes the seed images from a dump of our own.
 *
 * The seed dump is the directory FUZZ_SEED_DIR (its files sorted by name).
 * An input is one or two bytes, then the bytes of one image file:
 *
 *   byte 0 < 0x80: the byte picks a file of the seed dump (modulo their
 *     number); a copy of the dump with that file's contents replaced by the
 *     rest of the input goes through read_images(), every reader the restore
 *     runs before touching a process (inventory, pstree, core, mm, pagemaps,
 *     shmem, ids, seccomp, cgroups, namespaces, mounts), then is freed;
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
static char work[] = "/tmp/criu-fuzz.XXXXXX";

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

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("FUZZ_SEED_DIR");

	if (!dir || load_seed(dir)) {
		fprintf(stderr, "fuzz-images: FUZZ_SEED_DIR must name a dump (make fuzz makes one)\n");
		exit(2);
	}
	if (!mkdtemp(work))
		exit(2);
	/* errors go to /dev/null: a fuzzer run makes millions of them */
	log_init("/dev/null");
	log_set_loglevel(0);
	return 0;
}

/* the seed dump with file `which` replaced by data */
static int make_dir(int which, const uint8_t *data, size_t len)
{
	int dfd = open(work, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0)
		abort();
	for (int i = 0; i < nr_seed; i++) {
		if (i == which)
			write_file(dfd, seed[i].name, data, len);
		else
			write_file(dfd, seed[i].name, seed[i].data, seed[i].len);
	}
	return dfd;
}

static void run_read_images(int dfd)
{
	struct restore_opts o = { .img_dfd = dfd, .skip_image_check = true };
	struct rst_ctx ctx = { .opts = &o, .img_dfd = dfd, .log_fd = -1, .ctl_pidfd = -1, .proc_fd = -1,
			       .morph_proc_fd = -1, .watchdog_fd = -1 };

	INIT_LIST_HEAD(&ctx.files.descs);
	read_images(&ctx, &o);
	free_images(&ctx);
	cg_rst_fini(&ctx, true);	/* cr_restore_tasks() frees the cgroup state there */
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
	uint64_t size;

	write_file(dfd, "manifest.img", data, len);
	check_images(dfd, &how);
	if (!image_file_crc(dfd, "manifest.img", &size, &how.manifest_crc)) {
		how.has_manifest_crc = true;
		check_images(dfd, &how);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int dfd;

	if (size < 2)
		return 0;
	if (data[0] < 0x80) {
		dfd = make_dir(data[0] % nr_seed, data + 1, size - 1);
		run_read_images(dfd);
	} else if (data[0] < 0xf0) {
		dfd = make_dir(-1, NULL, 0);
		run_messages(dfd, (data[0] - 0x80) % CR_FD_MAX, data[1] % PB_MAX, data + 2, size - 2);
	} else {
		dfd = make_dir(-1, NULL, 0);
		run_manifest(dfd, data + 1, size - 1);
	}
	close(dfd);
	return 0;
}

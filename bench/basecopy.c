// SPDX-License-Identifier: GPL-2.0
/*
 * basecopy: the baselines the memory benchmark compares criu against, and a
 * helper that warms free memory up.
 *
 *   basecopy write FILE SIZE_MIB DELAY_S   fill SIZE_MIB of anonymous memory with
 *        a pattern (not timed), then wait, then time open(O_CREAT|O_TRUNC) +
 *        write() of all of it in 1 MiB calls + close() (the dump baseline)
 *   basecopy read FILE SIZE_MIB DELAY_S    wait, then time mmap() of fresh
 *        anonymous memory + read() of FILE's first SIZE_MIB into it (the restore
 *        baseline: the bytes land in memory that was never touched)
 *   basecopy read-pop FILE SIZE_MIB DELAY_S  the same, with madvise(MADV_POPULATE_WRITE)
 *        of the fresh memory before the read() (pages allocated in one call rather
 *        than one fault per page inside the copy): what restore could do
 *   basecopy touch SIZE_MIB                map, touch every page, unmap
 *
 * "wait" is: DELAY_S > 0, sleep that long (cold: the VM may hand its free memory
 * back to the host meanwhile); DELAY_S = 0, touch and unmap SIZE_MIB of memory
 * (warm: the memory the timed part takes was in use just before).
 *
 * write and read print "us N" (microseconds, CLOCK_MONOTONIC, inside the
 * process: exec and exit are not counted) on stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (1ULL << 30)
/*
 * write() goes in 1 MiB calls: on ext4 here one 1 GiB write() took 0.76-3.0 s
 * where 1 MiB calls took 0.23-0.27 s (on tmpfs both take the same)
 */
#define WRITE_CHUNK (1ULL << 20)

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void *map_anon(uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static int do_touch(uint64_t size);

static void wait_before(uint64_t size, unsigned int delay)
{
	if (delay)
		sleep(delay);
	else
		do_touch(size);
}

static int do_write(const char *path, uint64_t size, unsigned int delay)
{
	uint64_t *mem = map_anon(size), t0, done = 0;
	int fd;

	if (!mem)
		return -errno;
	for (uint64_t i = 0; i < size / 8; i++)
		mem[i] = (i + 1) * 0x9e3779b97f4a7c15ULL;
	wait_before(size, delay);
	t0 = now_us();
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (done < size) {
		uint64_t n = size - done < WRITE_CHUNK ? size - done : WRITE_CHUNK;
		ssize_t r = write(fd, (char *)mem + done, n);

		if (r <= 0) {
			close(fd);
			return r < 0 ? -errno : -EIO;
		}
		done += r;
	}
	if (close(fd))
		return -errno;
	printf("us %llu\n", (unsigned long long)(now_us() - t0));
	return 0;
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static int do_read(const char *path, uint64_t size, unsigned int delay, int populate)
{
	uint64_t t0, done = 0;
	char *mem;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	wait_before(size, delay);
	t0 = now_us();
	mem = map_anon(size);
	if (!mem || (populate && madvise(mem, size, MADV_POPULATE_WRITE))) {
		close(fd);
		return -errno;
	}
	while (done < size) {
		uint64_t n = size - done < CHUNK ? size - done : CHUNK;
		ssize_t r = read(fd, mem + done, n);

		if (r <= 0) {
			close(fd);
			return r < 0 ? -errno : -ENODATA;
		}
		done += r;
	}
	printf("us %llu\n", (unsigned long long)(now_us() - t0));
	close(fd);
	return 0;
}

/* memcpy of SIZE patterned bytes into freshly mapped memory (issues 3 and 4 quote this baseline). */
static int do_memcpy(uint64_t size, unsigned int delay)
{
	uint64_t *src = map_anon(size), t0;
	char *dst;

	if (!src)
		return -errno;
	for (uint64_t i = 0; i < size / 8; i++)
		src[i] = (i + 1) * 0x9e3779b97f4a7c15ULL;
	wait_before(size, delay);
	t0 = now_us();
	dst = map_anon(size);
	if (!dst)
		return -errno;
	memcpy(dst, src, size);
	printf("us %llu\n", (unsigned long long)(now_us() - t0));
	/* use the copy, so the compiler keeps it */
	return dst[size - 1] == ((char *)src)[size - 1] ? 0 : -EIO;
}

static int do_touch(uint64_t size)
{
	char *mem = map_anon(size);

	if (!mem)
		return -errno;
	for (uint64_t off = 0; off < size; off += 4096)
		mem[off] = 1;
	return munmap(mem, size) ? -errno : 0;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || *end || end == s ? -EINVAL : 0;
}

int main(int argc, char **argv)
{
	uint64_t mib, delay = 0;
	int ret;

	if (argc == 4 && !strcmp(argv[1], "memcpy") && !parse_u64(argv[2], &mib) && !parse_u64(argv[3], &delay)) {
		ret = do_memcpy(mib << 20, delay);
	} else if (argc == 3 && !strcmp(argv[1], "touch") && !parse_u64(argv[2], &mib)) {
		ret = do_touch(mib << 20);
	} else if (argc == 5 && !parse_u64(argv[3], &mib) && !parse_u64(argv[4], &delay) &&
		   (!strcmp(argv[1], "write") || !strcmp(argv[1], "read") || !strcmp(argv[1], "read-pop"))) {
		if (argv[1][0] == 'w')
			ret = do_write(argv[2], mib << 20, delay);
		else
			ret = do_read(argv[2], mib << 20, delay, !strcmp(argv[1], "read-pop"));
	} else {
		fprintf(stderr, "usage: basecopy write|read|read-pop FILE SIZE_MIB DELAY_S | basecopy memcpy SIZE_MIB DELAY_S | basecopy touch SIZE_MIB\n");
		return 2;
	}
	if (ret) {
		fprintf(stderr, "basecopy %s: %s\n", argv[1], strerror(-ret));
		return 1;
	}
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * copyexp: ways to move another process's memory into an image file, timed
 * alone, to tell what the dump's memory copy could cost at best.
 *
 *   copyexp METHOD PID ADDR SIZE_MIB FILE
 *
 * copies SIZE_MIB at ADDR of process PID (stopped or not: the caller's business)
 * into FILE (created, truncated) and prints "us N" (CLOCK_MONOTONIC, from the open
 * of FILE to its close) and the number of syscalls of the copy itself.
 *   readv-write   process_vm_readv into a 1 MiB buffer, write() it; in turn
 *                 (two copies: task -> buffer -> page cache; what criu does, less
 *                 its writer thread)
 *   readv-mmap    ftruncate FILE, mmap it MAP_SHARED, process_vm_readv straight
 *                 into the mapping, 64 MiB per call (one copy: task -> page cache;
 *                 the page cache pages are faulted in one by one by the copy)
 *   readv-mmap-pop  the same, with madvise(MADV_POPULATE_WRITE) on each 64 MiB of
 *                 the mapping first (page cache pages allocated in one call)
 *   mem-write     pread of /proc/PID/mem into a 1 MiB buffer, write() it
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define BUF_SIZE (1UL << 20)
#define MAP_CHUNK (64UL << 20)

static unsigned long nr_calls;

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int readv_all(pid_t pid, char *dst, unsigned long addr, size_t len)
{
	while (len) {
		struct iovec l = { dst, len }, r = { (void *)addr, len };
		ssize_t n = process_vm_readv(pid, &l, 1, &r, 1, 0);

		nr_calls++;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		dst += n;
		addr += n;
		len -= n;
	}
	return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		nr_calls++;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= n;
	}
	return 0;
}

static int via_buffer(pid_t pid, unsigned long addr, size_t size, int fd, int mem_fd)
{
	char *buf = malloc(BUF_SIZE);
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	for (size_t off = 0; off < size && !ret; off += BUF_SIZE) {
		size_t len = size - off < BUF_SIZE ? size - off : BUF_SIZE;

		if (mem_fd >= 0) {
			ssize_t n = pread(mem_fd, buf, len, addr + off);

			nr_calls++;
			ret = n == (ssize_t)len ? 0 : (n < 0 ? -errno : -EIO);
		} else {
			ret = readv_all(pid, buf, addr + off, len);
		}
		if (!ret)
			ret = write_all(fd, buf, len);
	}
	free(buf);
	return ret;
}

static int via_mmap(pid_t pid, unsigned long addr, size_t size, int fd, int populate)
{
	char *map;
	int ret = 0;

	if (ftruncate(fd, size))
		return -errno;
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	nr_calls += 2;
	for (size_t off = 0; off < size && !ret; off += MAP_CHUNK) {
		size_t len = size - off < MAP_CHUNK ? size - off : MAP_CHUNK;

		if (populate) {
			nr_calls++;
			if (madvise(map + off, len, MADV_POPULATE_WRITE)) {
				ret = -errno;
				break;
			}
		}
		ret = readv_all(pid, map + off, addr + off, len);
	}
	munmap(map, size);
	return ret;
}

int main(int argc, char **argv)
{
	unsigned long addr;
	uint64_t t0, size;
	int fd, mem_fd = -1, ret;
	pid_t pid;

	if (argc != 6) {
		fprintf(stderr, "usage: copyexp readv-write|readv-mmap|readv-mmap-pop|mem-write PID ADDR SIZE_MIB FILE\n");
		return 2;
	}
	pid = atoi(argv[2]);
	addr = strtoul(argv[3], NULL, 0);
	size = strtoull(argv[4], NULL, 10) << 20;
	if (!strcmp(argv[1], "mem-write")) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/mem", pid);
		mem_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (mem_fd < 0) {
			perror("copyexp: open mem");
			return 1;
		}
	}
	t0 = now_us();
	fd = open(argv[5], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		perror("copyexp: open");
		return 1;
	}
	if (!strcmp(argv[1], "readv-write") || mem_fd >= 0)
		ret = via_buffer(pid, addr, size, fd, mem_fd);
	else if (!strcmp(argv[1], "readv-mmap"))
		ret = via_mmap(pid, addr, size, fd, 0);
	else if (!strcmp(argv[1], "readv-mmap-pop"))
		ret = via_mmap(pid, addr, size, fd, 1);
	else
		ret = -EINVAL;
	close(fd);
	if (ret) {
		fprintf(stderr, "copyexp %s: %s\n", argv[1], strerror(-ret));
		return 1;
	}
	printf("us %llu calls %lu\n", (unsigned long long)(now_us() - t0), nr_calls);
	return 0;
}

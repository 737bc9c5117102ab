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
 *   vmsplice-demo (PID and ADDR ignored) forks a child that fills SIZE_MIB with a
 *                 pattern; timed: the child vmsplice()s its memory into a pipe of
 *                 1 MiB (the largest without CAP_SYS_RESOURCE), the parent splice()s
 *                 the pipe into FILE (one copy: page -> page cache). What a dump
 *                 that runs vmsplice in the task (a remote syscall) could reach,
 *                 less the remote syscalls' own cost.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
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

#define PIPE_SIZE (1 << 20)

static int vmsplice_child(int wfd, int go_fd, int ready_fd, size_t size)
{
	uint64_t *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char c = 0;

	if (mem == MAP_FAILED)
		return 1;
	for (size_t i = 0; i < size / 8; i++)
		mem[i] = (i + 1) * 0x9e3779b97f4a7c15ULL;
	if (write(ready_fd, &c, 1) != 1 || read(go_fd, &c, 1) != 1)
		return 1;
	for (size_t off = 0; off < size;) {
		struct iovec iov = { (char *)mem + off, size - off < PIPE_SIZE ? size - off : PIPE_SIZE };
		ssize_t n = vmsplice(wfd, &iov, 1, 0);

		if (n <= 0)
			return 1;
		off += n;
	}
	return 0;
}

static int via_vmsplice(size_t size, int fd)
{
	int p[2], go[2], ready[2], st;
	uint64_t t0;
	pid_t pid;
	char c = 0;

	if (pipe(p) || pipe(go) || pipe(ready))
		return -errno;
	if (fcntl(p[1], F_SETPIPE_SZ, PIPE_SIZE) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid)
		_exit(vmsplice_child(p[1], go[0], ready[1], size));
	close(p[1]);
	if (read(ready[0], &c, 1) != 1)
		return -EIO;
	t0 = now_us();
	if (write(go[1], &c, 1) != 1)
		return -EIO;
	for (size_t done = 0; done < size;) {
		ssize_t n = splice(p[0], NULL, fd, NULL, PIPE_SIZE, SPLICE_F_MOVE);

		nr_calls++;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += n;
	}
	printf("transfer-us %llu\n", (unsigned long long)(now_us() - t0));
	waitpid(pid, &st, 0);
	return WIFEXITED(st) && !WEXITSTATUS(st) ? 0 : -EIO;
}

int main(int argc, char **argv)
{
	unsigned long addr;
	uint64_t t0, size;
	int fd, mem_fd = -1, ret;
	pid_t pid;

	if (argc != 6) {
		fprintf(stderr, "usage: copyexp readv-write|readv-mmap|readv-mmap-pop|mem-write|vmsplice-demo PID ADDR SIZE_MIB FILE\n");
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
	else if (!strcmp(argv[1], "vmsplice-demo"))
		ret = via_vmsplice(size, fd);
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

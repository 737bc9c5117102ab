// SPDX-License-Identifier: GPL-2.0
/* Reading and writing another task's memory. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/uio.h>
#include <unistd.h>

#include "compel/compel.h"
#include "compel-internal.h"

int compel_open_mem(pid_t pid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* pread/pwrite loop on /proc/PID/mem; done bytes already copied. */
static int mem_fd_io(pid_t pid, int mem_fd, unsigned long addr, void *buf, size_t len, bool write_it)
{
	_c_cleanup_close_ int own = -1;
	size_t done = 0;

	if (mem_fd < 0) {
		own = compel_open_mem(pid);
		if (own < 0)
			return own;
		mem_fd = own;
	}
	while (done < len) {
		ssize_t n;

		if (write_it)
			n = pwrite(mem_fd, (char *)buf + done, len - done, (off_t)(addr + done));
		else
			n = pread(mem_fd, (char *)buf + done, len - done, (off_t)(addr + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return done ? -EFAULT : (errno == EIO ? -EFAULT : -errno);
		if (n == 0)
			return -EFAULT;
		done += n;
	}
	return 0;
}

static int mem_io(pid_t pid, int mem_fd, unsigned long addr, void *buf, size_t len, bool write_it)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)addr, .iov_len = len };
	ssize_t n;

	if (!len)
		return 0;
	if (write_it)
		n = process_vm_writev(pid, &local, 1, &remote, 1, 0);
	else
		n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n == (ssize_t)len)
		return 0;
	if (n < 0)
		n = 0;
	/* a read-only page, or a page process_vm_* cannot reach: go through /proc/PID/mem */
	cpr_debug("process_vm_%sv %d at %#lx: %zd of %zu, trying /proc/PID/mem\n", write_it ? "write" : "read",
		  pid, addr, n, len);
	return mem_fd_io(pid, mem_fd, addr + n, (char *)buf + n, len - n, write_it);
}

int compel_mem_read(pid_t pid, int mem_fd, unsigned long addr, void *buf, size_t len)
{
	return mem_io(pid, mem_fd, addr, buf, len, false);
}

int compel_mem_write(pid_t pid, int mem_fd, unsigned long addr, const void *buf, size_t len)
{
	return mem_io(pid, mem_fd, addr, (void *)buf, len, true);
}

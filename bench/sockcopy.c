// SPDX-License-Identifier: GPL-2.0
/*
 * sockcopy: the baseline of the page server benchmark (bench/pageserver.py):
 * the same bytes through a plain TCP socket on loopback, into a file.
 *
 *   sockcopy recv PORT FILE      listen on 127.0.0.1:PORT, print "ready" on
 *        stdout, take one connection, read() it in 4 MiB calls and write()
 *        each into FILE until EOF, then answer one byte and exit
 *   sockcopy send PORT SIZE_MIB  fill SIZE_MIB of anonymous memory with a
 *        pattern (not timed), then time connect() + write() of all of it in
 *        1 MiB calls + shutdown(SHUT_WR) + the receiver's byte: the bytes are
 *        in FILE then. Prints "us N".
 *
 * The page server does the same on its side (recv into a 4 MiB buffer, write
 * to the pages image); criu's side reads the task's memory (process_vm_readv)
 * before each send, which the baseline does not have to.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SEND_CHUNK (1UL << 20)
#define RECV_CHUNK (4UL << 20)

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static int do_recv(int port, const char *path)
{
	struct sockaddr_in a = loopback(port);
	int one = 1, lsk = socket(AF_INET, SOCK_STREAM, 0), sk, fd;
	char *buf = malloc(RECV_CHUNK);
	ssize_t n;

	setsockopt(lsk, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (!buf || bind(lsk, (struct sockaddr *)&a, sizeof(a)) || listen(lsk, 1))
		return 1;
	printf("ready\n");
	fflush(stdout);
	sk = accept(lsk, NULL, NULL);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (sk < 0 || fd < 0)
		return 1;
	while ((n = read(sk, buf, RECV_CHUNK)) > 0)
		if (write_all(fd, buf, n))
			return 1;
	close(fd);
	return n < 0 || write(sk, "k", 1) != 1;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
}

static int do_send(int port, size_t mib)
{
	size_t size = mib << 20;
	struct sockaddr_in a = loopback(port);
	uint64_t *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t t0;
	int sk, one = 1;
	char c;

	if (mem == MAP_FAILED)
		return 1;
	for (size_t i = 0; i < size / 8; i++)
		mem[i] = i * 0x9e3779b97f4a7c15ULL;
	t0 = now_us();
	sk = socket(AF_INET, SOCK_STREAM, 0);
	if (sk < 0 || connect(sk, (struct sockaddr *)&a, sizeof(a)))
		return 1;
	setsockopt(sk, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (size_t off = 0; off < size; off += SEND_CHUNK)
		if (write_all(sk, (char *)mem + off, SEND_CHUNK))
			return 1;
	shutdown(sk, SHUT_WR);
	if (read(sk, &c, 1) != 1)
		return 1;
	printf("us %llu\n", (unsigned long long)(now_us() - t0));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "recv"))
		return do_recv(atoi(argv[2]), argv[3]);
	if (argc == 4 && !strcmp(argv[1], "send"))
		return do_send(atoi(argv[2]), strtoul(argv[3], NULL, 10));
	fprintf(stderr, "usage: sockcopy recv PORT FILE | sockcopy send PORT SIZE_MIB\n");
	return 2;
}

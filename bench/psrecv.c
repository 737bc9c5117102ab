// SPDX-License-Identifier: GPL-2.0
/*
 * psrecv: ways of storing a TCP stream into a file on tmpfs, timed (the page
 * server's receiving side, without the protocol; bench/RESULTS.md).
 *
 *   psrecv recv PORT FILE MODE   listen on 127.0.0.1:PORT, print "ready", take
 *        one connection, store everything into FILE by MODE until EOF, answer
 *        one byte; prints "cpu_us N" (the receiver's user+sys time) on exit.
 *        MODE: splice  socket -> pipe (1 MiB) -> file, splice() both ways
 *              rw      read() 4 MiB into a buffer, write() it
 *              mmap    the file grown by ftruncate() and mapped, recv() into
 *                      the mapping (4 MiB at a time, MSG_WAITALL)
 *              fsplice splice, the file fallocate()d 64 MiB ahead
 *              frw     rw, the file fallocate()d 64 MiB ahead
 *              tsplice splice, two threads: one moves socket -> pipe, the
 *                      other pipe -> file, over a ring of 4 pipes
 *   psrecv send PORT SIZE_MIB HOW  SIZE_MIB of memory, filled (not timed), sent
 *        in 1 MiB steps: HOW write (write() from memory, as bench/sockcopy) or
 *        vmsplice (vmsplice() into a 1 MiB pipe, splice() to the socket, as
 *        criu's page pipe); prints "us N": connect to the receiver's byte.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (1UL << 20)
#define BUF (4UL << 20)
#define AHEAD (64UL << 20)

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

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

/* fallocate() the next AHEAD bytes once the stream reaches *done */
static void ahead(int fd, off_t pos, off_t *done)
{
	if (pos + (off_t)BUF <= *done)
		return;
	fallocate(fd, FALLOC_FL_KEEP_SIZE, *done, AHEAD);
	*done += AHEAD;
}

static long store_splice(int sk, int fd, int falloc)
{
	int p[2];
	off_t pos = 0, done = 0;
	ssize_t in;

	if (pipe(p) || fcntl(p[1], F_SETPIPE_SZ, CHUNK) < 0)
		return -1;
	while ((in = splice(sk, NULL, p[1], NULL, CHUNK, SPLICE_F_MOVE)) > 0) {
		if (falloc)
			ahead(fd, pos, &done);
		pos += in;
		while (in) {
			ssize_t out = splice(p[0], NULL, fd, NULL, in, SPLICE_F_MOVE);

			if (out <= 0)
				return -1;
			in -= out;
		}
	}
	return in < 0 ? -1 : pos;
}

#define RING 4

struct ring {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int p[RING][2];
	ssize_t len[RING];	/* bytes in pipe i, 0: free, -1: the end */
	int fd, err;
};

static void *ring_writer(void *arg)
{
	struct ring *r = arg;

	for (int i = 0;; i = (i + 1) % RING) {
		ssize_t in;

		pthread_mutex_lock(&r->lock);
		while (!r->len[i])
			pthread_cond_wait(&r->cond, &r->lock);
		in = r->len[i];
		pthread_mutex_unlock(&r->lock);
		if (in < 0)
			return NULL;
		while (in) {
			ssize_t out = splice(r->p[i][0], NULL, r->fd, NULL, in, SPLICE_F_MOVE);

			if (out <= 0) {
				r->err = 1;
				return NULL;
			}
			in -= out;
		}
		pthread_mutex_lock(&r->lock);
		r->len[i] = 0;
		pthread_cond_broadcast(&r->cond);
		pthread_mutex_unlock(&r->lock);
	}
}

static long store_tsplice(int sk, int fd)
{
	static struct ring r = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
	pthread_t t;
	off_t pos = 0;
	ssize_t in = 1;
	int i = 0;

	r.fd = fd;
	for (int k = 0; k < RING; k++)
		if (pipe(r.p[k]) || fcntl(r.p[k][1], F_SETPIPE_SZ, CHUNK) < 0)
			return -1;
	pthread_create(&t, NULL, ring_writer, &r);
	while (in > 0) {
		ssize_t got = 0;

		pthread_mutex_lock(&r.lock);
		while (r.len[i])
			pthread_cond_wait(&r.cond, &r.lock);
		pthread_mutex_unlock(&r.lock);
		/* what has arrived, up to 1 MiB; 0 at EOF: the end for the writer */
		in = splice(sk, NULL, r.p[i][1], NULL, CHUNK, SPLICE_F_MOVE);
		got = in > 0 ? in : 0;
		pos += got;
		pthread_mutex_lock(&r.lock);
		r.len[i] = got ? got : -1;
		pthread_cond_broadcast(&r.cond);
		pthread_mutex_unlock(&r.lock);
		if (!got)
			break;
		i = (i + 1) % RING;
	}
	pthread_join(t, NULL);
	return in < 0 || r.err ? -1 : pos;
}

static long store_rw(int sk, int fd, int falloc)
{
	char *buf = malloc(BUF);
	off_t pos = 0, done = 0;
	ssize_t n;

	while ((n = read(sk, buf, BUF)) > 0) {
		if (falloc)
			ahead(fd, pos, &done);
		if (write_all(fd, buf, n))
			return -1;
		pos += n;
	}
	return n < 0 ? -1 : pos;
}

static long store_mmap(int sk, int fd)
{
	off_t size = 0, pos = 0;
	char *map = NULL;
	ssize_t n;

	for (;;) {
		if (pos + (off_t)BUF > size) {
			if (map)
				munmap(map, size);
			size += AHEAD;
			if (ftruncate(fd, size))
				return -1;
			map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			if (map == MAP_FAILED)
				return -1;
		}
		n = recv(sk, map + pos, BUF, MSG_WAITALL);
		if (n <= 0)
			break;
		pos += n;
	}
	munmap(map, size);
	if (n < 0 || ftruncate(fd, pos))
		return -1;
	return pos;
}

static int do_recv(int port, const char *path, const char *mode)
{
	struct sockaddr_in a = loopback(port);
	int one = 1, lsk = socket(AF_INET, SOCK_STREAM, 0), sk, fd;
	struct rusage ru;
	long got;

	setsockopt(lsk, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lsk, (struct sockaddr *)&a, sizeof(a)) || listen(lsk, 1))
		return 1;
	printf("ready\n");
	fflush(stdout);
	sk = accept(lsk, NULL, NULL);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (sk < 0 || fd < 0)
		return 1;
	if (!strcmp(mode, "splice") || !strcmp(mode, "fsplice"))
		got = store_splice(sk, fd, mode[0] == 'f');
	else if (!strcmp(mode, "rw") || !strcmp(mode, "frw"))
		got = store_rw(sk, fd, mode[0] == 'f');
	else if (!strcmp(mode, "tsplice"))
		got = store_tsplice(sk, fd);
	else if (!strcmp(mode, "mmap"))
		got = store_mmap(sk, fd);
	else
		return 2;
	if (got < 0 || ftruncate(fd, got))
		return 1;
	close(fd);
	if (write(sk, "k", 1) != 1)
		return 1;
	getrusage(RUSAGE_SELF, &ru);
	printf("cpu_us %ld bytes %ld\n", ru.ru_utime.tv_sec * 1000000L + ru.ru_utime.tv_usec +
					   ru.ru_stime.tv_sec * 1000000L + ru.ru_stime.tv_usec, got);
	return 0;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
}

static int send_vmsplice(int sk, char *mem, size_t size)
{
	int p[2];

	if (pipe(p) || fcntl(p[1], F_SETPIPE_SZ, CHUNK) < 0)
		return -1;
	for (size_t off = 0; off < size; off += CHUNK) {
		struct iovec iov = { mem + off, CHUNK };
		size_t left = CHUNK;

		while (iov.iov_len) {
			ssize_t n = vmsplice(p[1], &iov, 1, 0);

			if (n <= 0)
				return -1;
			iov.iov_base = (char *)iov.iov_base + n;
			iov.iov_len -= n;
		}
		while (left) {
			ssize_t n = splice(p[0], NULL, sk, NULL, left, SPLICE_F_MOVE | SPLICE_F_MORE);

			if (n <= 0)
				return -1;
			left -= n;
		}
	}
	return 0;
}

static int do_send(int port, size_t mib, const char *how)
{
	size_t size = mib << 20;
	struct sockaddr_in a = loopback(port);
	uint64_t *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t t0;
	int sk, one = 1, ret = 0;
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
	if (!strcmp(how, "vmsplice"))
		ret = send_vmsplice(sk, (char *)mem, size);
	else
		for (size_t off = 0; off < size && !ret; off += CHUNK)
			ret = write_all(sk, (char *)mem + off, CHUNK);
	if (ret)
		return 1;
	shutdown(sk, SHUT_WR);
	if (read(sk, &c, 1) != 1)
		return 1;
	printf("us %llu\n", (unsigned long long)(now_us() - t0));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "recv"))
		return do_recv(atoi(argv[2]), argv[3], argv[4]);
	if (argc == 5 && !strcmp(argv[1], "send"))
		return do_send(atoi(argv[2]), strtoul(argv[3], NULL, 10), argv[4]);
	fprintf(stderr, "usage: psrecv recv PORT FILE MODE | psrecv send PORT SIZE_MIB write|vmsplice\n");
	return 2;
}

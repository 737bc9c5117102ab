/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the inet socket tests (sk_inet*.c, sk_tcp*.c). They run in the
 * zdtm runner's own network namespace (flavor ns), whose loopback is up:
 * 127.0.0.1 and ::1 are theirs.
 */
#ifndef ZDTM_SK_INET_H
#define ZDTM_SK_INET_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

union sk_addr {
	struct sockaddr sa;
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
	struct sockaddr_storage ss;
};

/* 127.0.0.1, ::1 or ::ffff:127.0.0.1 (v4mapped) with port 0 (the kernel picks one) */
static inline socklen_t sk_loopback(int family, bool v4mapped, union sk_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (family == AF_INET) {
		a->v4.sin_family = AF_INET;
		a->v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof(a->v4);
	}
	a->v6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, v4mapped ? "::ffff:127.0.0.1" : "::1", &a->v6.sin6_addr);
	return sizeof(a->v6);
}

static inline int sk_get_int(int fd, int level, int opt)
{
	socklen_t len = sizeof(int);
	int v = -12345;

	if (getsockopt(fd, level, opt, &v, &len))
		return -12345;
	return v;
}

static inline int sk_set_int(int fd, int level, int opt, int v)
{
	return setsockopt(fd, level, opt, &v, sizeof(v));
}

static inline bool sk_name_eq(int fd, const union sk_addr *want)
{
	union sk_addr a;
	socklen_t len = sizeof(a);

	if (getsockname(fd, &a.sa, &len))
		return false;
	if (a.sa.sa_family != want->sa.sa_family)
		return false;
	if (a.sa.sa_family == AF_INET)
		return a.v4.sin_port == want->v4.sin_port && a.v4.sin_addr.s_addr == want->v4.sin_addr.s_addr;
	return a.v6.sin6_port == want->v6.sin6_port && !memcmp(&a.v6.sin6_addr, &want->v6.sin6_addr, 16);
}

static inline int sk_name(int fd, union sk_addr *a, socklen_t *len)
{
	*len = sizeof(*a);
	return getsockname(fd, &a->sa, len);
}

/* all of len bytes, or -1 */
static inline int sk_read_all(int fd, void *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = read(fd, (char *)buf + off, len - off);

		if (n <= 0)
			return -1;
		off += n;
	}
	return 0;
}

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/* compel's private helpers: logging and cleanup (compel does not use criu/include). */
#ifndef COMPEL_INTERNAL_H
#define COMPEL_INTERNAL_H

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

void compel_print(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define cpr_debug(fmt, ...) compel_print(4, "compel: " fmt, ##__VA_ARGS__)
#define cpr_warn(fmt, ...) compel_print(2, "compel: " fmt, ##__VA_ARGS__)

static inline void compel_freep(void *p)
{
	free(*(void **)p);
}

static inline void compel_closep(int *fd)
{
	if (*fd >= 0) {
		int e = errno;

		close(*fd);
		errno = e;
	}
}

#define _c_cleanup_free_ __attribute__((cleanup(compel_freep)))
#define _c_cleanup_close_ __attribute__((cleanup(compel_closep)))

/* rax values in [-4095, -1] are errors of a syscall */
#define COMPEL_IS_ERR(v) ((unsigned long)(v) >= (unsigned long)-4095L)

#endif

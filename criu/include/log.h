/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CRIU_LOG_H
#define CRIU_LOG_H

#include <errno.h>
#include <stdarg.h>

/* Log levels, numbered as CRIU's -v levels. */
enum {
	LOG_MSG = 0,	/* always printed, no prefix: user-facing output */
	LOG_ERROR = 1,
	LOG_WARN = 2,
	LOG_INFO = 3,
	LOG_DEBUG = 4,
};

#define DEFAULT_LOGLEVEL LOG_WARN

int log_init(const char *path);
void log_fini(void);
void log_set_loglevel(int level);
int log_get_loglevel(void);
int log_get_fd(void);
/* Log through fd from now on (restore stubs move the log fd out of the way of restored fds). */
void log_set_fd(int fd);
void log_set_prefix(const char *prefix);
/* The first error logged (any level) since the last reset, without its head; NULL if none. */
const char *log_first_err(void);
void log_first_err_reset(void);
void print_on_level(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vprint_on_level(int level, const char *fmt, va_list ap);

#ifndef LOG_PREFIX
#define LOG_PREFIX
#endif

#define pr_msg(fmt, ...) print_on_level(LOG_MSG, fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...) print_on_level(LOG_INFO, LOG_PREFIX fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) print_on_level(LOG_DEBUG, LOG_PREFIX fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...) print_on_level(LOG_WARN, "Warn  (%s:%d): " LOG_PREFIX fmt, __FILE__, __LINE__, ##__VA_ARGS__)
#define pr_err(fmt, ...) print_on_level(LOG_ERROR, "Error (%s:%d): " LOG_PREFIX fmt, __FILE__, __LINE__, ##__VA_ARGS__)

/* pr_perror appends strerror(errno) and keeps errno intact for the caller. */
#define pr_perror(fmt, ...)                                                              \
	do {                                                                             \
		int __e = errno;                                                         \
		pr_err(fmt ": %s\n", ##__VA_ARGS__, strerror(__e));                      \
		errno = __e;                                                             \
	} while (0)

/*
 * pr_fail() for a failed call that set errno: logs "fmt: strerror(errno)" and
 * hands -errno back: `return pr_fail_errno("can't open %s", path);`.
 */
#define pr_fail_errno(fmt, ...)                                                          \
	({                                                                               \
		int __e = errno;                                                         \
		pr_err(fmt ": %s\n", ##__VA_ARGS__, strerror(__e));                      \
		-__e;                                                                    \
	})

/* Log once and hand the negative errno back: `return pr_fail(-EINVAL, "...")`. */
#define pr_fail(err, fmt, ...)                                                           \
	({                                                                               \
		pr_err(fmt, ##__VA_ARGS__);                                              \
		(int)(err);                                                              \
	})

#endif

// SPDX-License-Identifier: GPL-2.0
/* Logging in CRIU's style: "(sss.uuuuuu) " timestamps, one sink, -v levels. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "common.h"
#include "log.h"

/* File scope: one log per criu process, used from everywhere, before and without any ctx. */
static int log_fd = STDERR_FILENO;
/*
 * Errors are copied to fd 2 when the log goes to a file, so that a user at a
 * terminal sees them. Not in a restore stub: there fd 2 is whatever file the
 * images gave the task (log_set_fd() turns the copy off), and an image must
 * never get criu to write into a file of its choosing.
 */
static bool copy_errors_to_stderr = true;
static int loglevel = DEFAULT_LOGLEVEL;
static struct timeval log_start;
static char log_prefix[32];
/* the first error logged since log_first_err_reset(), for RPC answers (cr-service.c) */
static char first_err[512];

int log_init(const char *path)
{
	gettimeofday(&log_start, NULL);
	if (!path || !strcmp(path, "-")) {
		log_fd = STDERR_FILENO;
		return 0;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "Error: can't open log file %s: %s\n", path, strerror(errno));
		return -errno;
	}
	log_fd = fd;
	return 0;
}

void log_fini(void)
{
	if (log_fd != STDERR_FILENO && log_fd >= 0)
		close(log_fd);
	log_fd = STDERR_FILENO;
}

void log_set_loglevel(int level)
{
	loglevel = level;
}

int log_get_loglevel(void)
{
	return loglevel;
}

int log_get_fd(void)
{
	return log_fd;
}

void log_set_fd(int fd)
{
	log_fd = fd;
	copy_errors_to_stderr = false;
}

void log_set_prefix(const char *prefix)
{
	snprintf(log_prefix, sizeof(log_prefix), "%s", prefix ? prefix : "");
}

void log_first_err_reset(void)
{
	first_err[0] = '\0';
}

const char *log_first_err(void)
{
	return first_err[0] ? first_err : NULL;
}

/* Keep the first error, whatever the log level, without its "Error (file:line): " head. */
static void keep_first_err(const char *fmt, va_list ap)
{
	const char *msg = first_err;
	size_t len;
	va_list aq;

	va_copy(aq, ap);
	vsnprintf(first_err, sizeof(first_err), fmt, aq);
	va_end(aq);
	if (!strncmp(first_err, "Error (", 7) && (msg = strstr(first_err, "): ")))
		msg += 3;
	else
		msg = first_err;
	len = strlen(msg);
	while (len && msg[len - 1] == '\n')
		len--;
	memmove(first_err, msg, len);
	first_err[len] = '\0';
}

void vprint_on_level(int level, const char *fmt, va_list ap)
{
	char buf[4096];
	int off = 0, e = errno;

	if (level == LOG_ERROR && !first_err[0])
		keep_first_err(fmt, ap);
	if (level > loglevel)
		return;

	if (level != LOG_MSG) {
		struct timeval now, d;

		if (!log_start.tv_sec)
			gettimeofday(&log_start, NULL);
		gettimeofday(&now, NULL);
		timersub(&now, &log_start, &d);
		off = snprintf(buf, sizeof(buf), "(%02ld.%06ld) %s", (long)d.tv_sec, (long)d.tv_usec, log_prefix);
	}
	int n = vsnprintf(buf + off, sizeof(buf) - off, fmt, ap);
	if (n < 0)
		n = 0;
	size_t len = min((size_t)off + n, sizeof(buf) - 1);
	int fd = (level == LOG_MSG && log_fd == STDERR_FILENO) ? STDOUT_FILENO : log_fd;
	write_all(fd, buf, len);
	/* Errors also reach the terminal when logging goes to a file. */
	if (level == LOG_ERROR && log_fd != STDERR_FILENO && copy_errors_to_stderr)
		write_all(STDERR_FILENO, buf, len);
	errno = e;
}

void print_on_level(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_on_level(level, fmt, ap);
	va_end(ap);
}

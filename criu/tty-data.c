// SPDX-License-Identifier: GPL-2.0
/*
 * Bytes queued in a pty (tty-data.img), read out at dump and written back.
 *
 * A pty queues bytes in two places: what the master wrote and the slave has
 * not read (the slave's input), and what the slave wrote and the master has
 * not read. Each is read out of the reading side and written again through
 * the other side: at restore into the new pty, and at dump into the live one
 * straight away (the read took them out).
 *
 * Both ways go through the slave's termios (a master's own termios are fixed
 * raw: its termios ioctls reach the slave's): its output processing (OPOST)
 * for what the master reads, its input processing, echo and line editing for
 * what the slave reads. While the bytes are written, the slave's termios are
 * made to pass them as they are and then put back. In canonical mode the
 * slave reads a line at a time; a line ended by the EOF character comes
 * without it, so the character is kept after such a line in the image, and
 * the line is ended by it again when it is written back.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "common.h"
#include "log.h"
#include "tty.h"

#undef LOG_PREFIX
#define LOG_PREFIX "tty: "

/* A pty holds far less (the line discipline's 4 KiB and the buffers before it). */
#define TTY_DATA_MAX (64 << 10)

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	/* (n_tty's poll first runs what the other side wrote through the line discipline) */
	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static bool is_line_end(const struct termios *t, unsigned char c)
{
	return c == '\n' || (t->c_cc[VEOL] && c == t->c_cc[VEOL]) ||
	       (t->c_cc[VEOL2] && (t->c_lflag & IEXTEN) && c == t->c_cc[VEOL2]);
}

/* A byte the slave's input would take for something else than data when it is written back. */
static bool is_control(const struct termios *t, unsigned char c, bool canon)
{
	if ((t->c_iflag & IXON) && c && (c == t->c_cc[VSTART] || c == t->c_cc[VSTOP]))
		return true;
	return canon && (is_line_end(t, c) || (t->c_cc[VEOF] && c == t->c_cc[VEOF]));
}

/* A line read in canonical mode: it must come back as one line, ended as it was. */
static int check_line(const struct termios *t, struct tty_queued *q, size_t start, const char **ret_why)
{
	size_t len = q->len - start;

	if (!len) {
		/* (given back as it was, but the image can't tell it from the line before) */
		if (t->c_cc[VEOF] && q->len < TTY_DATA_MAX)
			q->buf[q->len++] = t->c_cc[VEOF];
		*ret_why = "an empty line ended by the EOF character";
		return -EOPNOTSUPP;
	}
	for (size_t i = start; i < q->len - 1; i++)
		if (is_control(t, q->buf[i], true)) {
			*ret_why = "a line holding a line end or the EOF character (typed after LNEXT)";
			return -EOPNOTSUPP;
		}
	if (is_line_end(t, q->buf[q->len - 1]))
		return 0;
	/* ended by EOF: keep the character, it ends the line again when written back */
	if (!t->c_cc[VEOF] || q->len >= TTY_DATA_MAX) {
		*ret_why = "a line ended by the EOF character";
		return -EOPNOTSUPP;
	}
	q->buf[q->len++] = t->c_cc[VEOF];
	return 0;
}

int tty_data_take(int master, int reader, bool to_slave, struct tty_queued *q, const char **ret_why)
{
	struct termios t;
	int ret = 0, empty = 0;
	bool canon;

	memset(q, 0, sizeof(*q));
	*ret_why = NULL;
	if (tcgetattr(master, &t))
		return -errno;
	canon = to_slave && (t.c_lflag & ICANON);
	while (readable(reader)) {
		ssize_t n;

		if (!q->buf) {
			q->buf = malloc(TTY_DATA_MAX);
			if (!q->buf)
				return -ENOMEM;
		}
		if (q->len >= TTY_DATA_MAX) {
			*ret_why = "more than 64 KiB";
			return -EOPNOTSUPP;
		}
		n = read(reader, q->buf + q->len, TTY_DATA_MAX - q->len);
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		if (!n && !canon)
			break;	/* the other side is gone */
		q->len += n;
		if (canon)
			ret = check_line(&t, q, q->len - n, ret_why) ?: ret;
		/* (an empty line ended by EOF reads 0; a hung-up slave reads 0 for ever) */
		empty = canon && !n ? empty + 1 : 0;
		if (empty > 64)
			break;
		if (!canon)
			for (ssize_t i = 0; i < n && !ret; i++)
				if (is_control(&t, q->buf[q->len - n + i], false)) {
					*ret_why = "the START or STOP character with IXON (typed after LNEXT)";
					ret = -EOPNOTSUPP;
				}
	}
	return ret;
}

/* The slave's termios that let bytes written on the master reach its reader as they are. */
static void input_as_is(struct termios *t)
{
	t->c_iflag &= ~(ICRNL | INLCR | IGNCR | IUCLC | ISTRIP | PARMRK);
	t->c_lflag &= ~(ECHO | ECHOE | ECHOK | ECHONL | ECHOCTL | ECHOPRT | ECHOKE | ISIG | XCASE);
	/* (0 disables a character; the line ends, EOF and VSTART/VSTOP stay) */
	t->c_cc[VERASE] = t->c_cc[VKILL] = t->c_cc[VWERASE] = 0;
	t->c_cc[VREPRINT] = t->c_cc[VLNEXT] = t->c_cc[VDISCARD] = 0;
}

static int put_all(int fd, const uint8_t *buf, size_t len)
{
	int flags = fcntl(fd, F_GETFL), ret = 0;

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK))
		return -errno;
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			break;
		}
		buf += n;
		len -= n;
	}
	if (fcntl(fd, F_SETFL, flags) && !ret)
		ret = -errno;
	return ret;
}

/* Until the reader holds count bytes: the line discipline takes them in a worker. */
static int wait_queued(int reader, size_t count)
{
	int n = 0;

	for (int i = 0; i < 2000; i++) {
		readable(reader);
		if (ioctl(reader, FIONREAD, &n))
			return -errno;
		if ((size_t)n >= count)
			return 0;
		usleep(500);
	}
	return -ETIMEDOUT;
}

/*
 * What FIONREAD counts of the bytes: in canonical mode the complete lines
 * only, without the EOF characters that end some (check_line()). (CRIU's
 * images keep no EOF character: a last line without a line end stays a
 * partial one, as CRIU's restore leaves it.)
 */
static size_t queued_count(const struct termios *t, bool to_slave, const uint8_t *buf, size_t len)
{
	size_t count = 0, line = 0;

	if (!to_slave || !(t->c_lflag & ICANON))
		return len;
	for (size_t i = 0; i < len; i++) {
		bool eof = t->c_cc[VEOF] && buf[i] == t->c_cc[VEOF] && !is_line_end(t, buf[i]);

		if (!eof)
			line++;
		if (eof || is_line_end(t, buf[i])) {
			count += line;
			line = 0;
		}
	}
	return count;
}

int tty_data_put(int master, int reader, int writer, bool to_slave, const uint8_t *buf, size_t len)
{
	struct termios t0, t, lt, unlocked;
	size_t count;
	int ret;

	/* (the ioctls fill the kernel's termios, shorter than libc's) */
	memset(&lt, 0, sizeof(lt));
	memset(&unlocked, 0, sizeof(unlocked));
	if (tcgetattr(master, &t0) || ioctl(master, TIOCGLCKTRMIOS, &lt))
		return -errno;
	count = queued_count(&t0, to_slave, buf, len);
	t = t0;
	if (to_slave)
		input_as_is(&t);
	else
		t.c_oflag &= ~OPOST;
	/* locked bits would keep the termios as they are: unlocked for the while */
	if (ioctl(master, TIOCSLCKTRMIOS, &unlocked))
		return -errno;
	if (tcsetattr(master, TCSANOW, &t)) {
		ret = -errno;
		goto out;
	}
	ret = put_all(writer, buf, len);
	if (!ret)
		ret = wait_queued(reader, count);
	if (tcsetattr(master, TCSANOW, &t0) && !ret)
		ret = -errno;
out:
	if (ioctl(master, TIOCSLCKTRMIOS, &lt) && !ret)
		ret = -errno;
	return ret;
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TAP output for the unit tests: check() prints "ok N - ..." or "not ok N - ..." and
 * returns cond;
 * main() ends with printf("1..%d\n", nr_test) and returns nr_fail ? 1 : 0.
 */
#ifndef CRIU_TEST_UNIT_TAP_H
#define CRIU_TEST_UNIT_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int nr_test, nr_fail;

static int check(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int check(int cond, const char *fmt, ...)
{
	va_list ap;

	nr_test++;
	if (!cond)
		nr_fail++;
	printf("%sok %d - ", cond ? "" : "not ", nr_test);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

#endif

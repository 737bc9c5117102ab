// SPDX-License-Identifier: GPL-2.0
/* compel's log hook: silent unless the user installs a sink. */
#include <stdarg.h>

#include "compel/compel.h"
#include "compel-internal.h"

static compel_log_fn compel_log_sink;

void compel_log_init(compel_log_fn fn)
{
	compel_log_sink = fn;
}

void compel_print(int level, const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	if (!compel_log_sink)
		return;
	va_start(ap, fmt);
	compel_log_sink(level, fmt, ap);
	va_end(ap);
	errno = e;
}

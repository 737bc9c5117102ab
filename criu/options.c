// SPDX-License-Identifier: GPL-2.0
/* The parsed options, shared by the tool and by the unit tests that link its objects. */
#include <string.h>

#include "cr_options.h"
#include "log.h"

struct cr_options opts = {
	.loglevel = DEFAULT_LOGLEVEL,
};

bool fault_injected(const char *step)
{
	return opts.fault_inject && !strcmp(opts.fault_inject, step);
}

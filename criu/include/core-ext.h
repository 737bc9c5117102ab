/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_CORE_EXT_H__
#define CR_CORE_EXT_H__
/*
 * core-ext-TID.img (criu/core-ext.c): a thread's fields beyond CRIU's
 * core_entry, kept out of core-TID.img so that CRIU's tools read it whole.
 */
#include <sys/types.h>

#include "core.pb-c.h"

/* core-TID.img with CRIU's fields only, ours (if any) in core-ext-TID.img; core is left as it was. 0 or -errno. */
int write_core_ext(int img_dfd, pid_t tid, CoreEntry *core);
/* Put core-ext-TID.img's fields (none: nothing) back into core. 0 or -errno (logged). */
int read_core_ext(int img_dfd, pid_t tid, CoreEntry *core);

#endif

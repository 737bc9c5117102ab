/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the freeze of a dump or pre-dump will touch, touched before the
 * seize (criu/prewarm.c).
 */
#ifndef CRIU_PREWARM_H
#define CRIU_PREWARM_H

#include "mem-copy.h"

/*
 * Right before the seize: the copying threads' buffers made and touched
 * (into *bufs, for dump_mem_threads_start(); free them with
 * mem_copy_bufs_fini() after the pool is stopped), and for a pass with a
 * parent whose pages go to the images dir, about as much page cache as it
 * will write allocated and dropped again. Never fails the dump: what can't
 * be done is logged and left to the freeze.
 */
void prewarm_before_seize(int img_dfd, struct mem_copy_bufs *bufs);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * AIO rings (io_setup(2)): the ring is a mapping "/[aio] (deleted)" of the
 * task, the context id is its address. Dumped as CRIU does: a VMA with
 * status VMA_AREA_AIORING whose pages are in the pagemap, and one
 * AioRingEntry in mm-PID.img (id = address, ring_len, nr_req = what to give
 * io_setup() for a ring of the same size). See Documentation/restore.md.
 */
#ifndef CRIU_AIO_H
#define CRIU_AIO_H

#include <stdbool.h>
#include <sys/types.h>

struct proc_vma;
struct AioRingEntry;
struct MmEntry;
struct VmaEntry;
struct compel_rsys;

/* the maps name of a ring (with " (deleted)" cut off) */
#define AIO_RING_NAME "/[aio]"

/* dump: a ring's header read through proc_dfd's mem, checked; *ret filled. 0 or -errno, logged. */
int aio_dump_ring(int proc_dfd, pid_t pid, const struct proc_vma *v, struct AioRingEntry *ret);

/* restore, before anything starts: every AioRingEntry of mm names a ring VMA. 0 or -errno, logged. */
int aio_check_entries(pid_t pid, const struct MmEntry *mm);

/* restore, before anything starts: the ring VMA v of the images has its AioRingEntry. 0 or -errno, logged. */
int aio_check_image(pid_t pid, const struct MmEntry *mm, const struct VmaEntry *v);

/*
 * morph, once the memory is filled: each ring VMA (mapped as plain memory
 * and filled with the dumped ring) becomes a ring of the kernel again at
 * that place. 0 or -errno, logged.
 */
int aio_restore_rings(struct compel_rsys *rs, pid_t pid, unsigned long scratch, size_t scratch_size,
		      const struct MmEntry *mm);

/* kerndat "aio-remap": a ring moved with mremap() still works. 0 or -errno. */
int aio_probe_remap(void);

#endif

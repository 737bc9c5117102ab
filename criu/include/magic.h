/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Image magics. The values are CRIU's, so that CRIU's decoder (crit) knows
 * our images. inventory.img starts with INVENTORY_MAGIC alone; every other
 * protobuf image starts with IMG_COMMON_MAGIC (IMG_SERVICE_MAGIC for service
 * images) followed by its own magic. pages-*.img carry no magic at all.
 */
#ifndef CRIU_MAGIC_H
#define CRIU_MAGIC_H

/* inventory_entry.img_version */
#define CRTOOLS_IMAGES_V1_1	2

#define IMG_COMMON_MAGIC	0x54564319
#define IMG_SERVICE_MAGIC	0x55105940

#define INVENTORY_MAGIC		0x58313116
#define PSTREE_MAGIC		0x50273030
#define CORE_MAGIC		0x55053847
#define IDS_MAGIC		0x54432030
#define MM_MAGIC		0x57492820
#define PAGEMAP_MAGIC		0x56084025
#define FDINFO_MAGIC		0x56213732
#define FILES_MAGIC		0x56303138
#define FS_MAGIC		0x51403912

#define PIPES_MAGIC		0x56513555
#define PIPES_DATA_MAGIC	0x56453709
#define FIFO_MAGIC		0x58364939
#define FIFO_DATA_MAGIC		0x59333054
#define REG_FILES_MAGIC		0x50363636
#define GHOST_FILE_MAGIC	0x52583605

#define TTY_FILES_MAGIC		0x59433025
#define TTY_INFO_MAGIC		0x59453036
#define TTY_DATA_MAGIC		0x59413026

#define EVENTFD_FILE_MAGIC	0x44523722
#define EVENTPOLL_FILE_MAGIC	0x45023858
#define EVENTPOLL_TFD_MAGIC	0x44433746
#define SIGNALFD_MAGIC		0x57323820
#define TIMERFD_MAGIC		0x50493712
#define INOTIFY_FILE_MAGIC	0x48424431
#define INOTIFY_WD_MAGIC	0x54562009
#define FANOTIFY_FILE_MAGIC	0x55096122
#define FANOTIFY_MARK_MAGIC	0x56506035
#define UNIXSK_MAGIC		0x54373943
#define SK_QUEUES_MAGIC		0x56264026
#define MEMFD_INODE_MAGIC	0x48453499

#define CREDS_MAGIC		0x54023547
#define SIGACT_MAGIC		0x55344201
#define RLIMIT_MAGIC		0x57113925
#define ITIMERS_MAGIC		0x57464056
#define POSIX_TIMERS_MAGIC	0x52603957
#define SECCOMP_MAGIC		0x64413049
#define CPUINFO_MAGIC		0x61404013
#define STATS_MAGIC		0x57093306	/* a service image */

/*
 * Ours, not CRIU's: contents of deleted (unlinked) files. Chosen not to
 * collide with any CRIU magic; crit does not know this image.
 */
#define REG_FILES_DATA_MAGIC	0x5046444a

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The top-level protobuf messages our images hold, one PB_* per message.
 * protobuf.c maps each to its protobuf-c descriptor; image.c packs and
 * unpacks every one of them through that table with protobuf-c's generic
 * calls, so adding a message means adding one enum value and one table row.
 */
#ifndef CRIU_PROTOBUF_H
#define CRIU_PROTOBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

enum pb_type {
	PB_INVENTORY,		/* InventoryEntry: inventory.img */
	PB_PSTREE,		/* PstreeEntry: pstree.img */
	PB_CORE,		/* CoreEntry: core-<tid>.img */
	PB_IDS,			/* TaskKobjIdsEntry: ids-<pid>.img */
	PB_MM,			/* MmEntry: mm-<id>.img */
	PB_PAGEMAP_HEAD,	/* PagemapHead: first entry of pagemap-<id>.img */
	PB_PAGEMAP,		/* PagemapEntry: the rest of pagemap-<id>.img */
	PB_FDINFO,		/* FdinfoEntry: fdinfo-<files_id>.img */
	PB_FILE,		/* FileEntry: files.img */
	PB_PIPE_DATA,		/* PipeDataEntry: pipes-data.img, fifo-data.img */
	PB_FS,			/* FsEntry: fs-<pid>.img */
	PB_TTY_INFO,		/* TtyInfoEntry: tty-info.img */
	PB_TTY_DATA,		/* TtyDataEntry: tty-data.img */
	PB_SK_QUEUES,		/* SkPacketEntry: sk-queues.img */
	PB_MEMFD_INODE,		/* MemfdInodeEntry: memfd.img */
	PB_REMAP_FPATH,		/* RemapFilePathEntry: remap-fpath.img */
	PB_GHOST_FILE,		/* GhostFileEntry: first entry of ghost-file-<id>.img */
	PB_GHOST_CHUNK,		/* GhostChunkEntry: before each data range of a ghost file */
	PB_MAX
};

/* The descriptor of a PB_* type, or NULL for an out-of-range type. */
const ProtobufCMessageDescriptor *pb_desc(int pb_type);
/* A short name for messages ("core", "files"...), "?" when out of range. */
const char *pb_type_name(int pb_type);

#endif

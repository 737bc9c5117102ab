// SPDX-License-Identifier: GPL-2.0
/* The table of top-level protobuf messages: PB_* -> protobuf-c descriptor. */
#include "common.h"
#include "image.h"
#include "protobuf.h"

#include "inventory.pb-c.h"
#include "pstree.pb-c.h"
#include "core.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "fdinfo.pb-c.h"
#include "pipe-data.pb-c.h"
#include "fs.pb-c.h"
#include "tty.pb-c.h"
#include "sk-packet.pb-c.h"
#include "memfd.pb-c.h"
#include "remap-file-path.pb-c.h"
#include "ghost-file.pb-c.h"

struct pb_desc_entry {
	const char *name;
	const ProtobufCMessageDescriptor *desc;
};

static const struct pb_desc_entry pb_descs[PB_MAX] = {
	[PB_INVENTORY]		= { "inventory",	&inventory_entry__descriptor },
	[PB_PSTREE]		= { "pstree",		&pstree_entry__descriptor },
	[PB_CORE]		= { "core",		&core_entry__descriptor },
	[PB_IDS]		= { "ids",		&task_kobj_ids_entry__descriptor },
	[PB_MM]			= { "mm",		&mm_entry__descriptor },
	[PB_PAGEMAP_HEAD]	= { "pagemap-head",	&pagemap_head__descriptor },
	[PB_PAGEMAP]		= { "pagemap",		&pagemap_entry__descriptor },
	[PB_FDINFO]		= { "fdinfo",		&fdinfo_entry__descriptor },
	[PB_FILE]		= { "files",		&file_entry__descriptor },
	[PB_PIPE_DATA]		= { "pipe-data",	&pipe_data_entry__descriptor },
	[PB_FS]			= { "fs",		&fs_entry__descriptor },
	[PB_TTY_INFO]		= { "tty-info",		&tty_info_entry__descriptor },
	[PB_TTY_DATA]		= { "tty-data",		&tty_data_entry__descriptor },
	[PB_SK_QUEUES]		= { "sk-queues",	&sk_packet_entry__descriptor },
	[PB_MEMFD_INODE]	= { "memfd-inode",	&memfd_inode_entry__descriptor },
	[PB_REMAP_FPATH]	= { "remap-fpath",	&remap_file_path_entry__descriptor },
	[PB_GHOST_FILE]		= { "ghost-file",	&ghost_file_entry__descriptor },
	[PB_GHOST_CHUNK]	= { "ghost-chunk",	&ghost_chunk_entry__descriptor },
};

const ProtobufCMessageDescriptor *pb_desc(int pb_type)
{
	if (pb_type < 0 || pb_type >= PB_MAX)
		return NULL;
	return pb_descs[pb_type].desc;
}

const char *pb_type_name(int pb_type)
{
	if (pb_type < 0 || pb_type >= PB_MAX)
		return "?";
	return pb_descs[pb_type].name;
}

void pb_free(void *msg, int pb_type)
{
	if (!msg)
		return;
	/* the descriptor lives in the message itself; pb_type is only a cross-check */
	if (pb_desc(pb_type) != ((ProtobufCMessage *)msg)->descriptor)
		pr_debug("pb_free: a %s message freed as %s\n",
			((ProtobufCMessage *)msg)->descriptor->name, pb_type_name(pb_type));
	protobuf_c_message_free_unpacked(msg, NULL);
}

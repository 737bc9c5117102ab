// SPDX-License-Identifier: GPL-2.0
/* The table of top-level protobuf messages: PB_* -> protobuf-c descriptor. */
#include "common.h"
#include "image.h"
#include "protobuf.h"

#include "all.pb-c.h"

struct pb_desc_entry {
	const char *name;
	const ProtobufCMessageDescriptor *desc;
};

static const struct pb_desc_entry pb_descs[PB_MAX] = {
#define MESSAGE(kind, name, prefix) [PB_##kind] = { name, &prefix##__descriptor },
#include "objects.def"
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

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The top-level protobuf messages our images hold: PB_KIND for each MESSAGE
 * row of objects.def. protobuf.c maps each to its protobuf-c descriptor;
 * image.c packs and unpacks every one of them through that table with
 * protobuf-c's generic calls, so adding a message is adding its row.
 */
#ifndef CRIU_PROTOBUF_H
#define CRIU_PROTOBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

enum pb_type {
#define MESSAGE(kind, name, prefix) PB_##kind,
#include "objects.def"
	PB_MAX
};

/* The descriptor of a PB_* type, or NULL for an out-of-range type. */
const ProtobufCMessageDescriptor *pb_desc(int pb_type);
/* A short name for messages ("core", "files"...), "?" when out of range. */
const char *pb_type_name(int pb_type);

/* Field numbers from this on are ours, not CRIU's (in the images/ protos). */
#define PB_OWN_FIELD_FIRST 100

/*
 * Move the set fields numbered from PB_OWN_FIELD_FIRST of from (of the top
 * level only) to to, a message of the same type: from keeps CRIU's fields
 * alone, to gets ours (strings, arrays and submessages by pointer). Returns
 * whether there was any. pb_own_fields_put() moves the set ones back.
 */
bool pb_own_fields_take(ProtobufCMessage *from, ProtobufCMessage *to);
void pb_own_fields_put(ProtobufCMessage *from, ProtobufCMessage *to);

#endif

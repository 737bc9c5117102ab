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

#endif

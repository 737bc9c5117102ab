/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Image magics. The values are CRIU's, so that CRIU's decoder (crit) knows
 * our images; each image's own magic is in its row of objects.def. inventory.img starts with INVENTORY_MAGIC alone; every other
 * protobuf image starts with IMG_COMMON_MAGIC (IMG_SERVICE_MAGIC for service
 * images) followed by its own magic. pages-*.img carry no magic at all.
 */
#ifndef CRIU_MAGIC_H
#define CRIU_MAGIC_H

/* inventory_entry.img_version */
#define CRTOOLS_IMAGES_V1_1	2

#define IMG_COMMON_MAGIC	0x54564319
#define IMG_SERVICE_MAGIC	0x55105940

/* KIND_MAGIC for every image of criu/include/objects.def (0 for a raw image) */
enum img_magic {
#define IMAGE(kind, fmt, magic, flags, crit) kind##_MAGIC = magic,
#include "objects.def"
};

#endif

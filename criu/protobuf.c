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

/* The size of an optional field's value in the message struct. */
static size_t value_size(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	default:
		return 4;	/* the 32-bit integers, float, enum */
	}
}

/* Is the field set in m? (optional: its has_ flag, or a non-NULL pointer; repeated: any element) */
static bool field_set(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const char *b = (const char *)m;

	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return *(const size_t *)(b + f->quantifier_offset) != 0;
	if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE)
		return *(void *const *)(b + f->offset) != NULL;
	return *(const protobuf_c_boolean *)(b + f->quantifier_offset);
}

/* Move one field from a to b, leaving it unset in a. */
static void move_field(ProtobufCMessage *a, ProtobufCMessage *b, const ProtobufCFieldDescriptor *f)
{
	char *pa = (char *)a, *pb = (char *)b;

	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		memcpy(pb + f->quantifier_offset, pa + f->quantifier_offset, sizeof(size_t));
		memcpy(pb + f->offset, pa + f->offset, sizeof(void *));
		memset(pa + f->quantifier_offset, 0, sizeof(size_t));
		memset(pa + f->offset, 0, sizeof(void *));
		return;
	}
	memcpy(pb + f->offset, pa + f->offset, value_size(f));
	if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE) {
		memset(pa + f->offset, 0, sizeof(void *));
		return;
	}
	*(protobuf_c_boolean *)(pb + f->quantifier_offset) = true;
	*(protobuf_c_boolean *)(pa + f->quantifier_offset) = false;
}

static bool own_field(const ProtobufCFieldDescriptor *f)
{
	return f->id >= PB_OWN_FIELD_FIRST && f->label != PROTOBUF_C_LABEL_REQUIRED &&
	       !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF);
}

bool pb_own_fields_take(ProtobufCMessage *from, ProtobufCMessage *to)
{
	const ProtobufCMessageDescriptor *d = from->descriptor;
	bool any = false;

	for (unsigned int i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];

		if (!own_field(f) || !field_set(from, f))
			continue;
		move_field(from, to, f);
		any = true;
	}
	return any;
}

void pb_own_fields_put(ProtobufCMessage *from, ProtobufCMessage *to)
{
	const ProtobufCMessageDescriptor *d = from->descriptor;

	for (unsigned int i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];

		if (own_field(f) && field_set(from, f))
			move_field(from, to, f);
	}
}

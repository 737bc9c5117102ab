# SPDX-License-Identifier: GPL-2.0
"""A protobuf message as crit's JSON (a dict), and back.

The form is CRIU's crit's, so that JSON from one crit can be fed to the
other:
  - the fields that are set, by name, in field-number order;
  - enums by their value's name, messages as dicts, repeated fields as lists;
  - bytes in base64 (with a line break every 76 characters, as Python's
    base64.encodebytes makes them), except unix socket names, which are
    quoted-printable so that a path stays readable;
  - integers as numbers. With pretty=True (crit decode --pretty, crit show)
    some integers are shown the way CRIU's crit shows them: addresses and
    masks as "0x..." strings, flag words as "PROT_READ | PROT_WRITE",
    device numbers as "MAJOR:MINOR", a few codes by name (task_state
    "Alive", socket type "STREAM"). Reading JSON back accepts both forms,
    and any integer field also accepts a string such as "0x10".

CRIU marks these fields with options in its .proto files; our .proto files
carry no options, so the marks are the table FIELD_FORMS below.
"""
import base64
import os
import quopri

from google.protobuf.descriptor import FieldDescriptor as FD

# ---- how CRIU's crit shows some fields with --pretty ----

HEX = ("hex",)
DEV = ("dev",)
ODEV = ("odev",)		# a dev_t in glibc's encoding (major/minor of os.makedev)


def FLAGS(name):
    return ("flags", name)


def DICT(name):
    return ("dict", name)


# message name: {field name: form}. A message field marked HEX shows every
# integer inside it in hex.
FIELD_FORMS = {
    "user_x86_cet_entry": {"cet": HEX, "ssp": HEX},
    "thread_info_x86": {"clear_tid_addr": HEX, "gpregs": HEX},
    "task_core_entry": {"task_state": DICT("gen"), "blk_sigset": HEX, "blk_sigset_extended": HEX,
                        "membarrier_registration_mask": HEX},
    "inotify_wd_entry": {"mask": HEX, "ignored_mask": HEX, "s_dev": DEV},
    "inotify_file_entry": {"flags": HEX},
    "fanotify_mark_entry": {"mflags": HEX, "mask": HEX, "ignored_mask": HEX, "s_dev": DEV},
    "fanotify_file_entry": {"flags": HEX, "faflags": HEX, "evflags": HEX},
    "ghost_file_entry": {"dev": DEV, "rdev": ODEV},
    "memfd_file_entry": {"flags": FLAGS("rfile.flags")},
    "memfd_inode_entry": {"seals": FLAGS("seals.flags")},
    "mm_entry": dict((f, HEX) for f in ("mm_start_code", "mm_end_code", "mm_start_data", "mm_end_data",
                                         "mm_start_stack", "mm_start_brk", "mm_brk", "mm_arg_start",
                                         "mm_arg_end", "mm_env_start", "mm_env_end")),
    "pagemap_entry": {"vaddr": HEX, "flags": FLAGS("pmap.flags")},
    "pipe_entry": {"flags": HEX},
    "reg_file_entry": {"flags": FLAGS("rfile.flags")},
    "sa_entry": {"sigaction": HEX, "flags": HEX, "restorer": HEX, "mask": HEX, "mask_extended": HEX},
    "signalfd_entry": {"flags": HEX, "sigmask": HEX},
    "unix_sk_entry": {"type": DICT("sk"), "state": DICT("sk"), "flags": HEX, "uflags": HEX},
    "inet_sk_entry": {"type": DICT("sk"), "state": DICT("sk"), "flags": HEX},
    "tcp_stream_entry": {"opt_mask": HEX},
    "timerfd_entry": {"flags": HEX, "settime_flags": HEX},
    "tty_file_entry": {"flags": HEX},
    "vma_entry": {"start": HEX, "end": HEX, "prot": FLAGS("mmap.prot"), "flags": FLAGS("mmap.flags"),
                  "status": FLAGS("mmap.status"), "madv": HEX, "fdflags": HEX},
}

# bytes fields that are not base64 (message, field): quoted-printable
QP_FIELDS = {("unix_sk_entry", "name")}

FLAG_NAMES = {
    "mmap.prot": [("PROT_READ", 0x1), ("PROT_WRITE", 0x2), ("PROT_EXEC", 0x4)],
    "mmap.flags": [("MAP_SHARED", 0x1), ("MAP_PRIVATE", 0x2), ("MAP_DROPPABLE", 0x8),
                   ("MAP_ANON", 0x20), ("MAP_GROWSDOWN", 0x100)],
    "mmap.status": [("VMA_AREA_REGULAR", 1 << 0), ("VMA_AREA_STACK", 1 << 1),
                    ("VMA_AREA_VSYSCALL", 1 << 2), ("VMA_AREA_VDSO", 1 << 3),
                    ("VMA_AREA_HEAP", 1 << 5), ("VMA_FILE_PRIVATE", 1 << 6),
                    ("VMA_FILE_SHARED", 1 << 7), ("VMA_ANON_SHARED", 1 << 8),
                    ("VMA_ANON_PRIVATE", 1 << 9), ("VMA_AREA_SYSVIPC", 1 << 10),
                    ("VMA_AREA_SOCKET", 1 << 11), ("VMA_AREA_VVAR", 1 << 12),
                    ("VMA_AREA_AIORING", 1 << 13), ("VMA_AREA_MEMFD", 1 << 14),
                    ("VMA_AREA_SHSTK", 1 << 15), ("VMA_AREA_UPROBES", 1 << 17),
                    ("VMA_UNSUPP", 1 << 31)],
    "rfile.flags": [("O_WRONLY", 0o1), ("O_RDWR", 0o2), ("O_CREAT", 0o100), ("O_EXCL", 0o200),
                    ("O_NOCTTY", 0o400), ("O_TRUNC", 0o1000), ("O_APPEND", 0o2000),
                    ("O_NONBLOCK", 0o4000), ("O_DSYNC", 0o10000), ("FASYNC", 0o20000),
                    ("O_DIRECT", 0o40000), ("O_LARGEFILE", 0o100000), ("O_DIRECTORY", 0o200000),
                    ("O_NOFOLLOW", 0o400000), ("O_NOATIME", 0o1000000), ("O_CLOEXEC", 0o2000000)],
    "pmap.flags": [("PE_PARENT", 1 << 0), ("PE_LAZY", 1 << 1), ("PE_PRESENT", 1 << 2)],
    "seals.flags": [("F_SEAL_SEAL", 0x1), ("F_SEAL_SHRINK", 0x2), ("F_SEAL_GROW", 0x4),
                    ("F_SEAL_WRITE", 0x8), ("F_SEAL_FUTURE_WRITE", 0x10)],
}

CODE_NAMES = {
    "gen": {"task_state": {1: "Alive", 3: "Zombie", 6: "Stopped"}},
    "sk": {
        "type": {1: "STREAM", 2: "DGRAM", 3: "RAW", 5: "SEQPACKET", 10: "PACKET"},
        "state": {1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2",
                  6: "TIME_WAIT", 7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN"},
    },
}

INT_TYPES = frozenset((FD.TYPE_INT32, FD.TYPE_INT64, FD.TYPE_UINT32, FD.TYPE_UINT64, FD.TYPE_SINT32,
                       FD.TYPE_SINT64, FD.TYPE_FIXED32, FD.TYPE_FIXED64, FD.TYPE_SFIXED32,
                       FD.TYPE_SFIXED64))
MINORBITS = 20			# the kernel's dev_t: major << 20 | minor


class FormError(ValueError):
    """JSON that does not fit the message."""


def field_form(field):
    return FIELD_FORMS.get(field.containing_type.name, {}).get(field.name)


def flags_str(value, table):
    names = []
    for name, bit in table:
        if value & bit:
            names.append(name)
            value &= ~bit
    if value:
        names.append("0x%x" % value)
    return " | ".join(names)


def flags_val(text, table):
    bits = dict(table)
    value = 0
    for word in text.split("|"):
        word = word.strip()
        if not word:
            continue
        value |= bits[word] if word in bits else int(word, 0)
    return value


def _pretty_int(field, value, in_hex):
    form = field_form(field)
    if in_hex or form == HEX:
        return "0x%x" % value
    if form == DEV:
        return "%d:%d" % (value >> MINORBITS, value & ((1 << MINORBITS) - 1))
    if form == ODEV:
        return "%d:%d" % (os.major(value), os.minor(value))
    if form and form[0] == "flags":
        return flags_str(value, FLAG_NAMES[form[1]])
    if form and form[0] == "dict":
        return CODE_NAMES[form[1]].get(field.name, {}).get(value, value)
    return value


def _text_int(field, text):
    """An integer field given as a string: hex, flag names, MAJOR:MINOR or a code name."""
    form = field_form(field)
    try:
        if form in (DEV, ODEV) and ":" in text:
            major, minor = (int(x, 0) for x in text.split(":", 1))
            return os.makedev(major, minor) if form == ODEV else (major << MINORBITS) | minor
        if form and form[0] == "flags":
            return flags_val(text, FLAG_NAMES[form[1]])
        if form and form[0] == "dict":
            for num, name in CODE_NAMES[form[1]].get(field.name, {}).items():
                if name == text:
                    return num
        return int(text, 0)
    except (KeyError, ValueError):
        raise FormError("%s.%s: %r is not a number here" % (field.containing_type.name, field.name, text))


def _value_to_json(field, value, pretty, in_hex):
    t = field.type
    if t == FD.TYPE_MESSAGE:
        return to_dict(value, pretty, in_hex or field_form(field) == HEX)
    if t == FD.TYPE_BYTES:
        if (field.containing_type.name, field.name) in QP_FIELDS:
            return quopri.encodestring(value).decode()
        return base64.encodebytes(value).decode()
    if t == FD.TYPE_ENUM:
        ev = field.enum_type.values_by_number.get(value)
        return ev.name if ev else value
    if t in INT_TYPES:
        return _pretty_int(field, value, in_hex) if pretty else value
    return value		# bool, string, float, double


def to_dict(msg, pretty=False, in_hex=False):
    """The JSON form of msg: a dict of the fields that are set."""
    d = {}
    for field, value in msg.ListFields():
        if field.label == FD.LABEL_REPEATED:
            d[field.name] = [_value_to_json(field, v, pretty, in_hex) for v in value]
        else:
            d[field.name] = _value_to_json(field, value, pretty, in_hex)
    return d


def _value_from_json(field, value):
    t = field.type
    where = "%s.%s" % (field.containing_type.name, field.name)
    if t == FD.TYPE_BYTES:
        if not isinstance(value, str):
            raise FormError("%s: bytes must be a string, not %r" % (where, value))
        if (field.containing_type.name, field.name) in QP_FIELDS:
            return quopri.decodestring(value.encode())
        try:
            return base64.b64decode(value.encode(), validate=False)
        except ValueError as e:
            raise FormError("%s: bad base64: %s" % (where, e))
    if t == FD.TYPE_ENUM:
        if isinstance(value, str):
            ev = field.enum_type.values_by_name.get(value)
            if ev is None:
                raise FormError("%s: %r is not a value of %s" % (where, value, field.enum_type.name))
            return ev.number
        return value
    if t in INT_TYPES:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise FormError("%s: %r is not an integer" % (where, value))
        return _text_int(field, value) if isinstance(value, str) else value
    if t == FD.TYPE_BOOL and not isinstance(value, bool):
        raise FormError("%s: %r is not true or false" % (where, value))
    if t == FD.TYPE_STRING and not isinstance(value, str):
        raise FormError("%s: %r is not a string" % (where, value))
    return value


def from_dict(d, msg):
    """Fill msg from its JSON form d; FormError on a key msg has no field for
    or a value of the wrong kind. Returns msg."""
    if not isinstance(d, dict):
        raise FormError("%s: expected an object, got %r" % (msg.DESCRIPTOR.name, d))
    fields = msg.DESCRIPTOR.fields_by_name
    for key, value in d.items():
        field = fields.get(key)
        if field is None:
            raise FormError("%s has no field %r" % (msg.DESCRIPTOR.name, key))
        try:
            if field.label == FD.LABEL_REPEATED:
                if not isinstance(value, list):
                    raise FormError("%s.%s: expected a list" % (msg.DESCRIPTOR.name, key))
                target = getattr(msg, key)
                for v in value:
                    if field.type == FD.TYPE_MESSAGE:
                        from_dict(v, target.add())
                    else:
                        target.append(_value_from_json(field, v))
            elif field.type == FD.TYPE_MESSAGE:
                sub = getattr(msg, key)
                sub.SetInParent()	# present even when all its fields are unset
                from_dict(value, sub)
            else:
                setattr(msg, key, _value_from_json(field, value))
        except (TypeError, ValueError) as e:
            if isinstance(e, FormError):
                raise
            raise FormError("%s.%s: %s" % (msg.DESCRIPTOR.name, key, e))
    return msg

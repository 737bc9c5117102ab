# SPDX-License-Identifier: GPL-2.0
"""The entries of each kind of image: which message, which raw payload.

Most images are a list of one message type. Some entries are followed by
raw bytes whose count a field of the entry gives (pipe and fifo data, queued
socket packets); in the JSON form these bytes are the entry's "extra", in
base64. Two images mix message types: a pagemap starts with a pagemap_head,
a ghost file with a ghost_file_entry followed by ghost_chunk_entry + bytes
pairs (or, without "chunks", by the whole contents up to the end).

Decoding is strict: a truncated length, message or payload, or a message
protobuf rejects, is an ImageError naming the entry and its offset.
"""
import base64
import struct

from google.protobuf.message import DecodeError, EncodeError

from . import jsonform, pbtypes
from .jsonform import FormError


class ImageError(Exception):
    """An image that is not what its magic says."""


def human_size(n):
    """10B, 4KB, 1.5MB: the size of a payload left out by crit show --nopl."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            break
        n /= 1024.0
    return ("%d%s" if n == int(n) else "%.1f%s") % (n, unit)


def _read_exact(f, n, what):
    data = f.read(n)
    if len(data) != n:
        raise ImageError("truncated image: %s needs %d bytes, %d left" % (what, n, len(data)))
    return data


def read_message(f, name, index):
    """The next entry of f as a message NAME, or None at the end of the file."""
    where = f.tell() if f.seekable() else -1
    head = f.read(4)
    if not head:
        return None
    what = "entry %d (%s) at offset %d" % (index, name, where)
    if len(head) < 4:
        raise ImageError("truncated image: %s has a %d-byte length" % (what, len(head)))
    size, = struct.unpack("<I", head)
    body = _read_exact(f, size, what)
    msg = pbtypes.new(name)
    try:
        msg.ParseFromString(body)
    except DecodeError as e:
        raise ImageError("%s: protobuf can't decode it: %s" % (what, e))
    return msg


def skip_message(f):
    """Skip one entry without decoding it; False at the end of the file."""
    head = f.read(4)
    if not head:
        return False
    if len(head) < 4:
        raise ImageError("truncated image: a %d-byte entry length" % len(head))
    size, = struct.unpack("<I", head)
    _read_exact(f, size, "an entry")
    return True


def write_message(f, msg):
    try:
        body = msg.SerializeToString()
    except EncodeError as e:
        raise FormError("%s: %s" % (msg.DESCRIPTOR.name, e))
    f.write(struct.pack("<I", len(body)))
    f.write(body)


def entry_message(entry, name):
    """The message NAME of a JSON entry (its "extra" left out)."""
    if not isinstance(entry, dict):
        raise FormError("an entry must be an object, not %r" % (entry,))
    fields = dict((k, v) for k, v in entry.items() if k != "extra")
    return jsonform.from_dict(fields, pbtypes.new(name))


def payload_json(data, no_payload):
    if no_payload:
        return "... <%s>" % human_size(len(data))
    return base64.encodebytes(data).decode()


def payload_bytes(entry, size, what):
    """The raw bytes of entry["extra"], which must be size bytes long."""
    extra = entry.get("extra", "")
    if not isinstance(extra, str):
        raise FormError("%s: extra must be a base64 string" % what)
    if extra.startswith("... <"):
        raise FormError("%s: the payload was left out (crit show --nopl): can't encode it" % what)
    data = base64.b64decode(extra.encode())
    if size is not None and len(data) != size:
        raise FormError("%s: extra has %d bytes, the entry says %d" % (what, len(data), size))
    return data


class Entries:
    """An image of messages NAME, each followed by getattr(msg, size_field) raw bytes if size_field."""

    def __init__(self, name, size_field=None):
        self.name, self.size_field = name, size_field

    def load(self, f, pretty=False, no_payload=False):
        entries = []
        while True:
            msg = read_message(f, self.name, len(entries))
            if msg is None:
                return entries
            entry = jsonform.to_dict(msg, pretty)
            if self.size_field:
                n = getattr(msg, self.size_field)
                data = _read_exact(f, n, "the payload of entry %d (%s)" % (len(entries), self.name))
                entry["extra"] = payload_json(data, no_payload)
            entries.append(entry)

    def dump(self, entries, f):
        for i, entry in enumerate(entries):
            msg = entry_message(entry, self.name)
            write_message(f, msg)
            if self.size_field:
                what = "entry %d (%s)" % (i, self.name)
                f.write(payload_bytes(entry, getattr(msg, self.size_field), what))
            elif "extra" in entry:
                raise FormError("entry %d (%s): this image has no payloads, but it has an extra" % (i, self.name))

    def count(self, f):
        n = 0
        if not self.size_field:
            while skip_message(f):
                n += 1
            return n
        while True:
            msg = read_message(f, self.name, n)
            if msg is None:
                return n
            _read_exact(f, getattr(msg, self.size_field), "the payload of entry %d" % n)
            n += 1


class Pagemap:
    """A pagemap_head, then pagemap_entry runs of pages."""

    def load(self, f, pretty=False, no_payload=False):
        entries = []
        while True:
            name = "pagemap_head" if not entries else "pagemap_entry"
            msg = read_message(f, name, len(entries))
            if msg is None:
                break
            entries.append(jsonform.to_dict(msg, pretty))
        if not entries:
            raise ImageError("a pagemap image without its pagemap_head")
        return entries

    def dump(self, entries, f):
        if not entries:
            raise FormError("a pagemap image needs its pagemap_head as the first entry")
        for i, entry in enumerate(entries):
            write_message(f, entry_message(entry, "pagemap_head" if i == 0 else "pagemap_entry"))

    def count(self, f):
        n = 0
        while skip_message(f):
            n += 1
        return max(n - 1, 0)	# the head is not a run of pages


class GhostFile:
    """ghost_file_entry, then (ghost_chunk_entry, len bytes)... with chunks,
    or the whole contents up to the end (the first entry's extra) without."""

    def load(self, f, pretty=False, no_payload=False):
        head = read_message(f, "ghost_file_entry", 0)
        if head is None:
            raise ImageError("a ghost file image without its ghost_file_entry")
        entries = [jsonform.to_dict(head, pretty)]
        if not head.chunks:
            entries[0]["extra"] = payload_json(f.read(), no_payload)
            return entries
        while True:
            chunk = read_message(f, "ghost_chunk_entry", len(entries))
            if chunk is None:
                return entries
            entry = jsonform.to_dict(chunk, pretty)
            data = _read_exact(f, chunk.len, "the data of entry %d (ghost_chunk_entry)" % len(entries))
            entry["extra"] = payload_json(data, no_payload)
            entries.append(entry)

    def dump(self, entries, f):
        if not entries:
            raise FormError("a ghost file image needs its ghost_file_entry as the first entry")
        head = entry_message(entries[0], "ghost_file_entry")
        write_message(f, head)
        if not head.chunks:
            if len(entries) > 1:
                raise FormError("a ghost file without chunks has one entry, not %d" % len(entries))
            f.write(payload_bytes(entries[0], None, "entry 0 (ghost_file_entry)"))
            return
        if "extra" in entries[0]:
            raise FormError("entry 0 (ghost_file_entry) has chunks: its data is in the chunk entries")
        for i, entry in enumerate(entries[1:], 1):
            chunk = entry_message(entry, "ghost_chunk_entry")
            write_message(f, chunk)
            f.write(payload_bytes(entry, chunk.len, "entry %d (ghost_chunk_entry)" % i))

    def count(self, f):
        return len(self.load(f, no_payload=True))


def _round_up(n, a):
    return (n + a - 1) // a * a


def _read_padded(f, n, align, what):
    """n bytes of payload, then the zeros up to a multiple of align."""
    data = _read_exact(f, _round_up(n, align), what)
    if data[n:].strip(b"\0"):
        raise ImageError("%s: the padding after the payload is not zeros" % what)
    return data[:n]


class IpcPadded:
    """SysV shm segments (contents, padded to 4) or semaphore sets (u16 values, padded to 8): each
    message NAME is followed by size(msg) bytes and zeros up to align; the bytes are the entry's
    "extra" (base64), as CRIU's crit gives them for shm (for sem CRIU's crit lists the values)."""

    def __init__(self, name, size, align):
        self.name, self.size, self.align = name, size, align

    def load(self, f, pretty=False, no_payload=False):
        entries = []
        while True:
            msg = read_message(f, self.name, len(entries))
            if msg is None:
                return entries
            entry = jsonform.to_dict(msg, pretty)
            what = "the payload of entry %d (%s)" % (len(entries), self.name)
            entry["extra"] = payload_json(_read_padded(f, self.size(msg), self.align, what), no_payload)
            entries.append(entry)

    def dump(self, entries, f):
        for i, entry in enumerate(entries):
            msg = entry_message(entry, self.name)
            write_message(f, msg)
            n = self.size(msg)
            f.write(payload_bytes(entry, n, "entry %d (%s)" % (i, self.name)))
            f.write(b"\0" * (_round_up(n, self.align) - n))

    def count(self, f):
        return len(self.load(f, no_payload=True))


class IpcMsgQueues:
    """ipc_msg_entry, then qnum times an ipc_msg and its msize bytes padded to 8; the entry's
    "extra" lists the messages and their texts in turn, as CRIU's crit does."""

    def load(self, f, pretty=False, no_payload=False):
        entries = []
        while True:
            head = read_message(f, "ipc_msg_entry", len(entries))
            if head is None:
                return entries
            entry = jsonform.to_dict(head, pretty)
            extra = []
            for i in range(head.qnum):
                msg = read_message(f, "ipc_msg", i)
                if msg is None:
                    raise ImageError("truncated image: queue %d has %d messages, not %d" % (len(entries), i, head.qnum))
                what = "message %d of queue %d" % (i, len(entries))
                extra.append(jsonform.to_dict(msg, pretty))
                extra.append(payload_json(_read_padded(f, msg.msize, 8, what), no_payload))
            entry["extra"] = extra
            entries.append(entry)

    def dump(self, entries, f):
        for i, entry in enumerate(entries):
            head = entry_message(entry, "ipc_msg_entry")
            extra = entry.get("extra", [])
            if not isinstance(extra, list) or len(extra) != 2 * head.qnum:
                raise FormError("entry %d (ipc_msg_entry): extra must list %d messages and texts" % (i, head.qnum))
            write_message(f, head)
            for j in range(head.qnum):
                msg = jsonform.from_dict(extra[2 * j], pbtypes.new("ipc_msg"))
                write_message(f, msg)
                text = payload_bytes({"extra": extra[2 * j + 1]}, msg.msize, "message %d of entry %d" % (j, i))
                f.write(text + b"\0" * (_round_up(msg.msize, 8) - msg.msize))

    def count(self, f):
        return len(self.load(f, no_payload=True))


class TcpStream:
    """One tcp_stream_entry, then inq_len bytes of the receive queue and outq_len
    of the send queue; its extra is {"inq": base64, "outq": base64}, as CRIU's crit."""

    def load(self, f, pretty=False, no_payload=False):
        msg = read_message(f, "tcp_stream_entry", 0)
        if msg is None:
            raise ImageError("a tcp-stream image without its tcp_stream_entry")
        entry = jsonform.to_dict(msg, pretty)
        inq = _read_exact(f, msg.inq_len, "the receive queue")
        outq = _read_exact(f, msg.outq_len, "the send queue")
        entry["extra"] = {"inq": payload_json(inq, no_payload), "outq": payload_json(outq, no_payload)}
        if read_message(f, "tcp_stream_entry", 1) is not None:
            raise ImageError("a tcp-stream image has one entry")
        return [entry]

    def dump(self, entries, f):
        if len(entries) != 1:
            raise FormError("a tcp-stream image has one entry, not %d" % len(entries))
        msg = entry_message(entries[0], "tcp_stream_entry")
        extra = entries[0].get("extra")
        if not isinstance(extra, dict):
            raise FormError("entry 0 (tcp_stream_entry): extra must be {\"inq\": ..., \"outq\": ...}")
        write_message(f, msg)
        f.write(payload_bytes({"extra": extra.get("inq", "")}, msg.inq_len, "the receive queue"))
        f.write(payload_bytes({"extra": extra.get("outq", "")}, msg.outq_len, "the send queue"))

    def count(self, f):
        return 1


# crit's magic name -> how its entries are read and written
HANDLERS = {
    "INVENTORY": Entries("inventory_entry"),
    "PSTREE": Entries("pstree_entry"),
    "CORE": Entries("core_entry"),
    "IDS": Entries("task_kobj_ids_entry"),
    "MM": Entries("mm_entry"),
    "PAGEMAP": Pagemap(),
    "FDINFO": Entries("fdinfo_entry"),
    "FILES": Entries("file_entry"),
    "FS": Entries("fs_entry"),
    "PIPES_DATA": Entries("pipe_data_entry", "bytes"),
    "FIFO_DATA": Entries("pipe_data_entry", "bytes"),
    "SK_QUEUES": Entries("sk_packet_entry", "length"),
    "TTY_INFO": Entries("tty_info_entry"),
    "TTY_DATA": Entries("tty_data_entry"),	# the bytes are a field of the entry
    "MEMFD_INODE": Entries("memfd_inode_entry"),
    "REMAP_FPATH": Entries("remap_file_path_entry"),
    "GHOST_FILE": GhostFile(),
    "UTSNS": Entries("utsns_entry"),
    "IPC_VAR": Entries("ipc_var_entry"),
    "TIMENS": Entries("timens_entry"),
    "USERNS": Entries("userns_entry"),
    # CRIU 4.2 writes a segment's contents as pagemaps (in_pagemaps): then no bytes follow the entry
    "IPCNS_SHM": IpcPadded("ipc_shm_entry", lambda m: 0 if m.in_pagemaps else m.size, 4),
    "IPCNS_SEM": IpcPadded("ipc_sem_entry", lambda m: 2 * m.nsems, 8),
    "IPCNS_MSG": IpcMsgQueues(),
    "NETNS": Entries("netns_entry"),
    "NETDEV": Entries("net_device_entry"),
    "MNTS": Entries("mnt_entry"),
    "SECCOMP": Entries("seccomp_entry"),
    "MANIFEST": Entries("image_manifest_entry"),	# ours: each image's length and CRC-32C
    "FILES_EXT": Entries("file_ext_entry"),	# ours: files.img's fields beyond CRIU's
    "CORE_EXT": Entries("core_ext_entry"),	# ours: core-TID.img's fields beyond CRIU's
    "GHOST_EXT": Entries("ghost_ext_entry"),	# ours: the nanoseconds of a ghost's times
    "USERNS_EXT": Entries("userns_ext_entry"),	# ours: a user namespace's setgroups
    "CGROUP": Entries("cgroup_entry"),
    "FILE_LOCKS": Entries("file_lock_entry"),
    "IPCNS_MQ": Entries("posix_mq_entry"),
    "STATS": Entries("stats_entry"),	# ours: POSIX message queues of an IPC namespace
    "TCP_STREAM": TcpStream(),
}


def handler(name):
    h = HANDLERS.get(name)
    if h is None:
        raise ImageError("pycriu has no entry format for image %s (lib/py/pycriu/images/kinds.py)" % name)
    return h

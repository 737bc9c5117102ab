# SPDX-License-Identifier: GPL-2.0
"""criu's image files as crit's JSON form, and back.

An image file is (Documentation/crit.md):
    [IMG_COMMON or IMG_SERVICE magic]  image magic  { u32 length, message [payload] }
all little-endian; inventory.img has no first magic. What kind of message
each entry is, and which raw payload follows it, depends on the image
(kinds.py). The JSON form is {"magic": NAME, "entries": [entry, ...]}, an
entry being the message's fields (jsonform.py) plus "extra" for a payload.

    load(f, pretty=False, no_payload=False) -> dict   (f: a binary file)
    dump(img, f)                                       (writes the binary form)
    loads(data, pretty=False) / dumps(img)             (the same on bytes)
    info(f) -> {"magic": NAME, "count": N}
"""
import io
import struct

from . import jsonform, kinds, magics
from .jsonform import FormError
from .kinds import ImageError

__all__ = ["load", "loads", "dump", "dumps", "info", "MagicException", "ImageError", "FormError",
           "magic_names"]


class MagicException(ImageError):
    """The file does not start with the magic of an image crit knows."""

    def __init__(self, magic):
        super().__init__("unknown magic %#x" % magic)
        self.magic = magic


_BY_VALUE = {}
for _name, (_val, _first) in magics.IMAGES.items():
    _BY_VALUE.setdefault((_val, _first), _name)


def magic_names():
    """Every image magic name pycriu knows."""
    return sorted(magics.IMAGES)


def _read_magic(f):
    """The magic name of the image f starts with (f is left after the magics)."""
    head = f.read(4)
    if len(head) < 4:
        raise ImageError("not an image: %d bytes, too short for a magic" % len(head))
    first, = struct.unpack("<I", head)
    if first in (magics.IMG_COMMON, magics.IMG_SERVICE):
        head = f.read(4)
        if len(head) < 4:
            raise ImageError("truncated image: no magic after the common one")
        second, = struct.unpack("<I", head)
        name = _BY_VALUE.get((second, first))
        if name is None:
            raise MagicException(second)
    else:
        name = _BY_VALUE.get((first, None))
        if name is None:
            raise MagicException(first)
    return name


def load(f, pretty=False, no_payload=False):
    """The JSON form of the image read from the binary file f."""
    name = _read_magic(f)
    entries = kinds.handler(name).load(f, pretty, no_payload)
    return {"magic": name, "entries": entries}


def loads(data, pretty=False, no_payload=False):
    return load(io.BytesIO(data), pretty, no_payload)


def info(f):
    """{"magic": NAME, "count": number of entries} without decoding them."""
    name = _read_magic(f)
    return {"magic": name, "count": kinds.handler(name).count(f)}


def dump(img, f):
    """Write the image img (its JSON form) to the binary file f."""
    if not isinstance(img, dict) or "magic" not in img or "entries" not in img:
        raise FormError('an image is {"magic": NAME, "entries": [...]}')
    name = img["magic"]
    if name not in magics.IMAGES:
        raise FormError("unknown image magic name %r" % (name,))
    if not isinstance(img["entries"], list):
        raise FormError('"entries" must be a list')
    value, first = magics.IMAGES[name]
    if first is not None:
        f.write(struct.pack("<I", first))
    f.write(struct.pack("<I", value))
    kinds.handler(name).dump(img["entries"], f)


def dumps(img):
    out = io.BytesIO()
    dump(img, out)
    return out.getvalue()

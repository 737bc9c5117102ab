# SPDX-License-Identifier: GPL-2.0
"""The protobuf message classes of criu's images/*.proto.

The build compiles every images/*.proto into one descriptor set
(images.desc, protoc --descriptor_set_out) next to this file. It is loaded
into a descriptor pool of pycriu's own, not protobuf's default pool, so that
pycriu can be imported next to another copy of CRIU's messages (Debian's
pycriu registers the same message names in the default pool) without a clash.
"""
import os

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

DESC_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "images.desc")

_pool = None
_classes = {}


def _load_pool():
    global _pool
    if _pool is None:
        with open(DESC_FILE, "rb") as f:
            fds = descriptor_pb2.FileDescriptorSet.FromString(f.read())
        pool = descriptor_pool.DescriptorPool()
        for fdp in fds.file:
            pool.Add(fdp)
        _pool = pool
    return _pool


def message_class(name):
    """The class of the message NAME (e.g. "core_entry"); KeyError if unknown."""
    cls = _classes.get(name)
    if cls is not None:
        return cls
    desc = _load_pool().FindMessageTypeByName(name)
    if hasattr(message_factory, "GetMessageClass"):
        cls = message_factory.GetMessageClass(desc)
    else:
        cls = message_factory.MessageFactory(_pool).GetPrototype(desc)
    _classes[name] = cls
    return cls


def new(name):
    """An empty message NAME."""
    return message_class(name)()


def message_names():
    """Every message name of the descriptor set, nested ones included."""
    with open(DESC_FILE, "rb") as f:
        fds = descriptor_pb2.FileDescriptorSet.FromString(f.read())
    names = []

    def walk(prefix, msgs):
        for m in msgs:
            names.append(prefix + m.name)
            walk(prefix + m.name + ".", m.nested_type)

    for fdp in fds.file:
        walk((fdp.package + ".") if fdp.package else "", fdp.message_type)
    return names

#!/usr/bin/python3
# crit-schema.py OURS.txt: compare our message schema with the one crit
# (Debian's CRIU 3.17 pycriu) was built from.
#
# OURS.txt has one line per field: "message field number label type"
# (label 0 required, 1 optional, 2 repeated), and "ENUM enum value number"
# lines; test-image writes it from the protobuf-c descriptors.
#
# A field both sides have must have the same number, label and type, and a
# number must not name two different fields. Fields only one side has are
# fine: CRIU's that we do not implement, ours (pidfd extensions) or newer
# ones. Prints the problems, then a summary; exit 1 on a problem, 77 when
# pycriu cannot be imported.
import sys

sys.path.insert(0, '/usr/lib/python3/dist-packages')
try:
    from pycriu.images import pb
    from google.protobuf.descriptor import FieldDescriptor as FD
except ImportError as e:
    print('# SKIP: pycriu not importable (%s)' % e)
    sys.exit(77)

TYPES = {
    FD.TYPE_INT32: 'int32', FD.TYPE_SINT32: 'sint32', FD.TYPE_SFIXED32: 'sfixed32',
    FD.TYPE_INT64: 'int64', FD.TYPE_SINT64: 'sint64', FD.TYPE_SFIXED64: 'sfixed64',
    FD.TYPE_UINT32: 'uint32', FD.TYPE_FIXED32: 'fixed32', FD.TYPE_UINT64: 'uint64',
    FD.TYPE_FIXED64: 'fixed64', FD.TYPE_FLOAT: 'float', FD.TYPE_DOUBLE: 'double',
    FD.TYPE_BOOL: 'bool', FD.TYPE_ENUM: 'enum', FD.TYPE_STRING: 'string',
    FD.TYPE_BYTES: 'bytes', FD.TYPE_MESSAGE: 'message',
}
LABELS = {FD.LABEL_REQUIRED: 0, FD.LABEL_OPTIONAL: 1, FD.LABEL_REPEATED: 2}


def crit_message(name):
    return getattr(pb, name, None)


def main():
    ours = {}
    for line in open(sys.argv[1]):
        w = line.split()
        if not w or w[0] == 'ENUM':
            continue
        msg, field, num, label, typ = w[0], w[1], int(w[2]), int(w[3]), w[4]
        ours.setdefault(msg, []).append((field, num, label, typ))

    problems = 0
    same = 0
    only_ours = 0
    for msg, fields in sorted(ours.items()):
        m = crit_message(msg)
        if m is None:
            only_ours += len(fields)
            continue
        by_num = {f.number: f for f in m.DESCRIPTOR.fields}
        by_name = {f.name: f for f in m.DESCRIPTOR.fields}
        for field, num, label, typ in fields:
            f = by_num.get(num)
            if f is None:
                if field in by_name:
                    print('not ok - %s.%s is field %d here, %d in CRIU'
                          % (msg, field, num, by_name[field].number))
                    problems += 1
                else:
                    only_ours += 1
                continue
            theirs = (LABELS[f.label], TYPES[f.type])
            if theirs != (label, typ):
                print('not ok - %s field %d (%s): label/type %s here, %s in CRIU (%s)'
                      % (msg, num, field, (label, typ), theirs, f.name))
                problems += 1
            else:
                same += 1
    print('# %d fields as in CRIU 3.17, %d fields CRIU 3.17 does not have, %d problems'
          % (same, only_ours, problems))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())

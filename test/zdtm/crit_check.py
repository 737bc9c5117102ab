# SPDX-License-Identifier: GPL-2.0
"""crit_check.py DIR: what `test/unit/crit-check.sh DIR` checks, in one process.
crit_check.py --serve: the same for each directory named on a line of stdin,
each answer ending with a line "# done RC" (the zdtm runner keeps one such
process for a whole run: one interpreter start, not one per dump).

Decodes the images of DIR that crit knows (the IMAGE rows of
criu/include/objects.def with a crit magic name, the list crit-check.sh
reads too, so the two never disagree) the way `crit decode` does: pycriu.images.load(), then JSON. An image crit rejects, or
whose magic is not the one its name says, is a failure. Images not in the
list (pidfd entries, pages) are not looked at.

Run it with crit's own interpreter (pycriu is Debian's module: the python
that `crit` starts with). One TAP line per image; exit 0 when all pass,
1 on a failure, 2 on a usage or set-up error.
"""

import fnmatch
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OBJECTS_DEF = os.path.join(os.path.dirname(os.path.dirname(HERE)), "criu", "include", "objects.def")


def image_specs():
    """[(glob, MAGIC)] from the IMAGE rows of criu/include/objects.def that name a crit magic."""
    with open(OBJECTS_DEF) as f:
        text = f.read()
    specs = []
    for m in re.finditer(r'^IMAGE\([A-Z_0-9]+,\s*"([^"]+)",.*"([A-Z_0-9]*)"\)', text, re.M):
        if m.group(2):
            specs.append((re.sub(r"%l?[du]", "*", m.group(1)), m.group(2)))
    if not specs:
        raise ValueError("no IMAGE rows with a crit magic in %s" % OBJECTS_DEF)
    return specs


def check_one(path, magic, images):
    try:
        with open(path, "rb") as f:
            img = images.load(f, False, False)
        json.dumps(img)
    except images.MagicException as e:
        return "unknown magic %#x" % e.magic
    except Exception as e:  # noqa: BLE001 - crit's own errors are plain exceptions
        return "%s: %s" % (type(e).__name__, e)
    if img.get("magic") != magic:
        return "magic is %s, not %s" % (img.get("magic"), magic)
    return None


def check_dir(d, specs, images):
    """TAP lines for the images of d; returns (lines, rc)."""
    if not os.path.isdir(d):
        return ["not ok 1 - %s is not a directory" % d], 2
    names = sorted(os.listdir(d))
    out = []
    n = failed = 0
    seen = set()
    for pattern, magic in specs:
        for name in fnmatch.filter(names, pattern):
            if name in seen:  # pagemap-*.img also matches pagemap-shmem-*.img
                continue
            seen.add(name)
            n += 1
            err = check_one(os.path.join(d, name), magic, images)
            if err:
                failed += 1
                out.append("not ok %d - crit decode %s: %s" % (n, name, err))
            else:
                out.append("ok %d - crit decode %s (%s)" % (n, name, magic))
    if n == 0:
        return out + ["not ok 1 - no image to check in %s" % d], 1
    out.append("# crit-check: %d images, %d failed" % (n, failed))
    return out, 1 if failed else 0


def main():
    serve = len(sys.argv) == 2 and sys.argv[1] == "--serve"
    if len(sys.argv) != 2 or (not serve and not os.path.isdir(sys.argv[1])):
        print("usage: crit_check.py DIR (an image directory) | --serve")
        return 2
    try:
        from pycriu import images
    except ImportError as e:
        print("not ok 1 - cannot import pycriu (%s): run this with crit's interpreter" % e)
        return 2
    try:
        specs = image_specs()
    except (OSError, ValueError) as e:
        print("not ok 1 - %s" % e)
        return 2
    if not serve:
        lines, rc = check_dir(sys.argv[1], specs, images)
        print("\n".join(lines))
        return rc
    for line in sys.stdin:
        lines, rc = check_dir(line.rstrip("\n"), specs, images)
        print("\n".join(lines + ["# done %d" % rc]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

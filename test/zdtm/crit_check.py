# SPDX-License-Identifier: GPL-2.0
"""crit_check.py [--debian] DIR: check the images of a dump with crit's pycriu.
crit_check.py [--debian] --serve: the same for each directory named on a line
of stdin, each answer ending with a line "# done RC" (the zdtm runner keeps
one such process for a whole run: one interpreter start, not one per dump).

The images checked are those crit knows: the IMAGE rows of
criu/include/objects.def with a crit magic name (test/unit/crit-check.sh
reads the same rows). Images not in the list (pages) are not looked at.

Without --debian, with our pycriu (build/py, `make pycriu`; ./crit uses it):
each image must decode, with the magic its name says, and its JSON must
encode back to the same bytes, as `crit decode | crit encode` would.

With --debian, with Debian's pycriu (CRIU 3.17's crit, package criu), an
optional second reader of CRIU's wire format: each image must decode with
the right magic (fields it does not know it drops, so no byte comparison).

Run it with /usr/bin/python3 (python3-protobuf). One TAP line per image;
exit 0 when all pass, 1 on a failure, 2 on a usage or set-up error.
"""

import fnmatch
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
OBJECTS_DEF = os.path.join(TOP, "criu", "include", "objects.def")
OUR_PYCRIU = os.path.join(TOP, "build", "py")
DEBIAN_PYCRIU = "/usr/lib/python3/dist-packages"
# images of ours that CRIU's crit does not know (Debian's crit is not asked about them)
OURS_ONLY = {"MANIFEST", "FILES_EXT", "CORE_EXT", "GHOST_EXT", "IPCNS_MQ", "USERNS_EXT"}


def image_specs():
    """[(glob, MAGIC)] from the IMAGE rows of criu/include/objects.def that name a crit magic."""
    with open(OBJECTS_DEF) as f:
        text = f.read()
    specs = []
    for m in re.finditer(r'^IMAGE\([A-Z_0-9]+,\s*"([^"]+)",.*"([A-Z_0-9]*)"\)', text, re.M):
        if m.group(2):
            specs.append((re.sub(r"%l?[dux]", "*", m.group(1)), m.group(2)))
    if not specs:
        raise ValueError("no IMAGE rows with a crit magic in %s" % OBJECTS_DEF)
    return specs


def check_one(path, magic, images, roundtrip):
    try:
        with open(path, "rb") as f:
            raw = f.read()
            f.seek(0)
            img = images.load(f, False, False)
        text = json.dumps(img)
        if roundtrip and images.dumps(json.loads(text)) != raw:
            return "crit decode | crit encode does not give the image back"
    except images.MagicException as e:
        return "unknown magic %#x" % e.magic
    except Exception as e:  # noqa: BLE001 - crit's own errors are plain exceptions
        return "%s: %s" % (type(e).__name__, e)
    if img.get("magic") != magic:
        return "magic is %s, not %s" % (img.get("magic"), magic)
    return None


def check_dir(d, specs, images, roundtrip):
    """TAP lines for the images of d; returns (lines, rc)."""
    if not os.path.isdir(d):
        return ["not ok 1 - %s is not a directory" % d], 2
    names = sorted(os.listdir(d))
    out = []
    n = failed = 0
    seen = set()
    what = "crit decode|encode" if roundtrip else "crit decode"
    # the longest pattern first: core-ext-*.img is not a core-*.img, pagemap-shmem-*.img not a pagemap-*.img
    for pattern, magic in sorted(specs, key=lambda s: -len(s[0])):
        if not roundtrip and magic in OURS_ONLY:
            # not given to Debian's crit, nor taken for a shorter pattern's (userns-ext-*.img is not a userns-*.img)
            seen.update(fnmatch.filter(names, pattern))
            continue
        for name in fnmatch.filter(names, pattern):
            if name in seen:  # pagemap-*.img also matches pagemap-shmem-*.img
                continue
            seen.add(name)
            n += 1
            err = check_one(os.path.join(d, name), magic, images, roundtrip)
            if err:
                failed += 1
                out.append("not ok %d - %s %s: %s" % (n, what, name, err))
            else:
                out.append("ok %d - %s %s (%s)" % (n, what, name, magic))
    if n == 0:
        return out + ["not ok 1 - no image to check in %s" % d], 1
    out.append("# crit-check: %d images, %d failed" % (n, failed))
    return out, 1 if failed else 0


def import_images(debian):
    """pycriu.images: ours (build/py) or Debian's (its dist-packages first)."""
    sys.path.insert(0, DEBIAN_PYCRIU if debian else OUR_PYCRIU)
    from pycriu import images
    return images


def main():
    args = sys.argv[1:]
    debian = bool(args) and args[0] == "--debian"
    if debian:
        args = args[1:]
    serve = args == ["--serve"]
    if len(args) != 1 or (not serve and not os.path.isdir(args[0])):
        print("usage: crit_check.py [--debian] DIR (an image directory) | --serve")
        return 2
    try:
        images = import_images(debian)
    except ImportError as e:
        print("not ok 1 - cannot import %s pycriu (%s)%s" %
              ("Debian's" if debian else "our", e, "" if debian else ": make pycriu"))
        return 2
    try:
        specs = image_specs()
    except (OSError, ValueError) as e:
        print("not ok 1 - %s" % e)
        return 2
    if not serve:
        lines, rc = check_dir(args[0], specs, images, not debian)
        print("\n".join(lines))
        return rc
    for line in sys.stdin:
        lines, rc = check_dir(line.rstrip("\n"), specs, images, not debian)
        print("\n".join(lines + ["# done %d" % rc]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

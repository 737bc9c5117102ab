# SPDX-License-Identifier: GPL-2.0
"""crit: criu's image tool (Documentation/crit.md).

    crit decode [-i IN] [-o OUT] [--pretty]   image -> JSON
    crit encode [-i IN] [-o OUT]              JSON -> image
    crit info IN                              magic and number of entries
    crit show IN [--nopl]                     decode --pretty to stdout
    crit x DIR {ps,fds,mems,rss}              explore a dump directory
"""
import argparse
import json
import os
import quopri
import sys

from . import images
from .images import jsonform

VERSION = "0.1"


class CritError(Exception):
    pass


def _open_in(path, binary):
    if path:
        return open(path, "rb" if binary else "r")
    return sys.stdin.buffer if binary else sys.stdin


def _load(f, pretty=False, nopl=False):
    try:
        return images.load(f, pretty, nopl)
    except images.MagicException as e:
        raise CritError("unknown magic %#x: not a criu image crit knows (raw pages-*.img have no magic)" % e.magic)
    except images.ImageError as e:
        raise CritError(str(e))


def cmd_decode(opts):
    with _open_in(opts.input, True) as f:
        img = _load(f, opts.pretty, getattr(opts, "nopl", False))
    text = json.dumps(img, indent=4 if opts.pretty else None)
    if opts.output:
        with open(opts.output, "w") as out:
            out.write(text)
    else:
        sys.stdout.write(text + "\n")


def cmd_encode(opts):
    with _open_in(opts.input, False) as f:
        try:
            img = json.load(f)
        except (ValueError, UnicodeDecodeError) as e:
            raise CritError("the input is not JSON (%s): encode reads what decode writes" % e)
    try:
        data = images.dumps(img)
    except (jsonform.FormError, images.ImageError) as e:
        raise CritError(str(e))
    if opts.output:
        with open(opts.output, "wb") as out:
            out.write(data)
    else:
        sys.stdout.buffer.write(data)


def cmd_info(opts):
    with open(opts.input, "rb") as f:
        try:
            inf = images.info(f)
        except images.ImageError as e:
            raise CritError(str(e))
    print(json.dumps(inf, indent=4))


# ---- explorers: crit x DIR WHAT ----

class Dump:
    """The images of a dump directory, each decoded once."""

    def __init__(self, d):
        self.dir = d
        self.cache = {}

    def img(self, name):
        if name not in self.cache:
            path = os.path.join(self.dir, name)
            try:
                with open(path, "rb") as f:
                    self.cache[name] = _load(f)["entries"]
            except FileNotFoundError:
                self.cache[name] = None
        return self.cache[name]

    def need(self, name):
        e = self.img(name)
        if e is None:
            raise CritError("%s: no %s" % (self.dir, name))
        return e

    def ids(self, pid):
        """The task's kernel object ids: in its core image, or ids-PID.img (older dumps)."""
        core = self.need("core-%d.img" % pid)[0]
        if "ids" in core:
            return core["ids"]
        return self.need("ids-%d.img" % pid)[0]

    def tasks(self):
        return self.need("pstree.img")

    def file_str(self, fid, ftype=None):
        for fe in self.img("files.img") or []:
            if fe["id"] != fid:
                continue
            t = fe["type"]
            if t == "REG" and "reg" in fe:
                return fe["reg"]["name"]
            if t == "PIPE" and "pipe" in fe:
                return "pipe[%d]" % fe["pipe"]["pipe_id"]
            if t == "FIFO" and "fifo" in fe:
                return "fifo[%d]" % fe["fifo"]["pipe_id"]
            if t == "UNIXSK" and "usk" in fe:
                u = fe["usk"]
                name = unix_name(u.get("name", ""))
                return "unix[%d (%d)%s]" % (u["ino"], u["peer"], " " + name if name else "")
            return "%s.%d" % (t, fid)
        return "%s.%d" % (ftype, fid) if ftype else "unknown file %d" % fid


def unix_name(qp):
    """A unix socket's name (quoted-printable in the JSON) for people: @ for an abstract one."""
    raw = quopri.decodestring(qp.encode())
    if raw.startswith(b"\0"):
        raw = b"@" + raw[1:]
    return raw.rstrip(b"\0").decode(errors="backslashreplace")


def task_id(p, key):
    return p[key] if key in p else p["ns_" + key][0]


def x_ps(d):
    tasks = d.tasks()
    kids = {}
    for p in tasks:
        kids.setdefault(p["ppid"], []).append(p)
    print("%7s%7s%7s   %s" % ("PID", "PGID", "SID", "COMM"))

    def show(p, depth):
        pid = task_id(p, "pid")
        core = d.need("core-%d.img" % pid)[0]
        print("%7d%7d%7d   %s%s" % (pid, task_id(p, "pgid"), task_id(p, "sid"), "    " * depth,
                                    core["tc"]["comm"]))
        for k in kids.get(pid, []):
            show(k, depth + 1)

    pids = set(task_id(p, "pid") for p in tasks)
    for p in tasks:
        if p["ppid"] not in pids:
            show(p, 0)


def x_fds(d):
    for p in d.tasks():
        pid = task_id(p, "pid")
        ids = d.ids(pid)
        print("%d" % pid)
        for fd in d.img("fdinfo-%d.img" % ids["files_id"]) or []:
            print("\t%7d: %s" % (fd["fd"], d.file_str(fd["id"], fd["type"])))
        fs = d.img("fs-%d.img" % pid)
        if fs:
            print("\t%7s: %s" % ("cwd", d.file_str(fs[0]["cwd_id"])))
            print("\t%7s: %s" % ("root", d.file_str(fs[0]["root_id"])))


VMA_STACK, VMA_VSYSCALL, VMA_VDSO, VMA_HEAP = 1 << 1, 1 << 2, 1 << 3, 1 << 5
VMA_FILE_PRIVATE, VMA_FILE_SHARED, VMA_ANON_SHARED, VMA_SYSVIPC = 1 << 6, 1 << 7, 1 << 8, 1 << 10
VMA_REGULAR, VMA_MEMFD = 1 << 0, 1 << 14


def vma_str(d, vma, shm_names):
    st = vma["status"]
    if st & (VMA_SYSVIPC | VMA_ANON_SHARED) and not st & (VMA_FILE_SHARED | VMA_MEMFD):
        kind = "ipc" if st & VMA_SYSVIPC else "shmem"
        n = shm_names.setdefault(vma["shmid"], len(shm_names) + 1)
        s = " %s[%x]" % (kind, n)
    elif st & (VMA_FILE_PRIVATE | VMA_FILE_SHARED):
        s = " " + d.file_str(vma["shmid"])
        if vma["pgoff"]:
            s += " + %#x" % vma["pgoff"]
        if st & VMA_FILE_SHARED:
            s += " (s)"
    elif st & VMA_STACK:
        s = " [stack]"
    elif st & VMA_VSYSCALL:
        s = " [vsyscall]"
    elif st & VMA_VDSO:
        s = " [vdso]"
    elif st & VMA_HEAP:
        s = " [heap]"
    else:
        s = ""
    if not st & VMA_REGULAR:
        s += " *"
    return s


def x_mems(d):
    shm_names = {}
    for p in d.tasks():
        pid = task_id(p, "pid")
        mm = d.need("mm-%d.img" % pid)[0]
        print("%d" % pid)
        print("\t%-36s    %s" % ("exe", d.file_str(mm["exe_file_id"])))
        for vma in mm.get("vmas", []):
            prot = "".join(c if vma["prot"] & bit else "-" for c, bit in (("r", 1), ("w", 2), ("x", 4)))
            print("\t%-36s%s%s" % ("%08x-%08x" % (vma["start"], vma["end"]), prot, vma_str(d, vma, shm_names)))


def x_rss(d):
    for p in d.tasks():
        pid = task_id(p, "pid")
        vmas = d.need("mm-%d.img" % pid)[0].get("vmas", [])
        pms = d.need("pagemap-%d.img" % pid)[1:]
        print("%d" % pid)
        for pm in pms:
            start, end = pm["vaddr"], pm["vaddr"] + (pm["nr_pages"] << 12)
            where = ["%08x / %-8d%s" % (v["start"], (v["end"] - v["start"]) >> 12,
                                        " " + d.file_str(v["shmid"])
                                        if v["status"] & (VMA_FILE_PRIVATE | VMA_FILE_SHARED) else "")
                     for v in vmas if v["start"] < end and v["end"] > start]
            print("\t%-24s%s" % ("%x / %-8d" % (start, pm["nr_pages"]), ("\n\t%24s" % "").join(where)))


EXPLORERS = {"ps": x_ps, "fds": x_fds, "mems": x_mems, "rss": x_rss}


def cmd_x(opts):
    if not os.path.isdir(opts.dir):
        raise CritError("%s is not a directory" % opts.dir)
    EXPLORERS[opts.what](Dump(opts.dir))


def parser():
    p = argparse.ArgumentParser(prog="crit", description="criu image tool: decode, encode and explore images")
    p.add_argument("--version", action="version", version="crit (criu pidfd edition) " + VERSION)
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND")

    d = sub.add_parser("decode", help="image -> JSON")
    d.add_argument("-i", "--in", dest="input", help="the image (default: stdin)")
    d.add_argument("-o", "--out", dest="output", help="the JSON (default: stdout)")
    d.add_argument("--pretty", action="store_true", help="indented, with hex, flag names and MAJOR:MINOR")
    d.set_defaults(func=cmd_decode)

    e = sub.add_parser("encode", help="JSON -> image")
    e.add_argument("-i", "--in", dest="input", help="the JSON (default: stdin)")
    e.add_argument("-o", "--out", dest="output", help="the image (default: stdout)")
    e.set_defaults(func=cmd_encode)

    i = sub.add_parser("info", help="an image's magic and number of entries")
    i.add_argument("input", metavar="IN")
    i.set_defaults(func=cmd_info)

    s = sub.add_parser("show", help="decode --pretty to stdout")
    s.add_argument("input", metavar="IN")
    s.add_argument("--nopl", action="store_true", help="leave out the payloads (pipe data, ...)")
    s.set_defaults(func=cmd_decode, pretty=True, output=None)

    x = sub.add_parser("x", help="explore a dump directory")
    x.add_argument("dir")
    x.add_argument("what", choices=sorted(EXPLORERS))
    x.set_defaults(func=cmd_x)
    return p


def main(argv=None):
    p = parser()
    opts = p.parse_args(argv)
    if not getattr(opts, "func", None):
        p.print_usage(sys.stderr)
        sys.stderr.write("crit: error: a command is needed\n")
        return 2
    try:
        opts.func(opts)
    except CritError as e:
        sys.stderr.write("crit: %s\n" % e)
        return 1
    except BrokenPipeError:
        return 1
    except OSError as e:
        sys.stderr.write("crit: %s: %s\n" % (e.filename or "", e.strerror))
        return 1
    return 0

#!/usr/bin/python3
"""
Our crit and pycriu on real dumps (run by test/unit/crit-roundtrip.sh as pid 1
of a fresh pid namespace, so that the dumped trees' orphans are reaped).

  1. Dumps a set of zdtm programs with ./criu/criu (one of them through
     pycriu's RPC client, criu swrk), then for every image crit knows:
     pycriu decodes it and encodes it back byte for byte (also from the
     --pretty form); for the first image of each kind the same through the
     ./crit command: `crit decode | crit encode`, --pretty, `crit info`.
  2. Every image kind criu writes (an IMAGE row of criu/include/objects.def
     with a crit magic whose CR_FD_ kind criu/*.c names) was in some dump.
  3. crit x DIR ps/fds/mems/rss describe the dumps (pids, fds, mappings).
  4. crit refuses what is wrong: a truncated image, an unknown magic, raw
     pages, JSON with a field the message lacks, a payload of the wrong size.
  5. Optional, when Debian's crit (CRIU 3.17) is installed: its pycriu decodes
     each image (in a process of its own) and its JSON is contained in ours:
     every field it knows, it reads as we do.
Prints TAP; exit 1 when a check failed.
"""
import fnmatch
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CRIU = os.path.join(TOP, "criu", "criu")
CRIT = os.path.join(TOP, "crit")
PROGS = os.path.join(TOP, "test", "build", "zdtm", "static")
OBJECTS_DEF = os.path.join(TOP, "criu", "include", "objects.def")
DEBIAN_CRIT = "/usr/bin/crit"

# zdtm programs whose dumps hold every image kind criu writes between them
PROGRAMS = ["pipe00", "fifo_wr_first", "sk_unix_dgram00", "sk_unix_scm00", "sk_unix_named00",
            "ghost_holes", "file_deleted", "memfd00", "shm_anon00", "fork_tree", "eventfd00",
            "epoll00", "inotify00", "signalfd00", "timerfd00", "pidfd_child", "sigpending00",
            "thread8", "zombie00", "stopped00", "mem_prot00", "ns_uts00", "ns_ipc00", "ns_net00",
            "ns_time00", "ns_user00", "mnt_tmpfs", "seccomp_inherit",
            "cgroup00", "tty_pty_pair", "tty_pty_data"]
RPC_PROGRAM = "pipe_size00"	# dumped through pycriu.criu (criu swrk)
# the criu options a program's dump needs (tcp-stream-*.img: an established connection;
# ghost_holes has more data than the default --ghost-limit, as its .desc says)
PROGRAM_OPTS = {"sk_tcp_established00": ["--tcp-established", "--network-lock", "skip"],
                "file_locks_posix": ["--file-locks"],
                "ghost_holes": ["--ghost-limit", "16M"]}
PROGRAMS.append("sk_tcp_established00")
PROGRAMS.append("file_locks_posix")	# filelocks.img

from tap import finish, ok, results  # noqa: E402,F401  TAP lines, shared by the scripts


def reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def crit(*args, data=None):
    r = subprocess.run([CRIT] + list(args), input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    return r.returncode, r.stdout, r.stderr.decode(errors="replace")


def image_rows():
    """[(glob, crit magic, kind)] of the IMAGE rows that name a crit magic."""
    rows = []
    with open(OBJECTS_DEF) as f:
        for m in re.finditer(r'^IMAGE\(([A-Z_0-9]+),\s*"([^"]+)",.*"([A-Z_0-9]*)"\)', f.read(), re.M):
            if m.group(3):
                rows.append((re.sub(r"%l?[dux]", "*", m.group(2)), m.group(3), m.group(1)))
    return rows


def kinds_criu_writes(rows):
    src = ""
    for name in sorted(os.listdir(os.path.join(TOP, "criu"))):
        if name.endswith(".c") and name != "image.c":
            with open(os.path.join(TOP, "criu", name)) as f:
                src += f.read()
    return set(kind for _, _, kind in rows if re.search(r"\bCR_FD_%s\b" % kind, src))


def start(prog, work):
    pidfile, outfile = os.path.join(work, prog + ".pid"), os.path.join(work, prog + ".out")
    r = subprocess.run([os.path.join(PROGS, prog), "--pidfile=" + pidfile, "--outfile=" + outfile],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30, cwd=work)
    reap()
    if r.returncode != 0 or not os.path.exists(pidfile):
        return None
    with open(pidfile) as f:
        return int(f.read())


def kill_tree(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    time.sleep(0.05)
    reap()


def remove_test_cgroups(prog, pid):
    """The cgroups a killed cgroup test made (zdtm.PROG.PID.*, test/zdtm/static/cgroup_test.h)."""
    name = "zdtm.%s.%d." % (prog, pid)
    with open("/proc/self/mountinfo") as f:
        mounts = [l.split()[4] for l in f if " - cgroup" in l]
    for mnt in mounts:
        for top, dirs, _ in os.walk(mnt):
            for own in [d for d in dirs if d.startswith(name)]:
                dirs.remove(own)
                for sub, _, _ in sorted(os.walk(os.path.join(top, own)), key=lambda w: -len(w[0])):
                    try:
                        os.rmdir(sub)
                    except OSError:
                        pass


def dump_cli(prog, work):
    pid = start(prog, work)
    if not ok(pid, "start %s" % prog):
        return None
    ddir = os.path.join(work, "dump-" + prog)
    os.mkdir(ddir)
    r = subprocess.run([CRIU, "dump", "-t", str(pid), "-D", ddir, "-o", "dump.log", "-v4"] + PROGRAM_OPTS.get(prog, []),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120, cwd=work)
    kill_tree(pid)
    remove_test_cgroups(prog, pid)
    log = ""
    if r.returncode:
        with open(os.path.join(ddir, "dump.log"), errors="replace") as f:
            log = f.read()
    if not ok(r.returncode == 0, "criu dump %s" % prog, log):
        return None
    if prog == PROGRAMS[0]:
        # a restore writes stats-restore into the images dir: restored, then killed
        r = subprocess.run([CRIU, "restore", "-d", "-D", ddir, "-o", "restore.log", "-v4"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120, cwd=work)
        reap()
        ok(r.returncode == 0, "criu restore %s" % prog)
        kill_tree(pid)
    return ddir


def dump_rpc(prog, work):
    sys.path.insert(0, os.path.join(TOP, "build", "py"))
    import pycriu

    pid = start(prog, work)
    if not ok(pid, "start %s" % prog):
        return None
    ddir = os.path.join(work, "dump-" + prog)
    os.mkdir(ddir)
    c = pycriu.criu.criu()
    c.use_binary(CRIU)
    seen = []
    c.notify = lambda script, n: seen.append(script) or True
    fd = os.open(ddir, os.O_DIRECTORY)
    try:
        v = c.version()
        ok(v.version.major_number >= 3, "pycriu RPC: VERSION answers %d.%d" %
           (v.version.major_number, v.version.minor_number))
        c.opts.images_dir_fd = fd
        c.opts.pid = pid
        c.opts.log_file = "dump.log"
        c.opts.log_level = 4
        c.opts.notify_scripts = True
        try:
            c.dump()
            ok(True, "pycriu RPC: DUMP of %s through criu swrk" % prog)
        except pycriu.criu.CRIUException as e:
            ok(False, "pycriu RPC: DUMP of %s through criu swrk" % prog, e)
            return None
        ok("post-dump" in seen, "pycriu RPC: the client answered criu's notifications (%s)" % ", ".join(seen))
        try:
            c.opts.pid = 999999999
            c.dump()
            ok(False, "pycriu RPC: a DUMP of no such pid raises CRIUExceptionExternal")
        except pycriu.criu.CRIUExceptionExternal as e:
            ok(e.errmsg != "", "pycriu RPC: a DUMP of no such pid raises CRIUExceptionExternal (%s)" % e)
    finally:
        os.close(fd)
        kill_tree(pid)
    return ddir


def contained(small, big, path="$"):
    """None when every key of small is in big with a contained value; else where not."""
    if isinstance(small, dict) and isinstance(big, dict):
        for k, v in small.items():
            if k not in big:
                return "%s.%s missing" % (path, k)
            bad = contained(v, big[k], "%s.%s" % (path, k))
            if bad:
                return bad
        return None
    if isinstance(small, list) and isinstance(big, list):
        if len(small) != len(big):
            return "%s: %d items, not %d" % (path, len(big), len(small))
        for i, (a, b) in enumerate(zip(small, big)):
            bad = contained(a, b, "%s[%d]" % (path, i))
            if bad:
                return bad
        return None
    return None if small == big else "%s: %r, not %r" % (path, big, small)


def check_image(path, magic, images, cli):
    """pycriu's round trips of the image; the same through ./crit when cli."""
    name = os.path.relpath(path, os.path.dirname(os.path.dirname(path)))
    with open(path, "rb") as f:
        raw = f.read()
    try:
        img = images.loads(raw)
        back = images.dumps(json.loads(json.dumps(img)))
        pretty = images.loads(raw, pretty=True)
        back_pretty = images.dumps(json.loads(json.dumps(pretty)))
    except Exception as e:  # noqa: BLE001 - any failure is the finding
        ok(False, "pycriu decodes and encodes %s" % name, "%s: %s" % (type(e).__name__, e))
        return None
    ok(img["magic"] == magic and back == raw and back_pretty == raw,
       "pycriu: %s (%s, %d entries) decodes and encodes back to the same %d bytes, also in the pretty form" %
       (name, magic, len(img["entries"]), len(raw)),
       "magic %s, %d/%d bytes back" % (img["magic"], len(back), len(back_pretty)))
    if not cli:
        return img
    rc, js, err = crit("decode", "-i", path)
    if not ok(rc == 0 and json.loads(js) == img, "crit decode %s: pycriu's JSON" % name, err):
        return img
    rc, back, err = crit("encode", data=js)
    ok(rc == 0 and back == raw, "crit decode | crit encode %s: the same %d bytes" % (name, len(raw)),
       err or "%d bytes back" % len(back))
    rc, js, err = crit("decode", "--pretty", "-i", path)
    rc2, back, err2 = crit("encode", data=js)
    ok(rc == 0 and rc2 == 0 and back == raw, "crit decode --pretty | crit encode %s: the same bytes" % name,
       err + err2)
    rc, info, err = crit("info", path)
    want = len(img["entries"]) - (1 if magic == "PAGEMAP" else 0)
    ok(rc == 0 and json.loads(info) == {"magic": magic, "count": want},
       "crit info %s: %d entries" % (name, want), err or info)
    return img


DEBIAN_DECODER = """
import json, sys
sys.path.insert(0, "/usr/lib/python3/dist-packages")   # not an installed pycriu of ours
from pycriu import images
for path in sys.stdin.read().split("\\n"):
    if not path:
        continue
    try:
        with open(path, "rb") as f:
            out = {"img": images.load(f)}
    except Exception as e:
        out = {"error": "%s: %s" % (type(e).__name__, e)}
    print(json.dumps(out))
"""


def compare_debian(decoded):
    """Debian's pycriu (one process, its own python path) decodes every image;
    its JSON must be contained in ours."""
    paths = [p for p, _ in decoded]
    r = subprocess.run(["/usr/bin/python3", "-c", DEBIAN_DECODER], input="\n".join(paths).encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300, cwd="/")
    lines = r.stdout.decode(errors="replace").splitlines()
    if not ok(r.returncode == 0 and len(lines) == len(paths), "Debian's pycriu decodes %d images" % len(paths),
              r.stderr.decode(errors="replace")):
        return
    for (path, ours), line in zip(decoded, lines):
        name = os.path.relpath(path, os.path.dirname(os.path.dirname(path)))
        theirs = json.loads(line)
        if not ok("img" in theirs, "Debian's crit decodes %s" % name, theirs.get("error")):
            continue
        bad = contained(theirs["img"], ours)
        ok(bad is None, "Debian's crit reads %s as we do (its JSON is part of ours)" % name, bad)


def check_explore(ddirs):
    for prog, ddir in ddirs:
        with open(os.path.join(ddir, "pstree.img"), "rb") as f:
            pass
        rc, ps, err = crit("x", ddir, "ps")
        ps = ps.decode(errors="replace")
        ok(rc == 0 and re.search(r"^\s+\d+\s+\d+\s+\d+\s+%s" % prog[:15], ps, re.M),
           "crit x %s ps shows %s" % (os.path.basename(ddir), prog), err + ps)
        for what, pattern in (("fds", r"^\s+cwd: /"), ("mems", r"\[stack\]"), ("rss", r"^\t[0-9a-f]+ / \d+")):
            rc, out, err = crit("x", ddir, what)
            out = out.decode(errors="replace")
            ok(rc == 0 and re.search(pattern, out, re.M), "crit x %s %s" % (os.path.basename(ddir), what),
               err + out)


def check_refusals(work, ddir):
    core = sorted(fnmatch.filter(os.listdir(ddir), "core-*.img"))[0]
    with open(os.path.join(ddir, core), "rb") as f:
        raw = f.read()
    bad = os.path.join(work, "bad.img")
    for what, data, expect in (
            ("a truncated core image", raw[:-3], "truncated"),
            ("an image with an unknown magic", raw[:4] + b"\x01\x02\x03\x04" + raw[8:], "unknown magic"),
            ("raw pages", b"\0" * 4096, "unknown magic")):
        with open(bad, "wb") as f:
            f.write(data)
        rc, _, err = crit("decode", "-i", bad)
        ok(rc == 1 and expect in err, "crit decode refuses %s (%s)" % (what, err.strip()))

    rc, js, _ = crit("decode", "-i", os.path.join(ddir, "pstree.img"))
    img = json.loads(js)
    img["entries"][0]["no_such_field"] = 1
    rc, _, err = crit("encode", data=json.dumps(img).encode())
    ok(rc == 1 and "no_such_field" in err, "crit encode refuses a field the message lacks (%s)" % err.strip())

    pd = os.path.join(ddir, "pipes-data.img")
    rc, js, _ = crit("decode", "-i", pd)
    img = json.loads(js)
    img["entries"][0]["extra"] = "AAAA\n"
    rc, _, err = crit("encode", data=json.dumps(img).encode())
    ok(rc == 1 and "extra has 3 bytes" in err, "crit encode refuses a payload of the wrong size (%s)" % err.strip())


def lo_up():
    """The loopback of the network namespace crit-roundtrip.sh made: the TCP program talks over it."""
    import fcntl
    import socket
    import struct
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sk:
        req = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(sk.fileno(), 0x8913, req))[1]
        fcntl.ioctl(sk.fileno(), 0x8914, struct.pack("16sH14x", b"lo", flags | 1))


def main():
    lo_up()
    if not ok(os.access(CRIT, os.X_OK) and os.path.isdir(os.path.join(TOP, "build", "py", "pycriu")),
              "./crit and build/py/pycriu are there (make pycriu)"):
        return 1
    missing = [p for p in PROGRAMS + [RPC_PROGRAM] if not os.access(os.path.join(PROGS, p), os.X_OK)]
    if not ok(os.access(CRIU, os.X_OK) and not missing, "criu/criu and the zdtm programs are built",
              "missing: %s" % " ".join(missing)):
        return 1
    debian = os.access(DEBIAN_CRIT, os.X_OK)
    if not debian:
        print("# Debian's crit is not installed: no comparison with it")
    rows = image_rows()
    work = tempfile.mkdtemp(prefix="crit-roundtrip.")
    try:
        ddirs = []
        for prog in PROGRAMS:
            d = dump_cli(prog, work)
            if d:
                ddirs.append((prog, d))
        d = dump_rpc(RPC_PROGRAM, work)
        if d:
            ddirs.append((RPC_PROGRAM, d))

        sys.path.insert(0, os.path.join(TOP, "build", "py"))
        from pycriu import images

        seen = set()
        decoded = []
        for prog, ddir in ddirs:
            for name in sorted(os.listdir(ddir)):
                # the longest pattern: pagemap-*.img also matches pagemap-shmem-*.img
                match = [r for r in rows if fnmatch.fnmatch(name, r[0])]
                if match:
                    pattern, magic, kind = max(match, key=lambda r: len(r[0]))
                    path = os.path.join(ddir, name)
                    img = check_image(path, magic, images, kind not in seen)
                    seen.add(kind)
                    if img:
                        decoded.append((path, img))
        if debian:
            compare_debian(decoded)
        for kind in sorted(kinds_criu_writes(rows)):
            ok(kind in seen, "some dump has a %s image (else add a program making one to PROGRAMS)" % kind)
        check_explore(ddirs[:3])
        if ddirs:
            check_refusals(work, ddirs[0][1])
    finally:
        if os.environ.get("KEEP"):
            print("# dumps kept in %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())

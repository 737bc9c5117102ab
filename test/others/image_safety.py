#!/usr/bin/python3
"""
Hostile and damaged images, and the errors of a dump that can't finish.

Runs as pid 1 of a fresh pid and mount namespace (image-safety.sh). A target
holds a pipe with data (fds 15, 16), a regular file (fd 17), a pidfd of
itself (fd 18) and a unix socket bound to a name in the work dir (fd 19);
it is dumped once,
and each case restores a damaged copy of the images:

  1. an image the dump always writes is missing (fdinfo-N.img, fs-N.img,
     files.img, pipes-data.img): the restore fails naming it, with and
     without --skip-image-check, and starts nothing;
  2. a path in files.img is relative (`../decoy/secret`), climbs with
     `..`, or names a /proc magic link: refused, the decoy beside criu's
     working directory is not opened;
  3. a dump of a task another process already traces says "already traced
     by pid N"; so does a second criu dumping a tree the first one holds
     (run from the first one's post-dump action script, the tree still
     seized), and the tree runs on untraced;
  4. the manifest: a flipped bit in fdinfo-N.img (fd 15 becomes 14), in a
     pages image (its middle, first and last byte: checked as the stubs read
     them, the tree killed) or in manifest.img, a truncated pipes-data.img, a missing
     manifest.img, an edited inventory.img or an added image: refused naming
     it; images without a manifest whose inventory is CRIU's (lsmtype)
     restore with a warning;
  4b. an entry given twice (a pipe's data, a file id; --skip-image-check):
     refused naming it (criu used to read the freed entry for the message:
     make test SANITIZE=1 fails on it);
  5. images and logs are 0600, the images dir 0700; a restore from a
     read-only images dir works;
  6. a dump into a full tmpfs names the pages image that filled it and
     leaves the target running;
  7. hand-made hostile images (--skip-image-check, so that the readers
     themselves are tried, not the manifest): a pagemap entry of 2^40 pages,
     an fd whose file id points nowhere, a pidfd whose target is a pid
     outside the tree (this runner, pid 1), a unix socket name that climbs
     with `..` (absolute or relative): each refused naming what is wrong,
     nothing started, no crash.
Prints TAP.
"""
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CRIU = os.environ.get("CRIU_BIN", os.path.join(TOP, "criu", "criu"))
CRIT = os.path.join(TOP, "crit")
PY = "/usr/bin/python3"
TARGET = r"""
import os, sys, time
r, w = os.pipe()
os.write(w, b"pipe data " * 100)
f = os.open(sys.argv[2], os.O_RDONLY)
pfd = os.pidfd_open(os.getpid())
import socket
sk = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sk.bind(os.path.join(os.path.dirname(sys.argv[1]), "sock.%d" % os.getpid()))
for fd, to in ((r, 15), (w, 16), (f, 17), (pfd, 18), (sk.detach(), 19)):
    os.dup2(fd, to)
    os.close(fd)
mem = bytearray(os.urandom(int(sys.argv[3])))
open(sys.argv[1], "w").write("ready")
while True:
    time.sleep(100)
"""

from tap import finish, ok, results  # noqa: E402,F401  TAP lines, shared by the scripts


def reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def all_pids():
    reap()
    return set(int(p) for p in os.listdir("/proc") if p.isdigit())


def state(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for _ in range(1000):
        reap()
        if not os.path.exists("/proc/%d" % pid):
            return
        time.sleep(0.01)


def start_target(work, mem=1 << 20):
    ready = os.path.join(work, "ready")
    if os.path.exists(ready):
        os.unlink(ready)
    p = subprocess.Popen([PY, "-S", "-c", TARGET, ready, os.path.join(work, "data"), str(mem)],
                         start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    for _ in range(1000):
        if os.path.exists(ready):
            return p.pid
        time.sleep(0.01)
    raise RuntimeError("target did not start")


def criu(*args, cwd=None):
    r = subprocess.run([CRIU] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       cwd=cwd)
    reap()
    return r.returncode, r.stdout


def log_of(d, name):
    try:
        return open(os.path.join(d, name)).read()
    except OSError:
        return ""


def restore_fails(d, name, what, *extra, cwd=None, must_name=None):
    """Restore d; it must fail, log must_name (default: name) and leave no new process."""
    before = all_pids()
    rc, out = criu("restore", "-d", "-D", d, "-o", "restore.log", "-v4", *extra, cwd=cwd)
    log = log_of(d, "restore.log")
    after = all_pids()
    new = after - before
    for p in new:
        kill(p)
    ok(rc == 1 and (must_name or name) in log and not new,
       "%s: restore fails naming %s, nothing started (rc %d, new pids %s)" % (what, must_name or name, rc,
                                                                              sorted(new)))
    return log


def damaged_copy(src, work, tag):
    d = os.path.join(work, "img-" + tag)
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(src, d)
    for f in os.listdir(d):
        if f.endswith(".log"):
            os.unlink(os.path.join(d, f))
    return d


def crit_json(path):
    r = subprocess.run([PY, CRIT, "decode", "-i", path], stdout=subprocess.PIPE, check=True, text=True)
    return json.loads(r.stdout)


def crit_write(obj, path):
    tmp = path + ".json"
    with open(tmp, "w") as f:
        json.dump(obj, f)
    subprocess.run([PY, CRIT, "encode", "-i", tmp, "-o", path], check=True)
    os.unlink(tmp)


def set_reg_path(d, old_suffix, new):
    path = os.path.join(d, "files.img")
    img = crit_json(path)
    n = 0
    for e in img["entries"]:
        reg = e.get("reg")
        if reg and reg["name"].endswith(old_suffix):
            reg["name"] = new
            n += 1
    crit_write(img, path)
    return n


def case_missing(src, work, pid):
    for name in ("fdinfo-%d.img" % pid, "fs-%d.img" % pid, "files.img", "pipes-data.img"):
        for extra in ((), ("--skip-image-check",)):
            d = damaged_copy(src, work, "missing")
            os.unlink(os.path.join(d, name))
            restore_fails(d, name, "%s removed%s" % (name, " (--skip-image-check)" if extra else ""), *extra)


def case_paths(src, work):
    # criu works in the images dir (work/img-pathN): ../decoy/secret would be work/decoy/secret
    cwd = os.path.join(work, "a", "b")
    os.makedirs(cwd, exist_ok=True)
    os.makedirs(os.path.join(work, "decoy"), exist_ok=True)
    secret = os.path.join(work, "decoy", "secret")
    with open(secret, "w") as f:
        f.write("SECR")	# the size of "data": the size check alone would not refuse it
    for i, bad in enumerate(("../decoy/secret", "/tmp/../" + secret.lstrip("/"), "/proc/self/fd/0")):
        d = damaged_copy(src, work, "path%d" % i)
        n = set_reg_path(d, "/data", bad)
        atime = os.stat(secret).st_atime_ns
        log = restore_fails(d, bad, "a file path '%s' in files.img" % bad, "--skip-image-check", cwd=cwd,
                            must_name=bad if n == 1 else "(no entry edited)")
        ok("refused" in log or "can't open" in log, "the log says why ('%s')" % bad)


def flip(path, off):
    with open(path, "r+b") as f:
        f.seek(off)
        b = f.read(1)
        f.seek(off)
        f.write(bytes([b[0] ^ 0x01]))


def fdinfo_fd_offset(path, fd):
    """Offset of the varint of FdinfoEntry.fd == fd (field 4: tag 0x20) in an fdinfo image."""
    raw = open(path, "rb").read()
    at = raw.find(bytes([0x20, fd]), 8)
    if at < 0:
        raise RuntimeError("fd %d not found in %s" % (fd, path))
    return at + 1


def case_manifest(src, work, pid):
    pages = sorted(f for f in os.listdir(src) if f.startswith("pages-"))[0]
    d = damaged_copy(src, work, "fdflip")
    fdinfo = os.path.join(d, "fdinfo-%d.img" % pid)
    flip(fdinfo, fdinfo_fd_offset(fdinfo, 15))	# fd 15 -> fd 14
    restore_fails(d, "fdinfo-%d.img has changed" % pid, "a flipped bit moves fd 15 to fd 14")
    d = damaged_copy(src, work, "pageflip")
    flip(os.path.join(d, pages), os.path.getsize(os.path.join(d, pages)) // 2)
    restore_fails(d, "%s has changed" % pages, "a flipped bit in %s" % pages)
    # the pages' CRCs are checked as the stubs read them (pages-crc.h): a bit at either end too, where
    # the runs the stubs read and the bytes read again for the check meet
    for where, off in (("first", 0), ("last", os.path.getsize(os.path.join(src, pages)) - 1)):
        d = damaged_copy(src, work, "pageflip-" + where)
        flip(os.path.join(d, pages), off)
        log = restore_fails(d, "%s has changed" % pages, "a flipped bit in the %s byte of %s" % (where, pages))
        ok("pages-crc: %s has changed" % pages in log, "the %s byte's flip is found as the pages are read" % where)
    d = damaged_copy(src, work, "pipetrunc")
    with open(os.path.join(d, "pipes-data.img"), "r+b") as f:
        f.truncate(os.path.getsize(os.path.join(d, "pipes-data.img")) - 100)
    restore_fails(d, "pipes-data.img is truncated", "100 bytes cut off pipes-data.img")
    d = damaged_copy(src, work, "nomanifest")
    os.unlink(os.path.join(d, "manifest.img"))
    restore_fails(d, "manifest.img is missing", "manifest.img removed")
    d = damaged_copy(src, work, "mfflip")
    flip(os.path.join(d, "manifest.img"), 20)
    restore_fails(d, "manifest.img has changed", "a flipped bit in manifest.img")
    d = damaged_copy(src, work, "extra")
    shutil.copy(os.path.join(d, "fs-%d.img" % pid), os.path.join(d, "fs-99999.img"))
    restore_fails(d, "fs-99999.img is not in manifest.img", "an image added after the dump")
    d = damaged_copy(src, work, "invedit")
    inv = crit_json(os.path.join(d, "inventory.img"))
    inv["entries"][0]["dump_uptime"] = 1
    crit_write(inv, os.path.join(d, "inventory.img"))
    restore_fails(d, "inventory.img is truncated", "inventory.img edited after the dump (a shorter dump_uptime)")

    # as CRIU writes them: no manifest, an inventory with lsmtype: restored, with a warning
    d = damaged_copy(src, work, "upstream")
    os.unlink(os.path.join(d, "manifest.img"))
    inv = crit_json(os.path.join(d, "inventory.img"))
    inv["entries"][0]["lsmtype"] = "NO_LSM"
    crit_write(inv, os.path.join(d, "inventory.img"))
    rc, _ = criu("restore", "-d", "-D", d, "-o", "restore.log", "-v4")
    log = log_of(d, "restore.log")
    ok(rc == 0 and "have no manifest" in log and state(pid) in ("S", "R"),
       "images without a manifest (CRIU's) restore, with a warning (rc %d)" % rc)
    kill(pid)
    # CRIU's dump copied over our page server's dir: CRIU's inventory under a manifest of ours; the
    # pagemaps and pages are checked against it, the rest is CRIU's and is not
    d = damaged_copy(src, work, "upstream-ps")
    inv = crit_json(os.path.join(d, "inventory.img"))
    inv["entries"][0]["lsmtype"] = "NO_LSM"
    crit_write(inv, os.path.join(d, "inventory.img"))
    flip(os.path.join(d, pages), os.path.getsize(os.path.join(d, pages)) // 2)
    restore_fails(d, "%s has changed" % pages, "CRIU's inventory over a page server's manifest: a flipped bit in %s"
                  % pages)
    d = damaged_copy(src, work, "upstream-ps-sound")
    crit_write(inv, os.path.join(d, "inventory.img"))
    rc, _ = criu("restore", "-d", "-D", d, "-o", "restore.log", "-v4")
    log = log_of(d, "restore.log")
    ok(rc == 0 and "only the page server's pagemaps and pages are checked" in log and state(pid) in ("S", "R"),
       "CRIU's inventory over a page server's manifest restores, its pages checked, with a warning (rc %d)" % rc)
    kill(pid)
    # and a sound image set restores, its pipe data intact
    d = damaged_copy(src, work, "sound")
    rc, _ = criu("restore", "-d", "-D", d, "-o", "restore.log", "-v4")
    log = log_of(d, "restore.log")
    data = b""
    if rc == 0:
        fd = os.open("/proc/%d/fd/15" % pid, os.O_RDONLY | os.O_NONBLOCK)
        data = os.read(fd, 4096)
        os.close(fd)
    ok(rc == 0 and "images checked" in log and data == b"pipe data " * 100,
       "the sound images restore after the check, the pipe's data intact (rc %d, %d bytes)" % (rc, len(data)))
    kill(pid)


def varint(buf, i):
    v = shift = 0
    while True:
        b = buf[i]
        v |= (b & 0x7f) << shift
        i += 1
        shift += 7
        if not b & 0x80:
            return v, i


def first_entry(path, raw_field=None):
    """The bytes of the first entry of an image (its size, message and, when raw_field names the message's
    field that counts them, the raw bytes after it)."""
    data = open(path, "rb").read()
    size = int.from_bytes(data[8:12], "little")
    end = 12 + size
    if raw_field:
        msg, i = data[12:end], 0
        while i < len(msg):
            key, i = varint(msg, i)
            val, i = varint(msg, i)	# every field of these messages is a varint
            if key >> 3 == raw_field:
                end += val
    return data[8:end]


def case_duplicate_entries(src, work):
    """An entry given twice (found by make fuzz-restore: criu read the entry after freeing it)."""
    d = damaged_copy(src, work, "dup-pipe-data")
    path = os.path.join(d, "pipes-data.img")
    with open(path, "ab") as f:
        f.write(first_entry(path, raw_field=2))
    restore_fails(d, "pipes-data.img", "the data of a pipe given twice", "--skip-image-check",
                  must_name="has two data entries")
    d = damaged_copy(src, work, "dup-file")
    path = os.path.join(d, "files.img")
    with open(path, "ab") as f:
        f.write(first_entry(path))
    restore_fails(d, "files.img", "a file id given twice", "--skip-image-check", must_name="appears twice")


def case_modes_and_readonly(src, work, pid):
    """Images and logs 0600, a dir criu made 0700; a restore from a read-only images dir works."""
    modes = {f: os.stat(os.path.join(src, f)).st_mode & 0o777 for f in os.listdir(src)}
    ok(all(m == 0o600 for m in modes.values()) and os.stat(src).st_mode & 0o777 == 0o700,
       "images and log are 0600, the images dir criu made 0700 (%s)" %
       sorted(set("%o" % m for m in modes.values())))
    ro = os.path.join(work, "ro")
    rw = os.path.join(work, "rw")
    os.makedirs(ro, exist_ok=True)
    os.makedirs(rw, exist_ok=True)
    subprocess.run(["mount", "--bind", src, ro], check=True)
    subprocess.run(["mount", "-o", "remount,bind,ro", ro], check=True)
    rc, _ = criu("restore", "-d", "-D", ro, "-W", rw, "-o", "restore.log", "-v4")
    ok(rc == 0 and state(pid) in ("S", "R"), "a restore from a read-only images dir (-W elsewhere) works (rc %d)" % rc)
    kill(pid)
    subprocess.run(["umount", ro])


PTRACE_SEIZE = 0x4206


def case_traced(work):
    pid = start_target(work)
    libc = ctypes.CDLL(None, use_errno=True)
    tracer = os.fork()
    if tracer == 0:
        if libc.ptrace(PTRACE_SEIZE, pid, None, None) != 0:
            os._exit(1)
        time.sleep(60)
        os._exit(0)
    time.sleep(0.2)
    d = os.path.join(work, "img-traced")
    rc, _ = criu("dump", "-t", str(pid), "-D", d, "-o", "dump.log", "-v4")
    log = log_of(d, "dump.log")
    ok(rc == 1 and ("already traced by pid %d" % tracer) in log,
       "a dump of a traced task says 'already traced by pid %d' (rc %d)" % (tracer, rc))
    kill(tracer)
    ok(state(pid) in ("S", "R"), "the target runs on (state %s)" % state(pid))
    kill(pid)


SECOND_DUMP = """#!/bin/sh
# post-dump: the first criu (our parent) still has the tree seized
[ "$CRTOOLS_SCRIPT_ACTION" = post-dump ] || exit 0
echo $PPID > %(dir)s/first-criu
%(criu)s dump -t $CRTOOLS_INIT_PID -D %(dir)s/second -o dump.log -v4 >/dev/null 2>&1
echo $? > %(dir)s/second-rc
exit 0
"""


def case_second_criu(work):
    """A criu dumping a tree another criu is dumping: a clear error naming that criu."""
    pid = start_target(work)
    d = os.path.join(work, "img-second")
    os.makedirs(os.path.join(d, "second"))
    script = os.path.join(work, "second-dump.sh")
    with open(script, "w") as f:
        f.write(SECOND_DUMP % {"dir": d, "criu": CRIU})
    os.chmod(script, 0o755)
    rc, _ = criu("dump", "--leave-running", "-t", str(pid), "-D", d, "-o", "dump.log", "-v4",
                 "--action-script", script)
    try:
        first = int(open(os.path.join(d, "first-criu")).read())
        rc2 = int(open(os.path.join(d, "second-rc")).read())
    except (OSError, ValueError):
        first, rc2 = -1, -1
    log = log_of(os.path.join(d, "second"), "dump.log")
    ok(rc == 0 and rc2 == 1 and ("already traced by pid %d" % first) in log,
       "a second criu dumping a tree one is dumping says 'already traced by pid %d' (the first: rc %d, the second: "
       "rc %d)" % (first, rc, rc2))
    ok(not os.path.exists(os.path.join(d, "second", "inventory.img")), "the second criu leaves no inventory.img")
    ok(state(pid) in ("S", "R") and "TracerPid:\t0\n" in open("/proc/%d/status" % pid).read(),
       "the tree runs on after both, untraced (state %s)" % state(pid))
    kill(pid)


def case_enospc(work):
    small = os.path.join(work, "small")
    os.makedirs(small, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", small], check=True)
    pid = start_target(work, mem=8 << 20)
    rc, _ = criu("dump", "-t", str(pid), "-D", small, "-o", os.path.join(work, "enospc.log"), "-v4")
    log = log_of(work, "enospc.log")
    errors = [line for line in log.splitlines() if "Error" in line]
    ok(rc == 1 and any("pages-" in e and "No space left" in e for e in errors),
       "a full disk: the error names the pages image (rc %d)" % rc)
    ok(not any("pagemap-" in e for e in errors), "and does not blame a pagemap image")
    ok(state(pid) in ("S", "R") and "TracerPid:\t0\n" in open("/proc/%d/status" % pid).read(),
       "the target runs on, untraced")
    kill(pid)
    subprocess.run(["umount", small])


def case_hostile(src, work, pid):
    # a huge count: a pagemap entry of 2^40 pages, far past the pages image
    d = damaged_copy(src, work, "huge")
    path = os.path.join(d, "pagemap-%d.img" % pid)
    img = crit_json(path)
    img["entries"][1]["nr_pages"] = 1 << 40
    crit_write(img, path)
    restore_fails(d, "pagemap-%d.img" % pid, "a pagemap entry of 2^40 pages", "--skip-image-check")
    # an id that points nowhere: fd 17's file id
    d = damaged_copy(src, work, "noid")
    path = os.path.join(d, "fdinfo-%d.img" % pid)
    img = crit_json(path)
    for e in img["entries"]:
        if e["fd"] == 17:
            e["id"] = 999999
    crit_write(img, path)
    restore_fails(d, "999999", "fd 17 naming file id 999999, which no image has", "--skip-image-check")
    # one fd number twice: fd 17's entry again, naming fd 0's file
    d = damaged_copy(src, work, "twice")
    path = os.path.join(d, "fdinfo-%d.img" % pid)
    img = crit_json(path)
    dup = [dict(e) for e in img["entries"] if e["fd"] == 0]
    for e in dup:
        e["fd"] = 17
    img["entries"] += dup
    crit_write(img, path)
    ok(len(dup) == 1, "fdinfo-%d.img has fd 0 (%d)" % (pid, len(dup)))
    restore_fails(d, "fd 17 of task %d is twice in fdinfo-%d.img" % (pid, pid), "fd 17 twice in fdinfo",
                  "--skip-image-check")
    # a pidfd claiming a pid outside the tree: the runner, pid 1 here
    d = damaged_copy(src, work, "pidfd")
    path = os.path.join(d, "files-ext.img")
    img = crit_json(path)
    n = 0
    for e in img["entries"]:
        if "pidfd_target_pid" in e:
            e["pidfd_target_pid"] = 1
            n += 1
    crit_write(img, path)
    ok(n == 1, "files-ext.img has the target's pidfd (%d)" % n)
    restore_fails(d, "refers to 1, which is not in the restored tree", "a pidfd of a task of the tree made to name pid 1, outside it",
                  "--skip-image-check")
    ok(os.path.exists("/proc/1"), "the runner (pid 1) is untouched")
    # a unix socket name that climbs out of where the task was
    for i, bad in enumerate(("/tmp/../etc/criu-hostile-sock", "../../criu-hostile-sock")):
        d = damaged_copy(src, work, "skname%d" % i)
        path = os.path.join(d, "files.img")
        img = crit_json(path)
        n = 0
        for e in img["entries"]:
            if "usk" in e and e["usk"].get("name"):
                e["usk"]["name"] = bad
                n += 1
        crit_write(img, path)
        restore_fails(d, "a name with an empty, '.' or '..' component", "the unix socket's name made %s (%d)" % (bad, n),
                      "--skip-image-check")
        ok(not os.path.exists("/etc/criu-hostile-sock") and not os.path.exists(os.path.join(work, "..", "..",
                                                                                             "criu-hostile-sock")),
           "no socket file made at %s" % bad)


def main():
    work = tempfile.mkdtemp(prefix="criu-safety.")
    with open(os.path.join(work, "data"), "w") as f:
        f.write("data")
    pid = start_target(work)
    src = os.path.join(work, "img")
    rc, _ = criu("dump", "-t", str(pid), "-D", src, "-o", "dump.log", "-v4")
    ok(rc == 0, "dump of the target (rc %d)" % rc)
    kill(pid)
    case_missing(src, work, pid)
    case_manifest(src, work, pid)
    case_duplicate_entries(src, work)
    case_modes_and_readonly(src, work, pid)
    case_paths(src, work)
    case_traced(work)
    case_second_criu(work)
    case_enospc(work)
    case_hostile(src, work, pid)
    for p in all_pids() - {os.getpid()}:
        kill(p)
    if all(results) or not os.environ.get("KEEP"):
        shutil.rmtree(work, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    if os.getpid() != 1:
        print("# must run as pid 1 of a new pid namespace (image-safety.sh)")
        sys.exit(2)
    sys.exit(main())

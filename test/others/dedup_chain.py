#!/usr/bin/python3
"""
Dedup of image chains: the predump_task (64 MiB and a child, rewriting
about 3 MiB/s) is pre-dumped twice and dumped, each pass --prev-images-dir
the one before.

Chain A: `criu dedup -D` the final dir; the parents' pages images must lose
about the pages it punched in allocated blocks (st_blocks), the parents
must still check (the restore checks every level against its manifest),
a parent restored by itself is refused, and the restore of the final dir
finds every word right.

Chain B: pre-dump 2 with --auto-dedup punches the first pre-dump; the dump
with --auto-dedup punches the parents the same way; the
restore with --auto-dedup gives a task that finds every word right and
leaves the chain's pages images punched (a second restore is refused).

Chain E: restore --auto-dedup while another criu holds the middle dir's
lock: the tree is restored, the held dir and the one above it keep their
pages and get no mark.
Prints TAP; exit 77 when criu is missing.
"""
import ctypes
import fcntl
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

CRIU = os.path.abspath(os.environ.get("CRIU_BIN", "criu/criu"))
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from predump_chain import reap, alive, start_task, verify, rpc_pass  # noqa: E402
from tap import finish, ok, results  # noqa: E402,F401  TAP lines, shared by the scripts


def criu(*args):
    r = subprocess.run([CRIU] + list(args), capture_output=True, text=True)
    if r.returncode:
        print("# criu %s: exit %d %s" % (args[0], r.returncode, r.stderr.strip()[-300:]))
    return r.returncode


def pages_files(d):
    return glob.glob(os.path.join(d, "pages-*.img"))


def pages_written(d):
    return sum(os.path.getsize(p) for p in pages_files(d)) // 4096


def blocks(dirs):
    """Allocated bytes of the pages images of dirs."""
    return sum(os.stat(p).st_blocks * 512 for d in dirs for p in pages_files(d))


def chain(work, exe, name, dump_extra, pre_extra=(), rpc=False):
    """Two pre-dumps and a dump (through RPC with auto_dedup if rpc); returns (pid, result file, dirs, parents'
    blocks before the dump, dump log)."""
    result = os.path.join(work, name + "-result")
    pid = start_task(exe, result)
    dirs = [os.path.join(work, "%s%d" % (name, i)) for i in range(3)]
    before = 0
    for i in range(3):
        kind = "pre-dump" if i < 2 else "dump"
        args = [kind, "-t", str(pid), "-D", dirs[i], "-o", "log", "-v4", "--track-mem"]
        if i:
            args += ["--prev-images-dir", "../%s%d" % (name, i - 1)]
        if i == 1:
            args += list(pre_extra)
            before0 = blocks(dirs[:1])
        if i == 2:
            args += dump_extra
            before = blocks(dirs[:2])
        if i == 2 and rpc:
            ok(rpc_pass("dump", pid, dirs[i], "../%s%d" % (name, i - 1), auto_dedup=True),
               "%s: dump through RPC with auto_dedup" % name)
            time.sleep(0.3)
            continue
        ok(criu(*args) == 0, "%s: %s %d %s" % (name, kind, i + 1, " ".join(args[-len(dump_extra):]) if i == 2 and dump_extra else ""))
        if i == 1 and pre_extra:
            punched, levels = punched_count(read(os.path.join(dirs[1], "log")))
            shrink = before0 - blocks(dirs[:1])
            print("# %s: pre-dump 2 %s: %d pages punched in %d dirs, the first pre-dump's pages images shrank by %d KiB"
                  % (name, " ".join(pre_extra), punched, levels, shrink // 1024))
            ok(levels == 1 and punched > 0 and abs(shrink - punched * 4096) <= punched * 4096 // 10,
               "%s: pre-dump %s punched %d pages out of the first pre-dump, which shrank by as much"
               % (name, " ".join(pre_extra), punched))
        time.sleep(0.3)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)
    reap()
    log = read(os.path.join(dirs[2], "log"))
    return pid, result, dirs, before, log


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def punched_count(log):
    m = re.search(r"(\d+) pages punched out of (\d+) parent dirs", log)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def check_shrink(name, dirs, before, log):
    after = blocks(dirs[:2])
    punched, levels = punched_count(log)
    last = pages_written(dirs[2])
    print("# %s: final dump wrote %d pages; %d pages punched in %d dirs; parents' pages images %d -> %d KiB allocated"
          % (name, last, punched, levels, before // 1024, after // 1024))
    ok(levels >= 1 and punched >= last // 2, "%s: %d pages punched in %d parent dirs (the final dump holds %d)"
       % (name, punched, levels, last))
    shrink = before - after
    ok(punched and abs(shrink - punched * 4096) <= punched * 4096 // 10,
       "%s: the parents' pages images shrank by %d KiB allocated, about the %d KiB punched"
       % (name, shrink // 1024, punched * 4))
    size_kept = all(os.path.getsize(p) % 4096 == 0 and os.path.getsize(p) > 0 for d in dirs[:2] for p in pages_files(d))
    ok(size_kept, "%s: the parents' pages images keep their length (holes)" % name)


def main():
    if not os.access(CRIU, os.X_OK):
        print("# SKIP: criu/criu is not built")
        return 77
    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)	# PR_SET_CHILD_SUBREAPER
    work = tempfile.mkdtemp(prefix="criu-dedup.")
    exe = os.path.join(work, "task")
    subprocess.run(["gcc", "-O2", "-o", exe, os.path.join(HERE, "predump_task.c")], check=True)

    # A: criu dedup on the final dir
    pid, result, dirs, _, _ = chain(work, exe, "a", [])
    before = blocks(dirs[:2])
    before_first = blocks(dirs[:1])
    held = os.open(dirs[0], os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(held, fcntl.LOCK_EX)    # another criu (a dump, a dedup) in the first pre-dump's dir
    rc = criu("dedup", "-D", dirs[2], "-o", "dedup-held.log", "-v4")
    ok(rc != 0 and "in use by another criu" in read(os.path.join(dirs[2], "dedup-held.log"))
       and blocks(dirs[:1]) == before_first,
       "a: criu dedup is refused while a parent dir is held by another criu, nothing punched there (rc %d)" % rc)
    os.close(held)
    ok(criu("dedup", "-D", dirs[2], "-o", "dedup.log", "-v4") == 0, "a: criu dedup -D the final dir")
    check_shrink("a", dirs, before, read(os.path.join(dirs[2], "dedup.log")))
    rc = criu("dedup", "-D", dirs[2], "-o", "dedup2.log", "-v4")
    again = re.search(r"(\d+) pages punched out of", read(os.path.join(dirs[2], "dedup2.log")))
    ok(rc == 0 and again and again.group(1) == "0", "a: criu dedup again: 0 pages punched (%s)"
       % (again.group(0) if again else "no count in the log"))
    rc = criu("restore", "-D", dirs[1], "-o", "rlog", "-d")
    log = read(os.path.join(dirs[1], "rlog"))
    ok(rc != 0 and "dedup-punched.img" in log and not alive(pid), "a: a parent restored by itself is refused, naming why")
    ok(criu("restore", "-D", dirs[2], "-o", "rlog", "-d") == 0, "a: restore through the deduped chain (levels checked)")
    res = verify(pid, result)
    ok(res == "OK", "a: the restored task found every word right (%s)" % res)

    # B: dump --auto-dedup, restore --auto-dedup
    pid, result, dirs, before, log = chain(work, exe, "b", ["--auto-dedup"], ["--auto-dedup"])
    check_shrink("b", dirs, before, log)
    ok(criu("restore", "-D", dirs[2], "-o", "rlog", "-d", "--auto-dedup") == 0, "b: restore --auto-dedup")
    res = verify(pid, result)
    ok(res == "OK", "b: the task restored with --auto-dedup found every word right (%s)" % res)
    left = blocks(dirs)
    print("# b: pages images of the chain after restore --auto-dedup: %d KiB allocated" % (left // 1024))
    ok(left <= 64 * 1024, "b: restore --auto-dedup punched the chain's pages images (%d KiB left allocated)" % (left // 1024))
    rc = criu("restore", "-D", dirs[2], "-o", "rlog2", "-d")
    ok(rc != 0 and not alive(pid), "b: a second restore of the consumed images is refused")

    # D: the dump through RPC with criu_opts.auto_dedup (runc, go-criu)
    pid, result, dirs, before, log = chain(work, exe, "d", [], rpc=True)
    check_shrink("d", dirs, before, log)
    ok(criu("restore", "-D", dirs[2], "-o", "rlog", "-d") == 0, "d: restore through the chain deduped over RPC")
    res = verify(pid, result)
    ok(res == "OK", "d: the restored task found every word right (%s)" % res)

    # C: a parent changed before the dedup stays refused after it (its manifest is updated, not rewritten)
    pid, result, dirs, _, _ = chain(work, exe, "c", [])
    pages = sorted(pages_files(dirs[0]))[0]
    with open(pages, "r+b") as f:
        f.seek(4096 * 7 + 100)
        b = f.read(1)
        f.seek(4096 * 7 + 100)
        f.write(bytes([b[0] ^ 0xff]))
    ok(criu("dedup", "-D", dirs[2], "-o", "dedup.log", "-v4") == 0, "c: criu dedup with a byte of c0's pages changed")
    rc = criu("restore", "-D", dirs[2], "-o", "rlog", "-d")
    log = read(os.path.join(dirs[2], "rlog"))
    ok(rc != 0 and "level 2" in log and "manifest" in log and not alive(pid),
       "c: the restore still fails at c0's manifest check (the dedup did not hide the change)")
    reap()

    # E: restore --auto-dedup leaves a dir another criu holds (and the levels above it) whole
    pid, result, dirs, _, _ = chain(work, exe, "e", [])
    before = blocks(dirs[:2])
    held = os.open(dirs[1], os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(held, fcntl.LOCK_EX)    # another criu in the middle level
    rc = criu("restore", "-D", dirs[2], "-o", "rlog", "-v4", "-d", "--auto-dedup")
    os.close(held)
    res = verify(pid, result)
    log = read(os.path.join(dirs[2], "rlog"))
    ok(rc == 0 and res == "OK", "e: restore --auto-dedup with a parent dir held: the tree is restored (rc %d, %s)" % (rc, res))
    ok("in use by another criu" in log and blocks(dirs[:2]) == before
       and not os.path.exists(os.path.join(dirs[1], "dedup-punched.img")),
       "e: the held dir and the one above it are left whole and unmarked, with a warning")
    ok(os.path.exists(os.path.join(dirs[2], "dedup-punched.img")), "e: the restored dir itself is consumed and marked")
    reap()

    if all(results):
        shutil.rmtree(work)
    else:
        print("# images and logs kept in %s" % work)
    return finish()


if __name__ == "__main__":
    sys.exit(main())

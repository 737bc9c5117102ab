#!/usr/bin/python3
"""
Time until a lazily restored task runs, against a full restore, same run.

bench/memhog SIZE (every word of SIZE MiB written, no two pages alike) is
dumped once into a tmpfs dir; then, RUNS times each, alternating:

  full   `criu restore -D DIR -d`
  lazy   `criu lazy-pages -D DIR -d` started first (not timed), then
         `criu restore -D DIR -d --lazy-pages`

each also with --skip-image-check (the manifest check reads every image,
pages too: restore.md), and

  page server  a lazy migration over loopback (bench/lazyremote.py): a fresh
         memhog in its own pid namespace is dumped with --lazy-pages (the
         pages stay in it, served by the dump), the images copied, `criu
         lazy-pages --page-server -d` started (not timed), then
         `criu restore -D DIR -d --lazy-pages`.

The figure is the wall time of the restore command:
criu lets the tree run and then exits, so the task runs by then. After each
restore the task checks every word (SIGUSR1) and must say "verify ok"; for
a lazy restore the daemon's "all pages in, N ms after the tree ran" is kept
too. Usage: bench/lazy.py [SIZE_MIB] [RUNS] (from the top of the tree,
after `make -C bench`).
"""
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

CRIU = os.path.abspath("criu/criu")
MEMHOG = os.path.abspath("bench/memhog")


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_gone(pid, secs=60):
    end = time.time() + secs
    while alive(pid) and time.time() < end:
        try:
            os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.01)
    while True:	# reap it (a zombie keeps its pid, which the next restore needs)
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                break
        except ChildProcessError:
            break


def criu(*args):
    t0 = time.monotonic()
    r = subprocess.run([CRIU] + list(args), capture_output=True, text=True)
    ms = (time.monotonic() - t0) * 1000
    if r.returncode:
        sys.exit("criu %s failed: %s" % (args[0], r.stderr))
    return ms


def verify(pid, report):
    os.kill(pid, signal.SIGUSR1)
    wait_gone(pid)
    with open(report) as f:
        last = f.read().strip().splitlines()[-1]
    if not last.startswith("verify ok"):
        sys.exit("the restored task says: %s" % last)


def one(kind, d, pid, report, extra):
    args = ["restore", "-D", d, "-d", "-o", "restore.log", "-v4"] + extra
    bg = None
    if kind == "lazy":
        criu("lazy-pages", "-D", d, "-d", "--pidfile", os.path.join(d, "lazy.pid"), "-o", "lazy.log", "-v4")
        args.append("--lazy-pages")
        with open(os.path.join(d, "lazy.pid")) as f:
            lpid = int(f.read())
    ms = criu(*args)
    verify(pid, report)
    if kind == "lazy":
        wait_gone(lpid)
        with open(os.path.join(d, "lazy.log")) as f:
            m = re.search(r"all pages in, (\d+) ms after the tree ran", f.read())
        bg = int(m.group(1)) if m else None
    return ms, bg


def main():
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    os.sched_setaffinity(0, os.sched_getaffinity(0))
    import ctypes
    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)	# PR_SET_CHILD_SUBREAPER: the restored tasks and the daemon come back here
    work = tempfile.mkdtemp(prefix="criu-bench-lazy.", dir="/dev/shm")
    d = os.path.join(work, "imgs")
    os.makedirs(d)
    report = os.path.join(work, "report")
    pid = subprocess.Popen([MEMHOG, str(size), report], start_new_session=True).pid
    while not os.path.exists(report) or "ready" not in open(report).read():
        time.sleep(0.05)
    criu("dump", "-t", str(pid), "-D", d, "-o", "dump.log")
    wait_gone(pid)
    res = {}
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import lazyremote
    for _ in range(runs):
        for kind in ("full", "lazy"):
            for extra in ([], ["--skip-image-check"]):
                ms, bg = one(kind, d, pid, report, extra)
                res.setdefault((kind, bool(extra)), []).append((ms, bg))
        r = lazyremote.migrate(size, work, [])
        res.setdefault(("page server", False), []).append((r["restore"], r["all_in"]))
    print("| %d MiB, tmpfs, %d runs | restore (median, min-max) | lazy/full | all pages in after the tree ran |" %
          (size, runs))
    print("|---|---|---|---|")
    for chk in (False, True):
        full = [m for m, _ in res[("full", chk)]]
        for kind in ("full", "lazy", "page server"):
            if (kind, chk) not in res:
                continue
            ms = [m for m, _ in res[(kind, chk)]]
            bgs = [b for _, b in res[(kind, chk)] if b is not None]
            ratio = statistics.median(ms[i] / full[i] for i in range(runs))
            print("| %s%s | %.0f ms (%.0f-%.0f) | %s | %s |" %
                  (kind, " --skip-image-check" if chk else "", statistics.median(ms), min(ms), max(ms),
                   "%.3f" % ratio if kind != "full" else "", "%d ms" % statistics.median(bgs) if bgs else ""))
    shutil.rmtree(work)


if __name__ == "__main__":
    main()

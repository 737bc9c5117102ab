#!/usr/bin/python3
"""
Lazy restore from local images (criu lazy-pages + restore --lazy-pages).

For each case a task (lazy_task.c) fills 256 MiB of private memory with a
known pattern, rewriting a chunk every 10 ms, and is dumped; `criu lazy-pages
-d` is started on the images and `criu restore --lazy-pages -d` restores it.
Right after the restore the task is sent SIGUSR1: it counts its resident
pages with mincore() before touching anything and then reports progress.
It must have run with part of its memory still out (and the daemon still
there), the daemon must exit once every page is in, and the task must find
every word right at the end (SIGUSR2).

  plain   nothing more;
  fork    the task forks in the lazy phase and the child checks
          its own copy (UFFD_EVENT_FORK);
  events  madvise(MADV_DONTNEED), munmap and mremap of parts in the
          lazy phase (UFFD_EVENT_REMOVE, UNMAP, REMAP): the DONTNEED part
          must read zeroes, the moved part its data at its new place;
  rpc     restored through RPC (RESTORE with criu_opts.lazy_pages);
  chain   pre-dumped, then dumped with --prev-images-dir: most pages come
          from the parent images (the restore hands over the memfd it
          gathered them into).

And: a daemon stopped (SIGTERM) with pages still to come kills the task;
restore --lazy-pages with no daemon fails, saying so, with no process left.
And: criu lazy-pages, not detached, writes '\\0' to --status-fd once it
listens (as CRIU's: upstream's zdtm.py waits for it before the restore).
Prints TAP; exit 77 when criu is missing.
"""
import ctypes
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import spawn_detached  # noqa: E402  the scripts' shared helpers

CRIU = os.path.abspath(os.environ.get("CRIU_BIN", "criu/criu"))
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.abspath("build/py"))
results = []


def ok(cond, what):
    results.append(bool(cond))
    print("%sok %d - %s" % ("" if cond else "not ", len(results), what), flush=True)


def criu(*args):
    try:
        r = subprocess.run([CRIU] + list(args), capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        print("# criu %s: killed after 60 s" % args[0])
        return -1
    if r.returncode:
        print("# criu %s: exit %d: %s" % (" ".join(args[:1]), r.returncode, r.stderr.strip()[-300:]))
    return r.returncode


reaped = {}	# pid: exit code, of the children reap() collected (orphans we took as a subreaper too)


def reap():
    for _ in range(200):
        try:
            p, st = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if p == 0:
            return
        reaped[p] = os.waitstatus_to_exitcode(st)


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_for(cond, secs):
    end = time.time() + secs
    while time.time() < end:
        reap()
        if cond():
            return True
        time.sleep(0.005)
    return cond()


def read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except FileNotFoundError:
        return ""


def start_task(exe, d, mib, mode):
    pid = spawn_detached([exe, d, str(mib), mode])
    wait_for(lambda: read(os.path.join(d, "ready")), 10)
    return pid


def kill(pid):
    if pid and alive(pid):
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not alive(pid), 5)


def tail(path, n=15):
    for line in read(path).splitlines()[-n:]:
        print("#   " + line)


def one_case(work, exe, mode, mib):
    d = os.path.join(work, mode)
    imgs = os.path.join(d, "imgs")
    os.makedirs(imgs)
    pid = start_task(exe, d, mib, mode)
    time.sleep(0.1)
    chain = []
    if mode == "chain":
        ok(criu("pre-dump", "-t", str(pid), "-D", os.path.join(d, "pre"), "-o", "dump.log", "--track-mem") == 0,
           "chain: pre-dump")
        time.sleep(0.2)
        chain = ["--track-mem", "--prev-images-dir", "../pre"]
    ok(criu("dump", "-t", str(pid), "-D", imgs, "-o", "dump.log", "-v4", *chain) == 0,
       "%s: dump of %d MiB" % (mode, mib))
    if chain:
        own = sum(os.path.getsize(os.path.join(imgs, f)) for f in os.listdir(imgs) if f.startswith("pages-"))
        ok(own * 4 < mib << 20, "chain: the dump wrote %d KiB of pages, the rest is in the parent" % (own >> 10))
    wait_for(lambda: not alive(pid), 5)
    lpid_file = os.path.join(d, "lazy.pid")
    ok(criu("lazy-pages", "-D", imgs, "-d", "--pidfile", lpid_file, "-o", "lazy.log", "-v4") == 0,
       "%s: criu lazy-pages -d" % mode)
    lpid = int(read(lpid_file) or 0)
    t0 = time.time()
    if mode == "rpc":
        rc = rpc_restore(imgs)
    else:
        rc = criu("restore", "-D", imgs, "--lazy-pages", "-d", "-o", "restore.log", "-v4")
    t1 = time.time()
    os.kill(pid, signal.SIGUSR1) if alive(pid) else None
    daemon_busy = lpid and alive(lpid)
    ok(rc == 0 and alive(pid), "%s: restore --lazy-pages (%.0f ms)" % (mode, (t1 - t0) * 1000))
    if rc:
        tail(os.path.join(imgs, "restore.log"))
    ok(daemon_busy, "%s: the daemon still had pages to copy when the task was signalled" % mode)
    wait_for(lambda: read(os.path.join(d, "report")), 10)
    rep = read(os.path.join(d, "report")).split()
    got = len(rep) == 4 and int(rep[1]) < int(rep[3])
    ok(got, "%s: the task ran with part of its memory out: %s" % (mode, " ".join(rep) or "no report"))
    ok(wait_for(lambda: read(os.path.join(d, "progress")) not in ("", "running 1"), 10),
       "%s: the task makes progress in the lazy phase (%s)" % (mode, read(os.path.join(d, "progress"))))
    done = wait_for(lambda: not alive(lpid), 20)
    log = read(os.path.join(imgs, "lazy.log"))
    stats = [l for l in log.splitlines() if "all pages in" in l]
    ok(done and stats, "%s: the daemon exits once every page is in: %s" %
       (mode, stats[0].split("lazy-pages: ")[-1] if stats else "no"))
    if not stats:
        tail(os.path.join(imgs, "lazy.log"))
    if mode == "fork":
        ok(any("forked with" in l for l in log.splitlines()), "fork: the daemon served the child (UFFD_EVENT_FORK)")
    if mode == "events":
        ok(" 0 mremaps" not in log and " 0 removes" not in log and " 0 unmaps" not in log,
           "events: the daemon saw the remove, unmap and remap events")
    if alive(pid):
        os.kill(pid, signal.SIGUSR2)
    wait_for(lambda: not alive(pid), 20)
    res = read(os.path.join(d, "result")) or "no result"
    ok(res == "OK", "%s: the restored task found every word right (%s)" % (mode, res))
    kill(pid)
    kill(lpid)


def dumped_plain(work, exe, sub, mib, label):
    """A plain task of mib MiB in work/sub, dumped (killed) into work/sub/imgs: (dir, images dir, its pid)."""
    d = os.path.join(work, sub)
    imgs = os.path.join(d, "imgs")
    os.makedirs(imgs)
    pid = start_task(exe, d, mib, "plain")
    ok(criu("dump", "-t", str(pid), "-D", imgs, "-o", "dump.log") == 0, "%s: dump" % label)
    wait_for(lambda: not alive(pid), 5)
    return d, imgs, pid


def stopped(work, exe):
    """The daemon stopped (SIGTERM) with pages still to come: it kills the task, which must not read zeroes."""
    d, imgs, pid = dumped_plain(work, exe, "stop", 256, "stop")
    lpid_file = os.path.join(d, "lazy.pid")
    criu("lazy-pages", "-D", imgs, "-d", "--pidfile", lpid_file, "-o", "lazy.log", "-v4")
    lpid = int(read(lpid_file) or 0)
    rc = criu("restore", "-D", imgs, "--lazy-pages", "-d", "-o", "restore.log")
    if lpid:
        os.kill(lpid, signal.SIGSTOP)	# the background copy can't finish before the SIGTERM
        os.kill(lpid, signal.SIGTERM)
        os.kill(lpid, signal.SIGCONT)
    gone = wait_for(lambda: not alive(lpid) and not alive(pid), 10)
    log = read(os.path.join(imgs, "lazy.log"))
    ok(rc == 0 and gone and "killing it" in log and "all pages in" not in log,
       "stop: the daemon stopped with pages to come kills the task (daemon %s, task %s)" %
       ("gone" if not alive(lpid) else "alive", "gone" if not alive(pid) else "alive"))
    kill(pid)
    kill(lpid)


def rpc_restore(imgs):
    """RESTORE through RPC (pycriu, criu swrk) with criu_opts.lazy_pages; 0 when it worked."""
    import pycriu.criu
    c = pycriu.criu.criu()
    c.use_binary(CRIU)
    dfd = os.open(imgs, os.O_RDONLY | os.O_DIRECTORY)
    c.opts.images_dir_fd = dfd
    c.opts.log_file = "restore.log"
    c.opts.log_level = 4
    c.opts.lazy_pages = True
    try:
        c.restore()
        return 0
    except Exception as e:
        print("# RPC restore: %s" % e)
        return 1
    finally:
        os.close(dfd)


def no_daemon(work, exe):
    _, imgs, pid = dumped_plain(work, exe, "nodaemon", 4, "no daemon")
    rc = criu("restore", "-D", imgs, "--lazy-pages", "-d", "-o", "restore.log")
    log = read(os.path.join(imgs, "restore.log"))
    ok(rc != 0 and "no `criu lazy-pages` listens" in log and not alive(pid),
       "no daemon: restore --lazy-pages fails naming the missing daemon, no process left")
    kill(pid)


def status_fd(work, exe):
    """criu lazy-pages --status-fd, not detached (as upstream's zdtm.py runs it): '\\0' once it listens."""
    d, imgs, pid = dumped_plain(work, exe, "status", 4, "status")
    r, w = os.pipe()
    lp = subprocess.Popen([CRIU, "lazy-pages", "-D", imgs, "--status-fd", str(w), "-o", "lazy.log", "-v4"],
                          pass_fds=[w], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    ready, _, _ = select.select([r], [], [], 10)
    byte = os.read(r, 1) if ready else None
    os.close(r)
    ok(byte == b"\0", "status: criu lazy-pages writes '\\0' to --status-fd (got %r in 10 s)" % byte)
    rc = criu("restore", "-D", imgs, "--lazy-pages", "-d", "-o", "restore.log") if byte else -1
    try:
        lp.wait(timeout=20)
    except subprocess.TimeoutExpired:
        lp.kill()
        lp.wait()
    ok(rc == 0 and lp.returncode == 0, "status: restored, the daemon exits 0 (%r)" % lp.returncode)
    if alive(pid):
        os.kill(pid, signal.SIGUSR2)
    wait_for(lambda: not alive(pid), 20)
    res = read(os.path.join(d, "result")) or "no result"
    ok(res == "OK", "status: the restored task found every word right (%s)" % res)
    kill(pid)


def cleanup(work):
    """Whatever a failed case left: processes running from the work dir (the task, criu, the daemon)."""
    for p in os.listdir("/proc"):
        if not p.isdigit() or int(p) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % p, "rb") as f:
                cmd = f.read().decode(errors="replace")
        except OSError:
            continue
        if work in cmd:
            kill(int(p))
    reap()


def main():
    if not os.access(CRIU, os.X_OK):
        print("# SKIP: criu/criu is not built")
        return 77
    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)	# PR_SET_CHILD_SUBREAPER: the daemon and the restored tasks come back to us
    work = tempfile.mkdtemp(prefix="criu-lazy-h3.")
    exe = os.path.join(work, "task")
    subprocess.run(["gcc", "-O2", "-pthread", "-o", exe, os.path.join(HERE, "lazy_task.c")], check=True)
    cases = sys.argv[1:] or ["plain", "fork", "events", "rpc", "chain", "stop", "nodaemon", "status"]
    for c in cases:
        try:
            if c == "nodaemon":
                no_daemon(work, exe)
            elif c == "stop":
                stopped(work, exe)
            elif c == "status":
                status_fd(work, exe)
            else:
                one_case(work, exe, c, 256)
        except Exception as e:
            ok(False, "%s: %s" % (c, e))
        cleanup(work)
    print("1..%d" % len(results))
    if all(results):
        shutil.rmtree(work, ignore_errors=True)
    else:
        print("# kept %s" % work)
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())

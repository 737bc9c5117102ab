#!/usr/bin/python3
"""
The freeze timeout, on the command line (--timeout) and through RPC
(criu_opts.timeout, as CRIU's zdtm.py --rpc sends it on every dump): it bounds
the whole seize of the tree. A task in a vfork wait does not stop while its
child lives (8 s here); a dump with a timeout of 1 s must fail within a few
seconds (not after the 10 s a thread may take by default), saying it is the
timeout, and leave the tree running (the parent goes on once its child is
gone). A dump of a plain task with a timeout set must work, and one with
mntns_compat_mode (a no-op, as --mntns-compat-mode). A --timeout whose
milliseconds do not fit 32 bits waits out a 3 s vfork wait.
Prints TAP; exit 77 when criu is missing.
"""
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

CRIU = os.path.abspath(os.environ.get("CRIU_BIN", "criu/criu"))
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.abspath("build/py"))
CHILD_SLEEP = 8
from tap import finish, ok, results, spawn_detached  # noqa: E402,F401  TAP lines, shared by the scripts


def start(argv):
    pid = spawn_detached(argv)
    time.sleep(0.5)
    return pid


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def kill_reap(pid):
    if alive(pid):
        os.kill(pid, signal.SIGKILL)
    for _ in range(500):
        try:
            p, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if p == 0:
            time.sleep(0.01)


def wait_file(path, secs):
    end = time.time() + secs
    while time.time() < end:
        if os.path.exists(path) and open(path).read() == "done":
            return True
        time.sleep(0.1)
    return False


def rpc_dump(pid, d, timeout, leave_running=False, **extra):
    """A dump through RPC (pycriu, criu swrk) with criu_opts.timeout; (ok, error text)."""
    import pycriu.criu
    c = pycriu.criu.criu()
    c.use_binary(CRIU)
    os.makedirs(d, exist_ok=True)
    dfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    c.opts.images_dir_fd = dfd
    c.opts.pid = pid
    c.opts.log_file = "log"
    c.opts.log_level = 4
    c.opts.timeout = timeout
    c.opts.leave_running = leave_running
    for k, v in extra.items():
        setattr(c.opts, k, v)
    try:
        c.dump()
        return True, ""
    except Exception as e:
        return False, str(e)
    finally:
        os.close(dfd)


def log_of(d):
    p = os.path.join(d, "log")
    return open(p).read() if os.path.exists(p) else ""


def vfork_case(work, exe, how):
    done = os.path.join(work, how + "-done")
    d = os.path.join(work, how)
    pid = start([exe, done, str(CHILD_SLEEP)])
    t0 = time.time()
    if how == "rpc":
        res, _ = rpc_dump(pid, d, 1)
    else:
        os.makedirs(d)
        res = subprocess.run([CRIU, "dump", "-t", str(pid), "-D", d, "-o", "log", "-v4", "--timeout", "1"],
                             capture_output=True).returncode == 0
    took = time.time() - t0
    log = log_of(d)
    ok(not res and took < 5, "%s: a dump with timeout 1 s of a task in a vfork wait fails after %.1f s" %
       (how, took))
    ok("--timeout" in log and ("within 1 s" in log or "--timeout is 1 s" in log),
       "%s: the log says it is the 1 s timeout" % how)
    ok(alive(pid), "%s: the task is left alive" % how)
    ok(wait_file(done, CHILD_SLEEP + 5), "%s: and running: it goes on once its vfork child is gone" % how)
    kill_reap(pid)


def long_timeout_case(work, exe):
    """--timeout of 4294968 s: its milliseconds do not fit 32 bits; they must not wrap to a short wait (704 ms)."""
    done = os.path.join(work, "long-done")
    d = os.path.join(work, "long")
    os.makedirs(d)
    pid = start([exe, done, "3"])
    t0 = time.time()
    res = subprocess.run([CRIU, "dump", "-t", str(pid), "-D", d, "-o", "log", "-v4", "--timeout", "4294968",
                          "--leave-running"], capture_output=True).returncode == 0
    took = time.time() - t0
    log = log_of(d)
    ok(res and took >= 2, "--timeout 4294968: the dump waits for the vfork wait to end (%.1f s) and works%s" %
       (took, "" if res else ": " + "".join(l for l in log.splitlines(True) if "Error" in l)[:300]))
    kill_reap(pid)


def main():
    if not os.access(CRIU, os.X_OK):
        print("# SKIP: criu/criu is not built")
        return 77
    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)	# PR_SET_CHILD_SUBREAPER: the vfork child comes back to us
    work = tempfile.mkdtemp(prefix="criu-rpc-timeout.")
    exe = os.path.join(work, "vfork_task")
    subprocess.run(["gcc", "-O2", "-o", exe, os.path.join(HERE, "vfork_task.c")], check=True)

    vfork_case(work, exe, "rpc")
    vfork_case(work, exe, "cli")
    long_timeout_case(work, exe)

    pid = start(["/bin/sleep", "1000"])
    res, err = rpc_dump(pid, os.path.join(work, "plain"), 30, leave_running=True)
    ok(res, "RPC dump of a plain task with timeout 30 works %s" % err)
    ok(alive(pid), "and leaves it running (leave_running)")
    # CRIU's zdtm.py --rpc --mntns-compat-mode: criu has one mount engine, accepted as on the command line
    res, err = rpc_dump(pid, os.path.join(work, "compat"), 30, leave_running=True, mntns_compat_mode=True)
    ok(res, "RPC dump with mntns_compat_mode works %s" % err)
    kill_reap(pid)

    if all(results):
        shutil.rmtree(work)
    else:
        print("# images and logs kept in %s" % work)
    return finish()


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""
Restore policies and restore failures, end to end, with real processes.

Runs as pid 1 of a fresh pid namespace (see restore-policy.sh), reaping every
orphan at once. A holder process keeps a pidfd of an outside process O; it is
dumped and restored under several conditions:

  1. O gone, --pidfd-external=strict: restore fails (exit 1), no process left.
  2. O gone, default policy: the pidfd is restored as a pidfd of an exited
     process (fdinfo Pid: -1), the log says so.
  3. O gone, --pidfd-map O:N: the pidfd refers to the live process N.
  4. The holder's pid is taken: restore fails with an error naming the pid,
     and no new process is left behind.
  5. A truncated core image: restore fails with an error naming the file,
     nothing is started.
Prints TAP.
"""
import ctypes
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import ok, finish, reap, all_pids, wait_gone, kill  # noqa: E402

CRIU = os.path.abspath("criu/criu")
PY = "/usr/bin/python3"
HOLDER = r"""
import os, sys, time
fd = os.pidfd_open(int(sys.argv[1]))
os.dup2(fd, 42)
os.close(fd)
open(sys.argv[2], "w").write("ready")
while True:
    time.sleep(100)
"""


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def start_outside():
    p = subprocess.Popen(["sleep", "120"], start_new_session=True)
    return p.pid


def start_holder(target, work):
    ready = os.path.join(work, "ready")
    if os.path.exists(ready):
        os.unlink(ready)
    p = subprocess.Popen([PY, "-S", "-c", HOLDER, str(target), ready], start_new_session=True,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(500):
        if os.path.exists(ready):
            return p.pid
        time.sleep(0.01)
    raise RuntimeError("holder did not start")


def criu(*args):
    r = subprocess.run([CRIU] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    reap()
    return r.returncode, r.stdout


def fdinfo_pid(pid, fd):
    with open("/proc/%d/fdinfo/%d" % (pid, fd)) as f:
        m = re.search(r"^Pid:\s*(-?\d+)", f.read(), re.M)
    return int(m.group(1)) if m else None


def dump(holder, d, *extra):
    rc, out = criu("dump", "-t", str(holder), "-D", d, "-o", "dump.log", "-v4", *extra)
    return rc


def main():
    work = tempfile.mkdtemp(prefix="criu-policy.")
    base = set(all_pids())

    # 0. a failed dump (injected at each step) leaves the holder as it was
    o = start_outside()
    h = start_holder(o, work)
    for step in ("dump-task", "before-inventory"):
        d = os.path.join(work, "fail-" + step)
        maps = open("/proc/%d/maps" % h).read()
        env = dict(os.environ, CRIU_FAULT=step)
        r = subprocess.run([CRIU, "dump", "-t", str(h), "-D", d, "-o", "dump.log", "-v4"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        ok(r.returncode == 1, "dump with a failure injected at %s fails (rc %d)" % (step, r.returncode))
        ok(not os.path.exists(os.path.join(d, "inventory.img")), "and leaves no inventory.img")
        state = open("/proc/%d/stat" % h).read().rsplit(")", 1)[1].split()[0] if alive(h) else "gone"
        ok(alive(h) and state in ("S", "R") and fdinfo_pid(h, 42) == o and
           open("/proc/%d/maps" % h).read() == maps and "TracerPid:\t0\n" in open("/proc/%d/status" % h).read(),
           "the holder runs on, untraced, with its pidfd and its mappings (state %s)" % state)

    # 0b. --leave-running
    d = os.path.join(work, "img-lr")
    ok(dump(h, d, "--leave-running") == 0, "dump --leave-running succeeds")
    ok(alive(h) and fdinfo_pid(h, 42) == o, "the holder runs on with its pidfd")
    kill(h)

    # 1. strict
    h = start_holder(o, work)
    d = os.path.join(work, "img1")
    ok(dump(h, d) == 0, "dump of a holder of an outside pidfd")
    ok(wait_gone(h), "the dumped holder is gone")
    kill(o)
    before = set(all_pids())
    rc, out = criu("restore", "-d", "-D", d, "-o", "strict.log", "-v4", "--pidfd-external=strict")
    ok(rc == 1, "--pidfd-external=strict: restore fails when the outside process is gone (rc %d)" % rc)
    log = open(os.path.join(d, "strict.log")).read()
    ok("pidfd-external=strict" in log, "the log names the policy")
    time.sleep(0.1)
    reap()
    ok(set(all_pids()) == before and not alive(h), "a failed restore leaves no process behind")

    # 2. default: a dead pidfd
    rc, out = criu("restore", "-d", "-D", d, "-o", "dead.log", "-v4")
    ok(rc == 0, "default policy: restore succeeds (rc %d)" % rc)
    ok(alive(h) and fdinfo_pid(h, 42) == -1, "the pidfd is a pidfd of an exited process (Pid: -1)")
    log = open(os.path.join(d, "dead.log")).read()
    ok("is gone" in log, "the log says the outside process is gone")
    kill(h)

    # 3. --pidfd-map
    n = start_outside()
    rc, out = criu("restore", "-d", "-D", d, "-o", "map.log", "-v4", "--pidfd-map", "%d:%d" % (o, n))
    ok(rc == 0, "--pidfd-map: restore succeeds (rc %d)" % rc)
    ok(alive(h) and fdinfo_pid(h, 42) == n, "the pidfd refers to the mapped process %d" % n)

    # 4. the pid is taken (the holder from step 3 still runs)
    before = set(all_pids())
    rc, out = criu("restore", "-d", "-D", d, "-o", "taken.log", "-v4")
    log = open(os.path.join(d, "taken.log")).read()
    ok(rc == 1 and ("pid %d" % h) in log, "restore fails naming the taken pid %d (rc %d)" % (h, rc))
    time.sleep(0.1)
    reap()
    ok(set(all_pids()) == before, "and leaves no process behind")
    kill(h)
    kill(n)

    # 5. a truncated image
    core = os.path.join(d, "core-%d.img" % h)
    with open(core, "r+b") as f:
        f.truncate(max(8, os.path.getsize(core) - 7))
    before = set(all_pids())
    rc, out = criu("restore", "-d", "-D", d, "-o", "trunc.log", "-v4")
    log = open(os.path.join(d, "trunc.log")).read()
    ok(rc == 1 and ("core-%d.img" % h) in log, "a truncated core image: restore fails naming it (rc %d)" % rc)
    reap()
    ok(set(all_pids()) == before, "nothing was started")

    for p in set(all_pids()) - base:
        if p != os.getpid():
            kill(p)
    return finish()


if __name__ == "__main__":
    if os.getpid() != 1:
        print("# must run as pid 1 of a new pid namespace (restore-policy.sh)")
        sys.exit(2)
    sys.exit(main())

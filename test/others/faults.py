#!/usr/bin/python3
"""
A fault injected at every step of dump and of restore (CRIU_FAULT=N).

Runs as pid 1 of a fresh pid namespace (faults.sh). The tree: a root holding
4 MiB of random memory, a pipe with data, an eventfd with a count and a pidfd
of its child; the child sleeps. Both have a timer slack of their own (the
root 90001 ns, default 50000; the child 123457, default 70001: the root's
when it forked).

A clean dump with --leave-running tells how many steps there are (its log
has one "fault step N: NAME" line per step). Then for every N:
  dump with CRIU_FAULT=N fails (exit 1), leaves no inventory.img, and every
  task of the tree runs on (not stopped, not traced) with the same memory
  (a hash of the buffer and of every executable mapping, where remote
  syscalls put their code), the same fds, eventfd count, pipe fill and pidfd
  target, the same timer slacks and defaults (the dump sets the slack to 0
  and back to read the default).
Then the tree is dumped for real, and for every restore step N:
  restore with CRIU_FAULT=N fails (exit 1), no process is left and no pid
  of the tree is taken, and the images dir holds what it held plus the log.
Last, a restore without a fault succeeds and gives the same state back.

FAULTS_STEPS=N limits each loop to its first N steps. Prints TAP.
"""
import fcntl
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import termios
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CRIU = os.environ.get("CRIU_BIN", os.path.join(TOP, "criu", "criu"))
PY = "/usr/bin/python3"
TREE = r"""
import ctypes, os, sys, time
prctl = ctypes.CDLL(None).prctl
prctl(29, 70001, 0, 0, 0)	# PR_SET_TIMERSLACK: the child's default
child = os.fork()
if child == 0:
    prctl(29, 123457, 0, 0, 0)	# its own slack, not its default
    while True:
        time.sleep(100)
prctl(29, 90001, 0, 0, 0)	# the root's own, its default is the runner's
buf = (ctypes.c_char * (4 << 20))()
ctypes.memmove(buf, os.urandom(4 << 20), 4 << 20)
r, w = os.pipe()
os.write(w, b"x" * 3000)
e = os.eventfd(5)
p = os.pidfd_open(child)
for fd, to in ((r, 20), (w, 21), (e, 22), (p, 23)):
    os.dup2(fd, to)
    os.close(fd)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d %d %d" % (ctypes.addressof(buf), len(buf), child))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    time.sleep(100)
"""

from tap import finish, ok, results  # noqa: E402,F401  TAP lines, shared by the scripts


def reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG | 0x40000000)	# __WALL: stubs' exit signal may not be SIGCHLD
        except ChildProcessError:
            return
        if pid == 0:
            return


def state_of(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def all_pids():
    """The pids that are not dead: a zombie not reaped yet is not counted."""
    reap()
    pids = set(int(p) for p in os.listdir("/proc") if p.isdigit())
    return set(p for p in pids if state_of(p) not in ("Z", "X", "gone"))


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


def start_tree(work):
    ready = os.path.join(work, "ready")
    if os.path.exists(ready):
        os.unlink(ready)
    p = subprocess.Popen([PY, "-S", "-c", TREE, ready], start_new_session=True, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(1000):
        if os.path.exists(ready):
            addr, size, child = (int(x) for x in open(ready).read().split())
            return p.pid, child, addr, size
        time.sleep(0.01)
    raise RuntimeError("the tree did not start")


def read_mem(pid, addr, size):
    with open("/proc/%d/mem" % pid, "rb") as f:
        f.seek(addr)
        return f.read(size)


def code_hash(pid, skip_tail=0):
    """Hash of every executable mapping's content: remote syscalls put their code in one.
    skip_tail: leave out the last bytes of each mapping (past an ELF segment's code, where
    criu's remote-syscall code goes and stays if criu is killed: criu/rsys-code.c)."""
    h = hashlib.sha1()
    with open("/proc/%d/maps" % pid) as f:
        maps = f.read().splitlines()
    for line in maps:
        fields = line.split()
        if "x" not in fields[1] or fields[-1] in ("[vsyscall]",):
            continue
        start, end = (int(x, 16) for x in fields[0].split("-"))
        h.update(fields[0].encode())
        try:
            h.update(read_mem(pid, start, end - start - skip_tail))
        except OSError:
            h.update(b"unreadable")
    return h.hexdigest()


def fd_table(pid):
    d = "/proc/%d/fd" % pid
    out = []
    for fd in sorted(os.listdir(d), key=int):
        try:
            out.append((int(fd), os.readlink(os.path.join(d, fd))))
        except OSError:
            pass
    return out


def fdinfo(pid, fd, key):
    with open("/proc/%d/fdinfo/%d" % (pid, fd)) as f:
        m = re.search(r"^%s:\s*(\S+)" % key, f.read(), re.M)
    return m.group(1) if m else None


def pipe_fill(pid, fd):
    f = os.open("/proc/%d/fd/%d" % (pid, fd), os.O_RDONLY | os.O_NONBLOCK)
    try:
        n = bytearray(4)
        fcntl.ioctl(f, termios.FIONREAD, n)
        return int.from_bytes(n, "little")
    finally:
        os.close(f)


def status(pid):
    with open("/proc/%d/status" % pid) as f:
        st = dict(line.split(":\t", 1) for line in f.read().splitlines() if ":\t" in line)
    return st["State"].split()[0], int(st["TracerPid"])


def set_timer_slack(pid, v):
    """pid's main thread's timer slack (0: its default), through timerslack_ns (root: CAP_SYS_NICE)."""
    fd = os.open("/proc/%d/timerslack_ns" % pid, os.O_WRONLY)
    try:
        os.write(fd, b"%d" % v)
    finally:
        os.close(fd)


def timer_slacks(pid):
    """pid's main thread's timer slack and its default, which timerslack_ns shows as the current
    one while 0 is written there; the slack is put back then."""
    path = "/proc/%d/timerslack_ns" % pid
    cur = int(open(path).read())
    set_timer_slack(pid, 0)
    default = int(open(path).read())
    set_timer_slack(pid, cur)
    return cur, default


def snapshot(root, child, addr, size, skip_tail=0):
    """Everything that must not change when a dump fails."""
    return {
        "timer slacks": [timer_slacks(root), timer_slacks(child)],
        "mem": hashlib.sha1(read_mem(root, addr, size)).hexdigest(),
        "code": code_hash(root, skip_tail),
        "child code": code_hash(child, skip_tail),
        "fds": fd_table(root),
        "eventfd": fdinfo(root, 22, "eventfd-count"),
        "pidfd": fdinfo(root, 23, "Pid"),
        "pipe": pipe_fill(root, 20),
    }


def running(pids):
    """Every pid runs: not stopped, not traced."""
    bad = []
    for p in pids:
        try:
            state, tracer = status(p)
        except OSError:
            bad.append("%d gone" % p)
            continue
        if state not in ("S", "R") or tracer:
            bad.append("%d state %s tracer %d" % (p, state, tracer))
    return bad


def criu(args, fault=None, cwd=None):
    env = dict(os.environ)
    env.pop("CRIU_FAULT", None)
    if fault is not None:
        env["CRIU_FAULT"] = str(fault)
    r = subprocess.run([CRIU] + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                       cwd=cwd)
    reap()
    return r.returncode


def steps_of(log):
    return [m.group(2) for m in re.finditer(r"fault step (\d+): (\S+)", log)]


def limit(steps):
    n = os.environ.get("FAULTS_STEPS")
    return steps[:int(n)] if n else steps


def dump_faults(work):
    root, child, addr, size = start_tree(work)
    d = os.path.join(work, "count")
    rc = criu(["dump", "-t", str(root), "-D", d, "-o", "dump.log", "-v4", "--leave-running"])
    steps = steps_of(open(os.path.join(d, "dump.log")).read())
    ok(rc == 0 and len(steps) > 10, "a clean dump --leave-running: %d fault steps (rc %d)" % (len(steps), rc))
    ref = snapshot(root, child, addr, size)
    failed = []
    for n, name in enumerate(limit(steps), 1):
        d = os.path.join(work, "dump-%d" % n)
        rc = criu(["dump", "-t", str(root), "-D", d, "-o", "dump.log", "-v4"], fault=n)
        log = open(os.path.join(d, "dump.log")).read()
        bad = running([root, child])
        now = snapshot(root, child, addr, size) if not bad else {}
        diff = [k for k in ref if now.get(k) != ref[k]]
        why = []
        if rc != 1 or "fault injected: %s (step %d)" % (name, n) not in log:
            why.append("rc %d, fault not logged" % rc)
        if os.path.exists(os.path.join(d, "inventory.img")):
            why.append("inventory.img left")
        if bad or diff:
            why.append("tree: %s %s" % (bad, diff))
        if why:
            failed.append("step %d (%s): %s" % (n, name, "; ".join(why)))
        shutil.rmtree(d, ignore_errors=True)
    ok(not failed, "dump: a fault at each of %d steps fails the dump, the tree runs on unchanged%s" %
       (len(limit(steps)), "".join("\n# " + f for f in failed)))
    return root, child, addr, size, ref


def restore_faults(work, root, child, addr, size, ref):
    d = os.path.join(work, "img")
    rc = criu(["dump", "-t", str(root), "-D", d, "-o", "dump.log", "-v4"])
    ok(rc == 0, "the tree is dumped (rc %d)" % rc)
    kill(root)
    kill(child)
    os.unlink(os.path.join(d, "dump.log"))
    files = sorted(os.listdir(d))
    rc = criu(["restore", "-d", "-D", d, "-o", "count.log", "-v4", "--pidfile", "count.pid"])
    steps = steps_of(open(os.path.join(d, "count.log")).read())
    ok(rc == 0 and len(steps) > 10, "a clean restore: %d fault steps (rc %d)" % (len(steps), rc))
    kill(root)
    kill(child)
    # a restore that worked writes stats-restore (its statistics) too
    for f in ("count.log", "count.pid", "stats-restore"):
        os.unlink(os.path.join(d, f))
    failed = []
    for n, name in enumerate(limit(steps), 1):
        before = all_pids()
        rc = criu(["restore", "-d", "-D", d, "-o", "restore.log", "-v4", "--pidfile", "root.pid"], fault=n)
        log = open(os.path.join(d, "restore.log")).read()
        time.sleep(0.02)
        after = all_pids()
        why = []
        if rc != 1 or "fault injected: %s (step %d)" % (name, n) not in log:
            why.append("rc %d, fault not logged" % rc)
        if after - before or root in after or child in after:
            why.append("processes left: %s" % sorted(after - before))
            for p in after - before:
                kill(p)
        left = sorted(set(os.listdir(d)) - set(files) - {"restore.log"})
        if left or set(files) - set(os.listdir(d)):
            why.append("images dir changed: %s" % left)
        if why:
            failed.append("step %d (%s): %s" % (n, name, "; ".join(why)))
        os.unlink(os.path.join(d, "restore.log"))
        for f in left:
            os.unlink(os.path.join(d, f))
    ok(not failed, "restore: a fault at each of %d steps fails the restore, nothing is left%s" %
       (len(limit(steps)), "".join("\n# " + f for f in failed)))

    rc = criu(["restore", "-d", "-D", d, "-o", "restore.log", "-v4"])
    bad = running([root, child]) if rc == 0 else ["rc %d" % rc]
    now = snapshot(root, child, addr, size) if not bad else {}
    # a restored pipe or pidfd is a new inode: compare the fds without inode numbers
    for s in (ref, now):
        if "fds" in s:
            s["fds"] = [(fd, re.sub(r"\[\d+\]", "[]", link)) for fd, link in s["fds"]]
    diff = [k for k in ref if k not in ("code", "child code") and now.get(k) != ref[k]]
    ok(rc == 0 and not bad and not diff, "then a restore without a fault gives the tree back (%s %s)" % (bad, diff))
    kill(root)
    kill(child)


def main():
    work = tempfile.mkdtemp(prefix="criu-faults.")
    root, child, addr, size, ref = dump_faults(work)
    restore_faults(work, root, child, addr, size, ref)
    for p in all_pids() - {os.getpid()}:
        kill(p)
    if all(results) or not os.environ.get("KEEP"):
        shutil.rmtree(work, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    if os.getpid() != 1:
        print("# must run as pid 1 of a new pid namespace (faults.sh)")
        sys.exit(2)
    sys.exit(main())

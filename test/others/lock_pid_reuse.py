#!/usr/bin/python3
"""
A lock of /proc/locks whose owner is gone names a pid a task of the tree has
taken since: the dump must not count it as the task's.

Runs in the pid namespace it is started in: /proc/locks of the initial
one names a gone owner by its number (a nested one hides it). A child X
takes an flock() lock on a file through an fd it shares with this process,
and exits: the lock stays (this process holds the open file), and
/proc/locks still names X's pid. A sleeper S is then made with X's pid
(clone3 with set_tid). S has no fd or mapping of the file: dumping S must
work, and the lock must still be there, held by this process's file.
Prints TAP; exit 77 when criu is missing.
"""
import ctypes
import fcntl
import os
import subprocess
import sys
import tempfile
import time

CRIU = os.path.abspath(os.environ.get("CRIU_BIN", "criu/criu"))

from tap import finish, ok, results, exec_detached  # noqa: E402,F401  TAP lines, shared by the scripts


class CloneArgs(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint64) for name in ("flags", "pidfd", "child_tid", "parent_tid", "exit_signal",
                                                     "stack", "stack_size", "tls", "set_tid", "set_tid_size")]


def spawn_with_pid(pid, argv):
    """clone3(set_tid = {pid}), then exec argv in the child; the child's pid or -errno."""
    libc = ctypes.CDLL(None, use_errno=True)
    tid = (ctypes.c_int * 1)(pid)
    args = CloneArgs(exit_signal=17, set_tid=ctypes.addressof(tid), set_tid_size=1)
    r = libc.syscall(435, ctypes.byref(args), ctypes.sizeof(args))
    if r == 0:
        exec_detached(argv)
    return r if r > 0 else -ctypes.get_errno()


def main():
    if not os.access(CRIU, os.X_OK):
        print("# SKIP: criu/criu is not built")
        return 77
    work = tempfile.mkdtemp(prefix="criu-lockpid.")
    fd = os.open(os.path.join(work, "locked"), os.O_RDWR | os.O_CREAT, 0o600)
    x = os.fork()
    if x == 0:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os._exit(0)
    os.waitpid(x, 0)
    with open("/proc/locks") as f:
        named = any(len(w) > 4 and w[1] == "FLOCK" and w[4] == str(x) for w in (line.split() for line in f))
    if not named:
        print("# SKIP: /proc/locks here does not name a gone owner (not the initial pid namespace)")
        return 77
    s = spawn_with_pid(x, ["/bin/sleep", "1000"])
    ok(s == x, "the sleeper got the pid %d (%d)" % (x, s))
    if s != x:
        return 1
    for _ in range(500):	# until it runs sleep, not a copy of python
        if os.readlink("/proc/%d/exe" % s).endswith("sleep"):
            break
        time.sleep(0.01)
    d = os.path.join(work, "dump")
    os.mkdir(d)
    r = subprocess.run([CRIU, "dump", "-t", str(s), "-D", d, "-o", "dump.log", "-v4"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    log = open(os.path.join(d, "dump.log")).read() if os.path.exists(os.path.join(d, "dump.log")) else ""
    ok(r.returncode == 0, "the sleeper is dumped (exit %d)" % r.returncode)
    if r.returncode:
        print("# " + log[-800:].replace("\n", "\n# "))
    try:
        os.kill(s, 9)	# a refused dump leaves it running
    except ProcessLookupError:
        pass
    os.waitpid(s, 0)
    try:
        fcntl.flock(os.open(os.path.join(work, "locked"), os.O_RDWR), fcntl.LOCK_EX | fcntl.LOCK_NB)
        held = False
    except BlockingIOError:
        held = True
    ok(held, "the lock is still held through this process's file")
    return finish()


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""
An open file that is the runtime's (--external file[MNT_ID:INO]), end to end.

A process (the tree) holds fd 5 open read-write on file A at position 3
and, on SIGUSR1, writes "X" through it. It is dumped with
--external file[MNT_ID:INO] (A's mount id from its fdinfo and A's inode, in
hex); A's path is not in the image. Then:

  1. a restore without --inherit-fd fails, naming
     --inherit-fd fd[N]:file[...], and leaves no process;
  2. a restore with --inherit-fd fd[N]:file[...], N an fd of another file B,
     gives the process B at fd 5, at position 3, read-write: its "X" lands
     in B at offset 3, and A is untouched.

Runs as pid 1 of a fresh pid namespace (ext-file.sh). Prints TAP.
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import ok, finish, reap, all_pids, kill  # noqa: E402

CRIU = os.path.abspath(os.environ.get("CRIU_BIN", "criu/criu"))
PY = "/usr/bin/python3"
HOLDER = r"""
import os, signal, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
os.dup2(fd, 5)
os.close(fd)
os.lseek(5, 3, os.SEEK_SET)
signal.signal(signal.SIGUSR1, lambda s, f: os.write(5, b"X"))
open(sys.argv[2], "w").write("ready")
while True:
    time.sleep(100)
"""


def criu(*args, fds=()):
    r = subprocess.run([CRIU] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       pass_fds=fds)
    reap()
    return r.returncode


def log(d, name):
    try:
        with open(os.path.join(d, name)) as f:
            return f.read()
    except OSError:
        return ""


def content(path, want, timeout=5):
    end = time.monotonic() + timeout
    while True:
        if open(path, "rb").read() == want:
            return True
        if time.monotonic() >= end:
            return False
        time.sleep(0.01)


def main():
    if not os.access(CRIU, os.X_OK):
        print("# SKIP: criu/criu is not built")
        return 77
    work = tempfile.mkdtemp(prefix="criu-ext-file.")
    base = all_pids()
    a, b, ready = (os.path.join(work, n) for n in ("a", "b", "ready"))
    for f in (a, b):
        with open(f, "wb") as w:
            w.write(b"0123456789")
    p = subprocess.Popen([PY, "-S", "-c", HOLDER, a, ready], start_new_session=True, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(500):
        if os.path.exists(ready):
            break
        time.sleep(0.01)
    with open("/proc/%d/fdinfo/5" % p.pid) as f:
        mnt = int([line.split()[1] for line in f if line.startswith("mnt_id:")][0])
    key = "file[%x:%x]" % (mnt, os.stat(a).st_ino)

    d = os.path.join(work, "img")
    rc = criu("dump", "-t", str(p.pid), "-D", d, "-o", "dump.log", "-v4", "--external", key)
    ok(rc == 0, "--external %s: dumped (rc %d)" % (key, rc), log(d, "dump.log"))
    if rc:
        kill(p.pid)
        return finish()
    p.wait()
    with open(os.path.join(d, "files.img"), "rb") as f:
        ok(a.encode() not in f.read(), "the file's path is not in files.img")

    before = all_pids()
    rc = criu("restore", "-d", "-D", d, "-o", "noinherit.log", "-v4")
    ok(rc == 1 and ("--inherit-fd fd[N]:" + key) in log(d, "noinherit.log"),
       "a restore without --inherit-fd fails, naming it (rc %d)" % rc, log(d, "noinherit.log"))
    reap()
    ok(all_pids() == before, "and leaves no process")

    fd = os.open(b, os.O_RDWR)
    rc = criu("restore", "-d", "-D", d, "-o", "restore.log", "-v4", "--pidfile", os.path.join(work, "pid"),
              "--inherit-fd", "fd[%d]:%s" % (fd, key), fds=(fd,))
    os.close(fd)
    ok(rc == 0, "restored with --inherit-fd fd[N]:%s (rc %d)" % (key, rc), log(d, "restore.log"))
    if rc == 0:
        pid = int(open(os.path.join(work, "pid")).read())
        os.kill(pid, signal.SIGUSR1)
        ok(content(b, b"012X456789") and content(a, b"0123456789", 0),
           "the restored fd is the other file, at the dumped position, writable")
    for q in all_pids() - base:
        if q != os.getpid():
            kill(q)
    return finish()


if __name__ == "__main__":
    if os.getpid() != 1:
        print("# must run as pid 1 of a new pid namespace (ext-file.sh)")
        sys.exit(2)
    sys.exit(main())

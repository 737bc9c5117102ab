#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""
A unix stream socket whose peer is outside the dumped tree, end to end.

This script is the server, outside the tree: it listens on a path, and a
client (the tree: one python process) connects and answers each line with
the line in upper case. Then:

  1. a dump without options is refused, naming the peer outside and the
     options; the client keeps answering;
  2. --ext-unix-sk (which keeps only datagram peers) is refused too;
  3. --external unix[INO] (INO the client's socket) dumps it;
  4. a restore without --inherit-fd for the socket fails, naming
     --inherit-fd fd[N]:socket:[INO], and leaves no process;
  5. a restore with --inherit-fd fd[N]:socket:[INO], N a new connection to
     the server, brings the client back on that connection: it answers;
  6. the same again with the other spelling, --ext-unix-sk=INO.

Runs as pid 1 of a fresh pid namespace (ext-unix.sh). Prints TAP.
"""
import os
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import ok, finish, reap, all_pids, wait_gone, kill  # noqa: E402

CRIU = os.path.abspath(os.environ.get("CRIU_BIN", "criu/criu"))
PY = "/usr/bin/python3"
CLIENT = r"""
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
open(sys.argv[2], "w").write(str(os.fstat(s.fileno()).st_ino))
buf = b""
while True:
    d = s.recv(100)
    if not d:
        break
    buf += d
    while b"\n" in buf:
        line, buf = buf.split(b"\n", 1)
        s.sendall(line.upper() + b"\n")
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


def ask(conn, word):
    """Send word on conn; True when the client answers it in upper case."""
    conn.settimeout(10)
    try:
        conn.sendall(word.encode() + b"\n")
        got = b""
        while not got.endswith(b"\n"):
            d = conn.recv(100)
            if not d:
                return False
            got += d
        return got == word.upper().encode() + b"\n"
    except OSError:
        return False


def start_client(path, work):
    ino_file = os.path.join(work, "ino")
    p = subprocess.Popen([PY, "-S", "-c", CLIENT, path, ino_file], start_new_session=True,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(500):
        if os.path.exists(ino_file) and open(ino_file).read():
            break
        time.sleep(0.01)
    ino = int(open(ino_file).read())
    os.unlink(ino_file)
    return p.pid, ino


def restore_with(srv, path, d, ino, logname):
    """A new connection to the server handed to the restore for socket ino; the server's end, rc."""
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(path)
    conn, _ = srv.accept()
    rc = criu("restore", "-d", "-D", d, "-o", logname, "-v4",
              "--inherit-fd", "fd[%d]:socket:[%d]" % (c.fileno(), ino), fds=(c.fileno(),))
    c.close()
    return conn, rc


def main():
    if not os.access(CRIU, os.X_OK):
        print("# SKIP: criu/criu is not built")
        return 77
    work = tempfile.mkdtemp(prefix="criu-ext-unix.")
    base = all_pids()
    path = os.path.join(work, "server.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(4)

    pid, ino = start_client(path, work)
    conn, _ = srv.accept()
    ok(ask(conn, "one"), "the client answers before any dump")

    d = os.path.join(work, "plain")
    rc = criu("dump", "-t", str(pid), "-D", d, "-o", "dump.log", "-v4")
    ok(rc == 1 and "its peer is outside the tree" in log(d, "dump.log") and
       ("--external unix[%d]" % ino) in log(d, "dump.log"),
       "without options the dump is refused, naming the peer outside and the options (rc %d)" % rc,
       log(d, "dump.log"))
    ok(ask(conn, "two"), "after the refused dump the client still answers")

    d = os.path.join(work, "ext-sk")
    rc = criu("dump", "-t", str(pid), "-D", d, "-o", "dump.log", "-v4", "--ext-unix-sk")
    ok(rc == 1 and "keeps only datagram peers" in log(d, "dump.log"),
       "--ext-unix-sk refuses a stream connection (rc %d)" % rc, log(d, "dump.log"))

    d = os.path.join(work, "external")
    rc = criu("dump", "-t", str(pid), "-D", d, "-o", "dump.log", "-v4", "--external", "unix[%d]" % ino)
    ok(rc == 0 and wait_gone(pid), "--external unix[%d]: dumped (rc %d)" % (ino, rc), log(d, "dump.log"))
    conn.close()

    before = all_pids()
    rc = criu("restore", "-d", "-D", d, "-o", "noinherit.log", "-v4")
    ok(rc == 1 and ("--inherit-fd fd[N]:socket:[%d]" % ino) in log(d, "noinherit.log"),
       "a restore without --inherit-fd fails, naming it (rc %d)" % rc, log(d, "noinherit.log"))
    reap()
    ok(all_pids() == before, "and leaves no process")

    conn, rc = restore_with(srv, path, d, ino, "restore.log")
    ok(rc == 0 and ask(conn, "three"), "restored with --inherit-fd fd[N]:socket:[%d]: the client answers on the "
       "new connection (rc %d)" % (ino, rc), log(d, "restore.log"))

    # again, dumped with -x/--ext-unix-sk=INO: the restored client's socket is now the inherited one
    new_pid = [p for p in all_pids() - before if p != os.getpid()]
    ino2 = None
    if len(new_pid) == 1:
        for fd in os.listdir("/proc/%d/fd" % new_pid[0]):
            link = os.readlink("/proc/%d/fd/%s" % (new_pid[0], fd))
            if link.startswith("socket:["):
                ino2 = int(link[8:-1])
    d2 = os.path.join(work, "ext-sk-ino")
    rc = criu("dump", "-t", str(new_pid[0] if new_pid else 0), "-D", d2, "-o", "dump.log", "-v4",
              "--ext-unix-sk=%d" % (ino2 or 0))
    ok(ino2 and rc == 0, "--ext-unix-sk=%s: dumped (rc %d)" % (ino2, rc), log(d2, "dump.log"))
    conn.close()
    if ino2 and rc == 0:
        conn, rc = restore_with(srv, path, d2, ino2, "restore.log")
        ok(rc == 0 and ask(conn, "four"), "and restored on another new connection (rc %d)" % rc,
           log(d2, "restore.log"))
        conn.close()

    for p in all_pids() - base:
        if p != os.getpid():
            kill(p)
    return finish()


if __name__ == "__main__":
    if os.getpid() != 1:
        print("# must run as pid 1 of a new pid namespace (ext-unix.sh)")
        sys.exit(2)
    sys.exit(main())

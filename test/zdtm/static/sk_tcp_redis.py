#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""sk_tcp_redis: Debian's redis-server (event loop on epoll, background
threads) as a child of the test, with two client connections from the test
itself, one over 127.0.0.1 and one over ::1 (both ends in the dumped tree).
Before the dump the clients set keys; then redis-server is stopped (SIGSTOP)
and client 1 sends a pipelined request of three commands, which waits,
unread, in redis-server's socket. criu dumps with --tcp-established (the
server comes back stopped); after restore the test lets redis-server go on
(SIGCONT) and the same connections get the answers of the pipeline, the keys
set before the dump are there, and new requests work on both connections.

The zdtm protocol is the one of test/zdtm/lib/zdtm.c (see py_asyncio.py).
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time

TIMEOUT = 20
REDIS = "/usr/bin/redis-server"


class Verdict:
    def __init__(self, outfile):
        self.outfile = outfile
        self.failed = False

    def write(self, line):
        if not self.outfile:
            sys.stdout.write(line)
            sys.stdout.flush()
            return
        fd = os.open(self.outfile, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)

    def fail(self, msg):
        self.failed = True
        log("FAIL: " + msg)
        self.write("FAIL: sk_tcp_redis.py: %s\n" % msg)

    def check(self, what, got, want):
        if got != want:
            self.fail("%s: got %r, expected %r" % (what, got, want))


def log(msg):
    sys.stderr.write("[%d] %s\n" % (os.getpid(), msg))
    sys.stderr.flush()


def parse_args(argv):
    pidfile = outfile = None
    for a in argv[1:]:
        if a.startswith("--pidfile=") and len(a) > 10:
            pidfile = a[10:]
        elif a.startswith("--outfile=") and len(a) > 10:
            outfile = a[10:]
        else:
            sys.exit("%s: unknown argument %r" % (argv[0], a))
    if pidfile and not outfile:
        sys.exit("%s: --pidfile needs --outfile" % argv[0])
    return pidfile, outfile


def daemonize(verdict):
    """Fork the test; the parent (launcher) exits 0 on the test's SIGUSR1, 1 if it dies first."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGCHLD})
    launcher = os.getpid()
    pid = os.fork()
    if pid:
        while True:
            info = signal.sigwaitinfo({signal.SIGUSR1, signal.SIGCHLD})
            if info.si_signo == signal.SIGUSR1 and info.si_pid == pid:
                os._exit(0)
            if info.si_signo == signal.SIGCHLD and os.waitpid(pid, os.WNOHANG)[0] == pid:
                verdict.write("FAIL: test exited before it was ready\n")
                os._exit(1)
    os.setsid()
    signal.pthread_sigmask(signal.SIG_SETMASK, {signal.SIGTERM})
    return launcher


def report_ready(pidfile, launcher):
    if not pidfile:
        log("ready: send SIGTERM to %d to finish the test" % os.getpid())
        return
    tmp = pidfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(tmp, pidfile)
    os.kill(launcher, signal.SIGUSR1)


def resp(*words):
    """A command in RESP, redis' protocol."""
    out = b"*%d\r\n" % len(words)
    for w in words:
        w = w.encode() if isinstance(w, str) else w
        out += b"$%d\r\n%s\r\n" % (len(w), w)
    return out


class Client:
    def __init__(self, family, host, port):
        self.sk = socket.create_connection((host, port), timeout=TIMEOUT)
        assert self.sk.family == family
        self.buf = b""

    def line(self):
        while b"\r\n" not in self.buf:
            data = self.sk.recv(4096)
            if not data:
                raise EOFError("redis-server closed the connection")
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        line = self.line()
        if line[:1] == b"$":
            n = int(line[1:])
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.buf += self.sk.recv(4096)
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        return line

    def call(self, *words):
        self.sk.sendall(resp(*words))
        return self.reply()


def free_port():
    with socket.socket(socket.AF_INET6) as s:
        s.bind(("::", 0))
        return s.getsockname()[1]


def start_redis():
    port = free_port()
    workdir = os.path.abspath("redis")
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    log_f = open("redis-server.log", "w")
    srv = subprocess.Popen([REDIS, "--port", str(port), "--bind", "127.0.0.1", "::1", "--save", "",
                            "--appendonly", "no", "--daemonize", "no", "--dir", workdir,
                            "--logfile", "", "--protected-mode", "no"],
                           stdin=subprocess.DEVNULL, stdout=log_f, stderr=log_f, close_fds=True)
    log_f.close()
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        try:
            c = Client(socket.AF_INET, "127.0.0.1", port)
            if c.call("PING") == b"+PONG":
                c.sk.close()
                return srv, port
        except OSError:
            time.sleep(0.05)
    srv.kill()
    raise RuntimeError("redis-server did not answer on port %d" % port)


def run(v, pidfile, launcher):
    srv, port = start_redis()
    try:
        c1 = Client(socket.AF_INET, "127.0.0.1", port)
        c2 = Client(socket.AF_INET6, "::1", port)
        v.check("SET k1", c1.call("SET", "k1", "v1"), b"+OK")
        v.check("INCR counter", c1.call("INCR", "counter"), b":1")
        v.check("c2 GET k1", c2.call("GET", "k1"), b"v1")
        names = [(c.sk.getsockname(), c.sk.getpeername()) for c in (c1, c2)]

        # redis-server stopped: the pipeline waits in its socket, unread
        os.kill(srv.pid, signal.SIGSTOP)
        os.waitid(os.P_PID, srv.pid, os.WSTOPPED)
        c1.sk.sendall(resp("SET", "k2", "v2") + resp("INCR", "counter") + resp("GET", "k1"))

        report_ready(pidfile, launcher)
        signal.sigwait({signal.SIGTERM})
        log("SIGTERM: checking")

        v.check("the connections' addresses", [(c.sk.getsockname(), c.sk.getpeername()) for c in (c1, c2)],
                names)
        os.kill(srv.pid, signal.SIGCONT)
        v.check("the pipeline's answers", [c1.reply(), c1.reply(), c1.reply()], [b"+OK", b":2", b"v1"])
        v.check("c2 GET k2 after the restore", c2.call("GET", "k2"), b"v2")
        v.check("c2 DBSIZE", c2.call("DBSIZE"), b":3")
        v.check("c1 INCR counter after the restore", c1.call("INCR", "counter"), b":3")
        if srv.poll() is not None:
            v.fail("redis-server exited (%d)" % srv.returncode)
    finally:
        srv.kill()
        srv.wait()


def main():
    pidfile, outfile = parse_args(sys.argv)
    v = Verdict(outfile)
    if outfile:
        os.close(os.open(outfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644))
    launcher = daemonize(v) if pidfile else 0
    if not pidfile:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        run(v, pidfile, launcher)
    except Exception as e:  # report anything as a failure, with what it was
        v.fail("%s: %s" % (type(e).__name__, e))
    if v.failed:
        return 1
    log("PASS")
    v.write("PASS\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

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

The zdtm protocol: test/zdtm/lib/zdtmtst.py.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time


sys.dont_write_bytecode = True  # the source tree is read-only in the ct flavour
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import zdtmtst  # noqa: E402
from zdtmtst import log, report_ready  # noqa: E402

TIMEOUT = 20
REDIS = "/usr/bin/redis-server"


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


if __name__ == "__main__":
    sys.exit(zdtmtst.main("sk_tcp_redis.py", run, blocked={signal.SIGTERM}))

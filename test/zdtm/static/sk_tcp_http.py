#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""sk_tcp_http: Debian's `python3 -m http.server --protocol HTTP/1.1 --bind ::` (a
ThreadingHTTPServer on the dual-stack [::], one thread per connection) as a
child of the test, and an http.client keep-alive connection to it over
127.0.0.1 in the test itself: both ends are in the dumped tree, the server's
end a v4-mapped IPv6 socket. Before the dump one request is answered on the
connection and the server's thread waits for the next one. criu dumps with
--tcp-established; after restore the SAME connection (the client socket's
address and port unchanged, no reconnect) carries a second request, and the
server still accepts new connections.

The zdtm protocol is the one of test/zdtm/lib/zdtm.c (see py_asyncio.py):
the launcher forks the test, which becomes a session leader, writes the
pidfile when ready and sends SIGUSR1 to the launcher; the verdict ("PASS" or
"FAIL: ...") goes to the outfile.
"""

import http.client
import os
import signal
import socket
import subprocess
import sys
import time

TIMEOUT = 20


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
        self.write("FAIL: sk_tcp_http.py: %s\n" % msg)

    def check(self, what, got, want):
        if got != want:
            self.fail("%s: got %r, expected %r" % (what, got, want))
            return False
        return True


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


def free_port():
    with socket.socket(socket.AF_INET6) as s:
        s.bind(("::", 0))
        return s.getsockname()[1]


def start_server(docroot):
    port = free_port()
    log_f = open("http-server.log", "w")
    srv = subprocess.Popen([sys.executable, "-m", "http.server", "--protocol", "HTTP/1.1",
                            "--bind", "::", "--directory", docroot, str(port)],
                           stdin=subprocess.DEVNULL, stdout=log_f, stderr=log_f, close_fds=True)
    log_f.close()
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return srv, port
        except OSError:
            time.sleep(0.05)
    srv.kill()
    raise RuntimeError("http.server did not start listening on port %d" % port)


def get(conn, path):
    conn.request("GET", path, headers={"Connection": "keep-alive"})
    r = conn.getresponse()
    return r.status, r.read(), r.getheader("Connection")


def run(v, pidfile, launcher):
    docroot = os.path.abspath("docroot")
    os.makedirs(docroot, exist_ok=True)
    for name in ("before.txt", "after.txt"):
        with open(os.path.join(docroot, name), "w") as f:
            f.write("this is %s\n" % name)
    srv, port = start_server(docroot)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        status, body, _ = get(conn, "/before.txt")
        v.check("the answer before the dump", (status, body), (200, b"this is before.txt\n"))
        sock = conn.sock
        name, peer = sock.getsockname(), sock.getpeername()

        report_ready(pidfile, launcher)
        signal.sigwait({signal.SIGTERM})
        log("SIGTERM: checking")

        if srv.poll() is not None:
            v.fail("http.server exited (%d)" % srv.returncode)
        v.check("the client's socket", conn.sock, sock)
        v.check("the connection's addresses", (sock.getsockname(), sock.getpeername()), (name, peer))
        status, body, _ = get(conn, "/after.txt")
        v.check("the answer on the same connection after the restore", (status, body),
                (200, b"this is after.txt\n"))
        v.check("the client's socket after the second request (no reconnect)", conn.sock, sock)
        conn.close()
        conn2 = http.client.HTTPConnection("::1", port, timeout=TIMEOUT)
        status, body, _ = get(conn2, "/before.txt")
        v.check("a new connection after the restore", (status, body), (200, b"this is before.txt\n"))
        conn2.close()
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

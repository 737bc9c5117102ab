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

The zdtm protocol: test/zdtm/lib/zdtmtst.py.
"""

import http.client
import os
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


if __name__ == "__main__":
    sys.exit(zdtmtst.main("sk_tcp_http.py", run, blocked={signal.SIGTERM}))

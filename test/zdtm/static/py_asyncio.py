#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""py_asyncio: a real asyncio program (Debian's python3) checkpointed while it
waits for two child processes.

The event loop (an epoll selector, with its self-pipe socketpair) watches the
children with asyncio.PidfdChildWatcher (one pidfd per child in the epoll
set), reads their stdout through pipes, and reads a unix socketpair with an
asyncio stream. Before the dump both children run, blocked reading their
stdin; one has a line waiting, unread, in its stdout pipe, and the socketpair
has data queued. After restore (SIGTERM) the test feeds both children a line
and must get their output and their exit codes (3 and 5) through the
restored pidfds, plus the queued socket data.

The zdtm protocol: test/zdtm/lib/zdtmtst.py.
"""

import asyncio
import os
import signal
import socket
import sys
import warnings


sys.dont_write_bytecode = True  # the source tree is read-only in the ct flavour
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import zdtmtst  # noqa: E402
from zdtmtst import log, report_ready  # noqa: E402

TIMEOUT = 20


async def start_children(v):
    # a: echoes what it reads with a prefix, exits 3
    a = await asyncio.create_subprocess_exec(
        "/bin/sh", "-c", 'read line; echo "a got $line"; exit 3',
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    # b: says it is ready, leaves a line unread in its stdout pipe, exits 5
    b = await asyncio.create_subprocess_exec(
        "/bin/sh", "-c", 'echo b-ready; echo b-pending; read line; echo "b got $line"; exit 5',
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    line = await asyncio.wait_for(b.stdout.readline(), TIMEOUT)
    v.check("b's first line", line, b"b-ready\n")
    return a, b


async def finish_child(v, name, proc, feed, want_out, want_rc):
    proc.stdin.write(feed)
    await proc.stdin.drain()
    proc.stdin.close()
    out = await asyncio.wait_for(proc.stdout.read(), TIMEOUT)
    v.check("%s's output" % name, out, want_out)
    rc = await asyncio.wait_for(proc.wait(), TIMEOUT)
    v.check("%s's exit code" % name, rc, want_rc)


async def run_test(v, pidfile, launcher):
    loop = asyncio.get_running_loop()
    term = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, term.set)

    a, b = await start_children(v)
    s1, s2 = socket.socketpair()
    reader, _ = await asyncio.open_unix_connection(sock=s1)
    s2.sendall(b"queued in the socket\n")

    report_ready(pidfile, launcher)
    await term.wait()
    log("SIGTERM: checking")

    for name, p in (("a", a), ("b", b)):
        if p.returncode is not None:
            v.fail("%s exited (%d) before it was fed" % (name, p.returncode))
    line = await asyncio.wait_for(reader.readline(), TIMEOUT)
    v.check("socket data", line, b"queued in the socket\n")
    s2.sendall(b"after restore\n")
    line = await asyncio.wait_for(reader.readline(), TIMEOUT)
    v.check("socket data sent after restore", line, b"after restore\n")

    await asyncio.gather(
        finish_child(v, "a", a, b"hello\n", b"a got hello\n", 3),
        finish_child(v, "b", b, b"world\n", b"b-pending\nb got world\n", 5))
    s2.close()


def run(v, pidfile, launcher):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        asyncio.set_child_watcher(asyncio.PidfdChildWatcher())
    asyncio.run(run_test(v, pidfile, launcher))


if __name__ == "__main__":
    sys.exit(zdtmtst.main("py_asyncio.py", run))

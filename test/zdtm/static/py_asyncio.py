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

The zdtm protocol is the one of test/zdtm/lib/zdtm.c: with --pidfile and
--outfile the launcher forks the test, which becomes a session leader, writes
the pidfile when ready and sends SIGUSR1 to the launcher; the verdict ("PASS"
or "FAIL: ...") goes to the outfile.
"""

import asyncio
import os
import signal
import socket
import sys
import warnings

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
        self.write("FAIL: py_asyncio.py: %s\n" % msg)

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


def launcher_wait(child, verdict):
    """The launcher: exit 0 on the test's SIGUSR1, 1 if it dies first."""
    while True:
        info = signal.sigwaitinfo({signal.SIGUSR1, signal.SIGCHLD})
        if info.si_signo == signal.SIGUSR1 and info.si_pid == child:
            os._exit(0)
        if info.si_signo == signal.SIGCHLD:
            pid, st = os.waitpid(child, os.WNOHANG)
            if pid == child:
                verdict.write("FAIL: test exited (status 0x%x) before it was ready\n" % st)
                os._exit(1)


def daemonize(pidfile, verdict):
    """Fork the test; the parent (launcher) never returns. Returns the launcher's pid."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGCHLD})
    launcher = os.getpid()
    pid = os.fork()
    if pid:
        launcher_wait(pid, verdict)
    os.setsid()
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
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


def main():
    pidfile, outfile = parse_args(sys.argv)
    v = Verdict(outfile)
    if outfile:
        os.close(os.open(outfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644))
    launcher = daemonize(pidfile, v) if pidfile else 0

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        asyncio.set_child_watcher(asyncio.PidfdChildWatcher())
    try:
        asyncio.run(run_test(v, pidfile, launcher))
    except Exception as e:  # report anything as a failure, with what it was
        v.fail("%s: %s" % (type(e).__name__, e))
    if v.failed:
        return 1
    log("PASS")
    v.write("PASS\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

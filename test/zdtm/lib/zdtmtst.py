# SPDX-License-Identifier: GPL-2.0
"""The zdtm protocol for tests written in python (the C side: zdtm.c).

With --pidfile and --outfile the launcher forks the test, which becomes a
session leader, writes the pidfile when it is ready and sends SIGUSR1 to
the launcher; the verdict ("PASS" or "FAIL: ...") goes to the outfile.
Without them the test runs in the foreground and prints its verdict.

A test imports it with test/zdtm/lib on sys.path (see use()).
"""
import os
import signal
import sys


class Verdict:
    def __init__(self, name, outfile):
        self.name = name
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
        self.write("FAIL: %s: %s\n" % (self.name, msg))

    def check(self, what, got, want):
        """False (and a failure recorded) when got is not want."""
        if got != want:
            self.fail("%s: got %r, expected %r" % (what, got, want))
            return False
        return True


def log(msg):
    sys.stderr.write("[%d] %s\n" % (os.getpid(), msg))
    sys.stderr.flush()


def parse_args(argv):
    """(pidfile, outfile) from --pidfile=F --outfile=F; anything else ends the test."""
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


def daemonize(verdict, blocked=frozenset()):
    """Fork the test; the parent (launcher) never returns. The test leads a
    new session with the signals in blocked blocked; returns the launcher's pid."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGCHLD})
    launcher = os.getpid()
    pid = os.fork()
    if pid:
        launcher_wait(pid, verdict)
    os.setsid()
    signal.pthread_sigmask(signal.SIG_SETMASK, set(blocked))
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


def main(name, run, blocked=frozenset()):
    """A whole test: run(verdict, pidfile, launcher) does the work and calls
    report_ready() when the tree may be dumped; an exception is a failure.
    blocked: signals the test keeps blocked (to sigwait() for them)."""
    pidfile, outfile = parse_args(sys.argv)
    v = Verdict(name, outfile)
    if outfile:
        os.close(os.open(outfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644))
    if pidfile:
        launcher = daemonize(v, blocked)
    else:
        launcher = 0
        signal.pthread_sigmask(signal.SIG_BLOCK, set(blocked))
    try:
        run(v, pidfile, launcher)
    except Exception as e:  # report anything as a failure, with what it was
        v.fail("%s: %s" % (type(e).__name__, e))
    if v.failed:
        return 1
    log("PASS")
    v.write("PASS\n")
    return 0

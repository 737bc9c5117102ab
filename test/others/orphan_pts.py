#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""A session on a pty whose master is outside the dumped tree (--orphan-pts-master, what runc's terminal mode
asks), end to end without runc. Run by test/unit/orphan-pts.sh as pid 1 of a fresh pid and mount namespace,
with a devpts of its own on /dev/pts.

The tree: a session leader whose controlling terminal and stdio are the slave of a pty the test holds the
master of, with a child in its session; the leader prints a counter. Checked: the dump with
--orphan-pts-master; a restore without it, and one on the command line (no RPC client to take the new
master), are refused and leave nothing, as are images edited to a foreground group other than the leader's;
a restore through RPC hands the new master to the client (the orphan-pts-master notification), the counter
goes on through it, and the pty is again the controlling terminal of the leader and its child. Refused at
dump, the tree left running: two ptys whose masters are outside, a foreground group other than the
leader's, and no --orphan-pts-master.
"""
import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
import termios
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import ok, finish, reap, all_pids, wait_gone, kill, crit_edit  # noqa: E402

sys.path.insert(0, os.path.abspath("build/py"))

CRIU = os.path.abspath(os.environ.get("CRIU_BIN", "criu/criu"))
CRIT = os.path.abspath("crit")
PY = "/usr/bin/python3"
TIOCGPTN = 0x80045430	# _IOR('T', 0x30, unsigned int)

# argv: mode ("one", "two", "fg"), the slave's path, [a second slave's path]
CHILD = r"""
import fcntl, os, sys, termios, time
mode = sys.argv[1]
os.setsid()
fd = os.open(sys.argv[2], os.O_RDWR | os.O_NOCTTY)
fcntl.ioctl(fd, termios.TIOCSCTTY, 0)
for i in (0, 1, 2):
    os.dup2(fd, i)
os.close(fd)
if mode == "two":
    extra = os.open(sys.argv[3], os.O_RDWR | os.O_NOCTTY)
kid = os.fork()
if kid == 0:
    while True:
        time.sleep(1)
if mode == "fg":
    os.setpgid(kid, kid)
    os.tcsetpgrp(0, kid)
n = 0
while True:
    n += 1
    os.write(1, b"%d ok\n" % n)
    time.sleep(0.05)
"""


class Reader:
    """Reads a pty master in a thread until EIO; keeps the last counter seen."""

    def __init__(self, master):
        self.master, self.last, self.text = master, 0, b""
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while True:
            try:
                b = os.read(self.master, 4096)
            except OSError:
                return
            if not b:
                return
            self.text += b
            for line in self.text.split(b"\n")[:-1]:
                f = line.strip().split()
                if len(f) == 2 and f[1] == b"ok" and f[0].isdigit():
                    self.last = int(f[0])

    def wait_above(self, n, timeout=10):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.last > n:
                return True
            time.sleep(0.02)
        return False


def start(mode, nptys=1):
    """The tree on new ptys: (pid, masters, reader of the first)."""
    masters, slaves, ours = [], [], []
    for _ in range(nptys):
        m, s = os.openpty()
        masters.append(m)
        slaves.append(os.ttyname(s))
        ours.append(s)	# until the tree has it: a master without a slave open reads EIO
    p = subprocess.Popen([PY, "-S", "-c", CHILD, mode] + slaves, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    r = Reader(masters[0])
    started = r.wait_above(2)
    for s in ours:
        os.close(s)
    if not started:
        raise RuntimeError("the tree did not start counting")
    return p.pid, masters, r


def criu(*args):
    res = subprocess.run([CRIU] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    reap()
    return res.returncode


def log_has(d, log, text):
    path = os.path.join(d, log)
    return os.path.exists(path) and text in open(path).read()


def dump_refused(work, name, mode, nptys, text, *extra):
    pid, masters, r = start(mode, nptys)
    d = os.path.join(work, name)
    os.makedirs(d)
    rc = criu("dump", "-t", str(pid), "-D", d, "-o", "dump.log", "-v4", *extra)
    before = r.last
    good = rc != 0 and log_has(d, "dump.log", text) and r.wait_above(before)
    kill(pid)
    for m in masters:
        os.close(m)
    return good


def restore_refused(d, log, text, *extra):
    before = all_pids()
    rc = criu("restore", "-d", "-D", d, "-o", log, "-v4", *extra)
    time.sleep(0.05)
    reap()
    return rc != 0 and log_has(d, log, text) and not (all_pids() - before)


def ctty_of_all(pid):
    """Is the slave at the leader's fd 0 the controlling terminal of the leader and of its child?"""
    rdev = os.stat("/proc/%d/fd/0" % pid).st_rdev
    nr = (os.major(rdev) << 8) | (os.minor(rdev) & 0xff) | ((os.minor(rdev) & ~0xff) << 12)
    kids = open("/proc/%d/task/%d/children" % (pid, pid)).read().split()
    for p in [str(pid)] + kids:
        stat = open("/proc/%s/stat" % p).read()
        if int(stat[stat.rindex(")") + 2:].split()[4]) != nr:
            return False
    return len(kids) == 1


def rpc_restore(d, log):
    """Restore through RPC, taking the master criu hands over: (pid, master) or (None, None)."""
    import pycriu.criu

    class Client(pycriu.criu.criu):
        master = None

        def notify(self, script, notify):
            if script == "orphan-pts-master" and self.notify_fds:
                self.master = self.notify_fds.pop(0)
            return True

    c = Client()
    c.use_binary(CRIU)
    dfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    c.opts.images_dir_fd = dfd
    c.opts.log_file = log
    c.opts.log_level = 4
    c.opts.notify_scripts = True
    c.opts.orphan_pts_master = True
    try:
        pid = c.restore().restore.pid
    except Exception as e:  # noqa: BLE001 - any failure is the test's failure
        print("# %s" % e)
        pid = None
    os.close(dfd)
    reap()
    return pid, c.master


def main():
    if not os.access(CRIU, os.X_OK):
        print("# SKIP: criu/criu is not built")
        return 77
    # a devpts of our own: nobody else takes the pty indexes the restore needs
    if subprocess.run(["mount", "-t", "devpts", "-o", "newinstance,ptmxmode=0666", "devpts", "/dev/pts"]).returncode or \
       subprocess.run(["mount", "--bind", "/dev/pts/ptmx", "/dev/ptmx"]).returncode:
        print("# SKIP: can't mount a devpts of our own")
        return 77
    work = tempfile.mkdtemp(prefix="criu-orphan-pts-")

    pid, masters, r = start("one")
    index = fcntl.ioctl(masters[0], TIOCGPTN, b"\0\0\0\0")
    d = os.path.join(work, "one")
    os.makedirs(d)
    rc = criu("dump", "-t", str(pid), "-D", d, "-o", "dump.log", "-v4", "--orphan-pts-master")
    ok(rc == 0 and wait_gone(pid), "dump --orphan-pts-master of a session on a pty whose master is outside")
    before = r.last
    os.close(masters[0])	# the old pty goes, as runc's console does
    ok(restore_refused(d, "restore-no-opt.log", "restore with --orphan-pts-master"),
       "a restore without --orphan-pts-master is refused, nothing left")
    ok(restore_refused(d, "restore-cli.log", "no RPC client to hand its new master to", "--orphan-pts-master"),
       "a restore on the command line (no RPC client for the master) is refused, nothing left")
    # images whose foreground group is not the leader's (edited): refused before anything starts
    d2 = os.path.join(work, "one-fg")
    shutil.copytree(d, d2)
    crit_edit(CRIT, os.path.join(d2, "tty-info.img"),
              lambda img: [e.update(pgrp=e["sid"] + 1) for e in img["entries"] if e.get("sid")])
    ok(restore_refused(d2, "restore-fg.log", "is not its session leader's", "--orphan-pts-master",
                       "--skip-image-check"),
       "images with a foreground group other than the leader's: refused at restore, nothing left")
    rpid, master = rpc_restore(d, "restore-rpc.log")
    ok(rpid and master is not None, "RPC restore: criu hands the new master over with orphan-pts-master")
    if rpid and master is not None:
        r2 = Reader(master)
        ok(r2.wait_above(before), "the counter goes on above %d, read through the new master" % before)
        ok(fcntl.ioctl(master, TIOCGPTN, b"\0\0\0\0") == index and ctty_of_all(rpid),
           "the new pty has the old index and is the controlling terminal of the leader and its child")
        kill(rpid)
        os.close(master)

    ok(dump_refused(work, "two", "two", 2, "both have their master outside the tree", "--orphan-pts-master"),
       "two ptys whose masters are outside: refused at dump, the tree runs on")
    ok(dump_refused(work, "fg", "fg", 1, "is not its session leader's", "--orphan-pts-master"),
       "a foreground group other than the leader's: refused at dump, the tree runs on")
    ok(dump_refused(work, "noopt", "one", 1, "use --shell-job"),
       "without --orphan-pts-master: refused at dump, the tree runs on")
    subprocess.run(["rm", "-rf", work])
    return finish()


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""
One lazy migration over loopback, timed (used by bench/lazy.py and bench/pageserver.py).

bench/memhog SIZE runs as pid 1 of its own pid namespace (its restore must not
need the pid the source task, stopped while it serves its pages, still holds).
`criu dump --lazy-pages --address 127.0.0.1 --port P --status-fd` writes the
images (all but the pages a lazy restore takes) into a tmpfs dir and says on
the status fd that it serves; the images are copied to a second tmpfs dir;
`criu lazy-pages --page-server -d` is started there (not timed), then
`criu restore --lazy-pages -d` is timed. The task then checks every word
(SIGUSR1: "verify ok"); the daemon's "all pages in, N ms after the tree ran"
gives the transfer time of the pages, the dump's own exit says the page server
served them all.
"""
import ctypes
import os
import re
import shutil
import socket
import subprocess
import sys
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
CRIU = os.path.join(TOP, "criu", "criu")
MEMHOG = os.path.join(TOP, "bench", "memhog")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def reap_until_gone(pid, secs=60):
    end = time.time() + secs
    while alive(pid) and time.time() < end:
        try:
            os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.005)


def start_in_pidns(argv):
    """argv as pid 1 of a new pid namespace, in a session of its own; its pid as we see it."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        if ctypes.CDLL(None, use_errno=True).unshare(0x20000000):	# CLONE_NEWPID
            os._exit(1)
        kid = os.fork()
        if kid == 0:
            os.setsid()
            os.execv(argv[0], argv)
        os.write(w, b"%d" % kid)
        os._exit(0)
    os.close(w)
    kid = int(os.read(r, 32) or 0)
    os.close(r)
    os.waitpid(pid, 0)
    return kid


def criu(*args):
    r = subprocess.run([CRIU] + list(args), capture_output=True, text=True)
    if r.returncode:
        sys.exit("criu %s failed: %s" % (args[0], r.stderr))


def migrate(mib, work, tls, warm=None):
    """One run; {"dump": s until the dump serves, "restore": ms, "all_in": ms after the tree ran}."""
    src, dst = os.path.join(work, "lsrc"), os.path.join(work, "ldst")
    for d in (src, dst):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    rep = os.path.join(work, "lazy.rep")
    if os.path.exists(rep):
        os.unlink(rep)
    pid = start_in_pidns([MEMHOG, str(mib), rep])
    while not (os.path.exists(rep) and "ready" in open(rep).read()):
        time.sleep(0.05)
    port = free_port()
    rfd, wfd = os.pipe()
    t0 = time.monotonic()
    dumper = subprocess.Popen([CRIU, "dump", "-t", str(pid), "-D", src, "-o", "dump.log", "--lazy-pages",
                               "--address", "127.0.0.1", "--port", str(port), "--status-fd", str(wfd)] + tls,
                              pass_fds=[wfd])
    os.close(wfd)
    if os.read(rfd, 1) != b"\0":
        sys.exit("criu dump --lazy-pages did not serve: see %s" % src)
    t_dump = time.monotonic() - t0
    os.close(rfd)
    for f in os.listdir(src):
        if f.endswith(".img"):
            shutil.copy(os.path.join(src, f), dst)
    criu("lazy-pages", "-D", dst, "--page-server", "--address", "127.0.0.1", "--port", str(port), "-d",
         "--pidfile", os.path.join(dst, "lazy.pid"), "-o", "lazy.log", "-v4", *tls)
    with open(os.path.join(dst, "lazy.pid")) as f:
        lpid = int(f.read())
    if warm:
        warm(mib)
    pidfile = os.path.join(dst, "rpid")
    t0 = time.monotonic()
    criu("restore", "-D", dst, "-d", "--lazy-pages", "--pidfile", pidfile, "-o", "restore.log")
    t_rst = (time.monotonic() - t0) * 1000
    reap_until_gone(lpid)
    if dumper.wait():
        sys.exit("criu dump --lazy-pages failed: see %s" % src)
    with open(os.path.join(dst, "lazy.log")) as f:
        m = re.search(r"all pages in, (\d+) ms after the tree ran", f.read())
    if not m:
        sys.exit("the lazy-pages daemon did not bring every page in: see %s" % dst)
    with open(pidfile) as f:
        rpid = int(f.read())
    os.kill(rpid, 10)	# SIGUSR1: check every word
    reap_until_gone(rpid)
    last = open(rep).read().strip().splitlines()[-1]
    if not last.startswith("verify ok"):
        sys.exit("the restored task says: %s" % last)
    return {"dump": t_dump, "restore": t_rst, "all_in": int(m.group(1))}

#!/usr/bin/python3
"""
Network namespaces given by the runtime, end to end, with real processes.

Runs as pid 1 of a fresh pid namespace (see restore-netns.sh). A holder H
makes a network namespace of its own, brings lo up and sleeps; a target T
makes another one (lo left down) and is never dumped.

  1. dump H, restore: a new namespace, not criu's, lo up again.
  2. --empty-ns net: a new namespace left empty (lo down), the
     setup-namespaces action runs with the restored root's pid and sees it.
  3. --join-ns net:PID and net:PATH: the restored root is in T's namespace;
     a uts namespace file named for net is refused, nothing left;
     --join-ns uts:PID and time:PID of a process U with UTS and time
     namespaces of its own: the restored root is in U's.
  4. --external net[INO]:KEY at dump: restore without --inherit-fd is refused
     naming the key, nothing left; with --inherit-fd fd[N]:KEY (criu's fd N on
     T's namespace) the restored root is in T's namespace.
  5. Through RPC (pycriu, criu swrk): join_ns and empty_ns do the same.
  6. Images edited with crit (ours, ./crit) so that the holder was in a user
     namespace of its own: without userns-ext-ID.img (as CRIU would write
     them) refused before anything starts, nothing left; with it, the
     restored holder is in a new user namespace with the maps and setgroups.
Prints TAP; exit 77 when criu is missing.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import ok, finish, reap, all_pids, wait_gone, kill  # noqa: E402

sys.path.insert(0, os.path.abspath("build/py"))

CRIU = os.path.abspath(os.environ.get("CRIU_BIN", "criu/criu"))
CRIT = os.path.abspath("crit")
PY = "/usr/bin/python3"
HOLDER = r"""
import ctypes, fcntl, socket, struct, sys, time
libc = ctypes.CDLL(None, use_errno=True)
if libc.unshare(0x40000000):
    sys.exit(1)
if sys.argv[2] == "up":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    fcntl.ioctl(s, 0x8914, struct.pack("16sH22s", b"lo", 0x1 | 0x8 | 0x40, b""))
    s.close()
open(sys.argv[1], "w").write("ready")
while True:
    time.sleep(100)
"""

# U: UTS and time namespaces of its own (clocks ahead), entered by itself
OTHER = r"""
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
if libc.unshare(0x04000000 | 0x80):
    sys.exit(1)
with open("/proc/self/timens_offsets", "w") as f:
    f.write("monotonic 100000 0")
fd = os.open("/proc/self/ns/time_for_children", os.O_RDONLY)
if libc.setns(fd, 0x80):
    sys.exit(1)
open(sys.argv[1], "w").write("ready")
while True:
    time.sleep(100)
"""


def ns_of(pid, kind):
    return os.stat("/proc/%d/ns/%s" % (pid, kind)).st_ino


def netns(pid):
    return ns_of(pid, "net")


def lo_up(pid):
    """lo has ::1 once it is up."""
    with open("/proc/%d/net/if_inet6" % pid) as f:
        return any(line.split()[-1] == "lo" for line in f if line.strip())


def start_holder(work, lo, prog=HOLDER):
    ready = os.path.join(work, "ready")
    if os.path.exists(ready):
        os.unlink(ready)
    p = subprocess.Popen([PY, "-S", "-c", prog, ready, lo], start_new_session=True,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(500):
        if os.path.exists(ready):
            return p.pid
        time.sleep(0.01)
    raise RuntimeError("holder did not start")


def criu(*args, pass_fds=()):
    r = subprocess.run([CRIU] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       pass_fds=pass_fds)
    reap()
    return r.returncode, r.stdout


def dump(pid, d, *extra):
    os.makedirs(d, exist_ok=True)
    rc, _ = criu("dump", "-t", str(pid), "-D", d, "-o", "dump.log", "-v4", *extra)
    return rc == 0 and wait_gone(pid)


def restore(d, log, *extra, pass_fds=()):
    """The restored root's pid, or None."""
    pidfile = os.path.join(d, "rpid")
    if os.path.exists(pidfile):
        os.unlink(pidfile)
    rc, out = criu("restore", "-d", "-D", d, "-o", log, "-v4", "--pidfile", pidfile, *extra, pass_fds=pass_fds)
    if rc:
        path = os.path.join(d, log)
        text = open(path).read() if os.path.exists(path) else ""
        print("# exit %d: %s" % (rc, (text[-1500:] or out[-500:]).replace("\n", "\n# ")))
        return None
    with open(pidfile) as f:
        return int(f.read())


def refused(d, log, text, *extra):
    before = all_pids()
    rc, _ = criu("restore", "-d", "-D", d, "-o", log, "-v4", *extra)
    time.sleep(0.05)
    reap()
    path = os.path.join(d, log)
    logtext = open(path).read() if os.path.exists(path) else ""
    return rc != 0 and text in logtext and not (all_pids() - before)


def main():
    if not os.access(CRIU, os.X_OK):
        print("# SKIP: criu/criu is not built")
        return 77
    work = tempfile.mkdtemp(prefix="criu-netns.")
    mine = netns(os.getpid())
    target = start_holder(work, "down")
    tns = netns(target)

    # 1. the plain round trip
    h = start_holder(work, "up")
    d = os.path.join(work, "plain")
    ok(lo_up(h) and netns(h) != mine, "holder %d has its own namespace with lo up" % h)
    ok(dump(h, d), "dump of the holder")
    r = restore(d, "restore.log")
    ok(r and netns(r) not in (mine, tns) and lo_up(r), "restored: a new namespace, lo up")
    if r:
        kill(r)

    # 2. --empty-ns net and setup-namespaces
    script = os.path.join(work, "script.sh")
    seen = os.path.join(work, "seen")
    with open(script, "w") as f:
        f.write('#!/bin/sh\n[ "$CRTOOLS_SCRIPT_ACTION" = setup-namespaces ] && '
                'readlink /proc/$CRTOOLS_INIT_PID/ns/net > %s\nexit 0\n' % seen)
    os.chmod(script, 0o755)
    r = restore(d, "restore-empty.log", "--empty-ns", "net", "--action-script", script)
    ok(r and netns(r) not in (mine, tns) and not lo_up(r), "--empty-ns net: a new namespace, lo down")
    ok(r and os.path.exists(seen) and open(seen).read().strip() == "net:[%d]" % netns(r),
       "--empty-ns net: setup-namespaces ran on the restored root's namespace")
    if r:
        kill(r)

    # 3. --join-ns
    for how in (str(target), "/proc/%d/ns/net" % target):
        r = restore(d, "restore-join.log", "--join-ns", "net:" + how)
        ok(r and netns(r) == tns and not lo_up(r), "--join-ns net:%s: in the target's namespace" % how)
        if r:
            kill(r)
    ok(refused(d, "restore-join-bad.log", "is not a net namespace", "--join-ns", "net:/proc/self/ns/uts"),
       "--join-ns net:<a uts namespace> is refused, nothing left")
    other = start_holder(work, "-", OTHER)
    ok(ns_of(other, "uts") != ns_of(os.getpid(), "uts") and ns_of(other, "time") != ns_of(os.getpid(), "time"),
       "U %d has UTS and time namespaces of its own" % other)
    r = restore(d, "restore-join-uts-time.log", "--join-ns", "uts:%d" % other, "--join-ns", "time:%d" % other)
    ok(r and ns_of(r, "uts") == ns_of(other, "uts") and ns_of(r, "time") == ns_of(other, "time") and
       netns(r) not in (mine, tns), "--join-ns uts:PID time:PID: in U's UTS and time namespaces, a new network one")
    if r:
        kill(r)
    kill(other)

    # 4. --external net[INO]:KEY, --inherit-fd fd[N]:KEY
    h = start_holder(work, "up")
    d = os.path.join(work, "ext")
    ino = netns(h)
    ok(dump(h, d, "--external", "net[%d]:mynet" % ino), "dump with --external net[%d]:mynet" % ino)
    ok(refused(d, "restore-ext-missing.log", "was external (key mynet)"),
       "restore without --inherit-fd for mynet is refused, nothing left")
    fd = os.open("/proc/%d/ns/net" % target, os.O_RDONLY)
    os.dup2(fd, 57)
    os.close(fd)
    r = restore(d, "restore-ext.log", "--inherit-fd", "fd[57]:mynet", pass_fds=(57,))
    os.close(57)
    ok(r and netns(r) == tns, "--inherit-fd fd[57]:mynet: in the namespace given")
    if r:
        kill(r)

    # 5. RPC
    try:
        import pycriu.criu
    except ImportError:
        pycriu = None
    ok(pycriu is not None, "pycriu is importable (make pycriu)")
    if pycriu:
        for what in ("join_ns", "empty_ns"):
            c = pycriu.criu.criu()
            c.use_binary(CRIU)
            dfd = os.open(os.path.join(work, "plain"), os.O_RDONLY | os.O_DIRECTORY)
            c.opts.images_dir_fd = dfd
            c.opts.log_file = "rpc-%s.log" % what
            c.opts.log_level = 4
            if what == "join_ns":
                j = c.opts.join_ns.add()
                j.ns = "net"
                j.ns_file = "/proc/%d/ns/net" % target
            else:
                c.opts.empty_ns = 0x40000000
            try:
                r = c.restore().restore.pid
            except Exception as e:
                print("# %s" % e)
                r = None
            os.close(dfd)
            reap()
            if what == "join_ns":
                ok(r and netns(r) == tns, "RPC join_ns: in the target's namespace")
            else:
                ok(r and netns(r) not in (mine, tns) and not lo_up(r), "RPC empty_ns: a new namespace, lo down")
            if r:
                kill(r)

    # 6. a user namespace of the tree in the images: CRIU's userns-ID.img alone is refused, with ours it is made
    d = os.path.join(work, "plain-user")
    shutil.copytree(os.path.join(work, "plain"), d)
    core = [f for f in os.listdir(d) if f.startswith("core-") and not f.startswith("core-ext")][0]
    js = subprocess.run([CRIT, "decode", "-i", os.path.join(d, core)], stdout=subprocess.PIPE).stdout
    img = json.loads(js)
    img["entries"][0]["ids"]["user_ns_id"] = 999
    subprocess.run([CRIT, "encode", "-o", os.path.join(d, core)], input=json.dumps(img).encode())
    ext = [{"first": 0, "lower_first": 0, "count": 1}, {"first": 1, "lower_first": 200000, "count": 1000}]
    userns = {"magic": "USERNS", "entries": [{"uid_map": ext, "gid_map": ext}]}
    subprocess.run([CRIT, "encode", "-o", os.path.join(d, "userns-999.img")], input=json.dumps(userns).encode())
    ok(refused(d, "restore-user.log", "has no userns-ext-999.img", "--skip-image-check"),
       "a user namespace without our userns-ext image (CRIU's dump) is refused before anything starts, nothing left")
    userns_ext = {"magic": "USERNS_EXT", "entries": [{"setgroups_deny": True}]}
    subprocess.run([CRIT, "encode", "-o", os.path.join(d, "userns-ext-999.img")],
                   input=json.dumps(userns_ext).encode())
    r = restore(d, "restore-user2.log", "--skip-image-check")
    uid_map = open("/proc/%d/uid_map" % r).read().split() if r else []
    setgroups = open("/proc/%d/setgroups" % r).read().strip() if r else ""
    ok(r and ns_of(r, "user") != ns_of(os.getpid(), "user") and uid_map == "0 0 1 1 200000 1000".split() and
       setgroups == "deny", "with userns-ext-999.img: the root is in a user namespace of its own with the maps")
    if r:
        kill(r)

    kill(target)
    return finish()


if __name__ == "__main__":
    sys.exit(main())

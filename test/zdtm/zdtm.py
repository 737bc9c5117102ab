#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""zdtm runner: start each test, checkpoint and restore it with criu, then ask
it (SIGTERM) to check its state and read its verdict.

    python3 test/zdtm/zdtm.py run [-t NAME ...] [--all] [--nocr | --norst]
                                  [--iters N] [--flavor ns|h|ct] [-v]
    python3 test/zdtm/zdtm.py list

Modes:
  default   dump (the task is killed), restore -d, SIGTERM the restored task
  --norst   dump --leave-running, then SIGTERM the original task
  --nocr    no criu at all: start the test and SIGTERM it (checks the test)
  --iters N dump (and restore) N times before the SIGTERM
  --rpc     dump and restore through criu's RPC (criu swrk), as runtimes
            do: test/build/zdtm/criu-rpc sends the requests
  --criu-dump BIN, --criu-restore BIN
            another criu for the dumps or the restores (test/others/interop
            runs upstream CRIU for one of them); with --criu-dump, crfail
            tests are skipped (they are about our dump's refusals)

Per-test options live in test/zdtm/static/NAME.desc, either a python dict
literal or key=value lines:
  opts, dopts, ropts  extra criu options for both / dump / restore (shell words);
                      {tmp} in them is the test's own temporary directory, made
                      fresh for each run (the test has it in $ZDTM_TMP), so
                      that two runs at once never share a path
  crfail              the dump must fail, and the task must survive and pass
  dfault              a dump step to fail on purpose (criu's CRIU_FAULT test hook,
                      e.g. before-inventory: everything is dumped, then the dump fails)
  feature             `criu check --feature X` must succeed for each X, else SKIP
  flavor              flavors the test may run in (ns, h, ct), else SKIP
  hugepages           2 MiB huge pages the test needs free: the runner raises
                      /proc/sys/vm/nr_hugepages for the test and lowers it after;
                      SKIP when the kernel can't give them
  norst               always run in --norst mode
  pidns               the pidfile names the init of the test's own pid namespace:
                      criu restores the pids inside it only, so the restored root
                      gets a new pid (criu's pidfile tells it) and the /proc
                      comparison is made with the pids seen inside the namespace
  timeout             seconds allowed for each step (default 30)
  tty                 a shell job on a terminal: see run_shell_job(); dump and
                      restore get --shell-job

After every successful dump, crit_check.py checks the images
test/unit/crit-check.sh names with our crit's pycriu (build/py): each must
decode and encode back to the same bytes. When Debian's crit (package criu)
is installed, a second crit_check.py --debian decodes them with it too. A
rejection fails the test (--no-crit: off).

The runner is a child subreaper and reaps everything it starts. By default
it re-executes itself as init of a new pid namespace (unshare --pid --net
--fork --mount-proc) so that pids freed by a dump stay free for the restore;
the new network namespace (its loopback up) is shared by the runner, criu
and the tests, so a test can use 127.0.0.1 and ::1 without touching the
host (criu dumps only tasks in its own network namespace).
--flavor ct runs each test as a container runtime runs a container: inside
fresh mount, pid, network (lo up), IPC and UTS namespaces, with a root of its
own (test/build/zdtm/ns-root makes it: RUN_DIR/.ct-root bound read-only with
/usr, /lib*, /bin, /sbin, /etc and the source tree bound read-only, the
test's run directory read-write, /dev and /dev/pts bound, tmpfs on /tmp and
/dev/shm, the new pid namespace's proc on /proc). ns-root's init is pid 1
there and the root task criu dumps (a SIGTERM to it goes on to the test);
criu runs outside, the binds are named --external mnt[PATH]:KEY at dump and
restore gets --root RUN_DIR/.ct-root and each KEY's path, as runtimes do.
The tree is compared as seen from that pid namespace. tty tests are skipped.
One line is printed per test, then "zdtm: N passed, N failed, N skipped"
(--label WORD replaces "zdtm").
"""

import argparse
import ast
import ctypes
import difflib
import fcntl
import json
import os
import re
import select
import shlex
import socket
import shutil
import signal
import subprocess
import sys
import tempfile
import termios
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STATIC_DIR = os.path.join(ROOT, "test", "zdtm", "static")
BIN_DIR = os.path.join(ROOT, "test", "build", "zdtm", "static")
RUN_DIR = os.path.join(ROOT, "test", "build", "zdtm", "run")
RUN_LOCK = None
CT_ROOT = None          # the ct flavour's root directory: RUN_DIR/.ct-root
DEFAULT_CRIU = os.path.join(ROOT, "criu", "criu")
RPC_CLIENT = os.path.join(ROOT, "test", "build", "zdtm", "criu-rpc")
CRIT_CHECK = os.path.join(ROOT, "test", "zdtm", "crit_check.py")
CRIT_PYTHON = "/usr/bin/python3"       # Debian's, with python3-protobuf
DEBIAN_CRIT = "/usr/bin/crit"          # Debian's crit (package criu): an optional second check

PR_SET_CHILD_SUBREAPER = 36
PIDNS_ENV = "ZDTM_IN_PIDNS"
DEFAULT_TIMEOUT = 30
LOG_TAIL = 25

DESC_KEYS = {
    "opts": "words", "dopts": "words", "ropts": "words",
    "crfail": "bool", "crfail_log": "str", "dfault": "str", "norst": "bool", "pidns": "bool",
    "feature": "list", "flavor": "list",
    "timeout": "int", "tty": "bool", "rst_changes": "list", "hugepages": "int",
}
FLAVORS = ("ns", "h", "ct")
NSROOT = os.path.join(ROOT, "test", "build", "zdtm", "ns-root")
# ct: what ns-root binds into the test's root, read-only, at the same paths
CT_RO_BINDS = ("/usr", "/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin", "/etc", ROOT)


class TestFailed(Exception):
    """A test failed: reason plus (title, lines) blocks to show."""

    def __init__(self, reason, tails=()):
        super().__init__(reason)
        self.reason = reason
        self.tails = list(tails)


NR_HUGEPAGES = "/proc/sys/vm/nr_hugepages"


def huge_pages_free():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("HugePages_Free:"):
                return int(line.split()[1])
    return 0


def huge_pages_add(n):
    """Raise nr_hugepages so that n more 2 MiB pages are free (relative: another run's
    pages stay); returns how many were added, after lowering it back when the kernel
    could not give them all (then TestSkipped)."""
    with open(NR_HUGEPAGES) as f:
        before = int(f.read())
    with open(NR_HUGEPAGES, "w") as f:
        f.write(str(before + n))
    with open(NR_HUGEPAGES) as f:
        got = int(f.read()) - before
    if got < n:
        huge_pages_drop(got)
        raise TestSkipped("the kernel gives %d of the %d 2 MiB huge pages the test needs (%s)"
                          % (max(got, 0), n, NR_HUGEPAGES))
    return got


def huge_pages_drop(n):
    if n <= 0:
        return
    with open(NR_HUGEPAGES) as f:
        now = int(f.read())
    with open(NR_HUGEPAGES, "w") as f:
        f.write(str(max(now - n, 0)))


class TestSkipped(Exception):
    pass


class DescError(Exception):
    pass


# ---------------------------------------------------------------- .desc files

def desc_value(key, kind, val):
    if kind == "bool":
        if isinstance(val, bool):
            return val
        if isinstance(val, int):
            return val != 0
        s = str(val).strip().lower()
        if s in ("", "1", "yes", "true", "y"):
            return True
        if s in ("0", "no", "false", "n"):
            return False
        raise DescError("%s: not a boolean: %r" % (key, val))
    if kind == "int":
        try:
            n = int(val)
        except (TypeError, ValueError):
            raise DescError("%s: not an integer: %r" % (key, val))
        if n <= 0:
            raise DescError("%s: must be positive" % key)
        return n
    if kind == "words":
        if isinstance(val, (list, tuple)):
            return [str(v) for v in val]
        try:
            return shlex.split(str(val))
        except ValueError as e:
            raise DescError("%s: %s" % (key, e))
    if kind == "str":
        return str(val)
    if kind == "list":
        if isinstance(val, (list, tuple)):
            return [str(v) for v in val]
        return str(val).replace(",", " ").split()
    raise AssertionError(kind)


def parse_desc_text(text):
    """A dict literal, or key=value lines ('#' comments; a bare key is true)."""
    body = "\n".join(l for l in text.splitlines() if not l.strip().startswith("#")).strip()
    if not body:
        return {}
    if body.startswith("{"):
        try:
            raw = ast.literal_eval(body)
        except (ValueError, SyntaxError) as e:
            raise DescError("bad dict literal: %s" % e)
        if not isinstance(raw, dict):
            raise DescError("not a dict")
        return raw
    raw = {}
    for line in body.splitlines():
        line = line.strip()
        if not line:
            continue
        key, sep, val = line.partition("=")
        raw[key.strip()] = val.strip() if sep else ""
    return raw


def load_desc(name):
    desc = {"opts": [], "dopts": [], "ropts": [], "crfail": False, "crfail_log": "", "dfault": "", "norst": False,
            "pidns": False,
            "tty": False, "feature": [], "flavor": list(FLAVORS), "timeout": DEFAULT_TIMEOUT, "rst_changes": [],
            "hugepages": 0}
    path = os.path.join(STATIC_DIR, name + ".desc")
    if not os.path.exists(path):
        return desc
    with open(path) as f:
        raw = parse_desc_text(f.read())
    for key, val in raw.items():
        if key not in DESC_KEYS:
            raise DescError("%s: unknown key %r (known: %s)" %
                            (os.path.relpath(path, ROOT), key, ", ".join(sorted(DESC_KEYS))))
        desc[key] = desc_value(key, DESC_KEYS[key], val)
    bad = [f for f in desc["flavor"] if f not in FLAVORS]
    if bad:
        raise DescError("flavor: unknown %s (known: %s)" % (bad, ", ".join(FLAVORS)))
    return desc


# ---------------------------------------------------------- processes & reaping

def proc_stat(pid):
    """(state, ppid) of pid, or None if it does not exist."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    rest = data[data.rindex(")") + 2:].split()
    return rest[0], int(rest[1])


def is_alive(pid):
    st = proc_stat(pid)
    return st is not None and st[0] not in ("Z", "X")


def all_pids():
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def descendants(root):
    """Every process below root (pid list, parents before children)."""
    children = {}
    for pid in all_pids():
        st = proc_stat(pid)
        if st:
            children.setdefault(st[1], []).append(pid)
    out, todo = [], [root]
    while todo:
        for c in children.get(todo.pop(0), []):
            out.append(c)
            todo.append(c)
    return out


class Reaper:
    """Reaps all our children (we are a subreaper) and keeps their statuses."""

    def __init__(self):
        self.status = {}

    def reap(self):
        while True:
            try:
                pid, st = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.status[pid] = st

    def wait(self, pid, timeout):
        """Wait until pid is gone. Returns (gone, status or None)."""
        deadline = time.monotonic() + timeout
        delay = 0.002
        while True:
            self.reap()
            if pid in self.status:
                return True, self.status.pop(pid)
            st = proc_stat(pid)
            if st is None or (st[0] in ("Z", "X") and st[1] != os.getpid()):
                return True, None       # gone, and not ours to reap
            if time.monotonic() >= deadline:
                return False, None
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    def kill_all_below(self, root, keep=()):
        """SIGKILL every descendant of root but the pids in keep (and their
        descendants) and reap them. Returns their pids."""
        killed = []
        for _ in range(100):
            kept = set(keep)
            for k in keep:
                kept.update(descendants(k))
            below = [p for p in descendants(root) if p not in kept]
            pids = [p for p in below if is_alive(p)]
            self.reap()
            if not pids and not [p for p in descendants(root) if p not in kept]:
                break
            for p in pids:
                try:
                    os.kill(p, signal.SIGKILL)
                    if p not in killed:
                        killed.append(p)
                except ProcessLookupError:
                    pass
            time.sleep(0.05)
            self.reap()
        self.status.clear()
        return killed


def remove_tmp(path):
    """A test's temporary directory, with what the test mounted under it in the runner's
    namespace (deepest first, detached)."""
    try:
        with open("/proc/self/mountinfo") as f:
            mps = [l.split()[4] for l in f]
    except OSError:
        mps = []
    libc = ctypes.CDLL(None, use_errno=True)
    for mp in sorted((m for m in mps if m == path or m.startswith(path + "/")), key=len, reverse=True):
        libc.umount2(mp.encode(), 2)     # MNT_DETACH
    shutil.rmtree(path, ignore_errors=True)


def spawn(argv, cwd, log_path, tty=None, env=None):
    """fork+exec argv in cwd; stdin /dev/null, stdout and stderr appended to log_path,
    or all three on the terminal tty (an fd) when it is given."""
    pid = os.fork()
    if pid:
        return pid
    try:
        os.chdir(cwd)
        if tty is not None:
            for fd in (0, 1, 2):
                os.dup2(tty, fd)
        else:
            fd = os.open("/dev/null", os.O_RDONLY)
            os.dup2(fd, 0)
            os.close(fd)
            fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.close(fd)
        # python ignores these; a test must start with the default actions
        for sig in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGUSR1):
            signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        if env is None:
            os.execv(argv[0], argv)
        os.execve(argv[0], argv, env)
    except BaseException as e:  # noqa: B036 - report anything, then die
        try:
            os.write(2, ("exec %s: %s\n" % (argv[0], e)).encode())
        finally:
            os._exit(127)
    os._exit(127)


def status_str(st):
    if st is None:
        return "exit status unknown"
    if os.WIFEXITED(st):
        return "exited %d" % os.WEXITSTATUS(st)
    if os.WIFSIGNALED(st):
        return "killed by signal %d" % os.WTERMSIG(st)
    return "status 0x%x" % st


def tail(path, n=LOG_TAIL):
    try:
        with open(path, errors="replace") as f:
            lines = f.read().splitlines()
    except OSError as e:
        return ["(cannot read %s: %s)" % (path, e.strerror)]
    if not lines:
        return ["(empty)"]
    return lines[-n:]


# ------------------------------------------------------ before/after compare

STATUS_KEYS = ("Uid", "Gid", "Groups", "Threads", "SigPnd", "ShdPnd", "SigBlk", "SigIgn",
               "SigCgt", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs",
               "Seccomp", "Seccomp_filters", "TracerPid")
O_LARGEFILE = 0o100000


def read_text(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return None


def map_name(name):
    """What of a mapping's name must survive: special names and file paths."""
    if not name or name.startswith("/dev/zero") or name.startswith("/memfd:") \
            or name.startswith("/SYSV"):
        return ""
    return name


def fd_link(link):
    """Inode numbers of pipes and sockets are new after restore, and so are
    those of the namespaces the restore makes (a test of namespace files
    checks itself which namespace its fds name)."""
    for kind in ("pipe:", "socket:", "net:", "uts:", "ipc:", "time:", "user:", "mnt:", "cgroup:", "pid:"):
        if link.startswith(kind + "["):
            return kind + "[*]"
    return link


def cgroup_view(pid, tids):
    """The leader's cgroups and, apart, each set some of its threads are in
    (with how many): a tuple of (count or 0 for the leader, ((hierarchy,
    path), ...)). Compared by cgroup_diff()."""
    def read_set(path):
        text = read_text(path)
        if text is None:
            return None
        return tuple(sorted(tuple(line.rsplit(":", 1)) for line in text.split("\n") if line))
    lead = read_set("/proc/%d/cgroup" % pid)
    sets = {}
    for t in tids:
        cur = read_set("/proc/%d/task/%s/cgroup" % (pid, t))
        if cur is not None and cur != lead:
            sets[cur] = sets.get(cur, 0) + 1
    return ((0, lead),) + tuple(sorted((n, k) for k, n in sets.items()))


def cgroup_diff(before, after):
    """Only the hierarchies both snapshots show are compared: other
    programs on the machine make and destroy named v1 hierarchies (upstream
    zdtm's name=zdtmtst), which come and go in every task's view."""
    def hiers(view):
        return {h for _, cg in view for h, _ in (cg or ())}
    common = hiers(before) & hiers(after)

    def keep(view):
        return tuple((n, tuple(m for m in (cg or ()) if m[0] in common)) for n, cg in view)
    a, b = keep(after), keep(before)
    if a == b:
        return None

    def show(view):
        return "; ".join(("leader " if not n else "%d threads " % n) + " ".join("%s:%s" % m for m in cg)
                         for n, cg in view)
    return "%r, was %r" % (show(a), show(b))


def proc_snapshot(pid):
    """What the runner compares for one process before dump and after restore."""
    snap = {}
    stat = read_text("/proc/%d/stat" % pid)
    if stat is None:
        return None
    comm = stat[stat.index("(") + 1:stat.rindex(")")]
    rest = stat[stat.rindex(")") + 2:].split()
    state = rest[0] if rest[0] in ("Z", "T", "t", "X") else "running/sleeping"
    snap["stat"] = "comm %s state %s ppid %s pgrp %s session %s" % (comm, state, rest[1],
                                                                    rest[2], rest[3])
    if state in ("Z", "X"):
        return snap     # a zombie has nothing else an application could see
    status = read_text("/proc/%d/status" % pid) or ""
    for line in status.splitlines():
        key, _, val = line.partition(":")
        if key in STATUS_KEYS:
            snap["status " + key] = " ".join(val.split())
    try:
        tids = sorted(os.listdir("/proc/%d/task" % pid), key=int)
        snap["tids"] = " ".join(tids)
    except OSError:
        tids = []
    # cgroup membership: a restore into another cgroup is silently wrong, and
    # only the cgroup tests would see it. The leader's, then how many threads
    # are in each set (tids are compared above)
    snap["cgroup"] = cgroup_view(pid, tids)
    # [start, end, perms, name]; neighbours that only differ in where the kernel
    # split them (same perms and name, touching) are merged: that is not visible
    # to the application and the kernel merges differently after restore
    maps = []
    for line in (read_text("/proc/%d/maps" % pid) or "").splitlines():
        f = line.split(None, 5)
        if len(f) < 5:
            continue
        start, end = (int(x, 16) for x in f[0].split("-"))
        name = map_name(f[5].strip() if len(f) > 5 else "")
        if maps and maps[-1][1] == start and maps[-1][2:] == [f[1], name]:
            maps[-1][1] = end
        else:
            maps.append([start, end, f[1], name])
    snap["maps"] = ["%x-%x %s %s" % tuple(m) for m in maps]
    fds = []
    try:
        names = sorted(os.listdir("/proc/%d/fd" % pid), key=int)
    except OSError:
        names = []
    for n in names:
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, n))
        except OSError:
            continue
        info = {}
        for line in (read_text("/proc/%d/fdinfo/%s" % (pid, n)) or "").splitlines():
            k, _, v = line.partition(":")
            info[k] = v.strip()
        try:
            flags = "%o" % (int(info.get("flags", "0"), 8) & ~O_LARGEFILE)
        except ValueError:
            flags = "?"
        fds.append("fd %s -> %s flags %s pos %s" % (n, fd_link(link), flags, info.get("pos", "?")))
    snap["fds"] = fds
    return snap


def ns_ids(pid, tid=None, level=None):
    """(pid, pgid, sid) of a task, or a thread's tid, in its own pid namespace
    (the last column of the NS* lines of its status), or in the namespace
    LEVEL deep (that column). None if unreadable."""
    path = "/proc/%d/status" % pid if tid is None else "/proc/%d/task/%d/status" % (pid, tid)
    ids = {}
    for line in (read_text(path) or "").splitlines():
        key, _, val = line.partition(":")
        if key in ("NSpid", "NSpgid", "NSsid") and val.split():
            col = val.split()
            ids[key] = int(col[-1] if level is None or level >= len(col) else col[level])
    if len(ids) != 3:
        return None
    return ids["NSpid"], ids["NSpgid"], ids["NSsid"]


def ns_level(pid):
    """The column of a task's NSpid line that is its own pid namespace (as
    seen from the runner's): the pids of deeper tasks there are named in it."""
    for line in (read_text("/proc/%d/status" % pid) or "").splitlines():
        key, _, val = line.partition(":")
        if key == "NSpid":
            return len(val.split()) - 1
    return None


def ns_view(snap, root):
    """A tree snapshot keyed and worded by the ids seen inside the pid namespace
    of the tree's root (pidns tests: criu restores those, not the runner's);
    a task in a namespace nested deeper is named as the root's namespace sees it."""
    level = ns_level(root)
    ids = {p: ns_ids(p, level=level) for p in snap}
    out = {}
    for p, s in snap.items():
        if s is None or ids[p] is None:
            out[-p] = s         # gone meanwhile: keyed apart (by minus the runner's pid)
            continue
        s = dict(s)
        head, _, ppid, _, _, _, _ = s["stat"].rsplit(" ", 6)
        parent = ids.get(int(ppid))
        s["stat"] = "%s ppid %d pgrp %d session %d" % (head, parent[0] if parent else 0, ids[p][1], ids[p][2])
        if "tids" in s:
            tids = [ns_ids(p, int(t), level) for t in s["tids"].split()]
            s["tids"] = " ".join(str(t[0]) if t else "?" for t in sorted(tids, key=lambda t: t or (0,)))
        out[ids[p][0]] = s
    return out


def tree_snapshot(root, ns=False):
    snap = {p: proc_snapshot(p) for p in [root] + descendants(root)}
    return ns_view(snap, root) if ns else snap


def settled_snapshot(root, tries=10, pause=0.02, ns=False):
    """Snapshot a tree that may still be settling (a child closing fds after the
    root said ready). Returns the snapshot and the (pid, key) pairs that kept
    changing, which are then left out of the comparison."""
    prev = tree_snapshot(root, ns)
    for _ in range(tries):
        time.sleep(pause)
        cur = tree_snapshot(root, ns)
        if cur == prev:
            return cur, set()
        prev = cur
    time.sleep(pause)
    last = tree_snapshot(root, ns)
    changing = set()
    for pid in set(prev) | set(last):
        a, b = prev.get(pid) or {}, last.get(pid) or {}
        changing |= {(pid, k) for k in set(a) | set(b) if a.get(k) != b.get(k)}
    return last, changing


def snapshot_diff(before, after, changing=frozenset(), limit=30, skip=()):
    """Lines describing every difference between two tree snapshots (but
    for the keys in skip)."""
    out = []
    if sorted(before) != sorted(after):
        out.append("processes %s, were %s" % (sorted(after), sorted(before)))
    for pid in sorted(set(before) & set(after)):
        b, a = before[pid] or {}, after[pid] or {}
        for key in sorted(set(b) | set(a)):
            bv, av = b.get(key), a.get(key)
            if bv == av or (pid, key) in changing or key in skip:
                continue
            if key == "cgroup" and bv and av:
                d = cgroup_diff(bv, av)
                if d:
                    out.append("pid %d cgroup: %s" % (pid, d))
                continue
            if isinstance(bv, list) or isinstance(av, list):
                for d in difflib.unified_diff(bv or [], av or [], lineterm="", n=0):
                    if not d.startswith(("---", "+++", "@@")):
                        out.append("pid %d %s: %s" % (pid, key, d))
            else:
                out.append("pid %d %s: %r, was %r" % (pid, key, av, bv))
    if len(out) > limit:
        out = out[:limit] + ["... %d more" % (len(out) - limit)]
    return out


# -------------------------------------------------------------------- runner

class Runner:
    def __init__(self, args):
        self.args = args
        self.criu = os.path.abspath(args.criu)
        # --rpc: the same command lines, sent as RPC requests by the client
        self.criu_cmd = [RPC_CLIENT, self.criu] if args.rpc else [self.criu]
        # --criu-dump / --criu-restore: another criu for one of the two steps
        # (test/others/interop: dumped by one criu, restored by the other)
        self.dump_cmd = [os.path.abspath(args.criu_dump)] if args.criu_dump else self.criu_cmd
        self.lazy_src = None	# --lazy-migrate: (pid, port) of the dump serving its pages
        self.restore_cmd = [os.path.abspath(args.criu_restore)] if args.criu_restore else self.criu_cmd
        self.reaper = Reaper()
        self.me = os.getpid()
        self.counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
        self.tty = None         # the terminal of a tty test (see run_shell_job)
        self.crit_why = "--no-crit" if args.no_crit else None
        self.crits = []         # the CritCheckers, started by run()

    def vlog(self, msg):
        if self.args.verbose:
            print("    . " + msg, flush=True)

    # -- criu invocations
    def criu_run(self, argv, cwd, log_name, timeout, on_tty=False, cmd=None, env=None):
        """Run criu; returns (rc or None on timeout, path of its output file).
        on_tty: stdin, stdout and stderr on the test's terminal (what criu
        prints goes to the terminal's transcript, the test's log)."""
        out = os.path.join(cwd, log_name + ".out")
        cmd = (cmd or self.criu_cmd) + argv
        self.vlog("run " + " ".join(shlex.quote(a) for a in cmd))
        pid = spawn(cmd, cwd, out, tty=self.tty["slave"] if on_tty else None, env=env)
        gone, st = self.reaper.wait(pid, timeout)
        if on_tty:
            self.tty_drain()
        if not gone:
            os.kill(pid, signal.SIGKILL)
            self.reaper.wait(pid, 5)
            return None, out
        if st is None or not os.WIFEXITED(st):
            return -1, out
        return os.WEXITSTATUS(st), out

    def crit_check(self, t, ddir):
        """crit must read the images of every successful dump: the images
        test/unit/crit-check.sh names, checked by crit_check.py --serve
        processes kept for the whole run (ours, and Debian's when it is
        installed). Their answers are kept in DIR/crit-check[-debian].out."""
        for checker in self.crits:
            rc, lines = checker.check(ddir, t["timeout"], self.reaper)
            out = os.path.join(ddir, "crit-check%s.out" % checker.suffix)
            with open(out, "w") as f:
                f.write("".join(l + "\n" for l in lines))
            if rc == 0:
                continue
            bad = [l for l in lines if l.startswith("not ok")] or lines[-1:] or ["(no output)"]
            why = bad[0].split(" - ", 1)[-1]
            if rc is None:
                why = "the checker failed: " + why
            raise TestFailed("%s rejects %s: %s" % (checker.who, os.path.basename(ddir), why),
                             [(os.path.relpath(out, ROOT), bad[:LOG_TAIL])])

    def check_features(self, features, timeout):
        for feat in features:
            d = os.path.join(RUN_DIR, ".check")
            os.makedirs(d, exist_ok=True)
            rc, _ = self.criu_run(["check", "--feature", feat], d, "check-" + feat, timeout)
            if rc != 0:
                raise TestSkipped("feature %s not supported" % feat)

    def criu_logs(self, ddir, log, out):
        blocks = [(os.path.relpath(os.path.join(ddir, log), ROOT),
                   tail(os.path.join(ddir, log)))]
        if os.path.exists(out) and os.path.getsize(out):
            blocks.append((os.path.relpath(out, ROOT), tail(out, 10)))
        return blocks

    # -- one test
    def test_logs(self, t):
        self.tty_drain()
        return [(os.path.relpath(t["log"], ROOT), tail(t["log"], 10))]

    # -- the ct flavour: the test in namespaces and a root of its own (ns-root)
    def ct_binds(self, t):
        """(path, read-only) of what ns-root binds into the root: the paths
        that are mounts there (a symlink is copied, not bound)."""
        binds = [(p, True) for p in CT_RO_BINDS] + [(t["dir"], False), ("/dev", False), ("/dev/pts", False)]
        return [(p, ro) for p, ro in binds if os.path.exists(p) and not os.path.islink(p)]

    def ct_external(self, t, dump):
        """--external for each bind: mnt[PATH]:KEY at dump, mnt[KEY]:PATH at restore."""
        out = []
        for p, _ in self.ct_binds(t):
            key = "zdtm" + re.sub(r"[^A-Za-z0-9]", "_", p)
            out += ["--external", "mnt[%s]:%s" % ((p, key) if dump else (key, p))]
        return out

    def ct_argv(self, t):
        argv = [NSROOT, "-r", CT_ROOT, "-p", t["pidfile"], "-l", t["log"], "-c", t["dir"]]
        argv += [w for p in CT_RO_BINDS if os.path.lexists(p) for w in ("-b", p)]
        argv += ["-w", t["dir"]]        # /dev and /dev/pts: ns-root's own
        return argv + ["--", t["bin"], t["outfile"]]

    def desc_words(self, t, key):
        """The .desc's criu options, {tmp} replaced by the test's temporary directory."""
        return [w.replace("{tmp}", t["tmp"]) for w in t["desc"][key]]

    def start(self, t):
        argv = [t["bin"], "--pidfile=" + t["pidfile"], "--outfile=" + t["outfile"]]
        if self.args.flavor == "ct":
            argv = self.ct_argv(t)
        tty, env = None, dict(os.environ, ZDTM_TMP=t["tmp"])
        if self.tty:
            argv.append("--shell-job")
            tty = self.tty["slave"]
            env.update(ZDTM_TTY_RDEV=self.tty["rdev"], ZDTM_TTY_MARK=self.tty["mark"])
        launcher = spawn(argv, t["dir"], t["log"], tty=tty, env=env)
        gone, st = self.reaper.wait(launcher, t["timeout"])
        self.tty_drain()
        if not gone:
            raise TestFailed("not ready after %ds" % t["timeout"], self.test_logs(t))
        if st is None or not os.WIFEXITED(st) or os.WEXITSTATUS(st) != 0:
            raise TestFailed("start failed (launcher %s)" % status_str(st),
                             self.test_logs(t) + self.verdict_block(t))
        try:
            with open(t["pidfile"]) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError) as e:
            raise TestFailed("bad pidfile: %s" % e, self.test_logs(t))
        if not is_alive(pid):
            raise TestFailed("test pid %d is not running after start" % pid, self.test_logs(t))
        self.vlog("test started, pid %d (launcher %d, runner %d)" % (pid, launcher, self.me))
        return pid

    def dump(self, t, pid, it, leave_running):
        ddir = os.path.join(t["dir"], "dump-%d" % it)
        os.makedirs(ddir)
        argv = ["dump", "-t", str(pid), "-D", ddir, "-o", "dump.log", "-v4"]
        if leave_running:
            argv.append("--leave-running")
        if t["desc"]["tty"]:
            argv.append("--shell-job")
        if self.args.flavor == "ct":
            argv += self.ct_external(t, True)
        argv += self.desc_words(t, "opts") + self.desc_words(t, "dopts")
        env = dict(os.environ, CRIU_FAULT=t["desc"]["dfault"]) if t["desc"]["dfault"] else None
        if self.args.lazy_migrate and not leave_running and not t["desc"]["crfail"]:
            return self.dump_lazy(t, argv, ddir, env)
        ps = self.start_page_server(t, ddir, argv) if self.args.page_server else None
        rc, out = self.criu_run(argv, ddir, "dump", t["timeout"], cmd=self.dump_cmd, env=env)
        if ps:
            rc = self.end_page_server(t, ps, ddir, rc)
        return ddir, rc, out

    def start_page_server(self, t, ddir, argv):
        """--page-server: criu page-server on the dump's own dir (as upstream zdtm runs it); the dump
        sends its pages there (argv gets --page-server). Returns the server's pid once it listens."""
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        cmd = [self.criu, "page-server", "-D", ddir, "--address", "127.0.0.1", "--port", str(port),
               "-o", "page-server.log", "-v4"]
        self.vlog("run (in the background) " + " ".join(shlex.quote(a) for a in cmd))
        pid = spawn(cmd, ddir, os.path.join(ddir, "page-server.out"))
        deadline = time.monotonic() + t["timeout"]
        while time.monotonic() < deadline:
            if "serving on port" in (read_text(os.path.join(ddir, "page-server.log")) or ""):
                break
            gone, _ = self.reaper.wait(pid, 0.02)
            if gone:
                break
        argv += ["--page-server", "--address", "127.0.0.1", "--port", str(port)]
        return pid

    def end_page_server(self, t, pid, ddir, rc):
        """The page server ends with the dump's session: 0 when the dump and it both did."""
        gone, st = self.reaper.wait(pid, t["timeout"] if rc == 0 else 5)
        if not gone:
            os.kill(pid, signal.SIGKILL)
            self.reaper.wait(pid, 5)
        ok = gone and st is not None and os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0
        if rc == 0 and not ok:
            raise TestFailed("the page server failed (%s)" % status_str(st if gone else None),
                             self.criu_logs(ddir, "page-server.log", os.path.join(ddir, "page-server.out")))
        return rc

    def dump_lazy(self, t, argv, ddir, env):
        """--lazy-migrate: dump --lazy-pages in the background, until it says it serves its pages
        (then the tree stays stopped: self.lazy_src is the dump's pid and port), or it ends."""
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        out = os.path.join(ddir, "dump.out")
        argv = argv + ["--lazy-pages", "--address", "127.0.0.1", "--port", str(port)]
        self.vlog("run (in the background) " + " ".join(shlex.quote(a) for a in self.dump_cmd + argv))
        pid = spawn(self.dump_cmd + argv, ddir, out, env=env)
        deadline = time.monotonic() + t["timeout"]
        while time.monotonic() < deadline:
            gone, st = self.reaper.wait(pid, 0.02)
            if gone:
                return ddir, os.WEXITSTATUS(st) if st is not None and os.WIFEXITED(st) else -1, out
            if "serving the pages left in the tree" in (read_text(os.path.join(ddir, "dump.log")) or ""):
                self.lazy_src = (pid, port)
                return ddir, 0, out
        os.kill(pid, signal.SIGKILL)
        self.reaper.wait(pid, 5)
        return ddir, None, out

    def end_lazy_dump(self, t, tree, ddir):
        """--lazy-migrate, after the restore: the dump ends 0 once every page was served, its tree gone."""
        pid, _ = self.lazy_src
        self.lazy_src = None
        out = os.path.join(ddir, "dump.out")
        gone, st = self.reaper.wait(pid, t["timeout"])
        if not gone:
            os.kill(pid, signal.SIGKILL)
            self.reaper.wait(pid, 5)
            raise TestFailed("dump --lazy-pages still runs %ds after the restore" % t["timeout"],
                             self.criu_logs(ddir, "dump.log", out))
        if st is None or not os.WIFEXITED(st) or os.WEXITSTATUS(st) != 0:
            raise TestFailed("dump --lazy-pages failed while it served (%s)" % status_str(st),
                             self.criu_logs(ddir, "dump.log", out))
        self.wait_tree_gone(t, tree, ddir, out)

    def restore(self, t, ddir, pid):
        """Restore; returns the restored root's pid (a new one for a pidns test)."""
        pidfile = os.path.join(ddir, "restore.pid")
        argv = ["restore", "-d", "-D", ddir, "-o", "restore.log", "-v4", "--pidfile", pidfile]
        if t["desc"]["tty"]:
            argv.append("--shell-job")
        if self.args.flavor == "ct":
            argv += ["--root", CT_ROOT] + self.ct_external(t, False)
        argv += self.desc_words(t, "opts") + self.desc_words(t, "ropts")
        lazy_pid = self.start_lazy_pages(t, ddir) if self.args.lazy_pages or self.lazy_src else None
        if lazy_pid:
            argv.append("--lazy-pages")
        # a shell job is restored from its shell: criu hands its own terminal on
        rc, out = self.criu_run(argv, ddir, "restore", t["timeout"], on_tty=bool(self.tty),
                                cmd=self.restore_cmd)
        logs = self.criu_logs(ddir, "restore.log", out)
        if lazy_pid:
            self.wait_lazy_pages(t, ddir, lazy_pid, rc == 0)
        if rc is None:
            raise TestFailed("restore timed out after %ds" % t["timeout"], logs)
        if rc != 0:
            raise TestFailed("restore failed (exit %d)" % rc, logs)
        try:
            with open(pidfile) as f:
                rpid = int(f.read().strip())
        except (OSError, ValueError) as e:
            raise TestFailed("restore: bad pidfile: %s" % e, logs)
        if rpid != pid and not t["desc"]["pidns"]:
            raise TestFailed("restored pid %d, dumped pid %d" % (rpid, pid), logs)
        pid = rpid
        if not is_alive(pid):
            raise TestFailed("restored task %d is not running" % pid,
                             logs + self.test_logs(t) + self.verdict_block(t))
        self.vlog("restored pid %d, tree %s" % (pid, [pid] + descendants(pid)))
        return pid

    def start_lazy_pages(self, t, ddir):
        """--lazy-pages: criu lazy-pages -d on the images; its pid."""
        pidfile = os.path.join(ddir, "lazy.pid")
        argv = ["lazy-pages", "-d", "-D", ddir, "-o", "lazy.log", "-v4", "--pidfile", pidfile]
        if self.lazy_src:	# --lazy-migrate: the pages left in the stopped tree, from the dump's page server
            argv += ["--page-server", "--address", "127.0.0.1", "--port", str(self.lazy_src[1])]
        rc, out = self.criu_run(argv, ddir, "lazy-pages", t["timeout"], cmd=[self.criu])
        if rc != 0:
            raise TestFailed("criu lazy-pages failed (exit %s)" % rc, self.criu_logs(ddir, "lazy.log", out))
        with open(pidfile) as f:
            return int(f.read().strip())

    def wait_lazy_pages(self, t, ddir, lazy_pid, restored):
        """The daemon must bring every page in and exit (after a failed restore: exit)."""
        gone, _ = self.reaper.wait(lazy_pid, t["timeout"])
        logs = self.criu_logs(ddir, "lazy.log", os.path.join(ddir, "lazy-pages.out"))
        if not gone:
            os.kill(lazy_pid, signal.SIGKILL)
            raise TestFailed("criu lazy-pages still runs %ds after the restore" % t["timeout"], logs)
        with open(os.path.join(ddir, "lazy.log")) as f:
            if restored and "all pages in" not in f.read():
                raise TestFailed("criu lazy-pages ended before every page was in", logs)

    def wait_tree_gone(self, t, tree, ddir, out):
        # criu dump returns only once every task it killed has exited: right now, before
        # any waiting, each one is a zombie (its parent has not reaped it yet) or gone
        for p in tree:
            if is_alive(p):
                raise TestFailed("pid %d still running when criu dump returned" % p,
                                 self.criu_logs(ddir, "dump.log", out))
        deadline = time.monotonic() + t["timeout"]
        for p in tree:
            gone, _ = self.reaper.wait(p, max(0.1, deadline - time.monotonic()))
            if not gone:
                raise TestFailed("pid %d still alive after dump" % p,
                                 self.criu_logs(ddir, "dump.log", out))

    def checkpoint(self, t, pid):
        """Dump (and restore) as the mode asks. Returns the pid to SIGTERM."""
        desc = t["desc"]
        norst = self.args.norst or desc["norst"]
        iters = 1 if desc["crfail"] else self.args.iters
        for it in range(1, iters + 1):
            tree = [pid] + descendants(pid)
            # a pidns test is compared as seen inside its namespace (its pids there are restored)
            before = None if self.args.no_compare else settled_snapshot(pid, ns=desc["pidns"])
            self.vlog("iteration %d: dumping tree %s" % (it, tree))
            ddir, rc, out = self.dump(t, pid, it, norst and not desc["crfail"])
            logs = self.criu_logs(ddir, "dump.log", out)
            if rc is None:
                raise TestFailed("dump timed out after %ds" % t["timeout"], logs)
            if desc["crfail"]:
                if rc == 0:
                    raise TestFailed("dump succeeded, but the test is crfail", logs)
                if not is_alive(pid):
                    raise TestFailed("task %d died after a failed dump" % pid,
                                     logs + self.test_logs(t) + self.verdict_block(t))
                self.vlog("dump failed as expected (exit %d)" % rc)
                want = desc["crfail_log"]
                if want and not re.search(want, read_text(os.path.join(ddir, "dump.log")) or ""):
                    raise TestFailed("dump failed, but dump.log does not match %r" % want, logs)
                self.compare(before, pid, "after the failed dump", logs, desc["pidns"])
                return pid
            if rc != 0:
                raise TestFailed("dump failed (exit %d)" % rc, logs)
            self.crit_check(t, ddir)
            if norst:
                if not is_alive(pid):
                    raise TestFailed("task %d died after dump --leave-running" % pid,
                                     logs + self.test_logs(t) + self.verdict_block(t))
                self.compare(before, pid, "after dump --leave-running", logs, desc["pidns"])
                continue
            if not self.lazy_src:
                self.wait_tree_gone(t, tree, ddir, out)
            self.tty_reclaim()
            lazy_tree = tree if self.lazy_src else None
            try:
                pid = self.restore(t, ddir, pid)
            except TestFailed:
                if self.lazy_src:	# no client will end its session: the dump must not be left serving
                    try:
                        os.kill(self.lazy_src[0], signal.SIGKILL)
                    except ProcessLookupError:
                        pass	# it ended on its own (the daemon went away)
                    self.reaper.wait(self.lazy_src[0], 5)
                    self.lazy_src = None
                raise
            if lazy_tree:
                self.end_lazy_dump(t, lazy_tree, ddir)
            self.compare(before, pid, "after restore",
                         self.criu_logs(ddir, "restore.log", os.path.join(ddir, "restore.out")), desc["pidns"],
                         desc["rst_changes"])
        return pid

    def compare(self, before, pid, when, logs, ns=False, skip=()):
        """The tree must look the same from /proc as before the dump (but
        for what the .desc's rst_changes says a restore changes)."""
        if before is None:
            return
        snap, changing = before
        if changing:
            self.vlog("not compared, they kept changing: %s" % sorted(changing))
        # a task just resumed by criu may still be on its way back into the
        # syscall it sleeps in (sigwaitinfo, ppoll... change the blocked mask
        # while they sleep): only a difference that persists counts
        deadline = time.monotonic() + 1.0
        while True:
            diff = snapshot_diff(snap, tree_snapshot(pid, ns), changing, skip=skip)
            if not diff or time.monotonic() >= deadline:
                break
            time.sleep(0.02)
        if diff:
            raise TestFailed("the tree differs %s (%d differences)" % (when, len(diff)),
                             [("before/after (-/+)", diff)] + logs)

    def verdict_block(self, t):
        try:
            with open(t["outfile"], errors="replace") as f:
                lines = f.read().splitlines()
        except OSError:
            lines = ["(no verdict file)"]
        return [(os.path.relpath(t["outfile"], ROOT), lines or ["(empty)"])]

    def finish(self, t, pid):
        self.tty_drain()
        os.kill(pid, signal.SIGTERM)
        gone, st = self.reaper.wait(pid, t["timeout"])
        if not gone:
            raise TestFailed("no exit %ds after SIGTERM" % t["timeout"],
                             self.test_logs(t) + self.verdict_block(t))
        try:
            with open(t["outfile"], errors="replace") as f:
                lines = [l for l in f.read().splitlines() if l.strip()]
        except OSError:
            lines = []
        fails = [l for l in lines if l.startswith("FAIL")]
        if fails:
            raise TestFailed(fails[0] + (" (+%d more)" % (len(fails) - 1) if len(fails) > 1 else ""),
                             self.test_logs(t) + self.verdict_block(t))
        if lines != ["PASS"]:
            raise TestFailed("no verdict (%s)" % status_str(st),
                             self.test_logs(t) + self.verdict_block(t))
        if st is not None and not (os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0):
            raise TestFailed("verdict PASS but the test %s" % status_str(st), self.test_logs(t))
        if self.tty:
            self.check_tty_mark(t)

    # -- tty tests: the runner plays the shell of a shell job
    def tty_drain(self):
        """Read what is waiting on the pty master into the test's log (the
        terminal's transcript). Returns it as text."""
        if not self.tty:
            return ""
        data = b""
        while True:
            try:
                chunk = os.read(self.tty["master"], 65536)
            except BlockingIOError:
                break
            except OSError:     # EIO: no slave open any more
                break
            if not chunk:
                break
            data += chunk
        if data:
            with open(self.tty["log"], "ab") as f:
                f.write(data)
        return data.decode(errors="replace")

    def tty_reclaim(self):
        """The foreground job is gone (dumped): take the terminal back, as a
        shell does, before criu restore runs. SIGTTOU is blocked: we are not
        the foreground group when we ask."""
        if not self.tty:
            return
        old = signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTTOU])
        try:
            os.tcsetpgrp(self.tty["slave"], os.getpgrp())
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def check_tty_mark(self, t):
        """What the test wrote to fd 1 after SIGTERM (after restore) must have
        reached the runner's pty master: the line "zdtm-tty-mark TOKEN"."""
        want = "zdtm-tty-mark " + self.tty["mark"]
        got = [l.rstrip("\r") for l in self.tty_drain().split("\n")]
        if want not in got:
            raise TestFailed("%r, written to fd 1 at the end, did not reach the pty master" % want,
                             self.test_logs(t))

    def run_shell_job(self, t):
        """Run a tty test as a shell runs a job. A forked copy of the runner (the
        shell) becomes a session leader with a new pty as controlling terminal
        and a child subreaper; the test gets the pty slave as fds 0-2 and
        --shell-job (test_init() puts it in a process group of its own, the
        terminal's foreground group, in the shell's session); criu dump and
        restore get --shell-job, and criu restore runs with fds 0-2 on the pty,
        in the shell's session, so the restored tree gets that terminal back.
        The outcome comes back through a pipe as JSON. Returns the leftovers
        the copy killed; raises TestFailed / TestSkipped as the test did."""
        rfd, wfd = os.pipe()
        sys.stdout.flush()
        child = os.fork()
        if child == 0:
            os.close(rfd)
            res = {"result": "FAIL", "reason": "runner copy died", "blocks": [], "leftovers": []}
            try:
                res = self.shell_job_child(t)
            except BaseException as e:  # noqa: B036 - report anything
                res["reason"] = "runner copy: %s: %s" % (type(e).__name__, e)
            finally:
                try:
                    sys.stdout.flush()
                    with os.fdopen(wfd, "w") as f:
                        json.dump(res, f)
                finally:
                    os._exit(0)
        os.close(wfd)
        with os.fdopen(rfd) as f:
            text = f.read()
        self.reaper.wait(child, 30)
        try:
            res = json.loads(text)
        except ValueError:
            raise TestFailed("the runner's copy for the tty test sent no result (%r)" % text[:200])
        if res["result"] == "SKIP":
            raise TestSkipped(res["reason"])
        if res["result"] == "FAIL":
            raise TestFailed(res["reason"], [(b[0], b[1]) for b in res["blocks"]])
        return res["leftovers"]

    def shell_job_child(self, t):
        os.setsid()
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        os.set_blocking(master, False)
        rdev = os.fstat(slave).st_rdev
        self.tty = {"master": master, "slave": slave, "log": t["log"],
                    "rdev": "%d:%d" % (os.major(rdev), os.minor(rdev)),
                    "mark": "%d-%s" % (os.getpid(), os.urandom(6).hex())}
        set_subreaper()
        self.reaper = Reaper()
        self.me = os.getpid()
        self.vlog("shell %d: session leader of %s (%s)" % (self.me, os.ttyname(slave), self.tty["rdev"]))
        res = {"result": "PASS", "reason": "", "blocks": [], "leftovers": []}
        try:
            self.run_test(t)
        except TestSkipped as e:
            res.update(result="SKIP", reason=str(e))
        except TestFailed as e:
            res.update(result="FAIL", reason=e.reason, blocks=e.tails)
        finally:
            res["leftovers"] = self.reaper.kill_all_below(self.me)
            self.tty_drain()
        return res

    def run_test(self, t):
        pid = self.start(t)
        if not self.args.nocr:
            pid = self.checkpoint(t, pid)
        self.finish(t, pid)

    def prepare(self, name):
        desc = load_desc(name)
        if self.args.flavor not in desc["flavor"]:
            raise TestSkipped("flavor %s not in %s" % (self.args.flavor, desc["flavor"]))
        if self.args.flavor == "ct":
            if desc["tty"]:
                raise TestSkipped("ct: a shell job's terminal is the runner's")
            desc["pidns"] = True    # the root task is ns-root's init, pid 1 of the test's namespace
        if desc["crfail"] and self.args.criu_dump:
            raise TestSkipped("crfail: what our dump refuses, dumped by another criu")
        timeout = self.args.timeout or desc["timeout"]
        if desc["feature"] and not self.args.nocr:
            self.check_features(desc["feature"], timeout)
        t = {"name": name, "desc": desc, "timeout": timeout,
             "bin": script_of(name) or os.path.join(BIN_DIR, name), "dir": os.path.join(RUN_DIR, name)}
        if not os.access(t["bin"], os.X_OK):
            raise TestFailed("not built: %s (make zdtm-progs)" % os.path.relpath(t["bin"], ROOT))
        shutil.rmtree(t["dir"], ignore_errors=True)
        os.makedirs(t["dir"])
        # the test's own temporary directory, unique to this run ({tmp}, $ZDTM_TMP)
        t["tmp"] = tempfile.mkdtemp(prefix="zdtm-%s." % name)
        t["pidfile"] = os.path.join(t["dir"], name + ".pid")
        t["outfile"] = os.path.join(t["dir"], name + ".out")
        t["log"] = os.path.join(t["dir"], name + ".log")
        return t

    def run_one(self, name):
        t0 = time.monotonic()
        result, reason, blocks = "PASS", "", []
        leftovers = []
        huge = 0
        t = None
        try:
            t = self.prepare(name)
            if t["desc"]["hugepages"]:
                huge = huge_pages_add(t["desc"]["hugepages"])
            if t["desc"]["tty"]:
                leftovers = self.run_shell_job(t)
            else:
                self.run_test(t)
        except TestSkipped as e:
            result, reason = "SKIP", str(e)
        except TestFailed as e:
            result, reason, blocks = "FAIL", e.reason, e.tails
        except DescError as e:
            result, reason = "FAIL", "bad .desc: %s" % e
        finally:
            leftovers += self.reaper.kill_all_below(self.me, [p for c in self.crits for p in c.keep()])
            huge_pages_drop(huge)
            if t and t.get("tmp"):
                remove_tmp(t["tmp"])
        self.counts[result] += 1
        line = "%s  %s" % (result, name)
        if reason:
            line += ": " + reason
        if result != "SKIP":
            line += " (%.1fs)" % (time.monotonic() - t0)
        print(line, flush=True)
        for title, lines in blocks:
            print("    --- %s" % title)
            for l in lines:
                print("    | " + l)
        if leftovers:
            print("    note: killed leftover processes %s" % leftovers, flush=True)
        return result

    def mode_name(self):
        if self.args.nocr:
            return "nocr"
        m = "norst (dump --leave-running)" if self.args.norst else "dump+restore"
        if self.args.iters > 1:
            m += " x%d" % self.args.iters
        if self.args.lazy_migrate:
            m += ", lazy migration (dump --lazy-pages, lazy-pages --page-server)"
        if self.args.page_server:
            m += ", pages to a page server on the dump's dir"
        return m

    def run(self, names):
        where = ("runner is pid %d in a new pid namespace" % self.me
                 if self.args.flavor == "ns" else "host pid namespace, runner pid %d" % self.me)
        if self.args.flavor == "ct":
            where = ("each test in mnt, pid, net, ipc and uts namespaces of its own, root %s; runner pid %d"
                     % (os.path.relpath(CT_ROOT, ROOT), self.me))
        print("zdtm: %d tests, mode %s, flavor %s (%s)" %
              (len(names), self.mode_name(), self.args.flavor, where), flush=True)
        if not self.args.nocr:
            if not self.crit_why:
                self.crits = crit_checkers()
                for c in self.crits:
                    c.start()   # here: a tty test's runner copy can't start one for us
            print("zdtm: crit check of every dump: %s" %
                  (("on (%s)" % ", ".join(c.who for c in self.crits)) if self.crits
                   else "off (%s)" % self.crit_why), flush=True)
        for name in names:
            if self.run_one(name) == "FAIL" and self.args.fail_fast:
                print("zdtm: stopping at the first failure (--fail-fast)")
                break
        c = self.counts
        print("%s: %d passed, %d failed, %d skipped" % (self.args.label, c["PASS"], c["FAIL"], c["SKIP"]),
              flush=True)
        return 1 if c["FAIL"] else 0


# ------------------------------------------------------------ crit checks

class CritChecker:
    """One `crit_check.py [--debian] --serve` process for the whole run: a
    dump directory goes in as a line, TAP lines and "# done RC" come back.
    Started again (by the process that started it) if it died."""

    def __init__(self, who, opts, suffix):
        self.who, self.opts, self.suffix = who, opts, suffix
        self.log = os.path.join(RUN_DIR, "crit-check%s.log" % suffix)
        self.pid = None
        self.owner = os.getpid()

    def keep(self):
        return (self.pid,) if self.pid else ()

    def start(self):
        r_in, w_in = os.pipe()
        r_out, w_out = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.dup2(r_in, 0)
                os.dup2(w_out, 1)
                fd = os.open(self.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
                os.dup2(fd, 2)
                os.execv(CRIT_PYTHON, [CRIT_PYTHON, CRIT_CHECK] + self.opts + ["--serve"])
            finally:
                os._exit(127)
        os.close(r_in)
        os.close(w_out)
        self.pid, self.w, self.r, self.buf = pid, w_in, r_out, b""

    def stop(self):
        if self.pid:
            os.close(self.w)
            os.close(self.r)
            self.pid = None

    def check(self, ddir, timeout, reaper):
        """(rc, TAP lines); rc None when the checker died or timed out."""
        if self.pid and (not is_alive(self.pid) or (self.pid in reaper.status)):
            self.stop()
        if not self.pid:
            if os.getpid() != self.owner:
                return None, ["the crit checker is gone (see %s)" % os.path.relpath(self.log, ROOT)]
            self.start()
        try:
            os.write(self.w, (os.path.abspath(ddir) + "\n").encode())
        except OSError as e:
            self.stop()
            return None, ["cannot talk to the crit checker: %s" % e.strerror] + tail(self.log, 5)
        deadline = time.monotonic() + timeout
        lines = []
        while True:
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                line = line.decode(errors="replace")
                m = re.fullmatch(r"# done (\d+)", line)
                if m:
                    return int(m.group(1)), lines
                lines.append(line)
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.r], [], [], left)[0]:
                os.kill(self.pid, signal.SIGKILL)
                self.stop()
                return None, lines + ["timed out after %ds" % timeout]
            chunk = os.read(self.r, 65536)
            if not chunk:
                self.stop()
                return None, lines + ["the crit checker died"] + tail(self.log, 5)
            self.buf += chunk


# ---------------------------------------------------------------- setup

def script_of(name):
    """A test written as an executable script (NAME.py) runs from the source tree."""
    path = os.path.join(STATIC_DIR, name + ".py")
    return path if os.path.exists(path) else None


def all_tests():
    return sorted(f.rsplit(".", 1)[0] for f in os.listdir(STATIC_DIR)
                  if f.endswith(".c") or f.endswith(".py"))


def select_tests(args):
    known = all_tests()
    if args.all or not args.test:
        return known
    names = []
    for item in args.test:
        for n in item.split(","):
            n = os.path.basename(n.strip())
            if n.endswith(".c") or n.endswith(".py") or n.endswith(".desc"):
                n = n.rsplit(".", 1)[0]
            if n not in known:
                sys.exit("zdtm: unknown test %r (see: zdtm.py list)" % n)
            if n not in names:
                names.append(n)
    return names


def pick_run_dir():
    """test/build/zdtm/run/, or a private run.XXXX/ while another runner (another
    engineer's make zdtm) holds run/, so that two runs never share a test's files."""
    global RUN_DIR, RUN_LOCK
    base = os.path.dirname(RUN_DIR)
    os.makedirs(base, exist_ok=True)
    RUN_LOCK = open(os.path.join(base, "run.lock"), "w")
    try:
        fcntl.flock(RUN_LOCK, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        RUN_DIR = tempfile.mkdtemp(prefix="run.", dir=base)
        print("zdtm: %s is in use by another run: using %s" %
              (os.path.relpath(os.path.join(base, "run"), ROOT), os.path.relpath(RUN_DIR, ROOT)),
              flush=True)
    os.makedirs(RUN_DIR, exist_ok=True)


def crit_checkers():
    """Our crit's checker; Debian's too when its crit is installed."""
    checkers = [CritChecker("crit", [], "")]
    if os.access(DEBIAN_CRIT, os.X_OK):
        checkers.append(CritChecker("Debian's crit", ["--debian"], "-debian"))
    return checkers


def set_subreaper():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        print("zdtm: warning: PR_SET_CHILD_SUBREAPER: %s" % os.strerror(err), flush=True)


def enter_pidns():
    """Re-exec as init of a new pid namespace, in a new network namespace too (its
    loopback is brought up by lo_up()). Returns only if that is impossible."""
    probe = ["unshare", "--pid", "--net", "--fork", "--mount-proc", "--kill-child", "true"]
    try:
        r = subprocess.run(probe, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           timeout=30)
        err = r.stderr.decode(errors="replace").strip()
        ok = r.returncode == 0
    except (OSError, subprocess.TimeoutExpired) as e:
        ok, err = False, str(e)
    if not ok:
        print("zdtm: cannot make a pid namespace (%s): running in the host flavor" % err,
              flush=True)
        return
    env = dict(os.environ)
    env[PIDNS_ENV] = "1"
    sys.stdout.flush()
    argv = probe[:-1] + [sys.executable, os.path.abspath(__file__)] + sys.argv[1:]
    os.execvpe("unshare", argv, env)


def lo_up():
    """Bring up the loopback of the runner's own network namespace: tests talk over
    127.0.0.1 and ::1 there, and criu shares the namespace with them."""
    SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
    import socket
    import struct
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sk:
        req = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(sk.fileno(), SIOCGIFFLAGS, req))[1]
        fcntl.ioctl(sk.fileno(), SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))


def parse_args():
    p = argparse.ArgumentParser(prog="zdtm.py", description="zdtm test runner")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="list the tests")
    r = sub.add_parser("run", help="run tests")
    r.add_argument("-t", "--test", action="append", default=[],
                   help="test name (repeat or comma-separate); default: all")
    r.add_argument("-a", "--all", action="store_true", help="run every test")
    m = r.add_mutually_exclusive_group()
    m.add_argument("--nocr", action="store_true", help="no checkpoint/restore")
    m.add_argument("--norst", action="store_true", help="dump --leave-running, no restore")
    r.add_argument("--iters", type=int, default=1, help="checkpoint/restore N times")
    r.add_argument("--flavor", choices=FLAVORS, default="ns",
                   help="ns: own pid namespace (default); h: host; ct: each test in namespaces "
                        "and a root of its own, restored with --root")
    r.add_argument("--criu", default=DEFAULT_CRIU, help="criu binary")
    r.add_argument("--criu-dump", metavar="BIN", help="criu binary for the dumps only")
    r.add_argument("--criu-restore", metavar="BIN", help="criu binary for the restores only")
    r.add_argument("--rpc", action="store_true",
                   help="dump and restore through criu swrk (RPC), with test/build/zdtm/criu-rpc")
    r.add_argument("--lazy-pages", action="store_true",
                   help="restore --lazy-pages, served by criu lazy-pages -d started on each dump")
    r.add_argument("--lazy-migrate", action="store_true",
                   help="dump --lazy-pages (its pages served from the stopped tree), restore --lazy-pages "
                        "from criu lazy-pages --page-server (--flavor ct: the restored tree needs its own pid "
                        "namespace while the dumped one is still there)")
    r.add_argument("--page-server", action="store_true",
                   help="each dump sends its pages to a criu page-server on the dump's own dir (as upstream "
                        "zdtm's --page-server)")
    r.add_argument("--timeout", type=int, default=0, help="seconds per step (default: .desc or 30)")
    r.add_argument("-k", "--keep-going", action="store_true",
                   help="run all tests whatever fails (the default)")
    r.add_argument("-x", "--fail-fast", action="store_true", help="stop at the first failure")
    r.add_argument("--no-compare", action="store_true",
                   help="do not compare the tree's /proc view before and after")
    r.add_argument("--no-crit", action="store_true",
                   help="do not decode the images of each dump with crit")
    r.add_argument("--label", default="zdtm", metavar="WORD",
                   help="the word before the summary line (default zdtm; make test: zdtm-norst for its --norst pass)")
    r.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args()
    if args.cmd == "run" and args.iters < 1:
        p.error("--iters must be at least 1")
    if args.cmd == "run" and not re.fullmatch(r"[A-Za-z0-9_-]+", args.label):
        p.error("--label must be one word")
    if args.cmd == "run" and args.keep_going:
        args.fail_fast = False
    return args


def main():
    args = parse_args()
    if args.cmd == "list":
        for n in all_tests():
            print(n)
        return 0
    names = select_tests(args)
    if not args.nocr and not os.access(args.criu, os.X_OK):
        sys.exit("zdtm: %s not found or not executable (run make, or use --nocr)" % args.criu)
    if args.rpc and not os.access(RPC_CLIENT, os.X_OK):
        sys.exit("zdtm: %s not found (make zdtm-progs builds it)" % RPC_CLIENT)
    if args.flavor == "ct" and not os.access(NSROOT, os.X_OK):
        sys.exit("zdtm: %s not found (make zdtm-progs builds it)" % NSROOT)
    if args.flavor in ("ns", "ct") and os.environ.pop(PIDNS_ENV, None) != "1":
        enter_pidns()
        if args.flavor == "ns":
            args.flavor = "h"
    elif args.flavor in ("ns", "ct"):
        lo_up()
    set_subreaper()
    # stray SIGUSR1 (the tests' readiness signal) must not kill the runner
    signal.signal(signal.SIGUSR1, lambda s, f: None)
    pick_run_dir()
    global CT_ROOT
    CT_ROOT = os.path.join(RUN_DIR, ".ct-root")
    os.makedirs(CT_ROOT, exist_ok=True)
    runner = Runner(args)
    try:
        rc = runner.run(names)
        if rc == 0 and os.path.basename(RUN_DIR) != "run":
            shutil.rmtree(RUN_DIR, ignore_errors=True)     # a private dir, nothing to look at
        return rc
    except KeyboardInterrupt:
        runner.reaper.kill_all_below(runner.me)
        print("zdtm: interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())

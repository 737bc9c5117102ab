#!/usr/bin/python3
"""
Load: many dump/restore cycles of one tree, and many trees at once.

Runs as pid 1 of a fresh pid namespace (cycles.sh). The tree is faults.py's
(4 MiB of random memory, a pipe with data, an eventfd, a pidfd of its child).

1. CYCLES times (default 20; `make stress`: 1000): dump (the tree is killed),
   restore -d; after each restore the tree has the same memory, fds, eventfd
   count, pipe fill and pidfd target, runs, and is not traced. criu's peak
   RSS (wait4) of the last cycles is not above the first ones' by more than
   10% + 4 MiB, the tree's fd count never grows, and criu's own fd count
   (counted by an action script at post-dump and post-resume, criu's last
   steps) is the same in every cycle.
2. TREES trees (default 5; `make stress`: 20) dumped by as many criu processes
   at once, then restored at once: every dump and restore exits 0 and every
   tree comes back with its state.
Prints TAP; the last line gives the figures.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faults  # noqa: E402

CRIU = faults.CRIU
import tap  # noqa: E402  TAP lines, shared by the scripts
from tap import ok, results  # noqa: E402


def normal(s):
    """A restored pipe or pidfd is a new inode: compare fds without inode numbers; no code hashes."""
    s = dict(s)
    s["fds"] = [(fd, re.sub(r"\[\d+\]", "[]", link)) for fd, link in s["fds"]]
    s.pop("code", None)
    s.pop("child code", None)
    return s


# run by criu at the end of a dump and of a restore: criu's fd count at that point
COUNT_FDS = """#!/bin/sh
case "$CRTOOLS_SCRIPT_ACTION" in post-dump|post-resume)
	echo $(ls /proc/$PPID/fd | wc -l) >> %s/criu-fds-$CRTOOLS_SCRIPT_ACTION ;;
esac
exit 0
"""


def start(args):
    return subprocess.Popen([CRIU] + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def count_script(work):
    path = os.path.join(work, "count-fds.sh")
    with open(path, "w") as f:
        f.write(COUNT_FDS % work)
    os.chmod(path, 0o755)
    return path


def fd_counts(work, action):
    try:
        return [int(x) for x in open(os.path.join(work, "criu-fds-" + action)).read().split()]
    except OSError:
        return []


def finish(p):
    """Exit code and peak RSS (KiB) of a criu started with start()."""
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, ru.ru_maxrss


def state(tree):
    root, child, addr, size = tree
    bad = faults.running([root, child])
    if bad:
        return None, bad
    return normal(faults.snapshot(root, child, addr, size)), []


def cycles(work, n):
    tree = faults.start_tree(work)
    ref, _ = state(tree)
    d = os.path.join(work, "cyc")
    script = count_script(work)
    rss, failed, nfds = [], [], []
    for i in range(n):
        shutil.rmtree(d, ignore_errors=True)
        rc1, r1 = finish(start(["dump", "-t", str(tree[0]), "-D", d, "-o", "dump.log", "--action-script", script]))
        faults.reap()
        rc2, r2 = finish(start(["restore", "-d", "-D", d, "-o", "restore.log", "--action-script", script]))
        faults.reap()
        now, bad = state(tree)
        rss.append(max(r1, r2))
        nfds.append(len(os.listdir("/proc/%d/fd" % tree[0])) if not bad else -1)
        if rc1 or rc2 or bad or now != ref:
            failed.append("cycle %d: dump %d restore %d %s %s" % (i, rc1, rc2, bad,
                                                                 [k for k in ref if now and now.get(k) != ref[k]]))
            break
    ok(not failed, "%d dump/restore cycles: the tree comes back the same every time%s" %
       (n, "".join("\n# " + f for f in failed)))
    k = max(1, len(rss) // 5)
    first, last = max(rss[:k]), max(rss[-k:])
    ok(last <= first * 1.1 + 4096, "criu's peak RSS stays flat: %d KiB in the first cycles, %d KiB in the last" %
       (first, last))
    ok(len(set(nfds)) == 1, "the tree's fd count stays %s" % sorted(set(nfds)))
    dfds, rfds = fd_counts(work, "post-dump"), fd_counts(work, "post-resume")
    ok(len(dfds) == len(rfds) == len(rss) and len(set(dfds)) == 1 and len(set(rfds)) == 1,
       "criu's own fd count is the same in every cycle: %s at the end of each of %d dumps, %s at the end of each "
       "of %d restores" % (sorted(set(dfds)), len(dfds), sorted(set(rfds)), len(rfds)))
    faults.kill(tree[0])
    faults.kill(tree[1])
    return first, last, sorted(set(dfds)), sorted(set(rfds))


def concurrent(work, n):
    trees = [faults.start_tree(os.path.join(work, "t%d" % i)) for i in range(n)]
    refs = [state(t)[0] for t in trees]
    dirs = [os.path.join(work, "t%d" % i, "img") for i in range(n)]
    procs = [start(["dump", "-t", str(t[0]), "-D", d, "-o", "dump.log"]) for t, d in zip(trees, dirs)]
    rcs = [finish(p)[0] for p in procs]
    faults.reap()
    ok(rcs == [0] * n, "%d trees dumped by %d criu processes at once (exit codes %s)" % (n, n, sorted(set(rcs))))
    procs = [start(["restore", "-d", "-D", d, "-o", "restore.log"]) for d in dirs]
    rcs = [finish(p)[0] for p in procs]
    faults.reap()
    states = [state(t) for t in trees]
    same = [i for i in range(n) if states[i][0] == refs[i]]
    ok(rcs == [0] * n and len(same) == n, "and restored at once: %d of %d trees back the same (exit codes %s)" %
       (len(same), n, sorted(set(rcs))))
    for t in trees:
        faults.kill(t[0])
        faults.kill(t[1])


def main():
    n = int(os.environ.get("CYCLES", "20"))
    t = int(os.environ.get("TREES", "5"))
    work = tempfile.mkdtemp(prefix="criu-cycles.")
    for i in range(t):
        os.makedirs(os.path.join(work, "t%d" % i))
    first, last, dfds, rfds = cycles(work, n)
    concurrent(work, t)
    print("# figures: %d cycles, criu peak RSS %d -> %d KiB, criu's fds %s at the end of a dump, %s of a restore; "
          "%d trees at once" % (n, first, last, dfds, rfds, t))
    for p in faults.all_pids() - {os.getpid()}:
        faults.kill(p)
    if all(results) or not os.environ.get("KEEP"):
        shutil.rmtree(work, ignore_errors=True)
    return tap.finish()


if __name__ == "__main__":
    if os.getpid() != 1:
        print("# must run as pid 1 of a new pid namespace (cycles.sh)")
        sys.exit(2)
    sys.exit(main())

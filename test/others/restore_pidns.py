#!/usr/bin/python3
"""
Trees with their own pid namespace, end to end, with real processes.

Runs as pid 1 of a fresh pid namespace (see restore-pidns.sh). The zdtm
program pidns00 makes the tree: the init N of a pid namespace with children.

  1. dump + restore: the restored root has a new pid outside, pid 1 inside;
     every restored task has the namespace pid it was dumped with, and the
     test's own checks (pidfds, signals) pass after SIGTERM.
  2. Images edited with crit (ours, ./crit): a task in another pid namespace than the
     root's (nested) is refused before anything starts, and nothing is left.
  3. Faults injected after the fork and after a morph: the restore fails and
     kills the whole new namespace.
  4. A dump of a plain process whose inventory says criu was in another pid
     namespace (so the root would be an init) but whose root is not pid 1
     is refused the same way.
  5. pidns_nested00, a tree in our namespace with pid namespaces nested two
     levels below it: every task comes back with its pid at every level
     (its whole NSpid line) under the same parent, and the test's checks
     pass; images whose nested pids (core-ext ns_pids) or pid_for_children
     were edited with crit are refused, and faults after the fork and the
     morph leave no process, nested namespaces included.
Prints TAP; exit 77 when criu, crit (make pycriu) or the test program is missing.
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
from tap import ok, finish, reap, all_pids, wait_gone, kill, crit_edit  # noqa: E402

CRIU = os.path.abspath("criu/criu")
CRIT = os.path.abspath("crit")
PIDNS00 = os.path.abspath("test/build/zdtm/static/pidns00")
NESTED00 = os.path.abspath("test/build/zdtm/static/pidns_nested00")


def nspid(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("NSpid:"):
                return [int(x) for x in line.split()[1:]]
    return []


def children(pid):
    out = []
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
            out += [int(x) for x in f.read().split()]
    return out


def criu(args, ddir, fault=None):
    env = dict(os.environ)
    if fault:
        env["CRIU_FAULT"] = fault
    r = subprocess.run([CRIU] + args + ["-D", ddir, "-v4"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60, env=env)
    reap()
    return r.returncode, r.stdout.decode(errors="replace")


def start_tree(work):
    pidfile, outfile = os.path.join(work, "pid"), os.path.join(work, "out")
    r = subprocess.run([PIDNS00, "--pidfile=" + pidfile, "--outfile=" + outfile],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
    reap()
    with open(pidfile) as f:
        return r.returncode, int(f.read()), outfile


def tree_nspids(root):
    """{pid in the namespace: [children's pids in the namespace]} under root."""
    out, todo = {}, [root]
    while todo:
        p = todo.pop()
        kids = children(p)
        out[nspid(p)[-1]] = sorted(nspid(k)[-1] for k in kids)
        todo += kids
    return out


def test_roundtrip(work):
    rc, n, outfile = start_tree(work)
    ok(rc == 0 and nspid(n)[-1] == 1, "pidns00 started: %d is pid 1 in its namespace" % n)
    before = tree_nspids(n)
    ddir = os.path.join(work, "dump")
    os.mkdir(ddir)
    rc, out = criu(["dump", "-t", str(n), "-o", "dump.log"], ddir)
    ok(rc == 0 and wait_gone(n), "dump (exit %d)" % rc)
    pidfile = os.path.join(ddir, "rpid")
    rc, out = criu(["restore", "-d", "-o", "restore.log", "--pidfile", pidfile], ddir)
    ok(rc == 0, "restore (exit %d)" % rc)
    if rc:
        print("# " + open(os.path.join(ddir, "restore.log")).read()[-2000:].replace("\n", "\n# "))
        return ddir
    with open(pidfile) as f:
        r = int(f.read())
    after = tree_nspids(r)
    ok(nspid(r)[-1] == 1 and len(nspid(r)) == 2, "restored root %d is pid 1 in a new namespace (%s)" %
       (r, nspid(r)))
    ok(after == before, "every task has its namespace pid and parent: %s (was %s)" % (after, before))
    os.kill(r, signal.SIGTERM)
    ok(wait_gone(r), "the restored tree ends on SIGTERM")
    with open(outfile) as f:
        verdict = f.read().strip()
    ok(verdict == "PASS", "the test's own checks after restore: %s" % verdict.splitlines()[:1])
    return ddir


def expect_refused(ddir, what, text, fault=None, extra=()):
    before = set(all_pids())
    rc, out = criu(["restore", "-d", "-o", "refused.log"] + list(extra), ddir, fault)
    log = open(os.path.join(ddir, "refused.log")).read()
    ok(rc != 0 and text in log, "%s: refused (exit %d), the log says '%s'" % (what, rc, text))
    if text not in log:
        print("# " + log[-1500:].replace("\n", "\n# "))
    time.sleep(0.05)
    reap()
    ok(set(all_pids()) - before == set(), "%s: no process left" % what)


def test_nested(src):
    ddir = src + "-nested"
    shutil.copytree(src, ddir)

    def other_ns(img):
        img["entries"][0]["ids"]["pid_ns_id"] = 99
    crit_edit(CRIT, os.path.join(ddir, "core-2.img"), other_ns)
    # a hand-edited image: the manifest would refuse it first
    expect_refused(ddir, "a task in another pid namespace with no pid below the tree's",
                   "not a namespace restore can make",
                   extra=["--skip-image-check"])


def test_not_init(work):
    pid = os.fork()
    if pid == 0:
        os.setsid()
        while True:
            time.sleep(100)
    ddir = os.path.join(work, "plain")
    os.mkdir(ddir)
    rc, _ = criu(["dump", "-t", str(pid), "-o", "dump.log"], ddir)
    ok(rc == 0 and wait_gone(pid), "dump of a plain process (exit %d)" % rc)

    def criu_elsewhere(img):
        img["entries"][0]["root_ids"]["pid_ns_id"] = 77
    crit_edit(CRIT, os.path.join(ddir, "inventory.img"), criu_elsewhere)
    # a hand-edited inventory: the manifest, which covers it, would refuse it first
    expect_refused(ddir, "own pid namespace, root not pid 1", "but its root is pid", extra=["--skip-image-check"])


def tree_nspid_lines(root):
    """{full NSpid of a task: full NSpid of its parent} for root and everything below it."""
    out, todo = {}, [(root, None)]
    while todo:
        p, parent = todo.pop()
        out[tuple(nspid(p))] = tuple(nspid(parent)) if parent else None
        todo += [(k, p) for k in children(p)]
    return out


def core_ext_of(ddir, pid):
    return os.path.join(ddir, "core-ext-%d.img" % pid)


def test_nested_roundtrip(work):
    pidfile, outfile = os.path.join(work, "npid"), os.path.join(work, "nout")
    r = subprocess.run([NESTED00, "--pidfile=" + pidfile, "--outfile=" + outfile],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
    reap()
    with open(pidfile) as f:
        root = int(f.read())
    before = tree_nspid_lines(root)
    depths = sorted(len(k) for k in before)
    ok(r.returncode == 0 and depths[-1] == depths[0] + 2,
       "pidns_nested00 started: %d tasks, NSpid lines of %d to %d columns" % (len(before), depths[0], depths[-1]))
    ddir = os.path.join(work, "nested")
    os.mkdir(ddir)
    rc, _ = criu(["dump", "-t", str(root), "-o", "dump.log"], ddir)
    ok(rc == 0 and wait_gone(root), "nested: dump (exit %d)" % rc)
    # I: two levels below, pid 2 there, two threads (four ns_pids)
    i = [k[depths[0] - 1] for k in before if len(k) == depths[0] + 2 and k[-1] == 2][0]
    for fault in ("restore-forked", "restore-morph"):
        expect_refused(ddir, "nested: fault " + fault, "fault injected: " + fault, fault)

    edited = ddir + "-edited"
    shutil.copytree(ddir, edited)

    def odd_ns_pids(img):
        img["entries"][0]["ns_pids"] = img["entries"][0]["ns_pids"][:3]
    crit_edit(CRIT, core_ext_of(edited, i), odd_ns_pids)
    expect_refused(edited, "nested: ns_pids not one per thread and level", "ns_pids for",
                   extra=["--skip-image-check"])
    shutil.rmtree(edited)
    shutil.copytree(ddir, edited)
    c = [v for k, v in before.items() if len(k) == depths[0] + 1 and k[-1] == 1][0][-1]

    def bad_pfc(img):
        img["entries"][0]["pid_for_children"] = 4242
    crit_edit(CRIT, core_ext_of(edited, c), bad_pfc)
    expect_refused(edited, "nested: pid_for_children not a child", "is not a live child",
                   extra=["--skip-image-check"])

    rc, _ = criu(["restore", "-d", "-o", "restore.log"], ddir)
    ok(rc == 0, "nested: restore (exit %d)" % rc)
    if rc:
        print("# " + open(os.path.join(ddir, "restore.log")).read()[-2000:].replace("\n", "\n# "))
        return
    after = tree_nspid_lines(root)
    ok(after == before, "nested: every task has its pid at every level and its parent: %s (was %s)" %
       (sorted(after.items()), sorted(before.items())))
    os.kill(root, signal.SIGTERM)
    ok(wait_gone(root), "nested: the restored tree ends on SIGTERM")
    with open(outfile) as f:
        verdict = f.read().strip()
    ok(verdict == "PASS", "nested: the test's own checks after restore: %s" % verdict.splitlines()[:1])


def main():
    if not os.path.isdir(os.path.join(os.path.dirname(CRIT), "build", "py", "pycriu")):
        print("1..0 # SKIP pycriu is not built (make pycriu): ./crit can't run")
        return 77
    if not os.access(PIDNS00, os.X_OK) or not os.access(NESTED00, os.X_OK) or not os.access(CRIU, os.X_OK):
        print("1..0 # SKIP build criu and the zdtm programs first")
        return 77
    work = tempfile.mkdtemp(prefix="restore-pidns.")
    try:
        ddir = test_roundtrip(work)
        test_nested(ddir)
        for fault in ("restore-forked", "restore-morph"):
            expect_refused(ddir, "fault " + fault, "fault injected: " + fault, fault)
        test_not_init(work)
        test_nested_roundtrip(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())

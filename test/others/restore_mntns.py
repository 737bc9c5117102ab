#!/usr/bin/python3
"""
Trees with their own mount namespace, end to end, with real processes.

Runs as pid 1 of a fresh pid namespace (see restore-mntns.sh). The zdtm
program mnt_ext makes the tree: a task in a mount namespace of its own with
a ramfs at BASE/in (dumped as external, key "ramdisk") and a tmpfs at
BASE/plain, BASE a directory made for the run (the program's $ZDTM_TMP).

  1. Restores that can't build the tree fail, naming why, and leave no
     process (the mount helper, the stubs): the external key not given; a
     mountpoint gone from the root filesystem; an image (edited with our
     crit) with a filesystem criu can't make; a fault after the fork.
  2. The restore with the key works: the task is in a new mount namespace
     and the test's own checks pass after SIGTERM.
  3. mnt_ext_master (an external mount, a slave of a group outside): a
     restore from a path in another group is refused (the group is checked),
     the one from the group's mount works.
  4. mnt_nested (two mount namespaces of the tree's): restores failed on
     purpose once the mount helper built both namespaces and once the tasks
     joined theirs leave no process; then the restore works, each task in a
     namespace of its own.
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
PROG = os.path.abspath("test/build/zdtm/static/mnt_ext")
PROG_MASTER = os.path.abspath("test/build/zdtm/static/mnt_ext_master")
PROG_NESTED = os.path.abspath("test/build/zdtm/static/mnt_nested")
# each program's $ZDTM_TMP: made for this run, so that two runs at once share no path
BASE = tempfile.mkdtemp(prefix="zdtm-mnt_ext.")
EXTM = tempfile.mkdtemp(prefix="zdtm-mnt_ext_master.")
KEY = ["--ext-mount-map", "ramdisk:" + BASE + "/src"]


def criu(args, ddir, fault=None):
    env = dict(os.environ)
    if fault:
        env["CRIU_FAULT"] = fault
    r = subprocess.run([CRIU] + args + ["-D", ddir, "-v4"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60, env=env)
    reap()
    return r.returncode, r.stdout.decode(errors="replace")


def expect_refused(ddir, what, text, extra=(), fault=None):
    before = all_pids()
    # --skip-image-check: some of these images were edited with crit
    rc, out = criu(["restore", "-d", "-o", "refused.log", "--skip-image-check"] + list(extra), ddir, fault)
    log = open(os.path.join(ddir, "refused.log")).read()
    ok(rc != 0 and text in log, "%s: refused (exit %d), the log says '%s'" % (what, rc, text))
    if text not in log:
        print("# " + log[-1500:].replace("\n", "\n# "))
    time.sleep(0.05)
    reap()
    ok(all_pids() - before == set(), "%s: no process left" % what)


def dump(work, prog=PROG, ext="mnt[%s/in]:ramdisk" % BASE, name="dump", tmp=BASE):
    pidfile, outfile = os.path.join(work, name + ".pid"), os.path.join(work, name + ".out")
    r = subprocess.run([prog, "--pidfile=" + pidfile, "--outfile=" + outfile],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30,
                       env=dict(os.environ, ZDTM_TMP=tmp), cwd=work)
    reap()
    with open(pidfile) as f:
        pid = int(f.read())
    ok(r.returncode == 0, "%s started (%d)" % (os.path.basename(prog), pid))
    ddir = os.path.join(work, name)
    os.mkdir(ddir)
    rc, _ = criu(["dump", "-t", str(pid), "-o", "dump.log"] + (["--external", ext] if ext else []), ddir)
    ok(rc == 0 and wait_gone(pid), "dump (exit %d)" % rc)
    return ddir, outfile


def test_refused(ddir):
    expect_refused(ddir, "no path for the external key", "is external (key ramdisk)")
    os.rmdir(BASE + "/plain")
    expect_refused(ddir, "a mountpoint gone", "no mountpoint %s/plain" % BASE, KEY)
    os.mkdir(BASE + "/plain")
    edited = ddir + "-fs"
    shutil.copytree(ddir, edited)

    def other_fs(img):
        for e in img["entries"]:
            if e["mountpoint"] == BASE + "/plain":
                e["fstype"] = 0
                e["fsname"] = "nosuchfs"
    crit_edit(CRIT, os.path.join(edited, "mountpoints-2.img"), other_fs)
    expect_refused(edited, "a filesystem criu can't make", "a nosuchfs criu can't make again", KEY)
    expect_refused(ddir, "fault restore-forked", "fault injected: restore-forked", KEY, "restore-forked")


def test_restore(ddir, outfile, key=KEY):
    pidfile = os.path.join(ddir, "rpid")
    rc, _ = criu(["restore", "-d", "-o", "restore.log", "--pidfile", pidfile] + key, ddir)
    ok(rc == 0, "restore with the key (exit %d)" % rc)
    if rc:
        print("# " + open(os.path.join(ddir, "restore.log")).read()[-2000:].replace("\n", "\n# "))
        return
    with open(pidfile) as f:
        r = int(f.read())
    ok(os.stat("/proc/%d/ns/mnt" % r).st_ino != os.stat("/proc/self/ns/mnt").st_ino,
       "the restored task is in a mount namespace of its own")
    ok(all_pids() == {1, os.getpid(), r}, "no mount helper left: %s" % sorted(all_pids()))
    os.kill(r, signal.SIGTERM)
    ok(wait_gone(r), "the restored task ends on SIGTERM")
    with open(outfile) as f:
        verdict = f.read().strip()
    ok(verdict.endswith("PASS"), "the test's own checks after restore: %s" % verdict.splitlines()[-1:])


def test_nested(work):
    ddir, outfile = dump(work, PROG_NESTED, None, "nested")
    for fault in ("restore-files-prepare", "restore-forked"):
        expect_refused(ddir, "two mount namespaces, fault %s" % fault, "fault injected: " + fault, fault=fault)
    pidfile = os.path.join(ddir, "rpid")
    rc, _ = criu(["restore", "-d", "-o", "restore.log", "--pidfile", pidfile], ddir)
    ok(rc == 0, "two mount namespaces: restored (exit %d)" % rc)
    if rc:
        print("# " + open(os.path.join(ddir, "restore.log")).read()[-2000:].replace("\n", "\n# "))
        return
    with open(pidfile) as f:
        r = int(f.read())
    kids = [p for p in all_pids() if p not in (1, os.getpid(), r)]
    mine = os.stat("/proc/self/ns/mnt").st_ino
    nss = {os.stat("/proc/%d/ns/mnt" % p).st_ino for p in [r] + kids}
    ok(len(kids) == 1 and len(nss) == 2 and mine not in nss,
       "the test and its child are in two mount namespaces of their own: %s" % sorted(nss))
    os.kill(r, signal.SIGTERM)
    ok(wait_gone(r), "the restored task ends on SIGTERM")
    with open(outfile) as f:
        verdict = f.read().strip()
    ok(verdict.endswith("PASS"), "the test's own checks after restore: %s" % verdict.splitlines()[-1:])


def main():
    if not os.path.isdir(os.path.join(os.path.dirname(CRIT), "build", "py", "pycriu")):
        print("1..0 # SKIP pycriu is not built (make pycriu): ./crit can't run")
        os.rmdir(BASE)
        os.rmdir(EXTM)
        return 77
    if not all(os.access(p, os.X_OK) for p in (PROG, PROG_MASTER, PROG_NESTED, CRIU)):
        print("1..0 # SKIP build criu and the zdtm programs first")
        os.rmdir(BASE)
        os.rmdir(EXTM)
        return 77
    work = tempfile.mkdtemp(prefix="restore-mntns.")
    try:
        ddir, outfile = dump(work)
        test_refused(ddir)
        test_restore(ddir, outfile)
        ddir, outfile = dump(work, PROG_MASTER, "mnt[%s/src]:extm" % EXTM, "master", EXTM)
        expect_refused(ddir, "an external master from another group", "it can't be made a slave of that group",
                       ["--external", "mnt[extm]:" + EXTM])
        test_restore(ddir, outfile, ["--external", "mnt[extm]:%s/src" % EXTM])
        test_nested(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        # this pid namespace's mount namespace (unshare --mount-proc) goes with what is mounted there
        for d in (EXTM, BASE):
            subprocess.run(["umount", "-R", "-l", d + "/src"], stderr=subprocess.DEVNULL)
            shutil.rmtree(d, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())

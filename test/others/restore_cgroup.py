#!/usr/bin/python3
"""
cgroups at restore, end to end (Documentation/cgroups.md): the --manage-cgroups
modes and the restore failures, with a real process.

Runs as pid 1 of a fresh pid namespace (restore-cgroup.sh). A sleeper is put
into cgroup G/a of the v1 pids hierarchy (or of cgroup2, without pids) with
a property P set (pids.max, or cgroup.max.descendants), dumped (G/a stays),
then restored:

  1. --manage-cgroups=strict: G/a exists, so the restore fails, no process left.
  2. --manage-cgroups=none under a --cgroup-root that does not exist: fails,
     nothing made, no process left.
  3. a failure injected after the fork under a new --cgroup-root: fails, no
     process left, and the cgroups criu made are removed.
  4. soft (the default): back in G/a; P changed after the dump stays changed.
  5. full: back in G/a; P is the dumped value again.
  6. ignore: left in criu's cgroup.
  7. a dump with --cgroup-dump-controller naming another hierarchy: no
     cgroup.img, the restored sleeper is in criu's cgroup.
  8. --freeze-cgroup with the v1 freezer and with cgroup2 (each one mounted):
     a dump --leave-running, a dump failing after the seize (injected), and a
     dump of a cgroup frozen already (refused) leave the cgroup as it was
     (thawed, or frozen) and every task of it untraced, also one that is in
     the cgroup but not in the dumped tree; without --freeze-cgroup, a task
     in a frozen cgroup is refused.
  9. a dump with --cgroup-root at G (above the task's G/a) keeps G too: a
     restore with --cgroup-root R makes R/a, with the dumped pids.max, owner
     and mode of G/a.
  10. v1 cpu, memory and cpuset properties (each hierarchy mounted): a
     sleeper in a cgroup of its own in each (cpu.shares, cpu.cfs_quota_us,
     memory.limit_in_bytes, memory.soft_limit_in_bytes, cpuset.cpus,
     cpuset.mems), dumped; the cgroups are removed; the soft restore makes
     them again with those values (cpuset's before the task joins).
  11. --cgroup-yard: a restore with an empty yard fails (the hierarchy is
     not there), with a yard in CRIU's layout (symlinks to the mounts here)
     it works.
  12. a named v1 hierarchy that is mounted nowhere (made, given a child
     cgroup, unmounted: the kernel keeps it, as a program that forgot it
     leaves it): a sleeper in its root, where criu is too, is restored
     (before, the restore failed: "not mounted where criu runs"); the dump
     of one in the child cgroup is refused by name, and it keeps running.
  13. a dump in CRIU 4.2's layout, which writes a task's set only in its
     leader's thread_core, not in task_core (made from ours with crit): the
     sleeper is restored into G/a (before, into criu's cgroup, exit 0).
Prints TAP.
"""
import os
import random
import subprocess
import sys
import tempfile
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import ok, finish, reap, all_pids, wait_gone, kill  # noqa: E402

CRIU = os.path.abspath("criu/criu")


def hierarchy():
    """(name in /proc/PID/cgroup, mount point, property) of pids v1, else cgroup2."""
    found = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            fs = fields[fields.index("-") + 1:]
            if fields[3] != "/":
                continue
            if fs[0] == "cgroup" and "pids" in fs[2].split(","):
                found["pids"] = fields[4]
            elif fs[0] == "cgroup2":
                found[""] = fields[4]
    if "pids" in found:
        return "pids", found["pids"], "pids.max"
    if "" in found:
        return "", found[""], "cgroup.max.descendants"
    return None


def cgroup_of(pid, name):
    with open("/proc/%d/cgroup" % pid) as f:
        for line in f:
            _, n, path = line.rstrip("\n").split(":", 2)
            if n == name:
                return path
    return None


def read(path):
    with open(path) as f:
        return f.read().strip()


def write(path, val):
    with open(path, "w") as f:
        f.write(val)


def criu(*args, env=None):
    r = subprocess.run([CRIU] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       env=env)
    reap()
    return r.returncode


def rmtree(path):
    for top, _, _ in sorted(os.walk(path), key=lambda w: -len(w[0])):
        try:
            os.rmdir(top)
        except OSError:
            pass


def read_log(path):
    return open(path).read() if os.path.exists(path) else ""


def mount_of(fstype, ctl):
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            fs = fields[fields.index("-") + 1:]
            if fields[3] == "/" and fs[0] == fstype and (not ctl or ctl in fs[2].split(",")):
                return fields[4]
    return None


def traced(pid):
    with open("/proc/%d/status" % pid) as f:
        return "TracerPid:\t0\n" not in f.read()


def sleeper():
    return subprocess.Popen(["sleep", "1000"], start_new_session=True, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).pid


def freeze_cases(work, tag):
    kinds = [("v1", mount_of("cgroup", "freezer"), "freezer.state", "FROZEN", "THAWED"),
             ("cgroup2", mount_of("cgroup2", None), "cgroup.freeze", "1", "0")]
    for kind, mnt, f, frozen, thawed in kinds:
        if not mnt:
            print("# no %s freezer mounted: skipped" % kind)
            continue
        cg = "%s/zdtm-rcg-frz.%s" % (mnt, tag)
        os.mkdir(cg)
        try:
            t, other = sleeper(), sleeper()
            write(cg + "/cgroup.procs", str(t))
            write(cg + "/cgroup.procs", str(other))

            def untouched(what, state):
                ok(read(cg + "/" + f).split()[0] == state and os.path.exists("/proc/%d" % t) and not traced(t)
                   and not traced(other), "%s: %s is %s, the tasks run untraced" % (what, f, state))

            d = os.path.join(work, "frz-" + kind)
            rc = criu("dump", "-t", str(t), "-D", d, "-o", "dump.log", "-v4", "--leave-running",
                      "--freeze-cgroup", cg)
            log = read_log(os.path.join(d, "dump.log"))
            ok(rc == 0 and "froze " + cg in log and "thawed " + cg in log,
               "%s: dump --leave-running --freeze-cgroup (rc %d)" % (kind, rc))
            untouched("%s after the dump" % kind, thawed)
            rc = criu("dump", "-t", str(t), "-D", d, "-o", "fault.log", "-v4", "--freeze-cgroup", cg,
                      env=dict(os.environ, CRIU_FAULT="dump-task"))
            ok(rc == 1, "%s: a dump failing after the seize fails (rc %d)" % (kind, rc))
            untouched("%s after the failed dump" % kind, thawed)
            write(cg + "/" + f, frozen)
            time.sleep(0.1)
            rc = criu("dump", "-t", str(t), "-D", d, "-o", "frozen.log", "-v4", "--freeze-cgroup", cg)
            log = read_log(os.path.join(d, "frozen.log"))
            ok(rc == 1 and "frozen already" in log, "%s: a cgroup frozen already is refused (rc %d)" % (kind, rc))
            ok(read(cg + "/" + f).split()[0] == frozen, "%s: and stays frozen" % kind)
            rc = criu("dump", "-t", str(t), "-D", d, "-o", "plain.log", "-v4")
            log = read_log(os.path.join(d, "plain.log"))
            ok(rc == 1 and ("frozen cgroup " + cg) in log,
               "%s: without --freeze-cgroup, a task in a frozen cgroup is refused naming it (rc %d)" % (kind, rc))
            ok(read(cg + "/" + f).split()[0] == frozen and not traced(t), "%s: it stays frozen, untraced" % kind)
            write(cg + "/" + f, thawed)
        finally:
            for pid in all_pids():
                if pid != os.getpid():
                    kill(pid)
            rmtree(cg)


def hier_with(ctl):
    """(name in /proc/self/cgroup, path, mount) of the v1 hierarchy with controller ctl."""
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, n, path = line.rstrip("\n").split(":", 2)
            if ctl in n.split(","):
                mnt = mount_of("cgroup", ctl)
                return (n, path, mnt) if mnt else None
    return None


def props_case(work, tag):
    want = {"cpu": [("cpu.shares", "512"), ("cpu.cfs_quota_us", "50000")],
            "memory": [("memory.limit_in_bytes", "67108864"), ("memory.soft_limit_in_bytes", "33554432")],
            "cpuset": [("cpuset.cpus", "0"), ("cpuset.mems", None)]}
    used = []
    for ctl in want:
        h = hier_with(ctl)
        if not h:
            print("# no v1 %s hierarchy: skipped" % ctl)
            continue
        name, base, mnt = h
        own = "%s/zdtm-rcg-props.%s" % ("" if base == "/" else base, tag)
        os.mkdir(mnt + own)
        used.append((ctl, name, mnt, own))
        for f, v in want[ctl]:
            if v is None:	# cpuset.mems: the parent's
                v = read(mnt + (base if base != "/" else "") + "/" + f)
                want[ctl] = [(x, y if x != f else v) for x, y in want[ctl]]
            write(mnt + own + "/" + f, v)
    if not used:
        return
    try:
        p = sleeper()
        for ctl, name, mnt, own in used:
            write(mnt + own + "/cgroup.procs", str(p))
        d = os.path.join(work, "img-props")
        rc = criu("dump", "-t", str(p), "-D", d, "-o", "dump.log", "-v4")
        ok(rc == 0 and wait_gone(p), "dump of a task with v1 %s properties (rc %d)" % (",".join(u[0] for u in used), rc))
        for ctl, name, mnt, own in used:
            os.rmdir(mnt + own)
        rc = criu("restore", "-d", "-D", d, "-o", "restore.log", "-v4")
        ok(rc == 0, "restore after the cgroups were removed (rc %d)" % rc)
        for ctl, name, mnt, own in used:
            ok(rc == 0 and cgroup_of(p, name) == own, "%s: the task is in %s again" % (ctl, own))
            for f, v in want[ctl]:
                got = read(mnt + own + "/" + f) if os.path.exists(mnt + own) else None
                ok(got == v, "%s: %s is %s (%s)" % (ctl, f, v, got))
    finally:
        for pid in all_pids():
            if pid != os.getpid():
                kill(pid)
        for ctl, name, mnt, own in used:
            rmtree(mnt + own)


def yard_case(work, d, pid, name, want):
    """d: a dump of pid in cgroup want of hierarchy name."""
    empty = os.path.join(work, "yard-empty")
    yard = os.path.join(work, "yard")
    os.mkdir(empty)
    os.mkdir(yard)
    with open("/proc/self/cgroup") as f:
        for line in f:
            n = line.rstrip("\n").split(":", 2)[1]
            mnt = mount_of("cgroup2", None) if not n else None
            if n:
                with open("/proc/self/mountinfo") as mi:
                    for l in mi:
                        fl = l.split()
                        fs = fl[fl.index("-") + 1:]
                        if fl[3] == "/" and fs[0] == "cgroup" and all(c in fs[2].split(",") for c in n.split(",")):
                            mnt = fl[4]
                            break
            if mnt:
                os.symlink(mnt, os.path.join(yard, "unified" if not n else n[5:] if n.startswith("name=") else n))
    rc = criu("restore", "-d", "-D", d, "-o", "yard-empty.log", "-v4", "--cgroup-yard", empty)
    ok(rc == 1 and "not mounted" in read_log(os.path.join(d, "yard-empty.log")),
       "--cgroup-yard with nothing in it: the restore fails (rc %d)" % rc)
    rc = criu("restore", "-d", "-D", d, "-o", "yard.log", "-v4", "--cgroup-yard", yard)
    now = cgroup_of(pid, name) if rc == 0 else None
    ok(rc == 0 and now == want, "--cgroup-yard in CRIU's layout: restored into %s (%s, rc %d)" % (want, now, rc))
    kill(pid)


def stray_case(work, tag, hname, hmnt, ga):
    """12. a named hierarchy mounted nowhere; the sleeper in its root is in
    ga of the hierarchy hname mounted at hmnt, so that it has a cgroup set of
    its own to join at restore."""
    name = "name=criu-stray.%s" % tag
    mnt = tempfile.mkdtemp(prefix="criu-stray.")
    if subprocess.run(["mount", "-t", "cgroup", "-o", "none," + name, "stray", mnt]).returncode:
        ok(True, "# SKIP can't mount a named cgroup hierarchy")
        os.rmdir(mnt)
        return
    a = b = None
    try:
        os.mkdir(mnt + "/keep")
        a, b = sleeper(), sleeper()
        write(mnt + "/keep/cgroup.procs", str(b))
        write(hmnt + ga + "/cgroup.procs", str(a))
        subprocess.run(["umount", mnt], check=True)
        ok(cgroup_of(a, name) == "/" and cgroup_of(b, name) == "/keep",
           "%s is mounted nowhere; one sleeper in its root, one in /keep" % name)
        da, db = os.path.join(work, "img-stray-a"), os.path.join(work, "img-stray-b")
        ok(criu("dump", "-t", str(a), "-D", da, "-o", "dump.log", "-v4") == 0, "dump of the one in the root")
        rc = criu("dump", "-t", str(b), "-D", db, "-o", "dump.log", "-v4")
        log = read_log(os.path.join(db, "dump.log"))
        ok(rc == 1 and "cgroup /keep of the %s hierarchy, which is not mounted" % name in log,
           "the dump of the one in /keep is refused, naming the cgroup and the hierarchy (rc %d)" % rc)
        ok(os.path.exists("/proc/%d" % b) and not traced(b), "and it keeps running, untraced")
        wait_gone(a)
        rc = criu("restore", "-d", "-D", da, "-o", "restore.log", "-v4")
        ok(rc == 0 and cgroup_of(a, name) == "/" and cgroup_of(a, hname) == ga,
           "the one in the root is restored, still in / there and in %s (rc %d)" % (ga, rc))
    finally:
        for pid in (a, b):
            if pid:
                kill(pid)
        remove_hierarchy(name, mnt)
        os.rmdir(mnt)


def hierarchy_exists(name):
    with open("/proc/self/cgroup") as f:
        return any(line.split(":")[1] == name for line in f)


def remove_hierarchy(name, mnt):
    """Mounted again and emptied, a named hierarchy goes away at its unmount;
    not always at the first one (the kernel may still hold a reference to it
    then), and a hierarchy left behind puts every process of the machine in
    its root, which other tests (upstream's cgroup02) trip over: tried again
    until /proc/self/cgroup no longer lists it."""
    for _ in range(50):
        if subprocess.run(["mount", "-t", "cgroup", "-o", "none," + name, "stray", mnt]).returncode:
            return
        try:
            os.rmdir(mnt + "/keep")
        except OSError:
            pass
        subprocess.run(["umount", mnt])
        time.sleep(0.1)
        if not hierarchy_exists(name):
            return
    print("# the hierarchy %s is still there" % name)


def criu_layout_case(work, name, mnt, ga):
    """13. the task's cg_set only in thread_core, as CRIU 4.2 writes it."""
    import json
    crit = os.path.abspath("crit")
    pid = sleeper()
    write(mnt + ga + "/cgroup.procs", str(pid))
    d = os.path.join(work, "img-criu-layout")
    ok(criu("dump", "-t", str(pid), "-D", d, "-o", "dump.log", "-v4") == 0, "dump of a sleeper in %s" % ga)
    wait_gone(pid)
    core = os.path.join(d, "core-%d.img" % pid)
    j = json.loads(subprocess.run([crit, "decode", "-i", core], stdout=subprocess.PIPE, check=True).stdout)
    e = j["entries"][0]
    had = e["tc"].pop("cg_set", None)
    ok(had is not None and e["thread_core"].get("cg_set") == had,
       "our dump has the set in task_core and in the leader's thread_core (%s)" % had)
    subprocess.run([crit, "encode", "-o", core], input=json.dumps(j).encode(), check=True)
    rc = criu("restore", "-d", "-D", d, "-o", "restore.log", "-v4", "--skip-image-check")
    now = cgroup_of(pid, name) if rc == 0 else None
    ok(rc == 0 and now == ga, "with the set in thread_core only: restored into %s (%s, rc %d)" % (ga, now, rc))
    kill(pid)


def main():
    h = hierarchy()
    if not h:
        print("1..0 # SKIP no pids or cgroup2 hierarchy is mounted")
        return 0
    name, mnt, prop = h
    base = cgroup_of(os.getpid(), name)
    base = "" if base == "/" else base
    tag = "%d.%08x" % (os.getpid(), random.getrandbits(32))	# pid 1 in every run: not unique alone
    g = "%s/zdtm-rcg.%s" % (base, tag)
    ga = g + "/a"
    work = tempfile.mkdtemp(prefix="criu-cgroup.")
    os.makedirs(mnt + ga)
    write("%s%s/%s" % (mnt, ga, prop), "77")
    made = [g]
    try:
        p = subprocess.Popen(["sleep", "1000"], start_new_session=True, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        write(mnt + ga + "/cgroup.procs", str(p.pid))
        ok(cgroup_of(p.pid, name) == ga, "the sleeper is in %s" % ga)
        p0 = p.pid
        d = os.path.join(work, "img")
        ok(criu("dump", "-t", str(p.pid), "-D", d, "-o", "dump.log", "-v4") == 0, "dump")
        ok(wait_gone(p.pid), "the dumped sleeper is gone")
        ok(os.path.exists(os.path.join(d, "cgroup.img")), "cgroup.img is written")

        def restore(log, *extra, env=None):
            before = set(all_pids())
            rc = criu("restore", "-d", "-D", d, "-o", log, "-v4", *extra, env=env)
            time.sleep(0.05)
            reap()
            path = os.path.join(d, log)
            return rc, before, open(path).read() if os.path.exists(path) else ""

        # 1. strict
        rc, before, log = restore("strict.log", "--manage-cgroups=strict")
        ok(rc == 1 and "exists already" in log, "strict: G/a exists, the restore fails (rc %d)" % rc)
        ok(set(all_pids()) == before, "strict: no process left")

        # 2. none, nothing there
        root = "/zdtm-rcg-none.%s" % tag
        made.append(root)
        rc, before, log = restore("none.log", "--manage-cgroups=none", "--cgroup-root", "%s:%s" % (name, root))
        ok(rc == 1 and "does not exist" in log, "none: a missing cgroup fails the restore (rc %d)" % rc)
        ok(set(all_pids()) == before and not os.path.exists(mnt + root), "none: no process left, nothing made")

        # 3. a failure after the fork: the cgroups criu made go away
        root = "/zdtm-rcg-fault.%s" % tag
        made.append(root)
        rc, before, log = restore("fault.log", "--cgroup-root", "%s:%s" % (name, root),
                                  env=dict(os.environ, CRIU_FAULT="restore-forked"))
        ok(rc == 1 and ("made cgroup %s%s" % (mnt, root)) in log,
           "a failure after the fork fails the restore, after criu made %s (rc %d)" % (root, rc))
        ok(set(all_pids()) == before, "no process left")
        ok(not os.path.exists(mnt + root), "the cgroup criu made is removed")

        # 4. soft: properties of an existing cgroup are left alone
        write("%s%s/%s" % (mnt, ga, prop), "88")
        rc, _, _ = restore("soft.log")
        ok(rc == 0 and cgroup_of(p.pid, name) == ga, "soft: restored into %s (rc %d)" % (ga, rc))
        ok(read("%s%s/%s" % (mnt, ga, prop)) == "88", "soft: %s of the existing cgroup stays 88" % prop)
        kill(p.pid)

        # 5. full: they are restored
        rc, _, _ = restore("full.log", "--manage-cgroups=full")
        ok(rc == 0 and cgroup_of(p.pid, name) == ga, "full: restored into %s (rc %d)" % (ga, rc))
        val = read("%s%s/%s" % (mnt, ga, prop))
        ok(val == "77", "full: %s is the dumped 77 again (%s)" % (prop, val))
        kill(p.pid)

        # 6. ignore
        rc, _, _ = restore("ignore.log", "--manage-cgroups=ignore")
        now = cgroup_of(p.pid, name) if rc == 0 else None
        ok(rc == 0 and now == cgroup_of(os.getpid(), name), "ignore: left in criu's cgroup (%s)" % now)
        kill(p.pid)

        # 7. --cgroup-dump-controller: only the hierarchies named
        with open("/proc/self/cgroup") as f:
            others = [l.rstrip("\n").split(":", 2)[1] for l in f]
        others = [o for o in others if o != name]
        if others:
            p = subprocess.Popen(["sleep", "1000"], start_new_session=True, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            write(mnt + ga + "/cgroup.procs", str(p.pid))
            d = os.path.join(work, "img-ctl")
            rc = criu("dump", "-t", str(p.pid), "-D", d, "-o", "dump.log", "-v4",
                      "--cgroup-dump-controller", others[0])
            ok(rc == 0 and not os.path.exists(os.path.join(d, "cgroup.img")),
               "--cgroup-dump-controller %s: dumped without cgroup.img (rc %d)" % (others[0], rc))
            wait_gone(p.pid)
            rc = criu("restore", "-d", "-D", d, "-o", "restore.log", "-v4")
            now = cgroup_of(p.pid, name) if rc == 0 else None
            ok(rc == 0 and now == cgroup_of(os.getpid(), name), "and restored in criu's cgroup (%s)" % now)
            kill(p.pid)

        # 9. dump-side --cgroup-root: the walk starts above the task's cgroup
        os.chown(mnt + ga, 1234, 1234)
        os.chmod(mnt + ga, 0o775)
        write("%s%s/%s" % (mnt, ga, prop), "77")
        p = subprocess.Popen(["sleep", "1000"], start_new_session=True, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        write(mnt + ga + "/cgroup.procs", str(p.pid))
        d = os.path.join(work, "img-root")
        rc = criu("dump", "-t", str(p.pid), "-D", d, "-o", "dump.log", "-v4", "--cgroup-root", "%s:%s" % (name, g))
        ok(rc == 0, "dump --cgroup-root %s:%s (rc %d)" % (name, g, rc))
        wait_gone(p.pid)
        root = "/zdtm-rcg-root.%s" % tag
        made.append(root)
        rc = criu("restore", "-d", "-D", d, "-o", "restore.log", "-v4", "--cgroup-root", "%s:%s" % (name, root))
        now = cgroup_of(p.pid, name) if rc == 0 else None
        ok(now == root + "/a", "restored under the new root with the dumped top: %s (rc %d)" % (now, rc))
        st = os.stat(mnt + root + "/a") if os.path.exists(mnt + root + "/a") else None
        ok(st and st.st_uid == 1234 and st.st_gid == 1234 and (st.st_mode & 0o7777) == 0o775,
           "%s/a has the dumped owner 1234:1234 and mode 0775" % root)
        val = read("%s%s/a/%s" % (mnt, root, prop)) if st else None
        ok(val == "77", "and the dumped %s 77 (%s)" % (prop, val))
        kill(p.pid)

        # 8. --freeze-cgroup
        freeze_cases(work, tag)

        # 10. v1 properties of cgroups criu makes
        props_case(work, tag)

        # 11. --cgroup-yard, with the dump of step 1 (the sleeper in G/a)
        yard_case(work, os.path.join(work, "img"), p0, name, ga)

        # 12. a named hierarchy mounted nowhere
        stray_case(work, tag, name, mnt, ga)

        # 13. CRIU 4.2's place for a task's cgroup set
        criu_layout_case(work, name, mnt, ga)
    finally:
        for pid in all_pids():
            if pid != os.getpid():
                kill(pid)
        for m in made:
            rmtree(mnt + m)
    return finish()


if __name__ == "__main__":
    if os.getpid() != 1:
        print("# must run as pid 1 of a new pid namespace (restore-cgroup.sh)")
        sys.exit(2)
    sys.exit(main())

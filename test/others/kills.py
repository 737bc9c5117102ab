#!/usr/bin/python3
"""
SIGKILL to criu at random points of a dump and of a restore.

Runs as pid 1 of a fresh pid namespace (kills.sh). The tree is the one of
faults.py: a root with 4 MiB of random memory, a pipe with data, an eventfd
and a pidfd of its child.

Dump (KILLS runs, default 20): `criu dump --leave-running` is killed after a
random delay within the time a whole dump takes. Every time, whether criu
finished or not, the tree must run on (not stopped, not traced) with the same
memory, executable code, blocked signal mask, fds, eventfd count, pipe fill,
pidfd target and timer slacks (current and default), and no inventory.img
may be left by a dump that did not finish. Then once with
CRIU_FAULT=dump-core-blob-kill: criu kills itself right after it resumed the
root into its blob of remote reads, which ends with the read of the timer
slack's default (set 0, get, set back): the root must put its slack back
alone. And once with CRIU_FAULT=dump-core-slack-race: criu changes the
root's slack between its read of it and the blob, whose set back must not
undo that change.

Restore (KILLS runs): the tree is dumped, then `criu restore -d` is killed
after a random delay within the time a whole restore takes. Either the
restore finished (the whole tree runs) or, within 10 s, no process of the
tree is left and no new process runs: never a part of the tree.

KILLS=N sets the number of runs of each (DUMP_KILLS=N the dump's alone);
SEED=N the random seed; V=1 prints each run. The last lines give the
figures (how many kills hit a running criu). Prints TAP.
"""
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faults  # noqa: E402  the tree and its snapshot

CRIU = faults.CRIU
from tap import finish, ok, results  # noqa: E402,F401  TAP lines, shared by the scripts


def sigmasks(pids):
    out = {}
    for p in pids:
        for tid in os.listdir("/proc/%d/task" % p):
            with open("/proc/%d/task/%s/status" % (p, tid)) as f:
                out[tid] = [line for line in f if line.startswith("SigBlk")]
    return out


# the tail of an executable mapping past its segment's code, where criu's remote-syscall code
# goes (criu/rsys-code.c: COMPEL_RSYS_STUB_MAX bytes): a criu killed leaves it there, never run
STUB_TAIL = 256


def snap(root, child, addr, size):
    s = faults.snapshot(root, child, addr, size, STUB_TAIL)
    s["sigblk"] = sigmasks([root, child])
    s["maps"] = [open("/proc/%d/maps" % p).read() for p in (root, child)]
    return s


def run_and_kill(args, delay):
    """Start criu, SIGKILL it after delay seconds; True when it was still running."""
    p = subprocess.Popen([CRIU] + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    hit = p.poll() is None
    if hit:
        p.send_signal(signal.SIGKILL)
    p.wait()
    if os.environ.get("V"):
        print("# %s after %.1f ms: %s" % (args[0], delay * 1000, "killed" if hit else "exit %d" % p.returncode))
    faults.reap()
    return hit


def timed(args):
    t0 = time.monotonic()
    rc = subprocess.run([CRIU] + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    faults.reap()
    return rc, time.monotonic() - t0


def dump_kills(work, runs, rnd):
    root, child, addr, size = faults.start_tree(work)
    ref = snap(root, child, addr, size)
    d = os.path.join(work, "dump")
    rc, full = timed(["dump", "-t", str(root), "-D", d, "-o", "dump.log", "--leave-running"])
    for _ in range(2):	# the first run pays for cold caches: the fastest of three
        full = min(full, timed(["dump", "-t", str(root), "-D", d, "-o", "dump.log", "--leave-running"])[1])
    ok(rc == 0, "a whole dump --leave-running takes %.0f ms (rc %d)" % (full * 1000, rc))
    hits, failed = 0, []
    for i in range(runs):
        shutil.rmtree(d, ignore_errors=True)
        delay = rnd.uniform(0, full * 0.9)
        hit = run_and_kill(["dump", "-t", str(root), "-D", d, "-o", "dump.log", "--leave-running"], delay)
        hits += hit
        bad, diff = tree_after(root, child, addr, size, ref)
        if hit and os.path.exists(os.path.join(d, "inventory.img")):
            # a kill after the inventory was written (post-dump script, resume): a complete dump
            pass
        if bad or diff:
            failed.append("run %d, kill after %.1f ms%s: %s %s" % (i, delay * 1000, "" if hit else " (done)", bad,
                                                                  diff))
            if bad:
                break
    ok(not failed, "dump: %d kills of criu (%d while it ran): the tree runs on unchanged every time%s" %
       (runs, hits, "".join("\n# " + f for f in failed)))
    if not any(bad for bad in [faults.running([root, child])]):
        blob_kill(root, child, addr, size, ref, d)
        slack_race(root, d)
    return root, child, hits


def tree_after(root, child, addr, size, ref):
    """After a killed dump: (what is not running, the fields that differ from ref)."""
    time.sleep(0.05)	# a task that runs into a stub left behind dies at once
    bad = faults.running([root, child])
    try:
        now = snap(root, child, addr, size) if not bad else {}
    except OSError as e:
        bad, now = ["%s" % e], {}
    return bad, [k for k in ref if now.get(k) != ref[k]]


def blob_kill(root, child, addr, size, ref, d):
    """CRIU_FAULT=dump-core-blob-kill: criu SIGKILLs itself right after it resumed the root into the
    blob of its core's reads (compel_rsys_blob()); the root finishes the reads alone and must come
    back as it was. criu must die of the SIGKILL: an exit means the blob was not reached."""
    shutil.rmtree(d, ignore_errors=True)
    env = dict(os.environ, CRIU_FAULT="dump-core-blob-kill")
    rc = subprocess.run([CRIU, "dump", "-t", str(root), "-D", d, "-o", "dump.log", "--leave-running", "-v4"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env).returncode
    faults.reap()
    bad, diff = tree_after(root, child, addr, size, ref)
    ok(rc == -signal.SIGKILL and not bad and not diff,
       "dump: criu killed in the root's blob (rc %d): the tree runs on unchanged %s %s" % (rc, bad, diff))


def slack_race(root, d):
    """CRIU_FAULT=dump-core-slack-race: criu itself sets the root's timer slack to one more right after
    it read it for the end of the blob's table (PR_SET_TIMERSLACK 0, get, set back): the newer slack
    must be the one the root keeps after the dump, as another writer's would."""
    shutil.rmtree(d, ignore_errors=True)
    before = faults.timer_slacks(root)
    env = dict(os.environ, CRIU_FAULT="dump-core-slack-race")
    rc = subprocess.run([CRIU, "dump", "-t", str(root), "-D", d, "-o", "dump.log", "--leave-running", "-v4"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env).returncode
    faults.reap()
    after = faults.timer_slacks(root)
    faults.set_timer_slack(root, before[0])
    ok(rc == 0 and after == (before[0] + 1, before[1]),
       "dump: the root's slack set by someone else right before its blob is kept (rc %d, slack and default "
       "%s, then %s)" % (rc, before, after))


def restore_kills(work, root, child, runs, rnd):
    d = os.path.join(work, "img")
    rc, _ = timed(["dump", "-t", str(root), "-D", d, "-o", "dump.log"])
    ok(rc == 0, "the tree is dumped (rc %d)" % rc)
    faults.kill(root)
    faults.kill(child)
    base = faults.all_pids()
    rc, full = timed(["restore", "-d", "-D", d, "-o", "restore.log"])
    ok(rc == 0, "a whole restore takes %.0f ms (rc %d)" % (full * 1000, rc))
    faults.kill(root)
    faults.kill(child)
    hits = done = 0
    failed = []
    for i in range(runs):
        delay = rnd.uniform(0, full * 1.2)
        hit = run_and_kill(["restore", "-d", "-D", d, "-o", "restore.log"], delay)
        hits += hit
        left = set()
        for _ in range(1000):	# a stub notices a dead criu within a second
            left = faults.all_pids() - base
            if not left or (left == {root, child} and not faults.running([root, child])):
                break
            time.sleep(0.01)
        whole = left == {root, child} and not faults.running([root, child])
        done += whole
        if left and not whole:
            failed.append("run %d, kill after %.1f ms: left %s" % (i, delay * 1000, faults.running(sorted(left))))
        for p in left:
            faults.kill(p)
    ok(not failed, "restore: %d kills of criu (%d while it ran, %d restores finished): never a part of the tree "
       "left%s" % (runs, hits, done, "".join("\n# " + f for f in failed)))
    return hits


def main():
    runs = int(os.environ.get("KILLS", "20"))
    seed = int(os.environ.get("SEED", str(int(time.time()))))
    print("# KILLS=%d SEED=%d" % (runs, seed))
    rnd = random.Random(seed)
    work = tempfile.mkdtemp(prefix="criu-kills.")
    root, child, dhits = dump_kills(work, int(os.environ.get("DUMP_KILLS", runs)), rnd)
    rhits = restore_kills(work, root, child, runs, rnd)
    print("# figures: %d dump kills (%d hit a running criu), %d restore kills (%d hit a running criu)" %
          (runs, dhits, runs, rhits))
    for p in faults.all_pids() - {os.getpid()}:
        faults.kill(p)
    if all(results) or not os.environ.get("KEEP"):
        shutil.rmtree(work, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    if os.getpid() != 1:
        print("# must run as pid 1 of a new pid namespace (kills.sh)")
        sys.exit(2)
    sys.exit(main())

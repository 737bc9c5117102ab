#!/usr/bin/python3
"""
Where criu runs while it dumps, and the sleep it measures in the seize.

A tree of 32 sleepers (`sleep 100`: nanosleep with a relative timeout), pinned in
turn to each CPU criu may use, is dumped with --leave-running:
  * the seize reads a CPU's scheduler clock once for many sleepers ("clock of
    CPU N read" lines: at least one, fewer than the sleepers), and no measured
    sleep is longer than the time from before the sleepers were started to
    after the dump ended;
  * each task is dumped with criu on the CPU it last ran on ("on CPU N, where
    task P last ran"), a pinned sleeper's CPU;
  * the sleepers' own affinity is what it was, and they still run.
Prints TAP; exit 77 when criu is missing.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

CRIU = os.path.abspath(os.environ.get("CRIU_BIN", "criu/criu"))
SLEEPERS = 32
results = []


def ok(cond, what):
    results.append(bool(cond))
    print("%sok %d - %s" % ("" if cond else "not ", len(results), what), flush=True)


def state(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def main():
    if not os.access(CRIU, os.X_OK):
        print("# SKIP: criu/criu is not built")
        return 77
    cpus = sorted(os.sched_getaffinity(0))
    work = tempfile.mkdtemp(prefix="dump-cpu-")
    pins = [cpus[i % len(cpus)] for i in range(SLEEPERS)]
    script = " ".join("taskset -c %d sleep 100 &" % c for c in pins) + " wait"
    start = time.monotonic_ns()
    root = subprocess.Popen(["sh", "-c", script], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        kids = []
        for _ in range(100):
            with open("/proc/%d/task/%d/children" % (root.pid, root.pid)) as f:
                kids = [int(x) for x in f.read().split()]
            if len(kids) == SLEEPERS and all(os.path.basename(os.readlink("/proc/%d/exe" % k)) == "sleep"
                                             and state(k) == "S" for k in kids):
                break
            time.sleep(0.05)
        ok(len(kids) == SLEEPERS, "%d sleepers started" % SLEEPERS)
        aff = {k: os.sched_getaffinity(k) for k in kids}
        r = subprocess.run([CRIU, "dump", "-t", str(root.pid), "-D", work, "-v4", "-o", "dump.log",
                            "--leave-running"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        end = time.monotonic_ns()
        ok(r.returncode == 0, "dump --leave-running exits 0")
        with open(os.path.join(work, "dump.log")) as f:
            log = f.read()
        slept = [int(m.group(2)) for m in re.finditer(r"syscall: (\d+): asleep in syscall \d+ for (\d+) ns", log)]
        reads = re.findall(r"clock of CPU \d+ read", log)
        ok(len(slept) == SLEEPERS, "a measured sleep for each sleeper (%d)" % len(slept))
        ok(1 <= len(reads) < SLEEPERS,
           "the CPU clocks read %d times for %d sleepers (once per CPU while fresh)" % (len(reads), SLEEPERS))
        ok(slept and max(slept) <= end - start,
           "no measured sleep longer than the real one (%d ns at most, %d ns elapsed)" %
           (max(slept) if slept else -1, end - start))
        near = {int(m.group(2)): int(m.group(1)) for m in re.finditer(r"on CPU (\d+), where task (\d+) last ran", log)}
        wrong = [k for k in kids if near.get(k) not in aff[k]]
        ok(len(kids) and not wrong, "each sleeper dumped with criu on its CPU (wrong: %s)" % wrong)
        ok(all(os.sched_getaffinity(k) == aff[k] for k in kids), "the sleepers' affinity is unchanged")
        ok(all(state(k) in "SR" for k in kids), "the sleepers run on")
    finally:
        os.killpg(root.pid, signal.SIGKILL)
        root.wait()
        shutil.rmtree(work, ignore_errors=True)
    print("1..%d" % len(results))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())

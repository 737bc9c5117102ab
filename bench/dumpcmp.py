#!/usr/bin/python3
"""Dumps of pidtree trees by several criu binaries, interleaved round by round: the dump's wall
time, criu's CPU time (rusage), and from its log
the seize and the fd loop (median per task). Every tree is restored and checked
(bench.pidfd_run). Usage, as root:
  python3 bench/dumpcmp.py RUNS NAME=CRIU_BINARY... (NAME "up": upstream, its log not read)
It enters a pid namespace of its own (as bench.py)."""
import os, sys, statistics, shutil, resource, re
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench

orig_run = bench.run
cpu = {}
def run(argv, timeout=600):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = orig_run(argv, timeout)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if len(argv) > 1 and argv[1] == "dump":
        cpu["last"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        d = argv[argv.index("-D") + 1]
        cpu["log"] = open(os.path.join(d, "dump.log")).read()
    return r
bench.run = run

def logfacts(log):
    t = lambda l: float(re.match(r"\((\d+\.\d+)\)", l).group(1))
    lines = log.splitlines()
    seize = chk = None; files = []; fstart = None
    for l in lines:
        if "fault step" in l and l.endswith("dump-seize"): seize = t(l)
        elif "fault step" in l and l.endswith("dump-check-tree"): chk = t(l)
        elif "fault step" in l and l.endswith("dump-files"): fstart = t(l)
        elif re.search(r"Dumped \d+ fds of task", l) and fstart is not None: files.append(t(l) - fstart); fstart = None
    return (chk - seize) if seize is not None and chk is not None else None, statistics.median(files) if files else None

def main():
    runs = int(sys.argv[1]); bins = sys.argv[2:]
    bench.enter_pidns()
    work = "/dev/shm/dumpcmp-%d" % os.getpid()
    os.makedirs(work, exist_ok=True)
    cases = [(100, 0, "root"), (100, 100, "spread")]
    res = {}; loads = []
    try:
        for i in range(runs):
            loads.append(open("/proc/loadavg").read().split()[0])
            for c in cases:
                for b in bins:
                    name, path = b.split("=")
                    r = bench.pidfd_run(c[0], c[1], c[2], work, path)
                    seize, files = logfacts(cpu["log"]) if name != "up" else (None, None)
                    res.setdefault((name, c), []).append((r["dump"], cpu["last"], seize, files))
                    print(i, name, c, "wall %.3f cpu %.3f" % (r["dump"], cpu["last"]),
                          "seize %.1f ms" % (seize * 1e3) if seize else "", "fd loop/task %.0f us" % (files * 1e6) if files else "", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("load averages at each round:", " ".join(loads))
    med = statistics.median
    for b in bins:
        name = b.split("=")[0]
        z = res[(name, cases[0])]; s = res[(name, cases[1])]
        line = "%s: dump 100x0 %.3f (%.3f-%.3f) 100x100 %.3f (%.3f-%.3f) per pidfd %.1f us | cpu 100x0 %.3f 100x100 %.3f per pidfd %.1f us" % (
            name, med([x[0] for x in z]), min(x[0] for x in z), max(x[0] for x in z),
            med([x[0] for x in s]), min(x[0] for x in s), max(x[0] for x in s),
            (med([x[0] for x in s]) - med([x[0] for x in z])) / 10000 * 1e6,
            med([x[1] for x in z]), med([x[1] for x in s]), (med([x[1] for x in s]) - med([x[1] for x in z])) / 10000 * 1e6)
        if name != "up":
            line += " | seize 100x0 %.1f ms 100x100 %.1f ms | fd loop per task 100x0 %.0f us 100x100 %.0f us (per pidfd %.1f us)" % (
                med([x[2] for x in z]) * 1e3, med([x[2] for x in s]) * 1e3, med([x[3] for x in z]) * 1e6, med([x[3] for x in s]) * 1e6,
                (med([x[3] for x in s]) - med([x[3] for x in z])) / 100 * 1e6)
        print(line)

main()

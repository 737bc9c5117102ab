#!/usr/bin/python3
"""Where a dump's time goes, step by step: dumps of a pidtree tree (NPROC processes x NFDS
pidfds, 'spread') by several criu binaries, interleaved round by round, each with -v4; from
each dump.log the time between one "fault step" line and the next, summed per step over the
tasks, and the dump's total (its "Dumping finished" line). The tree is killed after each dump
(no restore: bench/dumpcmp.py restores and checks). Usage, as root:
  python3 bench/dumpsteps.py RUNS NPROC NFDS NAME=CRIU_BINARY...
Prints, per binary, the median (min-max) of the steps that took 1 ms or more in some run.
It enters a pid namespace of its own (as bench.py)."""
import os, sys, re, shutil, statistics
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench


def steps(log):
    marks = []
    total = None
    for l in open(log):
        m = re.match(r"\((\d+\.\d+)\) (.*)", l)
        if not m:
            continue
        t = float(m.group(1))
        if "fault step" in m.group(2):
            marks.append((m.group(2).split()[-1], t))
        elif "Dumping finished" in m.group(2):
            total = t
    d = {}
    for (name, t), (_, t2) in zip(marks, marks[1:]):
        d[name] = d.get(name, 0.0) + (t2 - t) * 1e3
    d["total"] = total * 1e3 if total is not None else float("nan")
    return d


def one_dump(criu, nproc, nfds, work):
    p, img, rep = bench.pidtree_start(nproc, nfds, "spread", work)
    try:
        bench.wait_report(rep, "ready", 60)
        bench.run([criu, "dump", "-t", str(p.pid), "-D", img, "-v4", "-o", "dump.log"])
    finally:
        p.kill()
        p.wait()
        bench.reap_orphans()
    return steps(os.path.join(img, "dump.log"))


def main():
    runs, nproc, nfds = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    bins = [b.split("=", 1) for b in sys.argv[4:]]
    bench.enter_pidns()
    work = "/dev/shm/dumpsteps-%d" % os.getpid()
    os.makedirs(work, exist_ok=True)
    res = {}
    loads = []
    try:
        for _ in range(runs):
            loads.append(open("/proc/loadavg").read().split()[0])
            for name, path in bins:
                res.setdefault(name, []).append(one_dump(path, nproc, nfds, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    keys = sorted({k for r in res.values() for d in r for k, v in d.items() if v >= 1.0})
    print("%d x %d pidfds, %d runs; load averages at each round: %s" % (nproc, nfds, runs, " ".join(loads)))
    for name, rs in res.items():
        cells = []
        for k in keys:
            v = [d.get(k, 0.0) for d in rs]
            cells.append("%s %.1f (%.1f-%.1f)" % (k, statistics.median(v), min(v), max(v)))
        print("%s: ms, median (min-max): %s" % (name, "; ".join(cells)))


if __name__ == "__main__":
    main()

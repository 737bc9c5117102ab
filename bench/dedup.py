#!/usr/bin/python3
"""
Cost of --auto-dedup on the final dump of a chain.

A task of SIZE MiB (test/others/predump_task.c, ~3 MiB/s rewritten) is
pre-dumped twice and dumped (-R, it runs on); ROUNDS times a chain whose
dump is plain, then one whose dump has --auto-dedup. The figures: wall time
of each `criu dump`, the dedup step alone (from the dump's log: the time
between "Dumping finished" and the "pages punched" line), the pages punched.
Usage: bench/dedup.py [SIZE_MIB] [ROUNDS] (from the top of the tree).
"""
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

CRIU = os.path.abspath("criu/criu")


def run(*args):
    t0 = time.monotonic()
    r = subprocess.run([CRIU] + list(args), capture_output=True)
    if r.returncode:
        sys.exit("criu %s failed: %s" % (args[0], r.stderr.decode()[-300:]))
    return (time.monotonic() - t0) * 1000


def stamp(log, pattern):
    for line in log.splitlines():
        if re.search(pattern, line):
            return float(line[1:line.index(")")])
    return None


def chain(work, pid, name, extra):
    dirs = [os.path.join(work, "%s%d" % (name, i)) for i in range(3)]
    for i in range(2):
        args = ["pre-dump", "-t", str(pid), "-D", dirs[i], "--track-mem"]
        if i:
            args += ["--prev-images-dir", "../%s0" % name]
        run(*args)
        time.sleep(0.5)
    ms = run("dump", "-R", "-t", str(pid), "-D", dirs[2], "-o", "log", "-v4", "--track-mem",
             "--prev-images-dir", "../%s1" % name, *extra)
    with open(os.path.join(dirs[2], "log")) as f:
        log = f.read()
    m = re.search(r"(\d+) pages punched out of", log)
    t0, t1 = stamp(log, "Dumping finished"), stamp(log, "pages punched out of")
    for d in dirs:
        shutil.rmtree(d)
    return ms, (t1 - t0) * 1000 if t0 is not None and t1 is not None else 0, int(m.group(1)) if m else 0


def main():
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 256
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    work = tempfile.mkdtemp(prefix="criu-bench-dedup.")
    exe = os.path.join(work, "task")
    subprocess.run(["gcc", "-O2", "-o", exe, "test/others/predump_task.c"], check=True)
    pid = subprocess.Popen([exe, os.path.join(work, "result"), str(size)], start_new_session=True).pid
    time.sleep(1)
    plain, dedup, step, punched = [], [], [], []
    for _ in range(rounds):
        plain.append(chain(work, pid, "p", [])[0])
        ms, st, n = chain(work, pid, "a", ["--auto-dedup"])
        dedup.append(ms)
        step.append(st)
        punched.append(n)
    os.kill(pid, signal.SIGKILL)
    shutil.rmtree(work)
    print("| task | final dump | with --auto-dedup | the dedup step | pages punched |")
    print("|---|---|---|---|---|")
    print("| %d MiB, ~3 MiB/s written, %d rounds (median) | %.0f ms | %.0f ms | %.0f ms | %d |" %
          (size, rounds, statistics.median(plain), statistics.median(dedup), statistics.median(step),
           statistics.median(punched)))
    print("# all: plain %s, auto-dedup %s, step %s, punched %s" %
          ([round(x) for x in plain], [round(x) for x in dedup], [round(x) for x in step], punched))


if __name__ == "__main__":
    main()

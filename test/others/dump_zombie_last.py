#!/usr/bin/python3
"""
A tree whose last task in tree order is a zombie: every live task is dumped
once. The dump walks the tasks one core ahead (cr-dump.c, dump_all_tasks()):
the task before a zombie got its memory, fs and files dumped again after the
walk (its images written twice). Checks the -v4 log (one "mem: task N: ...
vmas dumped" line per live task) of a dump with --leave-running and of one
that kills the tree, images on tmpfs. Prints TAP.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import finish, ok, spawn_detached  # noqa: E402  the scripts' shared helpers

CRIU = os.path.abspath(os.environ.get("CRIU_BIN", "criu/criu"))
TREE = r"""
import os, sys, time
a = os.fork()
if a == 0:
    while True:
        time.sleep(100)
b = os.fork()
if b == 0:
    os._exit(0)
while open("/proc/%d/stat" % b).read().rsplit(")", 1)[1].split()[0] != "Z":
    time.sleep(0.01)
open(sys.argv[1] + ".tmp", "w").write("%d %d" % (a, b))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    time.sleep(100)
"""


def one(work, kill):
    ready = os.path.join(work, "ready-%d" % kill)
    root = spawn_detached(["/usr/bin/python3", "-c", TREE, ready])
    for _ in range(500):
        if os.path.exists(ready):
            break
        time.sleep(0.01)
    a, b = (int(x) for x in open(ready).read().split())
    d = os.path.join(work, "img-%d" % kill)
    os.makedirs(d)
    rc = subprocess.run([CRIU, "dump", "-t", str(root), "-D", d, "-v4", "-o", "dump.log"] + ([] if kill else ["-R"])).returncode
    log = open(os.path.join(d, "dump.log")).read()
    dumped = re.findall(r"mem: task (\d+): \d+ vmas dumped", log)
    counts = {p: dumped.count(str(p)) for p in (root, a, b)}
    what = "a dump that kills the tree" if kill else "dump -R"
    ok(rc == 0 and counts[root] == 1 and counts[a] == 1 and counts[b] == 0,
       "%s: a tree ending in a zombie, each live task's memory dumped once (rc %d, %s)" % (what, rc, counts))
    for p in (a, root):
        try:
            os.kill(p, 9)
        except ProcessLookupError:
            pass


def main():
    work = tempfile.mkdtemp(prefix="criu-zombie-last.", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    try:
        one(work, 0)
        one(work, 1)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())

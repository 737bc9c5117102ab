#!/usr/bin/python3
"""
Freeze of a final dump after pre-dumps against a plain dump, same run.

A task of SIZE MiB (test/others/predump_task.c) rewrites about 3 MiB/s. It
is dumped plainly (-R, the tree runs on), then pre-dumped three times and
dumped with --prev-images-dir (-R). The figure is the wall time of each
`criu dump` run (the tree is stopped for nearly all of it) and the pages it
wrote. Usage: bench/predump.py [SIZE_MIB] (from the top of the tree).
"""
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

CRIU = os.path.abspath("criu/criu")


def run(*args):
    t0 = time.monotonic()
    r = subprocess.run([CRIU] + list(args), capture_output=True)
    if r.returncode:
        sys.exit("criu %s failed" % args[0])
    return (time.monotonic() - t0) * 1000


def pages(d):
    return sum(os.path.getsize(p) for p in glob.glob(os.path.join(d, "pages-*.img"))) // 4096


def main():
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 256
    work = tempfile.mkdtemp(prefix="criu-bench-predump.")
    exe = os.path.join(work, "task")
    subprocess.run(["gcc", "-O2", "-o", exe, "test/others/predump_task.c"], check=True)
    pid = subprocess.Popen([exe, os.path.join(work, "result"), str(size)], start_new_session=True).pid
    time.sleep(1)
    plain = run("dump", "-R", "-t", str(pid), "-D", os.path.join(work, "plain"))
    plain_pages = pages(os.path.join(work, "plain"))
    for i in range(3):
        args = ["pre-dump", "-t", str(pid), "-D", os.path.join(work, "p%d" % i), "--track-mem"]
        if i:
            args += ["--prev-images-dir", "../p%d" % (i - 1)]
        run(*args)
        time.sleep(0.5)
    final = run("dump", "-R", "-t", str(pid), "-D", os.path.join(work, "final"), "--track-mem",
                "--prev-images-dir", "../p2")
    final_pages = pages(os.path.join(work, "final"))
    os.kill(pid, signal.SIGKILL)
    print("| task | plain dump | pages | final dump after 3 pre-dumps | pages | ratio |")
    print("|---|---|---|---|---|---|")
    print("| %d MiB, ~3 MiB/s written | %.0f ms | %d | %.0f ms | %d | %.2f |" %
          (size, plain, plain_pages, final, final_pages, final / plain))
    shutil.rmtree(work)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""
Incremental dumps: a 64 MiB task that rewrites about 3 MiB/s is pre-dumped
three times (each pass --prev-images-dir the one before), then dumped with
--prev-images-dir; the final dump must write far fewer pages than the first
pass (pages counted in the pages images, which hold only the written ones).
A restore with a parent dir gone must fail, leaving no process; the restore
through the whole chain must succeed and the task checks every word itself.
Prints TAP; exit 77 when criu is missing.
"""
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

CRIU = os.path.abspath(os.environ.get("CRIU_BIN", "criu/criu"))
HERE = os.path.dirname(os.path.abspath(__file__))
results = []


def ok(cond, what):
    results.append(bool(cond))
    print("%sok %d - %s" % ("" if cond else "not ", len(results), what), flush=True)


def criu(*args):
    r = subprocess.run([CRIU] + list(args), capture_output=True, text=True)
    return r.returncode


def pages_written(d):
    return sum(os.path.getsize(p) for p in glob.glob(os.path.join(d, "pages-*.img"))) // 4096


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def main():
    if not os.access(CRIU, os.X_OK):
        print("# SKIP: criu/criu is not built")
        return 77
    work = tempfile.mkdtemp(prefix="criu-predump.")
    exe = os.path.join(work, "task")
    subprocess.run(["gcc", "-O2", "-o", exe, os.path.join(HERE, "predump_task.c")], check=True)
    result = os.path.join(work, "result")
    pid = os.fork()
    if pid == 0:
        os.setsid()
        null = os.open("/dev/null", os.O_RDWR)
        for i in range(3):
            os.dup2(null, i)
        os.closerange(3, 1024)
        os.execv(exe, [exe, result])
    time.sleep(0.5)
    dirs = [os.path.join(work, "d%d" % i) for i in range(4)]
    for i in range(3):
        args = ["pre-dump", "-t", str(pid), "-D", dirs[i], "-o", "log", "-v4", "--track-mem"]
        if i:
            args += ["--prev-images-dir", "../d%d" % (i - 1)]
        ok(criu(*args) == 0, "pre-dump %d" % (i + 1))
        ok(alive(pid), "the task runs on after pre-dump %d" % (i + 1))
        time.sleep(0.3)
    ok(criu("dump", "-t", str(pid), "-D", dirs[3], "-o", "log", "-v4", "--track-mem",
            "--prev-images-dir", "../d2") == 0, "dump --prev-images-dir ../d2")
    if alive(pid):
        os.kill(pid, signal.SIGKILL)	# the dump failed: the task still runs
    os.waitpid(pid, 0)
    full, last = pages_written(dirs[0]), pages_written(dirs[3])
    ok(full >= 16384 and last * 4 < full, "the final dump wrote %d pages, the first pass %d" % (last, full))
    link = os.path.join(dirs[3], "parent")
    ok(os.path.islink(link) and os.readlink(link) == "../d2", "parent -> ../d2, as given")

    os.rename(dirs[1], dirs[1] + ".gone")
    rc = criu("restore", "-D", dirs[3], "-o", "rlog", "-d")
    with open(os.path.join(dirs[3], "rlog")) as f:
        log = f.read()
    ok(rc != 0 and "parent images" in log, "a restore with d1 gone fails, saying why")
    ok(not alive(pid), "and leaves no process")
    os.rename(dirs[1] + ".gone", dirs[1])

    ok(criu("restore", "-D", dirs[3], "-o", "rlog2", "-d") == 0, "restore through the chain")
    if alive(pid):
        os.kill(pid, signal.SIGUSR2)
        for _ in range(1000):
            if not alive(pid):
                break
            time.sleep(0.01)
    res = open(result).read().strip() if os.path.exists(result) else "no result"
    ok(res == "OK", "the restored task found every word right (%s)" % res)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)
    if all(results):
        shutil.rmtree(work)
    else:
        print("# images and logs kept in %s" % work)
    print("1..%d" % len(results))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())

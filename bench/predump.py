#!/usr/bin/python3
"""
Freeze of a final dump after pre-dumps against a plain dump, same run.

A task of SIZE MiB (test/others/predump_task.c) rewrites about 3 MiB/s. It
is dumped plainly (-R, the tree runs on), then pre-dumped three times and
dumped with --prev-images-dir (-R). The figures are the wall time of each
`criu dump` run, the frozen time of its stats-dump.img (seize to the end of
the dump) and the pages it wrote. Since the holder of the write tracking
(criu/mem-track-holder.c) the command-line passes track writes across
criu processes as an RPC session does. CRIU_BIN=PATH times another binary.
Usage: bench/predump.py [SIZE_MIB] (from the top of the tree).

bench/predump.py SIZE_MIB --rpc: the same through RPC (criu swrk, pycriu of
build/py): a plain DUMP on a connection of its own, then PRE_DUMP x3 and the
DUMP on ONE connection (CRIU's pre-dump loop), where the passes track writes
with a userfaultfd (criu/mem-track.c); then the same session again with
CRIU_NO_WRITE_TRACKING=1 (pages compared with the parent images). Figures:
the DUMP request's wall time and the frozen time of its stats-dump.img.
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


def run(*args):
    """criu ARGS; with LOGLEVEL=N set, -vN and its log in the images dir (dump.log, pre-dump.log)."""
    args = list(args)
    if os.environ.get("LOGLEVEL"):
        args += ["-v" + os.environ["LOGLEVEL"], "-o", args[0] + ".log"]
    t0 = time.monotonic()
    r = subprocess.run([CRIU] + args, capture_output=True)
    if r.returncode:
        sys.exit("criu %s failed" % args[0])
    return (time.monotonic() - t0) * 1000


def pages(d):
    return sum(os.path.getsize(p) for p in glob.glob(os.path.join(d, "pages-*.img"))) // 4096


def frozen_ms(d):
    sys.path.insert(0, os.path.abspath("build/py"))
    import pycriu.images
    with open(os.path.join(d, "stats-dump"), "rb") as f:
        return pycriu.images.load(f)["entries"][0]["dump"]["frozen_time"] / 1000


def session(pid, dirs, gap):
    """PRE_DUMP for each dir but the last, then DUMP (-R), on one swrk connection; the DUMP's wall ms."""
    sys.path.insert(0, os.path.abspath("build/py"))
    import pycriu.criu as pc
    c = pc.criu()
    c.use_binary(CRIU)
    s = c._connect()
    types = pc.pbtypes.new("criu_req").DESCRIPTOR.fields_by_name["type"].enum_type.values_by_name
    try:
        for i, d in enumerate(dirs):
            os.makedirs(d)
            dfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
            req = pc.pbtypes.new("criu_req")
            last = i == len(dirs) - 1
            req.type = types["DUMP" if last else "PRE_DUMP"].number
            req.opts.images_dir_fd = dfd
            req.opts.pid = pid
            req.opts.log_file = "log"
            req.opts.log_level = int(os.environ.get("LOGLEVEL", "2"))
            req.opts.track_mem = True
            req.opts.leave_running = True
            if i:
                req.opts.parent_img = "../" + os.path.basename(dirs[i - 1])
            t0 = time.monotonic()
            s.send(req)
            resp = s.recv()
            ms = (time.monotonic() - t0) * 1000
            os.close(dfd)
            if not resp.success:
                sys.exit("RPC pass %d failed: %s" % (i + 1, resp.cr_errmsg))
            if not last:
                time.sleep(gap)
    finally:
        s.close()
    return ms


def main_rpc(size):
    work = tempfile.mkdtemp(prefix="criu-bench-predump-rpc.")
    exe = os.path.join(work, "task")
    subprocess.run(["gcc", "-O2", "-o", exe, "test/others/predump_task.c"], check=True)
    pid = subprocess.Popen([exe, os.path.join(work, "result"), str(size)], start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).pid
    time.sleep(1)
    try:
        rows = measure(pid, work)
    finally:
        os.killpg(pid, signal.SIGKILL)
    print("| %d MiB + child, ~3 MiB/s written each | DUMP request | frozen | pages | frozen / plain |" % size)
    print("|---|---|---|---|---|")
    for name, ms, fr, pg in rows:
        print("| %s | %.0f ms | %.0f ms | %d | %.3f |" % (name, ms, fr, pg, fr / rows[0][2]))
    if not os.environ.get("KEEP"):
        shutil.rmtree(work)
    else:
        print("# kept %s" % work)


def measure(pid, work):
    rows = []
    plain = os.path.join(work, "plain")
    rows.append(("plain DUMP", session(pid, [plain], 0), frozen_ms(plain), pages(plain)))
    for name, env in (("tracked", None), ("compared", "1")):
        if env:
            os.environ["CRIU_NO_WRITE_TRACKING"] = env
        dirs = [os.path.join(work, "%s%d" % (name, i)) for i in range(4)]
        rows.append(("DUMP after 3 PRE_DUMPs, %s" % name, session(pid, dirs, 0.5), frozen_ms(dirs[-1]),
                     pages(dirs[-1])))
        os.environ.pop("CRIU_NO_WRITE_TRACKING", None)
    return rows


def main():
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 256
    if "--rpc" in sys.argv:
        return main_rpc(size)
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
    os.killpg(pid, signal.SIGKILL)	# the task and its child
    pf, ff = frozen_ms(os.path.join(work, "plain")), frozen_ms(os.path.join(work, "final"))
    print("| task | plain dump | frozen | pages | final dump after 3 pre-dumps | frozen | pages | frozen ratio |")
    print("|---|---|---|---|---|---|---|---|")
    print("| %d MiB, ~3 MiB/s written | %.0f ms | %.0f ms | %d | %.0f ms | %.0f ms | %d | %.3f |" %
          (size, plain, pf, plain_pages, final, ff, final_pages, ff / pf))
    if not os.environ.get("KEEP"):
        shutil.rmtree(work)
    else:
        print("# kept %s" % work)


if __name__ == "__main__":
    main()

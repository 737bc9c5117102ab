#!/usr/bin/python3
"""
Incremental dumps: a 64 MiB task and its child (forked after the fill, the
pages shared copy-on-write), each rewriting about 3 MiB/s, are pre-dumped
three times (each pass --prev-images-dir the one before), then dumped with
--prev-images-dir; the final dump must write far fewer pages than the first
pass (pages counted in the pages images, which hold only the written ones).
A restore with a parent dir gone, or with a byte of a parent's pages changed
(each level is checked against its manifest), must fail, leaving no process; the restore
through the whole chain must succeed and the task checks every word itself.
The same chain through RPC (a connection per pass); then ONE RPC session
(PRE_DUMP, PRE_DUMP, DUMP), whose passes track writes with a userfaultfd
(criu/mem-track.c): test/others/track_task.c changes its memory between the
passes (rewrites, MADV_DONTNEED then reads, mremap onto tracked pages, a new
mapping, a private file mapping), and the task and its child of the first
case; the logs must show the pages taken unread, every restored word right.
The DUMP of a session keeps the uffds open while it reads the VMAs
(test/others/track_final_task.c): a dump with -R, its restore, a failed
DUMP, a task with a userfaultfd of its own, which the DUMP refuses, and a
task that sets up an AIO ring before the DUMP (its tracking dropped there,
its VMAs read again).
Then the tracking across criu processes (criu/mem-track-holder.c): the RPC
chain above (a swrk per pass, as runc's) and a command-line chain of
track_task.c (pre-dump, pre-dump, dump, each --track-mem) must take pages
unread from the "criu-track" holder the pass before left, and leave none
after the dump; a copied parent dir, a parent dir another pass wrote into
again, a holder of another dir or of another criu binary and a failed pass
make the next pass compare (restores still right); a holder of another
tree is left alone and exits when its task is killed.
Prints TAP; exit 77 when criu is missing.
"""
import ctypes
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import spawn_detached  # noqa: E402  the scripts' shared helpers

CRIU = os.path.abspath(os.environ.get("CRIU_BIN", "criu/criu"))
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.abspath("build/py"))
results = []


def ok(cond, what):
    results.append(bool(cond))
    print("%sok %d - %s" % ("" if cond else "not ", len(results), what), flush=True)


def criu(*args):
    r = subprocess.run([CRIU] + list(args), capture_output=True, text=True)
    return r.returncode


def pages_written(d):
    return sum(os.path.getsize(p) for p in glob.glob(os.path.join(d, "pages-*.img"))) // 4096


def reap():
    """Wait for the orphans this subreaper got (a dumped tree's killed tasks, restored ones that ended)."""
    for _ in range(500):
        try:
            p, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if p == 0:
            time.sleep(0.01)


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def start_task(exe, result):
    pid = spawn_detached([exe, result])
    time.sleep(0.5)
    return pid


def rpc_pass(kind, pid, d, parent, **more):
    """A pre-dump or dump through RPC (pycriu, criu swrk), more criu_opts fields in more; True when it worked."""
    import pycriu.criu
    c = pycriu.criu.criu()
    c.use_binary(CRIU)
    os.makedirs(d, exist_ok=True)
    dfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    c.opts.images_dir_fd = dfd
    c.opts.pid = pid
    c.opts.log_file = "log"
    c.opts.log_level = 4
    c.opts.track_mem = True
    if parent:
        c.opts.parent_img = parent
    for k, v in more.items():
        setattr(c.opts, k, v)
    try:
        c.pre_dump() if kind == "pre-dump" else c.dump()
        return True
    except Exception as e:
        print("# %s" % e)
        return False
    finally:
        os.close(dfd)


def verify(pid, result):
    if alive(pid):
        os.kill(pid, signal.SIGUSR2)
        for _ in range(1000):
            if not alive(pid):
                break
            time.sleep(0.01)
    res = open(result).read().strip() if os.path.exists(result) else "no result"
    if alive(pid):
        os.kill(pid, signal.SIGKILL)
    reap()
    return res


def rpc_chain(work, exe):
    """Two pre-dumps and the dump through RPC (PRE_DUMP, DUMP with parent_img), restored by the command."""
    result = os.path.join(work, "rpc-result")
    pid = start_task(exe, result)
    dirs = [os.path.join(work, "r%d" % i) for i in range(3)]
    for i in range(3):
        kind = "pre-dump" if i < 2 else "dump"
        ok(rpc_pass(kind, pid, dirs[i], "../r%d" % (i - 1) if i else None), "RPC %s %d" % (kind, i + 1))
        time.sleep(0.3)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)
    reap()
    full, last = pages_written(dirs[0]), pages_written(dirs[2])
    ok(full >= 16384 and last * 4 < full, "RPC: the final dump wrote %d pages, the first pass %d" % (last, full))
    ok(tracked_pages(dirs[2]) > 16384,
       "RPC, a swrk per pass: the dump took %d pages from the holder's tracking" % tracked_pages(dirs[2]))
    ok(not holders(work), "RPC: no holder is left after the dump")
    ok(criu("restore", "-D", dirs[2], "-o", "rlog", "-d") == 0, "RPC: restore through the chain")
    res = verify(pid, result)
    ok(res == "OK", "RPC: the restored task found every word right (%s)" % res)


def rpc_session(pid, dirs, between, **more):
    """PRE_DUMP for each dir but the last, then DUMP, all on ONE swrk connection (CRIU's pre-dump loop);
    between(i) runs after pass i. True when every pass worked."""
    import pycriu.criu as pc
    c = pc.criu()
    c.use_binary(CRIU)
    s = c._connect()
    types = pc.pbtypes.new("criu_req").DESCRIPTOR.fields_by_name["type"].enum_type.values_by_name
    try:
        for i, d in enumerate(dirs):
            os.makedirs(d, exist_ok=True)
            dfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
            req = pc.pbtypes.new("criu_req")
            req.type = types["PRE_DUMP" if i < len(dirs) - 1 else "DUMP"].number
            req.opts.images_dir_fd = dfd
            req.opts.pid = pid
            req.opts.log_file = "log"
            req.opts.log_level = 4
            req.opts.track_mem = True
            if i:
                req.opts.parent_img = "../" + os.path.basename(dirs[i - 1])
            for k, v in more.items():
                setattr(req.opts, k, v)
            try:
                s.send(req)
                resp = s.recv()
            finally:
                os.close(dfd)
            if not resp.success:
                print("# pass %d failed: %s" % (i + 1, resp.cr_errmsg))
                return False
            between(i)
    finally:
        s.close()
    return True


def tracked_pages(d):
    """The pages a pass took as unchanged from the write tracking (its log), 0 when it says nothing of it."""
    n = 0
    with open(os.path.join(d, "log")) as f:
        for line in f:
            if "pages taken as unchanged from the write tracking" in line:
                n += int(line.split(": ")[-1].split()[0])
    return n


def track_chain(work):
    """Write tracking in one RPC session: MADV_DONTNEED, mremap, a new mapping and a private file mapping
    between the passes; the pages not written are taken from the tracking, every restored word is right."""
    exe = os.path.join(work, "track-task")
    subprocess.run(["gcc", "-O2", "-o", exe, os.path.join(HERE, "track_task.c")], check=True)
    result = os.path.join(work, "track-result")
    pid = spawn_detached([exe, result, os.path.join(work, "track-file")])
    step = result + ".step"
    for _ in range(500):
        if os.path.exists(step) and open(step).read().strip() == "0":
            break
        time.sleep(0.01)

    def next_step(i):
        if i >= 2:
            return
        os.kill(pid, signal.SIGUSR1)
        for _ in range(500):
            if open(step).read().strip() == str(i + 1):
                return
            time.sleep(0.01)

    dirs = [os.path.join(work, "t%d" % i) for i in range(3)]
    ok(rpc_session(pid, dirs, next_step), "one RPC session: PRE_DUMP, PRE_DUMP, DUMP")
    if alive(pid):
        os.kill(pid, signal.SIGKILL)
    reap()
    second, final = tracked_pages(dirs[1]), tracked_pages(dirs[2])
    # A: 8192 pages less the 512 rewritten, 100 zapped, 256 replaced by B: about 7300 not written before pass 2
    ok(second > 7000 and final > 7000,
       "pages taken from the write tracking unread: %d in the second pre-dump, %d in the dump" % (second, final))
    ok(criu("restore", "-D", dirs[2], "-o", "rlog", "-d") == 0, "restore the tracked chain")
    res = verify(pid, result)
    ok(res == "OK", "the restored task found every word right (%s)" % res)


def holders(under=None):
    """{pid: the images dir it holds} of the live "criu-track" holders (of dirs under `under` only: other
    sessions' tests on the machine leave holders of their own)."""
    found = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % p) as f:
                if f.read().strip() != "criu-track" or not alive(int(p)):
                    continue
            found[int(p)] = os.readlink("/proc/%s/fd/3" % p)
        except OSError:
            pass
    if under:
        found = {p: d for p, d in found.items() if d.startswith(os.path.realpath(under) + "/")}
    return found


def holder_of(d):
    return [p for p, h in holders().items() if h == os.path.realpath(d)]


def gone(cond):
    for _ in range(200):
        if cond():
            return True
        time.sleep(0.01)
    return False


def start_track_task(work, name):
    exe = os.path.join(work, "track-task")
    if not os.path.exists(exe):
        subprocess.run(["gcc", "-O2", "-o", exe, os.path.join(HERE, "track_task.c")], check=True)
    result = os.path.join(work, name + "-result")
    pid = spawn_detached([exe, result, os.path.join(work, name + "-file")])
    step = result + ".step"
    for _ in range(500):
        if os.path.exists(step) and open(step).read().strip() == "0":
            break
        time.sleep(0.01)
    return pid, result


def next_step(pid, result, i):
    os.kill(pid, signal.SIGUSR1)
    for _ in range(500):
        if open(result + ".step").read().strip() == str(i):
            return
        time.sleep(0.01)


def log_has(d, what):
    with open(os.path.join(d, "log")) as f:
        return what in f.read()


def cli_pass(kind, pid, d, parent=None, env=None):
    args = [kind, "-t", str(pid), "-D", d, "-o", "log", "-v4", "--track-mem"]
    if parent:
        args += ["--prev-images-dir", parent]
    os.makedirs(d, exist_ok=True)
    e = dict(os.environ, **(env or {}))
    return subprocess.run([CRIU] + args, capture_output=True, env=e).returncode


def stats_ok(d):
    """stats-dump of a pass (as CRIU's pre-dump writes it too): its page counts agree with its images."""
    import pycriu.images
    try:
        with open(os.path.join(d, "stats-dump"), "rb") as f:
            e = pycriu.images.load(f)["entries"][0]["dump"]
    except (OSError, KeyError, IndexError, pycriu.images.ImageError) as err:
        return "no stats-dump: %s" % err
    if e["pages_written"] != pages_written(d) or e["pages_scanned"] != e["pages_written"] + e["pages_skipped_parent"]:
        return "counts disagree: %s, %d pages in the images" % (e, pages_written(d))
    if not 0 < e["frozen_time"] < 60 * 1000000:
        return "frozen time %d us" % e["frozen_time"]
    return "OK"


def cli_track_chain(work):
    """criu pre-dump, pre-dump, dump (--track-mem), a new criu each: the holder carries the tracking."""
    pid, result = start_track_task(work, "cli")
    dirs = [os.path.join(work, "k%d" % i) for i in range(3)]
    ok(cli_pass("pre-dump", pid, dirs[0]) == 0, "CLI tracking: pre-dump 1")
    ok(len(holder_of(dirs[0])) == 1, "a holder of k0's tracking is left")
    next_step(pid, result, 1)
    ok(cli_pass("pre-dump", pid, dirs[1], "../k0") == 0, "CLI tracking: pre-dump 2 --prev-images-dir ../k0")
    ok(not holder_of(dirs[0]) and len(holder_of(dirs[1])) == 1, "k0's holder ended, one of k1 left")
    next_step(pid, result, 2)
    ok(cli_pass("dump", pid, dirs[2], "../k1") == 0, "CLI tracking: dump --prev-images-dir ../k1")
    ok(gone(lambda: not holders(work)), "no holder is left after the dump")
    res = [stats_ok(d) for d in dirs]
    ok(res == ["OK"] * 3, "each pass wrote stats-dump and its counts agree with its images (%s)" % res)
    warmed = [log_has(d, "KiB of page cache written and dropped") for d in dirs]
    ok(warmed == [False, True, True] and all(log_has(d, "copy buffers made and touched") for d in dirs),
       "the passes with a parent wrote page cache before the seize, the first did not (%s)" % warmed)
    second, final = tracked_pages(dirs[1]), tracked_pages(dirs[2])
    ok(second > 7000 and final > 7000,
       "CLI: pages taken from the holder's tracking unread: %d in pre-dump 2, %d in the dump" % (second, final))
    if alive(pid):
        os.kill(pid, signal.SIGKILL)
    reap()
    ok(criu("restore", "-D", dirs[2], "-o", "rlog", "-d") == 0, "restore the CLI tracked chain")
    res = verify(pid, result)
    ok(res == "OK", "the restored task found every word right (%s)" % res)


def cli_track_edges(work):
    """Holders not to be used: a copied parent, another dir's, a failed pass's; another tree's left alone."""
    pid, result = start_track_task(work, "edge")
    other, _ = start_track_task(work, "other")
    e = [os.path.join(work, "e%d" % i) for i in range(5)]
    ok(cli_pass("pre-dump", other, os.path.join(work, "o0")) == 0, "pre-dump of another task")
    ho = holder_of(os.path.join(work, "o0"))
    ok(cli_pass("pre-dump", pid, e[0]) == 0 and len(holder_of(e[0])) == 1, "pre-dump e0 leaves a holder")
    shutil.copytree(e[0], e[0] + "c", symlinks=True)
    ok(cli_pass("pre-dump", pid, e[1], "../e0c") == 0, "pre-dump e1 --prev-images-dir ../e0c (a copy of e0)")
    ok(tracked_pages(e[1]) == 0 and log_has(e[1], "for another dir than the parent") and not holder_of(e[0]),
       "a copied parent is not the holder's dir: its tracking ends, e1 compared (%d pages taken)" %
       tracked_pages(e[1]))
    next_step(pid, result, 1)
    ok(cli_pass("pre-dump", pid, e[2], "../e0") == 0, "pre-dump e2 --prev-images-dir ../e0 (e1 has the holder)")
    ok(tracked_pages(e[2]) == 0 and not holder_of(e[1]) and len(holder_of(e[2])) == 1,
       "the holder of e1 is not used for a pass with parent e0 (%d pages taken), e2 leaves one" %
       tracked_pages(e[2]))
    ok(cli_pass("dump", pid, e[3], "../e2", {"CRIU_FAULT": "dump-check-tree"}) != 0 and alive(pid),
       "a dump failing after it took e2's holder leaves the task running")
    ok(not holder_of(e[2]) and not holder_of(e[3]), "and leaves no holder")
    next_step(pid, result, 2)
    ok(cli_pass("dump", pid, e[4], "../e2") == 0, "dump e4 --prev-images-dir ../e2")
    ok(tracked_pages(e[4]) == 0 and log_has(e[4], "no holder of the write tracking"),
       "after the failed pass the dump compares, saying so")
    reap()
    ok(criu("restore", "-D", e[4], "-o", "rlog", "-d") == 0, "restore e4")
    res = verify(pid, result)
    ok(res == "OK", "the restored task found every word right (%s)" % res)
    ok(len(ho) == 1 and holder_of(os.path.join(work, "o0")) == ho, "the other task's holder was left alone")
    os.kill(other, signal.SIGKILL)
    ok(gone(lambda: not holder_of(os.path.join(work, "o0"))), "and it exits when its task is killed")
    reap()


def cli_track_other_binary(work):
    """A holder left by another criu binary (a rebuild, an upgrade): not used, but ended, so the dump
    does not meet its registrations; the dump compares and restores right."""
    other_criu = os.path.join(work, "criu-other")
    shutil.copy2(CRIU, other_criu)
    pid, result = start_track_task(work, "ob")
    y = [os.path.join(work, "y%d" % i) for i in range(2)]
    os.makedirs(y[0])
    r = subprocess.run([other_criu, "pre-dump", "-t", str(pid), "-D", y[0], "-o", "log", "-v4"],
                       capture_output=True)
    ok(r.returncode == 0 and len(holder_of(y[0])) == 1, "a pre-dump by a copy of criu leaves a holder")
    next_step(pid, result, 1)
    ok(cli_pass("dump", pid, y[1], "../y0") == 0, "a dump by criu --prev-images-dir ../y0")
    ok(tracked_pages(y[1]) == 0 and log_has(y[1], "another criu") and not holder_of(y[0]),
       "the other binary's holder is ended, not used (%d pages taken)" % tracked_pages(y[1]))
    reap()
    ok(criu("restore", "-D", y[1], "-o", "rlog", "-d") == 0, "restore y1")
    res = verify(pid, result)
    ok(res == "OK", "the restored task found every word right (%s)" % res)


def cli_track_rewritten(work):
    """A holder's dir written again by another tree's pass: the same dir, a new manifest.img: not used."""
    a, ares = start_track_task(work, "rwa")
    b, _ = start_track_task(work, "rwb")
    x = [os.path.join(work, "x%d" % i) for i in range(2)]
    ok(cli_pass("pre-dump", a, x[0]) == 0 and len(holder_of(x[0])) == 1, "pre-dump of task a into x0")
    ha = holder_of(x[0])
    ok(cli_pass("pre-dump", b, x[0]) == 0 and len(holder_of(x[0])) == 2, "pre-dump of task b into x0 again")
    ok(cli_pass("pre-dump", a, x[1], "../x0") == 0, "pre-dump of a into x1 --prev-images-dir ../x0")
    ok(tracked_pages(x[1]) == 0 and log_has(x[1], "for another dir than the parent") and ha[0] not in holders(),
       "a's holder of x0 before b's pass is not used (%d pages taken) and ended" % tracked_pages(x[1]))
    for p in (a, b):
        os.kill(p, signal.SIGKILL)
    ok(gone(lambda: not holders(work)), "the holders exit with their tasks")
    reap()


def track_cow_chain(work, exe):
    """The same session over the 64 MiB task and its child, which share pages copy-on-write and write on."""
    result = os.path.join(work, "cow-result")
    pid = start_task(exe, result)
    dirs = [os.path.join(work, "c%d" % i) for i in range(4)]
    ok(rpc_session(pid, dirs, lambda i: time.sleep(0.3)), "one RPC session over a task and its child")
    if alive(pid):
        os.kill(pid, signal.SIGKILL)
    reap()
    ok(tracked_pages(dirs[3]) > 16384, "the dump took %d pages from the tracking" % tracked_pages(dirs[3]))
    ok(criu("restore", "-D", dirs[3], "-o", "rlog", "-d") == 0, "restore the tracked chain of two tasks")
    res = verify(pid, result)
    ok(res == "OK", "both restored tasks found every word right (%s)" % res)


def uw_ranges(pid):
    """The VMAs of pid whose VmFlags have uw (a userfaultfd write-protect registration), as (start, end)."""
    out, cur = [], None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            head = line.split()[0]
            if "-" in head and not head.endswith(":"):
                cur = tuple(int(x, 16) for x in head.split("-"))
            elif head == "VmFlags:" and "uw" in line.split()[1:]:
                out.append(cur)
    return out


def start_final_task(work, name, mode):
    exe = os.path.join(work, "track-final-task")
    if not os.path.exists(exe):
        subprocess.run(["gcc", "-O2", "-o", exe, os.path.join(HERE, "track_final_task.c")], check=True)
    result = os.path.join(work, name + "-result")
    pid = spawn_detached([exe, result, mode])
    for _ in range(500):
        if os.path.exists(result + ".step") and open(result + ".step").read().strip() == "0":
            break
        time.sleep(0.01)
    return pid, result


def step_final_task(pid, result):
    os.kill(pid, signal.SIGUSR1)
    for _ in range(500):
        if open(result + ".step").read().strip() == "1":
            return
        time.sleep(0.01)


def log_lines(d):
    try:
        with open(os.path.join(d, "log")) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


def line_no(lines, what):
    return next((i for i, l in enumerate(lines) if what in l), -1)


def vmas(d):
    """The VMA entries of the one mm image in d, without the ids an images set numbers itself."""
    import pycriu.images
    path = glob.glob(os.path.join(d, "mm-*.img"))
    if len(path) != 1:
        return None
    with open(path[0], "rb") as f:
        mm = pycriu.images.load(f)["entries"][0]
    return [tuple(v.get(k, 0) for k in ("start", "end", "pgoff", "prot", "flags", "status", "madv"))
            for v in mm["vmas"]]


def track_final_kept(work):
    """The DUMP keeps the uffds until the tree is let go: its VMAs (VmFlags uw, ours) are dumped, the uffds
    are closed after the dump (the task runs on without uw), the restored task has no uw either."""
    pid, result = start_final_task(work, "kept", "plain")
    seen = []

    def between(i):
        if i < 2:
            seen.append(len(uw_ranges(pid)))
            step_final_task(pid, result)

    dirs = [os.path.join(work, "k%d" % i) for i in range(3)]
    ok(rpc_session(pid, dirs, between, leave_running=True), "a session whose DUMP leaves the task running")
    ok(seen and min(seen) > 0, "between the passes the task's VMAs show our uw (%s)" % seen)
    lines = log_lines(dirs[2])
    dumped, closed = line_no(lines, "Dumped 1 tasks"), line_no(lines, "their uffds are closed")
    ok(alive(pid) and uw_ranges(pid) == [], "after the DUMP the task runs on, no uw left")
    ok(0 <= dumped < closed, "the uffds are closed after the dump, not before (log lines %d, %d)" % (dumped, closed))
    ok(tracked_pages(dirs[2]) > 500, "the DUMP took %d pages from the tracking" % tracked_pages(dirs[2]))
    plain = os.path.join(work, "kplain")
    ok(criu("dump", "-R", "-t", str(pid), "-D", plain, "-o", "log") == 0 and vmas(dirs[2]) and
       vmas(dirs[2]) == vmas(plain),
       "the DUMP's VMA entries (prot, flags, status, madv) are a plain dump's: nothing of our registration")
    os.kill(pid, signal.SIGKILL)
    reap()
    ok(criu("restore", "-D", dirs[2], "-o", "rlog", "-d") == 0, "restore the dump made with the uffds open")
    ok(alive(pid) and uw_ranges(pid) == [], "the restored task has no uw (no userfaultfd state restored)")
    res = verify(pid, result)
    ok(res == "OK", "the restored task found every word right (%s)" % res)


def track_final_failed(work):
    """A DUMP failing after the VMAs were read (CRIU_FAULT=dump-mem-collect): the task runs on as it was,
    its uffds closed (no uw), the log says so after the failure."""
    pid, result = start_final_task(work, "failed", "plain")
    dirs = [os.path.join(work, "f%d" % i) for i in range(3)]
    os.environ["CRIU_FAULT"] = "dump-mem-collect"
    try:
        done = rpc_session(pid, dirs, lambda i: step_final_task(pid, result) if i == 0 else None)
    finally:
        os.environ.pop("CRIU_FAULT", None)
    lines = log_lines(dirs[2])
    failed, closed = line_no(lines, "Dump failed"), line_no(lines, "their uffds are closed")
    ok(not done and failed >= 0 and closed > failed,
       "the DUMP fails at dump-mem-collect; the uffds are closed after (log lines %d, %d)" % (failed, closed))
    ok(alive(pid) and uw_ranges(pid) == [], "the task runs on, no uw left")
    res = verify(pid, result)
    ok(res == "OK", "and it found every word as it was (%s)" % res)


def track_final_dropped(work):
    """A task whose tracking ends at the DUMP (an AIO ring set up since the last pass): its uffd is closed
    while frozen and its VMAs are read again (no uw of ours left to refuse); the pages are compared, the dump
    and its restore work."""
    pid, result = start_final_task(work, "aio", "aio")
    dirs = [os.path.join(work, "a%d" % i) for i in range(3)]
    done = rpc_session(pid, dirs, lambda i: step_final_task(pid, result) if i == 1 else None)
    lines = log_lines(dirs[2])
    ok(done and line_no(lines, "no write tracking any more (it has an AIO ring") >= 0,
       "the DUMP drops the tracking of a task with an AIO ring, and dumps it")
    ok(tracked_pages(dirs[2]) == 0, "no page taken from the tracking (%d)" % tracked_pages(dirs[2]))
    reap()
    ok(criu("restore", "-D", dirs[2], "-o", "rlog", "-d") == 0, "restore it")
    res = verify(pid, result)
    ok(res == "OK", "the restored task found every word right (%s)" % res)


def track_final_own_uffd(work):
    """The task registers a userfaultfd of its own (write-protect) on a range mapped again inside a tracked
    one: the DUMP, which meets our uw elsewhere, refuses that VMA by name; the task runs on, its own
    registration kept and ours gone."""
    pid, result = start_final_task(work, "own", "own-uffd")
    dirs = [os.path.join(work, "o%d" % i) for i in range(3)]
    done = rpc_session(pid, dirs, lambda i: step_final_task(pid, result) if i == 1 else None)
    lines = log_lines(dirs[2])
    refused = [l for l in lines if "userfaultfd registration" in l and "not supported" in l]
    ok(not done and refused, "the DUMP refuses the task's own userfaultfd: %s" % (refused[:1] or "no refusal"))
    own = uw_ranges(pid) if alive(pid) else None
    ok(own is not None and len(own) == 1 and own[0][1] - own[0][0] == 256 * 4096,
       "the task runs on with its own registration only (%s)" % own)
    res = verify(pid, result)
    ok(res == "OK", "and it found every word as it was (%s)" % res)


def main():
    if not os.access(CRIU, os.X_OK):
        print("# SKIP: criu/criu is not built")
        return 77
    # the killed tree's child comes back to us, not to a pid 1 that reaps late
    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)	# PR_SET_CHILD_SUBREAPER
    work = tempfile.mkdtemp(prefix="criu-predump.")
    exe = os.path.join(work, "task")
    subprocess.run(["gcc", "-O2", "-o", exe, os.path.join(HERE, "predump_task.c")], check=True)
    result = os.path.join(work, "result")
    pid = start_task(exe, result)
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
    reap()
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

    pages = sorted(glob.glob(os.path.join(dirs[1], "pages-*.img")))[0]
    with open(pages, "r+b") as f:
        f.seek(4096 * 7 + 100)
        b = f.read(1)
        f.seek(4096 * 7 + 100)
        f.write(bytes([b[0] ^ 0xff]))
    rc = criu("restore", "-D", dirs[3], "-o", "rlog-bad", "-d")
    with open(os.path.join(dirs[3], "rlog-bad")) as f:
        log = f.read()
    ok(rc != 0 and "level 2" in log and "manifest" in log,
       "a restore with a byte of d1's pages changed fails at d1's manifest check")
    ok(not alive(pid), "and leaves no process")
    with open(pages, "r+b") as f:
        f.seek(4096 * 7 + 100)
        f.write(b)

    ok(criu("restore", "-D", dirs[3], "-o", "rlog2", "-d") == 0, "restore through the chain")
    res = verify(pid, result)
    ok(res == "OK", "the restored task found every word right (%s)" % res)
    rpc_chain(work, exe)
    track_chain(work)
    track_cow_chain(work, exe)
    track_final_kept(work)
    track_final_failed(work)
    track_final_own_uffd(work)
    track_final_dropped(work)
    cli_track_chain(work)
    cli_track_edges(work)
    cli_track_rewritten(work)
    cli_track_other_binary(work)
    if all(results):
        shutil.rmtree(work)
    else:
        print("# images and logs kept in %s" % work)
    print("1..%d" % len(results))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())

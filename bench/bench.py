#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""criu dump/restore speed against the physical limit.

    python3 bench/bench.py [--sizes 256,1024,4096] [--fs tmpfs,disk] [--modes warm,cold]
                           [--runs 5] [--cold-runs 3] [--idle 10] [--pidfd-runs 5]
                           [--no-mem] [--no-pidfd] [--md FILE] [--keep]

Memory: for each size, images directory (tmpfs: /dev/shm, disk: /var/tmp) and mode,
each run
  1. starts `memhog SIZE` (fills SIZE of anonymous memory with a pattern);
     baseline write: `basecopy write` fills SIZE of memory, then times write() of it (1 MiB calls)
     to a file beside the images (then the file is removed);
  2. times `criu dump -t PID -D DIR -v4 -o dump.log` right after (the task is killed by the dump);
  3. times `criu restore -D DIR -d -v4 -o restore.log`, then SIGUSR1 makes the
     restored memhog check every word of its pattern and report (a run whose check
     fails is an error, not a figure);
  4. baseline read: `basecopy read` times mmap of fresh memory + read() of the pages
     image into it.
  warm: right before each timed step (criu's and the baselines') three times SIZE of
  memory is touched and freed, so the memory the step takes was in use just before;
  cold: the machine idles --idle seconds before each timed step (this VM hands free
  memory back to the host: page_reporting), the same for criu and the baselines.
  On disk, `sync` runs before each timed step and the pages image is dropped from the
  page cache (posix_fadvise DONTNEED) before the restore and the baseline read, so both
  read the disk. Neither criu nor the baseline fsync()s.
  Freeze: (log) from criu's "Dumping the process tree" line to its "Dumped N tasks"
  line (the kill follows at once: no syscall but kill() in between); (task) in warm
  tmpfs runs an extra `criu dump -R` of a second memhog, which measures the longest
  gap between its 1 ms wake-ups and reports it on SIGUSR2.
pidfd: a tree of NPROC processes each holding NFDS pidfds (pidtree), dumped and
  restored on tmpfs; the restored tree checks each pidfd's target pid.

Every figure is the median of the runs (min-max beside it). The driver runs itself as
pid 1 of a new pid namespace (unshare --pid --fork --mount-proc) and reaps all it starts.
"""

import argparse
import ctypes
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CRIU = os.path.join(ROOT, "criu", "criu")
MEMHOG = os.path.join(HERE, "memhog")
BASECOPY = os.path.join(HERE, "basecopy")
PIDTREE = os.path.join(HERE, "pidtree")
MEMTREE = os.path.join(HERE, "memtree")
PIDNS_ENV = "CRIU_BENCH_IN_PIDNS"
FS_DIRS = {"tmpfs": "/dev/shm", "disk": "/var/tmp"}
LOG_RE = re.compile(r"^\((\d+)\.(\d+)\) (.*)$")
MIB = 1 << 20
UNIQ = "%d-%d" % (int(time.time()), os.getpid())


class BenchError(Exception):
    pass


def private_criu():
    """A copy of criu/criu: others may rebuild the tree while the benchmark runs."""
    global CRIU
    d = "/tmp/criu-bench-bin-" + UNIQ
    os.makedirs(d, exist_ok=True)
    dst = os.path.join(d, "criu")
    shutil.copy2(CRIU, dst)
    CRIU = dst
    run([CRIU, "-V"])
    return d


def enter_pidns():
    """Run the calling script (sys.argv) again as pid 1 of a fresh pid namespace, a subreaper."""
    if os.environ.get(PIDNS_ENV):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)      # PR_SET_CHILD_SUBREAPER
        return
    env = dict(os.environ, **{PIDNS_ENV: "1"})
    argv = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child",
            sys.executable, os.path.abspath(sys.argv[0])] + sys.argv[1:]
    os.execvpe("unshare", argv, env)


def reap_orphans():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def mem_available_mib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) // 1024
    return 0


def run(argv, timeout=600):
    """Runs argv; returns (wall seconds, stdout). A failure raises BenchError."""
    t0 = time.monotonic()
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout, text=True)
    except (OSError, subprocess.SubprocessError) as e:
        raise BenchError("%s: %s" % (argv[0], e))
    dt = time.monotonic() - t0
    if p.returncode:
        raise BenchError("%s exited %d: %s" % (" ".join(argv), p.returncode,
                                               (p.stderr or p.stdout).strip()[-400:]))
    return dt, p.stdout


def basecopy_us(argv):
    _, out = run([BASECOPY] + argv)
    m = re.search(r"us (\d+)", out)
    if not m:
        raise BenchError("basecopy printed no time: %r" % out)
    return int(m.group(1)) / 1e6


def wait_report(path, word, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith(word):
                        return line.strip()
        except FileNotFoundError:
            pass
        time.sleep(0.01)
    raise BenchError("no '%s' in %s after %ds" % (word, path, timeout))


def log_times(path):
    """[(seconds, text)] of a criu log."""
    out = []
    with open(path, errors="replace") as f:
        for line in f:
            m = LOG_RE.match(line.rstrip("\n"))
            if m:
                out.append((int(m.group(1)) + int(m.group(2)) / 1e6, m.group(3)))
    return out


def log_span(lines, start_pat, end_pat):
    start = end = None
    for t, text in lines:
        if start is None and re.search(start_pat, text):
            start = t
        if re.search(end_pat, text):
            end = t
    if start is None or end is None:
        return None
    return end - start


def dir_bytes(d):
    return sum(os.path.getsize(os.path.join(d, n)) for n in os.listdir(d)
               if n.endswith(".img"))


def drop_cache(path):
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def wait_exit(pid, timeout):
    """Waits for our child pid to exit; returns its status, or None (then it is killed)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            got, st = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return None
        if got:
            return st
        if time.monotonic() >= deadline:
            kill_wait(pid)
            return None
        time.sleep(0.005)


def kill_wait(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


# warm: memory touched right before each timed step, in multiples of the size. One size was
# not enough: criu's dump then drew cold pages for its image in about half the runs
# (memory part 0.8-2.3 s instead of 0.40-0.47 s, sys time up with it), three sizes made
# those runs go away. The baselines get the same touch.
WARM_FACTOR = 3


class Conditioner:
    """What runs right before each timed step: warm touches, cold idles."""

    def __init__(self, mode, idle, disk):
        self.mode, self.idle, self.disk = mode, idle, disk

    def before(self, mib):
        if self.disk:
            os.sync()
        if self.mode == "cold":
            time.sleep(self.idle)
        else:
            run([BASECOPY, "touch", str(WARM_FACTOR * mib)])

    def before_baseline(self, mib):
        """cold idles inside basecopy (DELAY_S); warm touches here, as before criu."""
        if self.mode == "warm":
            self.before(mib)

    def basecopy_delay(self):
        return str(self.idle) if self.mode == "cold" else "0"


def start_memhog(mib, report):
    if os.path.exists(report):
        os.unlink(report)
    p = subprocess.Popen([MEMHOG, str(mib), report], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_report(report, "ready")
    except BenchError:
        p.kill()
        p.wait()
        raise
    return p


def freeze_seen_by_task(mib, work, cond):
    """Dump -R a memhog; returns the longest gap it saw between wake-ups (s)."""
    rep = os.path.join(work, "rep-R")
    img = os.path.join(work, "img-R")
    os.makedirs(img, exist_ok=True)
    p = start_memhog(mib, rep)
    try:
        cond.before(mib)
        run([CRIU, "dump", "-t", str(p.pid), "-D", img, "-R", "-v4", "-o", "dump.log"])
        time.sleep(0.05)
        os.kill(p.pid, signal.SIGUSR2)
        line = wait_report(rep, "gap", 10)
        return int(line.split()[1]) / 1e6
    finally:
        p.kill()
        p.wait()
        shutil.rmtree(img, ignore_errors=True)


def mem_run(mib, fs, mode, args, work):
    """One run; returns a dict of figures (seconds, bytes)."""
    cond = Conditioner(mode, args.idle, fs == "disk")
    img = os.path.join(work, "img")
    rep = os.path.join(work, "rep")
    base = os.path.join(work, "base.bin")
    shutil.rmtree(img, ignore_errors=True)
    os.makedirs(img)
    r = {}

    cond.before_baseline(mib)
    r["base_memcpy"] = basecopy_us(["memcpy", str(mib), cond.basecopy_delay()])

    if fs == "tmpfs" and mode == "warm":
        r["freeze_task_R"] = freeze_seen_by_task(mib, work, cond)

    p = start_memhog(mib, rep)
    try:
        # the write baseline right before the dump it is compared with: this VM's
        # speed drifts over seconds, so the pair is taken as close together as it can be
        if fs == "disk":
            os.sync()
        cond.before_baseline(mib)
        r["base_write"] = basecopy_us(["write", base, str(mib), cond.basecopy_delay()])
        os.unlink(base)
        cond.before(mib)
        r["dump"], _ = run([CRIU, "dump", "-t", str(p.pid), "-D", img, "-v4", "-o", "dump.log"])
    finally:
        p.kill()
        st = p.wait()
    if st != -signal.SIGKILL:
        raise BenchError("memhog was not killed by the dump (status %s)" % st)
    dl = log_times(os.path.join(img, "dump.log"))
    r["freeze_log"] = log_span(dl, r"Dumping the process tree", r"Dumped \d+ tasks")
    # to the end of the copy: the copying threads' collection (criu from h6-pardump), or the task's copy line
    r["dump_mem_log"] = log_span(dl, r"Dumping task \d+", r"mem: task \d+: \d+ pages|mem: the pages of every task copied")
    r["dump_after_log"] = log_span(dl, r"Dumped \d+ tasks", r"Dumping finished")
    r["pages_img"] = os.path.getsize(os.path.join(img, "pages-1.img"))
    r["img_total"] = dir_bytes(img)
    pages_img = os.path.join(img, "pages-1.img")

    if fs == "disk":
        drop_cache(pages_img)
    cond.before(mib)
    r["restore"], _ = run([CRIU, "restore", "-D", img, "-d", "-v4", "-o", "restore.log"])
    try:
        os.kill(p.pid, signal.SIGUSR1)
        st = wait_exit(p.pid, 60)
    except ProcessLookupError:
        st = None
    verdict = wait_report(rep, "verify", 10)
    if st is None or not os.WIFEXITED(st) or os.WEXITSTATUS(st) or "verify ok" not in verdict:
        raise BenchError("restored memhog: %s (status %s)" % (verdict, st))
    rl = log_times(os.path.join(img, "restore.log"))
    r["restore_mem_log"] = log_span(rl, r"stage 'ready' done", r"task \d+ morphed")

    if fs == "disk":
        drop_cache(pages_img)
    cond.before_baseline(mib)
    r["base_read"] = basecopy_us(["read", pages_img, str(mib), cond.basecopy_delay()])
    shutil.rmtree(img, ignore_errors=True)
    reap_orphans()
    return r


def med(vals):
    vals = [v for v in vals if v is not None]
    if not vals:
        return None, None, None
    return statistics.median(vals), min(vals), max(vals)


def fmt_s(vals):
    m, lo, hi = med(vals)
    if m is None:
        return "-"
    return "%.3f (%.3f-%.3f)" % (m, lo, hi)


def fmt_ratio(a, b):
    pairs = [x / y for x, y in zip(a, b) if x is not None and y]
    m, lo, hi = med(pairs)
    if m is None:
        return "-"
    return "%.2f (%.2f-%.2f)" % (m, lo, hi)


class Report:
    def __init__(self, md_path):
        self.lines = []
        self.md_path = md_path

    def out(self, line=""):
        print(line, flush=True)
        self.lines.append(line)

    def save(self):
        if self.md_path:
            with open(self.md_path, "w") as f:
                f.write("\n".join(self.lines) + "\n")


def bench_memory(args, rep):
    rep.out("## Memory: dump and restore of touched anonymous memory")
    rep.out()
    rep.out("Seconds, median (min-max) of the runs; ratio = criu / baseline, pair by pair "
            "in the same run. dump/restore: whole `criu` command, wall clock. "
            "base write/read: inside basecopy (CLOCK_MONOTONIC). memcpy: the same bytes copied "
            "into freshly mapped memory, inside basecopy, in the same run.")
    rep.out()
    rep.out("| size | images | mode | runs | dump | base write | dump/write | restore | base read "
            "| restore/read | freeze (log) | freeze (task, -R) | mem part of dump (log) "
            "| dump after 'Dumped' (kill+wait) | mem part of restore (log) | pages img / touched "
            "| memcpy | dump/memcpy | restore/memcpy |")
    rep.out("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for mib in args.sizes:
        for fs in args.fs:
            for mode in args.modes:
                runs = args.runs if mode == "warm" else args.cold_runs
                # warm touches happen next to the task (dump) or the image (restore)
                need = max(2 * mib + (mib if fs == "tmpfs" else 0),
                           mib + (WARM_FACTOR * mib if mode == "warm" else 0)) + 1024
                avail = mem_available_mib()
                if avail < need:
                    rep.out("| %d MiB | %s | %s | skipped: %d MiB available, %d MiB needed |"
                            % (mib, fs, mode, avail, need))
                    continue
                work = os.path.join(FS_DIRS[fs], "criu-bench-" + UNIQ)
                os.makedirs(work, exist_ok=True)
                res = []
                try:
                    for i in range(runs):
                        avail = mem_available_mib()
                        if avail < need:
                            raise BenchError("%d MiB available, %d MiB needed" % (avail, need))
                        r = mem_run(mib, fs, mode, args, work)
                        print("  . %d MiB %s %s run %d: dump %.3f write %.3f restore %.3f read %.3f"
                              % (mib, fs, mode, i + 1, r["dump"], r["base_write"],
                                 r["restore"], r["base_read"]), flush=True)
                        res.append(r)
                except BenchError as e:
                    rep.out("| %d MiB | %s | %s | error after %d runs: %s |" % (mib, fs, mode, len(res), e))
                    continue
                finally:
                    if not args.keep:
                        shutil.rmtree(work, ignore_errors=True)

                def col(k):
                    return [r.get(k) for r in res]
                size_ratio = statistics.median(r["pages_img"] / (mib * MIB) for r in res)
                rep.out("| %d MiB | %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.5f (all images %.5f) | %s | %s | %s |"
                        % (mib, fs, mode, len(res), fmt_s(col("dump")), fmt_s(col("base_write")),
                           fmt_ratio(col("dump"), col("base_write")), fmt_s(col("restore")),
                           fmt_s(col("base_read")), fmt_ratio(col("restore"), col("base_read")),
                           fmt_s(col("freeze_log")), fmt_s(col("freeze_task_R")),
                           fmt_s(col("dump_mem_log")), fmt_s(col("dump_after_log")),
                           fmt_s(col("restore_mem_log")), size_ratio,
                           statistics.median(r["img_total"] / (mib * MIB) for r in res),
                           fmt_s(col("base_memcpy")), fmt_ratio(col("dump"), col("base_memcpy")),
                           fmt_ratio(col("restore"), col("base_memcpy"))))
    rep.out()



def timed_rusage(argv, timeout=600):
    """Runs argv; returns (wall seconds, CPU seconds of it and its reaped children)."""
    t0 = time.monotonic()
    try:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
    except OSError as e:
        raise BenchError("%s: %s" % (argv[0], e))
    _, st, ru = os.wait4(p.pid, 0)
    dt = time.monotonic() - t0
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    p.returncode = 0
    if not os.WIFEXITED(st) or os.WEXITSTATUS(st):
        raise BenchError("%s failed (status %d): %s" % (" ".join(argv), st, err.strip()[-400:]))
    return dt, ru.ru_utime + ru.ru_stime


def tree_pids(root):
    """root and every descendant, from /proc/PID/task/*/children."""
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        try:
            for tid in os.listdir("/proc/%d/task" % pid):
                with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                    todo.extend(int(x) for x in f.read().split())
        except OSError:
            pass
    return out


def cpu_of(pids):
    """utime + stime of the processes, in seconds."""
    tck = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / tck


def tree_run(criu, nproc, mib, work, cond, baselines):
    """One dump + restore of a memtree of nproc x mib, every word checked after it."""
    img = os.path.join(work, "img")
    rep = os.path.join(work, "rep")
    base = os.path.join(work, "base")
    total = nproc * mib
    shutil.rmtree(img, ignore_errors=True)
    os.makedirs(img)
    if os.path.exists(rep):
        os.unlink(rep)
    p = subprocess.Popen([MEMTREE, str(nproc), str(mib), rep], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    r = {}
    try:
        wait_report(rep, "ready", 600)
        if baselines:
            cond.before_baseline(total)
            r["write"] = basecopy_us(["write", base, str(total), cond.basecopy_delay()])
        cond.before(total)
        r["dump"], cpu = timed_rusage([criu, "dump", "-t", str(p.pid), "-D", img, "-v4", "-o", "dump.log"])
        r["dump_cores"] = cpu / r["dump"]
    finally:
        p.kill()
        p.wait()
        reap_orphans()
    cond.before(total)
    r["restore"], cpu = timed_rusage([criu, "restore", "-D", img, "-d", "-v4", "-o", "restore.log"])
    # the stubs' work is the restored tasks' CPU time (they are new processes)
    r["restore_cores"] = (cpu + cpu_of(tree_pids(p.pid))) / r["restore"]
    try:
        os.kill(p.pid, signal.SIGUSR1)
        st = wait_exit(p.pid, 300)
    except ProcessLookupError:
        st = None
    verdict = wait_report(rep, "verify", 10)
    reap_orphans()
    if st is None or not os.WIFEXITED(st) or os.WEXITSTATUS(st) or "verify ok" not in verdict:
        raise BenchError("restored memtree: %s (status %s)" % (verdict, st))
    r["verify"] = verdict
    shutil.rmtree(img, ignore_errors=True)
    if baselines:
        cond.before_baseline(total)
        r["read"] = basecopy_us(["read", base, str(total), cond.basecopy_delay()])
        os.unlink(base)
    return r


def pair_ratio(res, a, b):
    return statistics.median(r[a] / r[b] for r in res)


def bench_tree(args, rep):
    up = os.environ.get("CRIU_UPSTREAM")
    rep.out("## Trees: NPROC tasks x SIZE of private memory each (images on tmpfs, %s)" % args.tree_mode)
    rep.out()
    rep.out("`bench/memtree`: every word of every task is checked after each restore (a run whose "
            "check fails is an error, not a figure). Baselines, in the same run, one thread, the same "
            "bytes: write() of all of it from memory into a file beside the images (dump), read() of "
            "that file into fresh memory (restore). cores: CPU time of criu (and, for the restore, "
            "of the restored tasks, which were its stubs) / wall time, on a machine with %d CPUs. "
            "Seconds, median (min-max); ratios pairwise." % os.cpu_count())
    if up:
        rep.out(" upstream: `%s`, the same tree, dump and restore timed the same way, run right after ours." % up)
    rep.out()
    hdr = ("| tasks x MiB | runs | dump | write() | dump / write() | dump cores | restore | read() "
           "| restore / read() | restore cores |")
    if up:
        hdr += " upstream dump | upstream restore | restore / upstream's |"
    rep.out(hdr)
    rep.out("|" + "---|" * (hdr.count("|") - 1))
    work = os.path.join(FS_DIRS["tmpfs"], "criu-bench-tree-" + UNIQ)
    os.makedirs(work, exist_ok=True)
    cond = Conditioner(args.tree_mode, args.idle, False)
    try:
        for nproc, mib in args.tree_cases:
            res, ups = [], []
            try:
                for _ in range(args.tree_runs):
                    res.append(tree_run(CRIU, nproc, mib, work, cond, True))
                    if up:
                        ups.append(tree_run(up, nproc, mib, work, cond, False))
            except BenchError as e:
                rep.out("| %dx%d | error after %d runs: %s |" % (nproc, mib, len(res), e))
                continue
            line = "| %dx%d | %d | %s | %s | %.2f | %.2f | %s | %s | %.2f | %.2f |" % (
                nproc, mib, len(res), fmt_s([r["dump"] for r in res]), fmt_s([r["write"] for r in res]),
                pair_ratio(res, "dump", "write"), med([r["dump_cores"] for r in res])[0],
                fmt_s([r["restore"] for r in res]), fmt_s([r["read"] for r in res]),
                pair_ratio(res, "restore", "read"), med([r["restore_cores"] for r in res])[0])
            if up:
                line += " %s | %s | %.2f |" % (
                    fmt_s([u["dump"] for u in ups]), fmt_s([u["restore"] for u in ups]),
                    statistics.median(r["restore"] / u["restore"] for r, u in zip(res, ups)))
            rep.out(line)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rep.out()


def pidtree_start(nproc, nfds, mode, work):
    """bench/pidtree in a session of its own, an empty images dir: (its Popen, the dir, its report file)."""
    img = os.path.join(work, "img")
    rep = os.path.join(work, "rep")
    shutil.rmtree(img, ignore_errors=True)
    os.makedirs(img)
    if os.path.exists(rep):
        os.unlink(rep)
    p = subprocess.Popen([PIDTREE, str(nproc), str(nfds), mode, rep], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    return p, img, rep


def pidfd_run(nproc, nfds, mode, work, criu=None):
    criu = criu or CRIU
    p, img, rep = pidtree_start(nproc, nfds, mode, work)
    r = {}
    try:
        wait_report(rep, "ready", 60)
        r["dump"], _ = run([criu, "dump", "-t", str(p.pid), "-D", img, "-v4", "-o", "dump.log"])
    finally:
        p.kill()
        p.wait()
        reap_orphans()
    dl = log_times(os.path.join(img, "dump.log"))
    r["freeze_log"] = log_span(dl, r"Dumping the process tree", r"Dumped \d+ tasks")
    r["img_total"] = dir_bytes(img)
    r["restore"], _ = run([criu, "restore", "-D", img, "-d", "-v4", "-o", "restore.log"])
    try:
        os.kill(p.pid, signal.SIGUSR1)
        st = wait_exit(p.pid, 60)
    except ProcessLookupError:
        st = None
    verdict = wait_report(rep, "verify", 10)
    reap_orphans()
    if st is None or not os.WIFEXITED(st) or os.WEXITSTATUS(st) or "verify ok" not in verdict:
        raise BenchError("restored pidtree: %s (status %s)" % (verdict, st))
    shutil.rmtree(img, ignore_errors=True)
    return r


def bench_pidfd(args, rep):
    up = os.environ.get("CRIU_UPSTREAM")
    rep.out("## pidfd: a tree of processes holding pidfds (images on tmpfs)")
    rep.out()
    rep.out("root: every pidfd points at the root process; spread: child k points at the "
            "root, the children before it and itself in turn. Seconds, median (min-max). Per pidfd: "
            "(median time - median time of the same number of processes without pidfds) / pidfds. "
            "The restored tree checks every pidfd's target.")
    if up:
        rep.out(" upstream: `%s`, run right after ours on a tree of its own." % up)
    rep.out()
    hdr = ("| processes | pidfds each | targets | pidfds total | runs | dump | restore | freeze (log) "
           "| dump per pidfd | restore per pidfd | images |")
    if up:
        hdr += " upstream dump | upstream restore | upstream restore per pidfd | restore / upstream's |"
    rep.out(hdr)
    rep.out("|" + "---|" * (hdr.count("|") - 1))
    work = os.path.join(FS_DIRS["tmpfs"], "criu-bench-pidfd-" + UNIQ)
    os.makedirs(work, exist_ok=True)
    zero = {}
    try:
        for nproc, nfds, mode in args.pidfd_cases:
            res, ups = [], []
            try:
                for _ in range(args.pidfd_runs):
                    res.append(pidfd_run(nproc, nfds, mode, work))
                    if up:
                        ups.append(pidfd_run(nproc, nfds, mode, work, up))
            except BenchError as e:
                rep.out("| %d | %d | %s | %d | error after %d runs: %s |"
                        % (nproc, nfds, mode, nproc * nfds, len(res), e))
                continue
            m = {k: statistics.median(r[k] for r in res) for k in ("dump", "restore")}
            if up:
                m["up_restore"] = statistics.median(u["restore"] for u in ups)
            if nfds == 0:
                zero[nproc] = m

            def per(key):
                z = zero.get(nproc)
                if not nfds or not z or key not in z:
                    return "-"
                return "%.1f us" % ((m[key] - z[key]) / (nproc * nfds) * 1e6)
            line = "| %d | %d | %s | %d | %d | %s | %s | %s | %s | %s | %d B |" % (
                nproc, nfds, mode, nproc * nfds, len(res),
                fmt_s([r["dump"] for r in res]), fmt_s([r["restore"] for r in res]),
                fmt_s([r["freeze_log"] for r in res]), per("dump"), per("restore"),
                statistics.median(r["img_total"] for r in res))
            if up:
                line += " %s | %s | %s | %.2f |" % (
                    fmt_s([u["dump"] for u in ups]), fmt_s([u["restore"] for u in ups]), per("up_restore"),
                    statistics.median(r["restore"] / u["restore"] for r, u in zip(res, ups)))
            rep.out(line)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rep.out()


def machine(rep):
    def sh(cmd):
        try:
            return subprocess.run(cmd, shell=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError) as e:
            return str(e)
    rep.out("## Machine")
    rep.out()
    rep.out("```")
    rep.out("$ date -u; nproc; uname -r; free -g")
    rep.out(sh("date -u; nproc; uname -r; free -g"))
    rep.out("$ findmnt -no TARGET,FSTYPE,SOURCE -T /dev/shm; findmnt -no TARGET,FSTYPE,SOURCE -T /var/tmp")
    rep.out(sh("findmnt -no TARGET,FSTYPE,SOURCE -T /dev/shm; findmnt -no TARGET,FSTYPE,SOURCE -T /var/tmp"))
    rep.out("$ cat /sys/kernel/mm/transparent_hugepage/enabled")
    rep.out(sh("cat /sys/kernel/mm/transparent_hugepage/enabled"))
    rep.out("$ grep -o 'page_reporting[^ ]*' /proc/cmdline; git rev-parse --short HEAD; sha1sum criu")
    rep.out(sh("grep -o 'page_reporting[^ ]*' /proc/cmdline; git -C %s rev-parse --short HEAD; sha1sum %s"
               % (ROOT, CRIU)))
    rep.out("```")
    rep.out()


def parse_args():
    ap = argparse.ArgumentParser(description="criu dump/restore benchmarks")
    ap.add_argument("--sizes", default="256,1024,4096", help="MiB, comma separated")
    ap.add_argument("--fs", default="tmpfs,disk")
    ap.add_argument("--modes", default="warm,cold")
    ap.add_argument("--runs", type=int, default=5, help="runs of each warm figure")
    ap.add_argument("--cold-runs", type=int, default=3, help="runs of each cold figure")
    ap.add_argument("--idle", type=int, default=10, help="seconds of idling before a cold step")
    ap.add_argument("--pidfd-runs", type=int, default=5)
    ap.add_argument("--pidfd-cases", default="100x0,100x1:root,100x10:root,100x100:root,100x100:spread,"
                    "1x0,1x100:root,1x1000:root",
                    help="NPROCxNFDS[:root|spread], comma separated")
    ap.add_argument("--tree-cases", default="8x128,64x16,1x1024", help="NPROCxMIB, comma separated")
    ap.add_argument("--tree-runs", type=int, default=5)
    ap.add_argument("--tree-mode", default="warm", choices=("warm", "cold"))
    ap.add_argument("--no-tree", action="store_true")
    ap.add_argument("--no-mem", action="store_true")
    ap.add_argument("--no-pidfd", action="store_true")
    ap.add_argument("--md", help="also write the tables (markdown) to this file")
    ap.add_argument("--keep", action="store_true", help="keep the work directories")
    a = ap.parse_args()
    a.sizes = [int(x) for x in a.sizes.split(",") if x]
    a.fs = [x for x in a.fs.split(",") if x]
    a.modes = [x for x in a.modes.split(",") if x]
    for fs in a.fs:
        if fs not in FS_DIRS:
            ap.error("--fs: tmpfs or disk, not %r" % fs)
    for m in a.modes:
        if m not in ("warm", "cold"):
            ap.error("--modes: warm or cold, not %r" % m)
    cases = []
    for c in a.pidfd_cases.split(","):
        m = re.fullmatch(r"(\d+)x(\d+)(?::(root|spread))?", c)
        if not m:
            ap.error("--pidfd-cases: bad case %r" % c)
        cases.append((int(m.group(1)), int(m.group(2)), m.group(3) or "root"))
    a.pidfd_cases = cases
    trees = []
    for c in a.tree_cases.split(","):
        m = re.fullmatch(r"(\d+)x(\d+)", c)
        if not m:
            ap.error("--tree-cases: bad case %r" % c)
        trees.append((int(m.group(1)), int(m.group(2))))
    a.tree_cases = trees
    return a


def main():
    args = parse_args()
    for prog in (CRIU, MEMHOG, BASECOPY, PIDTREE, MEMTREE):
        if not os.access(prog, os.X_OK):
            sys.exit("bench: %s is missing: run `make bench` from the top" % prog)
    enter_pidns()
    bin_dir = private_criu()
    rep = Report(args.md)
    rep.out("# criu benchmark")
    rep.out()
    rep.out("command: `python3 bench/bench.py %s`" % " ".join(sys.argv[1:]))
    rep.out()
    machine(rep)
    try:
        if not args.no_tree:
            bench_tree(args, rep)
        if not args.no_mem:
            bench_memory(args, rep)
        if not args.no_pidfd:
            bench_pidfd(args, rep)
    finally:
        rep.save()
        reap_orphans()
        shutil.rmtree(bin_dir, ignore_errors=True)


if __name__ == "__main__":
    main()

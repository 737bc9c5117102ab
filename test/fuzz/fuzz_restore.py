#!/usr/bin/python3
"""
Fuzz `criu restore` with mutated images directories (Documentation/reliability.md, §11).

    fuzz_restore.py [--runs N] [--seconds S] [--seed X] [--out DIR] DUMP...

Each execution copies one of the seed dumps (DUMP..., made by our own dumps),
mutates one of its files (bits flipped, bytes set to edge values, cut,
a chunk repeated or inserted, the file replaced by another image or
removed), and runs `criu restore -d` of it (with --skip-image-check, else
the manifest refuses nearly all of them; one run in eight without) as the
only child of a throw-away init: fresh pid, mount, uts, ipc, net and cgroup
namespaces, every mount but /proc, /dev/shm and the seed tests' own
directories read-only, so a hostile image can change nothing outside.

A finding: criu killed by a signal, a sanitizer report (criu built with
SANITIZE=1 exits 86 and writes a report to ASAN_OPTIONS' log_path), criu
still running after --timeout seconds, or a failed restore that left a
process behind. A restore that succeeds is fine (the namespace ends and
takes the tree with it). Each finding's images dir is kept in OUT/findings.
The last line: executions, restores that succeeded, findings.
"""
import argparse
import ctypes
import os
import random
import shutil
import signal
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CRIU = os.environ.get("CRIU_BIN", os.path.join(TOP, "criu", "criu"))
ASAN_EXIT = 86

MS_RDONLY, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 32, 4096, 16384, 1 << 18


def mount(src, dst, fstype, flags):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.mount(src.encode() if src else None, dst.encode(), fstype.encode() if fstype else None,
                  flags, None) != 0:
        return -ctypes.get_errno()
    return 0


def lock_down(writable):
    """In the throw-away mount namespace: everything read-only but /proc, /dev/shm and `writable`."""
    if mount(None, "/", None, MS_REC | MS_PRIVATE):
        raise OSError("can't make / private")
    for d in writable:
        mount(d, d, None, MS_BIND | MS_REC)
    keep = set(["/proc", "/dev/shm"] + list(writable))
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    for p in points:
        if p in keep or p.startswith("/proc/"):
            continue
        mount(None, p, None, MS_REMOUNT | MS_BIND | MS_RDONLY)


def one(args):
    """pid 1 of the throw-away namespaces: one restore, then what is left."""
    lock_down(args.writable)
    # the tree's pids are small (dumped in a zdtm namespace): criu's must not take one
    with open("/proc/sys/kernel/ns_last_pid", "w") as f:
        f.write("10000")
    cmd = [CRIU, "restore", "-d", "-D", args.one, "-o", "restore.log", "-v4"]
    if args.skip:
        cmd.append("--skip-image-check")
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    verdict = None
    try:
        rc = p.wait(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        verdict, rc = "hang", None
        p.kill()
        p.wait()
    # let a failed restore's processes go (its watchdog kills them), then look
    left = []
    if rc not in (0, None):
        for _ in range(50):
            left = [int(x) for x in os.listdir("/proc") if x.isdigit() and int(x) != 1]
            if not left:
                break
            try:
                while os.waitpid(-1, os.WNOHANG)[0] > 0:
                    pass
            except ChildProcessError:
                pass
            time.sleep(0.1)
    if verdict is None:
        if rc < 0:
            verdict = "signal %d" % -rc
        elif rc == ASAN_EXIT:
            verdict = "sanitizer"
        elif rc != 0 and left:
            verdict = "left %s" % left
        else:
            verdict = "ok" if rc == 0 else "refused"
    print(verdict, flush=True)
    return 0


EDGE = [0, 1, 0x7f, 0x80, 0xff]


def mutate(rng, d):
    names = sorted(n for n in os.listdir(d) if not n.endswith(".log"))
    name = rng.choice(names)
    path = os.path.join(d, name)
    data = bytearray(open(path, "rb").read())
    kind = rng.randrange(8)
    if kind == 0 and data:
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
    elif kind == 1 and data:
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.choice(EDGE)
    elif kind == 2:
        del data[rng.randrange(len(data) + 1):]
    elif kind == 3 and data:
        a = rng.randrange(len(data))
        b = min(len(data), a + rng.randint(1, 64))
        data[a:a] = data[a:b] * rng.randint(1, 4)
    elif kind == 4:
        a = rng.randrange(len(data) + 1)
        data[a:a] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    elif kind == 5:
        other = rng.choice(names)
        data = bytearray(open(os.path.join(d, other), "rb").read())
    elif kind == 6:
        os.unlink(path)
        return "%s removed" % name
    else:
        # a byte replaced by a varint of 2^32-1: a huge length or count
        if data:
            i = rng.randrange(len(data))
            data[i:i + 1] = b"\xff\xff\xff\xff\x0f"
    with open(path, "wb") as f:
        f.write(data)
    return "%s mutation %d" % (name, kind)


def run_one(args, d, skip):
    cmd = ["unshare", "--pid", "--fork", "--mount", "--uts", "--ipc", "--net", "--cgroup", "--mount-proc",
           "--kill-child", sys.executable, os.path.abspath(__file__), "--one", d, "--timeout", str(args.timeout)]
    for w in args.writable:
        cmd += ["--writable", w]
    if skip:
        cmd.append("--skip")
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=args.timeout + 30)
    except subprocess.TimeoutExpired:
        return "hang (the namespace did not end)"
    lines = r.stdout.strip().splitlines()
    return lines[-1] if lines else "no verdict (rc %d)" % r.returncode


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=0)
    ap.add_argument("--seconds", type=int, default=0)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--out", default=os.path.join(TOP, "test", "build", "fuzz", "restore"))
    ap.add_argument("--timeout", type=int, default=30)
    ap.add_argument("--writable", action="append", default=[])
    ap.add_argument("--one")
    ap.add_argument("--skip", action="store_true")
    ap.add_argument("dumps", nargs="*")
    args = ap.parse_args()
    if args.one:
        return one(args)
    if not args.dumps:
        ap.error("no seed dump")
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
    rng = random.Random(seed)
    dumps = [os.path.abspath(d) for d in args.dumps]
    # the tests' own directories stay writable: their files are restored from there
    san = os.path.join(os.path.abspath(args.out), "sanitizer")
    os.makedirs(san, exist_ok=True)
    args.writable = sorted(set(os.path.dirname(d) for d in dumps)) + [san]
    os.environ.setdefault("ASAN_OPTIONS", "log_path=%s/asan:detect_leaks=0:exitcode=%d" % (san, ASAN_EXIT))
    os.environ.setdefault("UBSAN_OPTIONS", "log_path=%s/ubsan:print_stacktrace=1:halt_on_error=1:exitcode=%d" %
                          (san, ASAN_EXIT))
    reports = set(os.listdir(san))
    base = "/dev/shm" if os.access("/dev/shm", os.W_OK) else "/tmp"
    work = os.path.join(base, "criu-fuzz-restore.%d" % os.getpid())
    findings_dir = os.path.join(args.out, "findings")
    os.makedirs(findings_dir, exist_ok=True)
    deadline = time.time() + args.seconds if args.seconds else None
    n = restored = 0
    findings = []
    print("# fuzz-restore: seed %d, %d seed dumps, criu %s" % (seed, len(dumps), CRIU), flush=True)
    while (not args.runs or n < args.runs) and (not deadline or time.time() < deadline):
        src = rng.choice(dumps)
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(src, work)
        what = mutate(rng, work)
        skip = rng.randrange(8) != 0
        verdict = run_one(args, work, skip)
        n += 1
        now = set(os.listdir(san))
        if now - reports:
            verdict = "sanitizer report %s (%s)" % (sorted(now - reports), verdict)
            reports = now
        if verdict == "ok":
            restored += 1
        elif verdict != "refused":
            keep = os.path.join(findings_dir, "%d-%d" % (seed, n))
            shutil.rmtree(keep, ignore_errors=True)
            shutil.copytree(work, keep)
            findings.append("%s: %s (%s%s), kept in %s" % (os.path.basename(os.path.dirname(src)), verdict, what,
                                                          "" if skip else ", manifest checked", keep))
            print("# finding: " + findings[-1], flush=True)
        if n % 100 == 0:
            print("# %d executions, %d restored, %d findings" % (n, restored, len(findings)), flush=True)
    shutil.rmtree(work, ignore_errors=True)
    print("fuzz-restore: %d executions, %d restored, %d findings (seed %d)" % (n, restored, len(findings), seed))
    return 1 if findings else 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())

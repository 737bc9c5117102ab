#!/usr/bin/python3
"""
Page server throughput over loopback, against a plain TCP socket, same run.

For each size: `bench/memhog SIZE` (every page written, no two alike) is
dumped with `criu dump -R --page-server` to a `criu page-server` on
127.0.0.1, without and with --tls; the baseline is `bench/sockcopy`: the
same number of bytes write()n from memory into a TCP socket on loopback, in
1 MiB calls, by a receiver that write()s them into a file. The page server's
dir and the baseline's file are on tmpfs (/dev/shm), so the disk is out of
it. Before each timed step 3x SIZE of memory is touched and freed (bench.py's
warm mode). Figures: wall time of the whole `criu dump` command (exec, seize, the
other images and the end of the session included) and of the baseline
(connect to the receiver's last write); medians of RUNS runs; ratio = criu
/ baseline, taken run by run (one baseline right before each criu run).

Then lazy pages from a page server, in the same run: a lazy migration of
the same size (bench/lazyremote.py: dump --lazy-pages serving the pages it
leaves in the stopped task, criu lazy-pages --page-server fetching them
with PS_IOV_GET for a restore --lazy-pages), without and with --tls, each
with a baseline right before it; the figure is the daemon's "all pages in, N
ms after the tree ran" (every page fetched and copied into the task).

Usage (from the top of the tree, after make and make -C bench):
    python3 bench/pageserver.py [SIZES_MIB] [RUNS] [--old-criu PATH] [--dump-only]     e.g. 256,1024 3

--old-criu PATH adds a column: the same dump by another criu binary (an
older build, say) to a page server of that binary, each run with its own
baseline, in the same run.
--dump-only leaves out TLS and the lazy pages.
"""
import glob
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lazyremote  # noqa: E402

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
CRIU = os.path.join(TOP, "criu", "criu")
MEMHOG = os.path.join(TOP, "bench", "memhog")
SOCKCOPY = os.path.join(TOP, "bench", "sockcopy")
BASECOPY = os.path.join(TOP, "bench", "basecopy")


def warm(mib):
    """As bench.py's warm mode: touch and free 3x SIZE right before a timed step (the VM hands free memory
    back to the host; the first use of memory after that is slow, and the receiver's file needs fresh pages)."""
    subprocess.run([BASECOPY, "touch", str(3 * mib)], check=True, capture_output=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def make_certs(d):
    ext = os.path.join(d, "ext.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n")
    q = dict(cwd=d, check=True, capture_output=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=bench ca",
                    "-keyout", "ca-key.pem", "-out", "ca.pem"], **q)
    subprocess.run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout",
                    "key.pem", "-out", "req.pem"], **q)
    subprocess.run(["openssl", "x509", "-req", "-in", "req.pem", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
                    "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", "cert.pem"], **q)
    return ["--tls", "--tls-cacert", os.path.join(d, "ca.pem"), "--tls-cert", os.path.join(d, "cert.pem"),
            "--tls-key", os.path.join(d, "key.pem")]


def baseline(mib, d):
    port = free_port()
    out = os.path.join(d, "sock.bin")
    r = subprocess.Popen([SOCKCOPY, "recv", str(port), out], stdout=subprocess.PIPE, text=True)
    r.stdout.readline()
    warm(mib)
    s = subprocess.run([SOCKCOPY, "send", str(port), str(mib)], capture_output=True, text=True, check=True)
    r.wait()
    if os.path.getsize(out) != mib << 20:
        sys.exit("sockcopy: short file")
    os.unlink(out)
    return int(s.stdout.split()[1]) / 1e6


def criu_pass(pid, mib, d, tls, binary=CRIU):
    port = free_port()
    srv, cli = os.path.join(d, "srv"), os.path.join(d, "cli")
    shutil.rmtree(srv, ignore_errors=True)
    shutil.rmtree(cli, ignore_errors=True)
    os.makedirs(srv)
    rfd, wfd = os.pipe()
    ps = subprocess.Popen([binary, "page-server", "-D", srv, "--address", "127.0.0.1", "--port", str(port),
                           "--status-fd", str(wfd), "-o", "ps.log"] + tls, pass_fds=[wfd])
    os.close(wfd)
    os.read(rfd, 1)
    os.close(rfd)
    warm(mib)
    t0 = time.monotonic()
    r = subprocess.run([binary, "dump", "-R", "-t", str(pid), "-D", cli, "-o", "dump.log", "--page-server",
                        "--address", "127.0.0.1", "--port", str(port)] + tls)
    t = time.monotonic() - t0
    if r.returncode or ps.wait():
        sys.exit("criu dump or page-server failed: see %s" % d)
    got = sum(os.path.getsize(p) for p in glob.glob(os.path.join(srv, "pages-*.img")))
    if got < mib << 20:
        sys.exit("the page server got %d bytes, fewer than %d MiB" % (got, mib))
    return t


def flag_value(name):
    if name not in sys.argv:
        return None
    i = sys.argv.index(name)
    v = sys.argv[i + 1]
    del sys.argv[i:i + 2]
    return v


def row(mib, m, res, a, b, ratio_a, ratio_b, base):
    return ("| %d MiB | %.3f s (%.2f GB/s) | %.3f s (%.2f GB/s) | %.3f s (%.2f GB/s) | %.2f (%.2f-%.2f) | %.2f (%.2f-%.2f) |" %
            (mib, m[base], mib / 1024 / m[base], m[a], mib / 1024 / m[a], m[b], mib / 1024 / m[b], m[ratio_a],
             min(res[ratio_a]), max(res[ratio_a]), m[ratio_b], min(res[ratio_b]), max(res[ratio_b])))


def main():
    old = flag_value("--old-criu")
    dump_only = "--dump-only" in sys.argv
    if dump_only:
        sys.argv.remove("--dump-only")
    sizes = [int(x) for x in (sys.argv[1] if len(sys.argv) > 1 else "256,1024").split(",")]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    work = tempfile.mkdtemp(prefix="criu-bench-ps.", dir="/dev/shm")
    tls = make_certs(work)
    rows = []
    kinds = [("ps", [], CRIU)]
    if old:
        kinds.append(("old", [], os.path.abspath(old)))
    if not dump_only:
        kinds.append(("tls", tls, CRIU))
    for mib in sizes:
        rep = os.path.join(work, "memhog.rep")
        hog = subprocess.Popen([MEMHOG, str(mib), rep], start_new_session=True)
        while not (os.path.exists(rep) and "ready" in open(rep).read()):
            time.sleep(0.05)
        res = {k: [] for k in ("sock", "ps", "tls", "old", "r_ps", "r_tls", "r_old", "lsock", "lazy", "ltls",
                               "r_lazy", "r_ltls")}
        for _ in range(runs):
            for kind, extra, binary in kinds:
                b = baseline(mib, work)
                t = criu_pass(hog.pid, mib, work, extra, binary)
                res["sock"].append(b)
                res[kind].append(t)
                res["r_" + kind].append(t / b)
        hog.send_signal(signal.SIGKILL)
        hog.wait()
        for _ in range(0 if dump_only else runs):
            for kind, extra in (("lazy", []), ("ltls", tls)):
                b = baseline(mib, work)
                t = lazyremote.migrate(mib, work, extra, warm)["all_in"] / 1000
                res["lsock"].append(b)
                res[kind].append(t)
                res["r_" + kind].append(t / b)
        m = {k: statistics.median(v) for k, v in res.items() if v}
        rows.append((mib, m, res))
    if old:
        print("| size | socket write() | page server | page server, old criu | page server / socket | old / socket |")
        print("|---|---|---|---|---|---|")
        for mib, m, res in rows:
            print(row(mib, m, res, "ps", "old", "r_ps", "r_old", "sock"))
        print()
    if not dump_only:
        print("| size | socket write() | page server | TLS page server | page server / socket | TLS / socket |")
        print("|---|---|---|---|---|---|")
        for mib, m, res in rows:
            print(row(mib, m, res, "ps", "tls", "r_ps", "r_tls", "sock"))
        print()
        print("| size | socket write() | lazy pages, page server | lazy pages, TLS | lazy / socket | TLS / socket |")
        print("|---|---|---|---|---|---|")
        for mib, m, res in rows:
            print(row(mib, m, res, "lazy", "ltls", "r_lazy", "r_ltls", "lsock"))
    elif not old:
        print("| size | socket write() | page server | page server / socket |")
        print("|---|---|---|---|")
        for mib, m, res in rows:
            print("| %d MiB | %.3f s | %.3f s | %.2f (%.2f-%.2f) |" % (mib, m["sock"], m["ps"], m["r_ps"],
                                                                      min(res["r_ps"]), max(res["r_ps"])))
    shutil.rmtree(work)


if __name__ == "__main__":
    main()

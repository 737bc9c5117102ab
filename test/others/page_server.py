#!/usr/bin/python3
"""
Live migration over the page server, on loopback: a 256 MiB task rewriting
about 3 MiB/s is pre-dumped three times to `criu page-server`s (each pass
--prev-images-dir the one before, on both sides), then dumped to a page
server over TLS; the page server's dirs must hold far fewer pages for the
final dump than for the first pass. The client's images are copied next to
the final pages and restored; the task checks every word itself.
First, while the task runs (it must run on, unstopped, after each): RPC
PAGE_SERVER and an RPC PRE_DUMP with ps to it; a pre-dump over --ps-socket
on both sides (page-server --daemon --pidfile); refusals: a page server
whose certificate another CA signed, and one that trusts another CA (so
refuses our client). Last, a plain dump -R of a fresh task to a page
server: the task must send its pages itself (sendmsg on a copy of criu's
socket, the log counts them), be left with the fds it had and run on, and
the images restore right; the same through the task's page pipe
(vmsplice; CRIU_FAULT=page-pipe-no-socket, as when the socket can't be
handed over) and with the task's first send cut in the middle of a page
(CRIU_FAULT=page-send-short: criu sends the rest); a page server that
resets the connection after 16 MiB of pages fails the dump, the task
running on with its fds; the same with a child forked after the fill
(pages shared copy-on-write go through /proc/PID/mem, in one stream with
the spliced ones), restored, the parent checking the child. Last, a pre-dump and a dump each sharing
its images dir with its page server (as upstream zdtm's --page-server
runs them): the dump's inventory and manifest are left alone and the dir
restores; a dump into a dir another criu holds (flock) is refused.
Certificates are made with openssl at test time. Prints TAP; 77 when criu or
openssl is missing.

    CRIU_UPSTREAM=/path/to/criu python3 test/others/page_server.py --interop

runs the same chain against an upstream CRIU instead (not in make test: CI
has no upstream build): our pre-dumps and TLS dump to CRIU's page server,
restored by us; our plain dump (through the page pipe) to CRIU's page
server, restored by us; CRIU's dump to our page server (plain and TLS), restored by
us and by CRIU; CRIU's dump with our page server on its own dir, restored by
us.
"""
import ctypes
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import spawn_detached  # noqa: E402  the scripts' shared helpers

CRIU = os.path.abspath(os.environ.get("CRIU_BIN", "criu/criu"))
HERE = os.path.dirname(os.path.abspath(__file__))
MIB = 256
results = []


def ok(cond, what):
    results.append(bool(cond))
    print("%sok %d - %s" % ("" if cond else "not ", len(results), what), flush=True)


def reap():
    for _ in range(500):
        try:
            p, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if p == 0:
            time.sleep(0.01)


def state(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0]
    except FileNotFoundError:
        return None


def running(pid):
    """Alive and not stopped (a failed dump must leave the task as it was)."""
    return state(pid) in ("R", "S", "D")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True)


def make_certs(d):
    """ca.pem + cert.pem/key.pem (for 127.0.0.1, signed by ca), and rogue-ca.pem + rogue-cert.pem/rogue-key.pem."""
    ext = os.path.join(d, "ext.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nkeyUsage=digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth,clientAuth\n")
    for ca in ("ca", "rogue-ca"):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=criu test %s" % ca,
                "-keyout", ca + "-key.pem", "-out", ca + ".pem", cwd=d)
    for who, ca in (("", "ca"), ("rogue-", "rogue-ca")):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
                "-keyout", who + "key.pem", "-out", who + "req.pem", cwd=d)
        openssl("x509", "-req", "-in", who + "req.pem", "-CA", ca + ".pem", "-CAkey", ca + "-key.pem",
                "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", who + "cert.pem", cwd=d)


def tls_args(d, ca="ca", who=""):
    return ["--tls", "--tls-cacert", os.path.join(d, ca + ".pem"), "--tls-cert", os.path.join(d, who + "cert.pem"),
            "--tls-key", os.path.join(d, who + "key.pem")]


def page_server(d, port, extra, binary=None):
    """Start criu page-server on d; returns once it listens (--status-fd)."""
    r, w = os.pipe()
    p = subprocess.Popen([binary or CRIU, "page-server", "-D", d, "--address", "127.0.0.1", "--port", str(port),
                          "--status-fd", str(w), "-o", "ps.log", "-v4"] + extra, pass_fds=[w],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    os.read(r, 1)
    os.close(r)
    return p


def criu(*args):
    return subprocess.run([CRIU] + list(args), capture_output=True, text=True).returncode


def pages_in(d):
    return sum(os.path.getsize(p) for p in glob.glob(os.path.join(d, "pages-*.img"))) // 4096


def start_task(exe, result, single=True):
    pid = spawn_detached([exe, result, str(MIB)] + (["single"] if single else []))
    for _ in range(500):	# filled: its whole area is resident
        with open("/proc/%d/status" % pid) as f:
            rss = [int(l.split()[1]) for l in f if l.startswith("VmRSS:")]
        if rss and rss[0] >= MIB * 1024:
            break
        time.sleep(0.02)
    return pid


def one_pass(kind, pid, work, i, extra_srv=(), extra_cli=(), chain=True, server=None, client=None, fault=None):
    """Pass i (d = c<i> here, s<i> on the page server); (criu rc, page server rc)."""
    port = free_port()
    srv, cli = os.path.join(work, "s%d" % i), os.path.join(work, "c%d" % i)
    os.makedirs(srv, exist_ok=True)
    os.makedirs(cli, exist_ok=True)	# CRIU's dump does not make it
    chain = chain and i > 1
    prev = ["--prev-images-dir", "../s%d" % (i - 1)] if chain else []
    ps = page_server(srv, port, prev + list(extra_srv), server)
    args = [kind, "-t", str(pid), "-D", cli, "-o", "log", "-v4", "--page-server", "--address", "127.0.0.1",
            "--port", str(port)]
    if chain:
        args += ["--track-mem", "--prev-images-dir", "../c%d" % (i - 1)]
    try:	# a hang (a side waiting for bytes that never come) is a failure, not a stuck test
        env = dict(os.environ, CRIU_FAULT=fault) if fault else None
        rc = subprocess.run([client or CRIU] + args + list(extra_cli), capture_output=True, timeout=120,
                            env=env).returncode
    except subprocess.TimeoutExpired:
        rc = -1
    try:
        prc = ps.wait(timeout=20)
    except subprocess.TimeoutExpired:
        ps.kill()
        prc = ps.wait()
    return rc, prc


def log_of(work, name):
    try:
        with open(os.path.join(work, name, "log")) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def ps_socket(pid, work):
    """--ps-socket on both sides: a pre-dump over a socketpair, the page server started with --daemon."""
    srv, cli = os.path.join(work, "ss"), os.path.join(work, "sc")
    os.makedirs(srv)
    a, b = socket.socketpair()
    pidfile = os.path.join(work, "ps.pid")
    rc_srv = subprocess.run([CRIU, "page-server", "-D", srv, "--ps-socket", str(a.fileno()), "--daemon",
                             "--pidfile", pidfile, "-o", "ps.log", "-v4"], pass_fds=[a.fileno()]).returncode
    a.close()
    spid = int(open(pidfile).read()) if os.path.exists(pidfile) else 0
    rc = subprocess.run([CRIU, "pre-dump", "-t", str(pid), "-D", cli, "-o", "log", "-v4", "--page-server",
                         "--ps-socket", str(b.fileno())], pass_fds=[b.fileno()]).returncode
    b.close()
    for _ in range(500):
        if not spid or not state(spid) or state(spid) == "Z":
            break
        time.sleep(0.01)
    reap()
    ok(rc_srv == 0 and spid > 0 and rc == 0 and pages_in(srv) >= MIB * 256 and not state(spid),
       "--ps-socket on both sides, page-server --daemon --pidfile: %d pages sent, the server is gone" %
       pages_in(srv))


def refusals(pid, work, certs):
    rc, prc = one_pass("dump", pid, work, 90, tls_args(certs, "rogue-ca", "rogue-"), tls_args(certs), False)
    log = log_of(work, "c90")
    ok(rc != 0 and "page server's certificate is refused" in log and "nothing dumped, the tree runs on" in log,
       "a page server with a certificate of another CA: the dump fails, saying so")
    ok(running(pid), "and the task runs on")
    rc, prc = one_pass("dump", pid, work, 91, tls_args(certs, "rogue-ca"), tls_args(certs), False)
    log = log_of(work, "c91")
    ok(rc != 0 and "it does not take our certificate" in log and "nothing dumped, the tree runs on" in log
       and prc != 0, "a page server that trusts another CA: the dump fails, saying so")
    ok(running(pid), "and the task runs on")


def rpc(pid, work):
    """RPC: PAGE_SERVER (port 0: criu picks one and says which), then a PRE_DUMP with ps to it."""
    sys.path.insert(0, os.path.abspath("build/py"))
    import pycriu.criu
    srv, cli = os.path.join(work, "rs"), os.path.join(work, "rc")
    os.makedirs(srv)
    os.makedirs(cli)
    c = pycriu.criu.criu()
    c.use_binary(CRIU)
    c.opts.images_dir = srv
    c.opts.log_file = "ps.log"
    c.opts.log_level = 4
    c.opts.ps.address = "127.0.0.1"
    c.opts.ps.port = 0
    try:
        resp = c._request("PAGE_SERVER")
        port, spid = resp.ps.port, resp.ps.pid
    except Exception as e:
        print("# PAGE_SERVER: %s" % e)
        port = spid = 0
    ok(port > 0 and spid > 0, "RPC PAGE_SERVER: a page server %d on port %d" % (spid, port))
    c = pycriu.criu.criu()
    c.use_binary(CRIU)
    c.opts.images_dir = cli
    c.opts.pid = pid
    c.opts.log_file = "log"
    c.opts.log_level = 4
    c.opts.ps.address = "127.0.0.1"
    c.opts.ps.port = port
    try:
        c.pre_dump()
        done = True
    except Exception as e:
        print("# PRE_DUMP: %s" % e)
        done = False
    for _ in range(500):
        if not spid or not state(spid) or state(spid) == "Z":
            break
        time.sleep(0.01)
    reap()
    ok(done and pages_in(srv) >= MIB * 256 and not pages_in(cli) and not state(spid),
       "RPC PRE_DUMP with ps: %d pages on the page server, which is gone" % pages_in(srv))
    ok(running(pid), "the task runs on after the RPC pre-dump")


def restore_and_check(pid, final, result, what, binary=None):
    ok(subprocess.run([binary or CRIU, "restore", "-D", final, "-o", "rlog", "-d"]).returncode == 0,
       "%s: restore" % what)
    for _ in range(1000):
        if state(pid):
            break
        time.sleep(0.01)
    if state(pid):
        os.kill(pid, signal.SIGUSR2)
    for _ in range(1000):
        if not state(pid) or state(pid) == "Z":
            break
        time.sleep(0.01)
    reap()
    res = open(result).read().strip() if os.path.exists(result) else "no result"
    ok(res == "OK", "%s: the restored task found every word right (%s)" % (what, res))
    if os.path.exists(result):
        os.unlink(result)


def interop(up, work, exe, certs):
    """Against upstream CRIU, both ways."""
    result = os.path.join(work, "result")
    # ours -> CRIU's page server: two pre-dumps and a TLS dump, restored by us
    pid = start_task(exe, result)
    for i in (1, 2):
        rc, prc = one_pass("pre-dump", pid, work, i, server=up)
        ok(rc == 0 and prc == 0, "our pre-dump %d to CRIU's page server (criu %d, page server %d)" % (i, rc, prc))
        time.sleep(0.3)
    rc, prc = one_pass("dump", pid, work, 3, tls_args(certs), tls_args(certs), server=up)
    ok(rc == 0 and prc == 0, "our TLS dump to CRIU's page server (criu %d, page server %d)" % (rc, prc))
    if state(pid):
        os.kill(pid, signal.SIGKILL)
    reap()
    first, last = pages_in(os.path.join(work, "s1")), pages_in(os.path.join(work, "s3"))
    ok(last * 8 < first, "CRIU's page server took our PE_PARENT entries: %d pages, the first pass %d" % (last, first))
    for f in glob.glob(os.path.join(work, "c3", "*.img")):
        shutil.copy(f, os.path.join(work, "s3"))
    restore_and_check(pid, os.path.join(work, "s3"), result, "ours to CRIU's page server, restored by us")
    # ours -> CRIU's page server: a plain dump, its pages through the page pipe (vmsplice + splice)
    pid = start_task(exe, result)
    rc, prc = one_pass("dump", pid, work, 4, chain=False, server=up)
    spliced = re.findall(r"(\d+) pages in \d+ vmsplice", log_of(work, "c4"))
    ok(rc == 0 and prc == 0 and spliced and int(spliced[0]) > 0,
       "our plain dump to CRIU's page server through the page pipe (criu %d, page server %d, %s pages spliced)" %
       (rc, prc, spliced[0] if spliced else "no"))
    reap()
    for f in glob.glob(os.path.join(work, "c4", "*.img")):
        shutil.copy(f, os.path.join(work, "s4"))
    restore_and_check(pid, os.path.join(work, "s4"), result, "our page pipe to CRIU's page server, restored by us")
    # CRIU's dump -> our page server, plain and TLS; restored by us, then by CRIU
    for i, extra, rst in ((11, [], None), (12, tls_args(certs), None), (13, [], up)):
        pid = start_task(exe, result)
        rc, prc = one_pass("dump", pid, work, i, extra, extra, chain=False, client=up)
        ok(rc == 0 and prc == 0, "CRIU's dump%s to our page server (criu %d, page server %d)" %
           (" over TLS" if extra else "", rc, prc))
        if state(pid):
            os.kill(pid, signal.SIGKILL)
        reap()
        final = os.path.join(work, "s%d" % i)
        for f in glob.glob(os.path.join(work, "c%d" % i, "*.img")):
            shutil.copy(f, final)
        restore_and_check(pid, final, result, "CRIU's dump to our page server, restored by %s" %
                          ("CRIU" if rst else "us"), rst)
    # CRIU's dump with our page server on its own dir (no lock: its pstree.img tells the server)
    pid = start_task(exe, result)
    d = os.path.join(work, "shared-up")
    os.makedirs(d)
    port = free_port()
    ps = page_server(d, port, [])
    rc = subprocess.run([up, "dump", "-t", str(pid), "-D", d, "-o", "log", "-v4", "--page-server", "--address",
                         "127.0.0.1", "--port", str(port)], capture_output=True, timeout=120).returncode
    prc = ps.wait(timeout=20)
    said = "the dump shares this images dir" in open(os.path.join(d, "ps.log")).read()
    ok(rc == 0 and prc == 0 and said and not os.path.exists(os.path.join(d, "manifest.img")),
       "CRIU's dump sharing our page server's dir: the server left it the inventory (criu %d, page server %d)" %
       (rc, prc))
    if state(pid):
        os.kill(pid, signal.SIGKILL)
    reap()
    restore_and_check(pid, d, result, "CRIU's dump sharing our page server's dir, restored by us")


def fds_of(pid):
    return sorted(os.listdir("/proc/%d/fd" % pid))


def code_page(pid, srv, log):
    """The page where criu's remote-syscall code sat during the dump: (its bytes in the page server's
    image or None, the live task's), None when the log does not say where the code was."""
    m = re.search(r"%d: syscall code poked at (0x[0-9a-f]+)" % pid, log)
    if not m:
        return None
    page = int(m.group(1), 16) & ~4095
    out = subprocess.run([sys.executable, "crit", "decode", "-i", os.path.join(srv, "pagemap-%d.img" % pid)],
                         capture_output=True, text=True)
    entries = json.loads(out.stdout)["entries"] if out.returncode == 0 else [{}]
    off, dumped = 0, None
    for e in entries[1:]:
        if not e["flags"] & 4:	# PE_PRESENT: its pages are in the pages image
            continue
        if e["vaddr"] <= page < e["vaddr"] + e["nr_pages"] * 4096:
            with open(os.path.join(srv, "pages-%d.img" % entries[0]["pages_id"]), "rb") as f:
                f.seek(off + page - e["vaddr"])
                dumped = f.read(4096)
        off += e["nr_pages"] * 4096
    with open("/proc/%d/mem" % pid, "rb") as f:
        f.seek(page)
        return dumped, f.read(4096)


def task_sends(exe, work, i, fault, what):
    """A plain dump -R to a page server (CRIU_FAULT=fault): the pages sent by the task itself (sendmsg on a
    copy of criu's socket) or, with page-pipe-no-socket, through the pipe it vmsplice()s them into."""
    result = os.path.join(work, "result-pipe")
    pid = start_task(exe, result)
    fds = fds_of(pid)
    rc, prc = one_pass("dump", pid, work, i, extra_cli=("-R",), chain=False, fault=fault)
    ok(rc == 0 and prc == 0, "%s: plain dump -R to a page server (criu %d, page server %d)" % (what, rc, prc))
    log = log_of(work, "c%d" % i)
    m = re.search(r"(\d+) pages in (\d+) vmsplice \+ (\d+) sendmsg", log)
    pages, nr_vmsplice, nr_send = (int(x) for x in m.groups()) if m else (0, 0, 0)
    if fault == "page-pipe-no-socket":
        ok(pages >= MIB * 256 and nr_vmsplice > 0 and not nr_send,
           "%s: its pages went through the task's pipe: %d pages in %d vmsplice calls" % (what, pages, nr_vmsplice))
    else:
        ok(pages >= MIB * 256 and nr_send > 0 and not nr_vmsplice,
           "%s: the task sent its pages itself: %d pages in %d sendmsg calls" % (what, pages, nr_send))
    if fault == "page-send-short":
        ok("bytes into an iovec of" in log and "sending the rest" in log,
           "%s: a send cut short in the middle of a page, criu sent the rest" % what)
    ok(running(pid) and fds_of(pid) == fds, "%s: the task runs on with the fds it had (%s)" %
       (what, " ".join(fds_of(pid))))
    # the task's sends ran while criu's code sat in that page: the image must hold the task's bytes
    cp = code_page(pid, os.path.join(work, "s%d" % i), log)
    ok(cp is not None and cp[0] is not None and cp[0] == cp[1],
       "%s: the page of criu's remote-syscall code holds the task's bytes in the image (%s)" %
       (what, "not found" if not cp or cp[0] is None else "same" if cp[0] == cp[1] else "criu's code"))
    os.kill(pid, signal.SIGKILL)
    reap()
    final = os.path.join(work, "s%d" % i)
    for f in glob.glob(os.path.join(work, "c%d" % i, "*.img")):
        shutil.copy(f, final)
    restore_and_check(pid, final, result, what)


def resetting_server(lsk, after):
    """A page server that answers OPEN2 and PARENT, takes `after` bytes of pages, then resets the connection."""
    import struct
    sk, _ = lsk.accept()
    got = 0
    try:
        while got < after:
            hdr = b""
            while len(hdr) < 32:
                b = sk.recv(32 - len(hdr))
                if not b:
                    return
                hdr += b
            cmd, _, nr, _, _ = struct.unpack("<IIQQQ", hdr)
            if cmd & 0xffff == 4:	# OPEN2: no parent
                sk.sendall(b"\0")
            elif cmd & 0xffff == 5:	# PARENT: no
                sk.sendall(b"\0" * 4)
            elif cmd & 0xffff == 6 and (cmd >> 16) & 1:	# ADD_F with PE_PRESENT: its pages
                left = nr * 4096
                while left and got < after:
                    b = sk.recv(min(left, 1 << 20))
                    if not b:
                        return
                    left -= len(b)
                    got += len(b)
    finally:
        sk.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sk.close()


def server_resets(exe, work):
    """The page server resets the connection while the task sends its pages: the dump fails, the task runs on."""
    import threading
    result = os.path.join(work, "result-reset")
    pid = start_task(exe, result)
    fds = fds_of(pid)
    lsk = socket.socket()
    lsk.bind(("127.0.0.1", 0))
    lsk.listen(1)
    port = lsk.getsockname()[1]
    t = threading.Thread(target=resetting_server, args=(lsk, 16 << 20))
    t.start()
    cli = os.path.join(work, "c9")
    os.makedirs(cli)
    try:
        rc = subprocess.run([CRIU, "dump", "-R", "-t", str(pid), "-D", cli, "-o", "log", "-v4", "--page-server",
                             "--address", "127.0.0.1", "--port", str(port)], capture_output=True,
                            timeout=120).returncode
    except subprocess.TimeoutExpired:
        rc = -1
    t.join()
    lsk.close()
    log = log_of(work, "c9")
    ok(rc == 1 and "can't dump pages" in log and ("Connection reset by peer" in log or "Broken pipe" in log),
       "a page server that resets the connection while the task sends: the dump fails (criu %d), saying why" % rc)
    ok(running(pid) and fds_of(pid) == fds, "and the task runs on with the fds it had (%s)" %
       " ".join(fds_of(pid)))
    os.kill(pid, signal.SIGKILL)
    reap()


def page_pipe(exe, work):
    """A plain dump -R to a page server: the pages sent by the task; through its pipe; a send cut short."""
    task_sends(exe, work, 5, None, "the task's own sends")
    task_sends(exe, work, 7, "page-pipe-no-socket", "dump through the page pipe")
    task_sends(exe, work, 8, "page-send-short", "a task's send cut short")
    server_resets(exe, work)
    result = os.path.join(work, "result-pipe")

    # a child forked after the fill: most pages shared copy-on-write (read through /proc/PID/mem),
    # the chunks rewritten since then the task's own (through the pipe), in one stream
    pid = start_task(exe, result, single=False)
    time.sleep(1.5)
    rc, prc = one_pass("dump", pid, work, 6, chain=False)
    ok(rc == 0 and prc == 0, "parent and child: dump to a page server (criu %d, page server %d)" % (rc, prc))
    stats = re.findall(r"(\d+) mem reads, (\d+) pages in \d+ vmsplice", log_of(work, "c6"))
    ok(len(stats) == 2 and all(int(a) > 0 and int(b) > 0 for a, b in stats),
       "parent and child: pages both read through mem and spliced (%s)" % stats)
    reap()
    final = os.path.join(work, "s6")
    for f in glob.glob(os.path.join(work, "c6", "*.img")):
        shutil.copy(f, final)
    restore_and_check(pid, final, result, "parent and child through the page pipe")


def shared_dir(exe, work):
    """The page server on the dump's own images dir (upstream zdtm's --page-server): a pre-dump, then a dump
    with --prev-images-dir, each with its server in its dir; the dump's inventory and manifest must be what
    is left there (the server writes neither), and the dir restores."""
    result = os.path.join(work, "result-shared")
    pid = start_task(exe, result)
    import fcntl
    busy = os.path.join(work, "busy")
    os.makedirs(busy)
    dfd = os.open(busy, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(dfd, fcntl.LOCK_SH)	# as a page server writing its own marks there
    rc = subprocess.run([CRIU, "dump", "-R", "-t", str(pid), "-D", busy, "-o", "log", "-v4"],
                        capture_output=True).returncode
    os.close(dfd)
    ok(rc != 0 and "in use by another criu" in log_of(work, "busy") and running(pid),
       "a dump into a dir another criu holds is refused, saying so (criu %d), the task runs on" % rc)
    rcs = []
    for i, kind in ((1, "pre-dump"), (2, "dump")):
        d = os.path.join(work, "shared%d" % i)
        os.makedirs(d)
        port = free_port()
        prev = ["--prev-images-dir", "../shared1"] if i == 2 else []
        ps = page_server(d, port, prev)
        args = [CRIU, kind, "-t", str(pid), "-D", d, "-o", "log", "-v4", "--page-server", "--address",
                "127.0.0.1", "--port", str(port)] + (["--track-mem"] + prev if i == 2 else [])
        try:
            rc = subprocess.run(args, capture_output=True, timeout=120).returncode
        except subprocess.TimeoutExpired:
            rc = -1
        try:
            prc = ps.wait(timeout=20)
        except subprocess.TimeoutExpired:
            ps.kill()
            prc = ps.wait()
        rcs.append((rc, prc))
        time.sleep(0.3)
    ok(all(r == (0, 0) for r in rcs), "page server in the dump's own dir: pre-dump and dump (criu, page server: %s)"
       % rcs)
    if state(pid):
        os.kill(pid, signal.SIGKILL)
    reap()
    final = os.path.join(work, "shared2")
    with open(os.path.join(final, "ps.log")) as f:
        said = "the dump shares this images dir" in f.read()
    inv = os.path.getsize(os.path.join(final, "inventory.img")) if os.path.exists(os.path.join(final, "inventory.img")) else 0
    ok(said and inv > 10, "the page server left the dump's inventory (%d bytes) and manifest alone (%s)" %
       (inv, "said so" if said else "did not say so"))
    restore_and_check(pid, final, result, "the dump in the page server's dir, through the shared pre-dump")


def main():
    if not os.access(CRIU, os.X_OK):
        print("# SKIP: criu/criu is not built")
        return 77
    if not shutil.which("openssl"):
        print("# SKIP: no openssl to make the certificates")
        return 77
    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)	# PR_SET_CHILD_SUBREAPER
    work = tempfile.mkdtemp(prefix="criu-pagesrv.")
    certs = os.path.join(work, "certs")
    os.makedirs(certs)
    make_certs(certs)
    exe = os.path.join(work, "task")
    subprocess.run(["gcc", "-O2", "-o", exe, os.path.join(HERE, "predump_task.c")], check=True)
    result = os.path.join(work, "result")
    if "--interop" in sys.argv:
        up = os.environ.get("CRIU_UPSTREAM")
        if not up or not os.access(up, os.X_OK):
            print("# SKIP: CRIU_UPSTREAM is not an upstream criu binary")
            return 77
        interop(up, work, exe, certs)
        if all(results):
            shutil.rmtree(work)
        else:
            print("# images and logs kept in %s" % work)
        print("1..%d" % len(results))
        return 0 if all(results) else 1
    if "--shared-dir" in sys.argv:	# that part alone
        shared_dir(exe, work)
        print("1..%d" % len(results))
        if all(results):
            shutil.rmtree(work)
        else:
            print("# images and logs kept in %s" % work)
        return 0 if all(results) else 1
    pid = start_task(exe, result)
    t0 = time.time()
    # first what must leave the task running, so that the final dump comes right after the last pre-dump
    rpc(pid, work)
    ps_socket(pid, work)
    refusals(pid, work, certs)
    for i in (1, 2, 3):
        rc, prc = one_pass("pre-dump", pid, work, i)
        ok(rc == 0 and prc == 0, "pre-dump %d to a page server (criu %d, page server %d)" % (i, rc, prc))
        ok(running(pid), "the task runs on after pre-dump %d" % i)
        time.sleep(0.3)
    own = [os.path.join(work, "s%d" % i) for i in (1, 2, 3)]
    ok(all(os.path.exists(os.path.join(d, f)) for d in own for f in ("inventory.img", "manifest.img")) and
       not any("shares this images dir" in open(os.path.join(d, "ps.log")).read() for d in own),
       "page servers in dirs of their own wrote their inventory and manifest")
    rc, prc = one_pass("dump", pid, work, 4, tls_args(certs), tls_args(certs))
    ok(rc == 0 and prc == 0, "dump to a page server over TLS (criu %d, page server %d)" % (rc, prc))
    dumped = time.time()
    if running(pid):
        os.kill(pid, signal.SIGKILL)
    reap()
    first, last = pages_in(os.path.join(work, "s1")), pages_in(os.path.join(work, "s4"))
    ok(first >= MIB * 256 and last * 8 < first, "the final dump sent %d pages, the first pass %d" % (last, first))
    ok("TLS session up" in log_of(work, "c4"), "the final dump's connection was TLS")
    ok(not glob.glob(os.path.join(work, "c4", "pages-*.img")), "no pages in the client's images dir")
    final = os.path.join(work, "s4")
    for f in glob.glob(os.path.join(work, "c4", "*.img")):
        shutil.copy(f, final)
    ok(criu("restore", "-D", final, "-o", "rlog", "-d") == 0, "restore from the page server's dir through its chain")
    for _ in range(1000):
        if state(pid):
            break
        time.sleep(0.01)
    if state(pid):
        os.kill(pid, signal.SIGUSR2)
    for _ in range(1000):
        if not state(pid) or state(pid) == "Z":
            break
        time.sleep(0.01)
    reap()
    res = open(result).read().strip() if os.path.exists(result) else "no result"
    ok(res == "OK", "the restored task found every word right (%s)" % res)
    page_pipe(exe, work)
    shared_dir(exe, work)
    print("# passes and dump %.1f s, the whole test %.1f s" % (dumped - t0, time.time() - t0))
    if all(results):
        shutil.rmtree(work)
    else:
        print("# images and logs kept in %s" % work)
    print("1..%d" % len(results))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())

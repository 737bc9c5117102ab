#!/usr/bin/python3
"""
Lazy migration over loopback: pages from a page server (dump --lazy-pages on
the source, criu lazy-pages --page-server on the target).

The task (lazy_task.c) fills 256 MiB of private memory and rewrites 64 KiB
every 10 ms (6.4 MiB/s); it runs as pid 1 of its own pid namespace, so that
its restore does not need the pid the source task, stopped while it serves
its pages, still holds. Per case:

  1. `criu dump --lazy-pages --address 127.0.0.1 --port P --status-fd`: the
     dump must write under an eighth of the task's memory into its pages
     images, say on the status fd that it serves, and keep the task stopped;
  2. the images are copied to a target dir (no pages-* left behind: they are
     all copied, and they hold only what is not lazy);
  3. `criu lazy-pages --page-server --address 127.0.0.1 --port P -d` and
     `criu restore --lazy-pages -d`: right after the restore the task counts
     its resident pages (mincore()) before touching anything: it must run
     with part of its memory out, and make progress;
  4. the daemon exits once every page is in (PS_IOV_CLOSE), the dump exits 0
     and the source task is gone; the restored task checks every word.

Cases: plain; fork (the task forks in the lazy phase: the child, whose
pages the daemon asks for by its parent's pid, checks its own copy); tls
(the same as plain with --tls on both sides); rpc (the dump through
RPC: DUMP with lazy_pages, ps and status_fd, as runc checkpoint --lazy-pages
asks; the restore through RPC with lazy_pages and ps); refused (a plain
restore of a lazy dump's images fails naming the pages left on the source,
with no process left; a lazy-pages daemon whose page server went away fails
the restore's tasks and the dump resumes the source task); faults (a fault
injected at the dump's two lazy steps fails it with the task running on).
images: `criu page-server --lazy-pages` serves the lazy pages of a
plain dump's images (CRIU's mode) to `criu lazy-pages --page-server`; most
pages must come from it, and the restored task checks every word.
images-rpc, images-rpc-chld: the same with the page server started through
RPC (PAGE_SERVER, PAGE_SERVER_CHLD with lazy_pages, pycriu).
With CRIU_UPSTREAM=<CRIU's criu> and the cases up2ours, ours2up (not run by
default): one side is CRIU's.
Prints TAP; exit 77 when criu is missing.
"""
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import lazy_pages as lp  # noqa: E402  the helpers and the TAP list
import page_server as ps  # noqa: E402  certificates

CRIU = lp.CRIU
ok, read, alive, wait_for, kill, tail = lp.ok, lp.read, lp.alive, lp.wait_for, lp.kill, lp.tail
MIB = 256


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_task_ns(exe, d, mib, mode="plain"):
    """The task as pid 1 of a new pid namespace; its pid as we see it."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        if ctypes.CDLL(None, use_errno=True).unshare(0x20000000):	# CLONE_NEWPID
            os._exit(1)
        kid = os.fork()
        if kid == 0:
            os.setsid()
            null = os.open("/dev/null", os.O_RDWR)
            for i in range(3):
                os.dup2(null, i)
            os.closerange(3, 1024)
            os.execv(exe, [exe, d, str(mib), mode])
        os.write(w, b"%d" % kid)
        os._exit(0)
    os.close(w)
    kid = int(os.read(r, 32) or 0)
    os.close(r)
    os.waitpid(pid, 0)
    wait_for(lambda: read(os.path.join(d, "ready")), 10)
    return kid


def task_state(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0]
    except FileNotFoundError:
        return None


def tasks_of(exe):
    """Live processes running exe."""
    out = []
    for p in os.listdir("/proc"):
        try:
            if p.isdigit() and os.readlink("/proc/%s/exe" % p) == exe and alive(int(p)):
                out.append(int(p))
        except OSError:
            pass
    return out


def pages_bytes(d):
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d) if f.startswith("pages-"))


def copy_images(src, dst):
    os.makedirs(dst)
    for f in os.listdir(src):
        if f.endswith(".img"):
            shutil.copy(os.path.join(src, f), dst)


def dump_cli(pid, imgs, port, extra, env=None):
    """Start the lazy dump; returns (process, True once it says it serves)."""
    r, w = os.pipe()
    p = subprocess.Popen([CRIU, "dump", "-t", str(pid), "-D", imgs, "-o", "dump.log", "-v4", "--lazy-pages",
                          "--address", "127.0.0.1", "--port", str(port), "--status-fd", str(w)] + extra,
                         pass_fds=[w], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    os.close(w)
    ready = wait_readable(r, 60) and os.read(r, 1) == b"\0"
    os.close(r)
    return p, ready


def wait_readable(fd, secs):
    import select
    return bool(select.select([fd], [], [], secs)[0])


def dump_rpc(pid, imgs, port):
    """DUMP through RPC (pycriu, criu swrk) with lazy_pages, ps and status_fd; (thread, ready, result)."""
    import pycriu.criu
    r, w = os.pipe()
    res = {}

    def run():
        c = pycriu.criu.criu()
        c.use_binary(CRIU)
        dfd = os.open(imgs, os.O_RDONLY | os.O_DIRECTORY)
        c.opts.images_dir_fd = dfd
        c.opts.pid = pid
        c.opts.log_file = "dump.log"
        c.opts.log_level = 4
        c.opts.lazy_pages = True
        c.opts.ps.address = "127.0.0.1"
        c.opts.ps.port = port
        c.opts.status_fd = w
        try:
            c.dump()
            res["rc"] = 0
        except Exception as e:
            res["rc"] = 1
            res["err"] = str(e)
        finally:
            os.close(dfd)
            os.close(w)
    t = threading.Thread(target=run)
    t.start()
    ready = wait_readable(r, 60) and os.read(r, 1) == b"\0"
    os.close(r)
    return t, ready, res


def restore_rpc(imgs, port, pidfile):
    """RESTORE through RPC with lazy_pages and ps (the daemon, not the restore, talks to the page server)."""
    import pycriu.criu
    c = pycriu.criu.criu()
    c.use_binary(CRIU)
    dfd = os.open(imgs, os.O_RDONLY | os.O_DIRECTORY)
    c.opts.images_dir_fd = dfd
    c.opts.log_file = "restore.log"
    c.opts.log_level = 4
    c.opts.lazy_pages = True
    c.opts.ps.address = "127.0.0.1"
    c.opts.ps.port = port
    try:
        resp = c.restore()
        with open(pidfile, "w") as f:
            f.write(str(resp.restore.pid))
        return 0
    except Exception as e:
        print("# RPC restore: %s" % e)
        return 1
    finally:
        os.close(dfd)


def lazy_daemon(imgs, port, extra, d):
    lpid_file = os.path.join(d, "lazy.pid")
    rc = lp.criu("lazy-pages", "-D", imgs, "--page-server", "--address", "127.0.0.1", "--port", str(port),
                 "-d", "--pidfile", lpid_file, "-o", "lazy.log", "-v4", *extra)
    return rc, int(read(lpid_file) or 0)


def one_case(work, exe, mode, certs):
    d = os.path.join(work, mode)
    src, dst = os.path.join(d, "src"), os.path.join(d, "dst")
    os.makedirs(src)
    tls = ps.tls_args(certs) if mode == "tls" else []
    pid = start_task_ns(exe, d, MIB, "fork" if mode == "fork" else "plain")
    time.sleep(0.1)
    port = free_port()
    if mode == "rpc":
        dumper, ready, res = dump_rpc(pid, src, port)
    else:
        dumper, ready = dump_cli(pid, src, port, tls)
    ok(ready, "%s: the dump says it serves (status fd)" % mode)
    if not ready:
        tail(os.path.join(src, "dump.log"))
        return
    ok(task_state(pid) == "t", "%s: the source task stays stopped while its pages are served (state %s)" %
       (mode, task_state(pid)))
    own = pages_bytes(src)
    ok(own * 8 < MIB << 20, "%s: the dump wrote %d KiB of pages, the rest stays in the task" % (mode, own >> 10))
    copy_images(src, dst)
    rc, lpid = lazy_daemon(dst, port, tls, d)
    ok(rc == 0 and lpid, "%s: criu lazy-pages --page-server -d" % mode)
    pidfile = os.path.join(d, "rpid")
    t0 = time.time()
    if mode == "rpc":
        rc = restore_rpc(dst, port, pidfile)
    else:
        rc = lp.criu("restore", "-D", dst, "--lazy-pages", "-d", "--pidfile", pidfile, "-o", "restore.log", "-v4")
    t1 = time.time()
    rpid = int(read(pidfile) or 0)
    if rpid and alive(rpid):
        os.kill(rpid, signal.SIGUSR1)
    daemon_busy = lpid and alive(lpid)
    ok(rc == 0 and rpid and alive(rpid), "%s: restore --lazy-pages (%.0f ms)" % (mode, (t1 - t0) * 1000))
    if rc:
        tail(os.path.join(dst, "restore.log"))
        tail(os.path.join(dst, "lazy.log"))
    ok(daemon_busy, "%s: the daemon still had pages to fetch when the task was signalled" % mode)
    wait_for(lambda: read(os.path.join(d, "report")), 10)
    rep = read(os.path.join(d, "report")).split()
    ok(len(rep) == 4 and int(rep[1]) < int(rep[3]),
       "%s: the task ran with part of its memory out: %s" % (mode, " ".join(rep) or "no report"))
    ok(wait_for(lambda: read(os.path.join(d, "progress")) not in ("", "running 1"), 10),
       "%s: the task makes progress in the lazy phase (%s)" % (mode, read(os.path.join(d, "progress"))))
    done = wait_for(lambda: not alive(lpid), 30)
    log = read(os.path.join(dst, "lazy.log"))
    stats = [l for l in log.splitlines() if "all pages in" in l]
    ok(done and stats, "%s: the daemon exits once every page is in: %s" %
       (mode, stats[0].split("lazy-pages: ")[-1] if stats else "no"))
    if not stats:
        tail(os.path.join(dst, "lazy.log"))
    if mode == "fork":
        ok(any("forked with" in l for l in log.splitlines()),
           "fork: the daemon served the child forked in the lazy phase with its parent's pages (UFFD_EVENT_FORK)")
    if mode == "rpc":
        dumper.join(30)
        drc = res.get("rc", -1)
    else:
        try:
            drc = dumper.wait(30)
        except subprocess.TimeoutExpired:
            drc = -1
    slog = read(os.path.join(src, "dump.log"))
    served = [l for l in slog.splitlines() if "pages served" in l]
    ok(drc == 0 and served and wait_for(lambda: not alive(pid), 5),
       "%s: the dump ends once the client has every page, the source task is gone (%s)" %
       (mode, served[0].split("lazy-dump: ")[-1] if served else "exit %s" % drc))
    if drc:
        tail(os.path.join(src, "dump.log"))
    if rpid and alive(rpid):
        os.kill(rpid, signal.SIGUSR2)
    wait_for(lambda: not alive(rpid), 20)
    res_ = read(os.path.join(d, "result")) or "no result"
    ok(res_ == "OK", "%s: the restored task found every word right (%s)" % (mode, res_))
    kill(rpid)
    kill(pid)


def refused(work, exe):
    """A plain restore of a lazy dump is refused; a daemon whose page server is gone kills the restore."""
    d = os.path.join(work, "refused")
    src, dst = os.path.join(d, "src"), os.path.join(d, "dst")
    os.makedirs(src)
    pid = start_task_ns(exe, d, 16)
    port = free_port()
    dumper, ready = dump_cli(pid, src, port, [])
    ok(ready, "refused: the dump serves")
    copy_images(src, dst)
    rc = lp.criu("restore", "-D", dst, "-d", "-o", "plain.log")
    log = read(os.path.join(dst, "plain.log"))
    time.sleep(0.05)
    lp.reap()
    new = [p for p in tasks_of(exe) if p != pid]
    ok(rc != 0 and "left on the source" in log and not new,
       "refused: a restore without lazy pages fails naming the pages left on the source, no process left")
    if "left on the source" not in log:
        tail(os.path.join(dst, "plain.log"))
    # the daemon connects, then the source goes away before the restore: the dump fails and resumes the task
    rc, lpid = lazy_daemon(dst, port, [], d)
    ok(rc == 0 and lpid, "refused: lazy-pages --page-server connected")
    os.kill(lpid, signal.SIGKILL)
    try:
        drc = dumper.wait(30)
    except subprocess.TimeoutExpired:
        drc = -1
    slog = read(os.path.join(src, "dump.log"))
    ok(drc == 1 and "went away before it had every page" in slog and wait_for(lambda: task_state(pid) in ("R", "S"), 5),
       "refused: a client gone before the end fails the dump, the source task runs on (exit %s, state %s)" %
       (drc, task_state(pid)))
    ok(not os.path.exists(os.path.join(src, "inventory.img")), "refused: the failed dump's inventory.img is removed")
    kill(pid)


def interop(up, work, exe, way):
    """One side is CRIU's (CRIU_UPSTREAM=its criu binary): up2ours, its dump serves our daemon and restore;
    ours2up, our dump serves its daemon and restore. Not in make test (CI has no CRIU build)."""
    d = os.path.join(work, way)
    src, dst = os.path.join(d, "src"), os.path.join(d, "dst")
    os.makedirs(src)
    src_bin, dst_bin = {"up2ours": (up, CRIU), "ours2up": (CRIU, up), "up2up": (up, up)}[way]
    pid = start_task_ns(exe, d, 64)
    port = free_port()
    r, w = os.pipe()
    dumper = subprocess.Popen([src_bin, "dump", "-t", str(pid), "-D", src, "-o", "dump.log", "-v4", "--lazy-pages",
                               "--address", "127.0.0.1", "--port", str(port), "--status-fd", str(w)],
                              pass_fds=[w], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    ready = wait_readable(r, 60) and os.read(r, 1) == b"\0"
    os.close(r)
    ok(ready, "%s: the dump serves" % way)
    if not ready:
        tail(os.path.join(src, "dump.log"))
        return
    copy_images(src, dst)
    lpid_file = os.path.join(d, "lazy.pid")
    daemon = subprocess.Popen([dst_bin, "lazy-pages", "-D", dst, "--page-server", "--address", "127.0.0.1", "--port",
                               str(port), "-o", "lazy.log", "-v4"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    wait_for(lambda: os.path.exists(os.path.join(dst, "lazy-pages.socket")), 10)
    pidfile = os.path.join(d, "rpid")
    r = subprocess.run([dst_bin, "restore", "-D", dst, "--lazy-pages", "-d", "--pidfile", pidfile, "-o",
                        "restore.log", "-v4"], capture_output=True, timeout=60)
    rpid = int(read(pidfile) or 0)
    ok(r.returncode == 0 and rpid and alive(rpid), "%s: restore --lazy-pages" % way)
    if r.returncode:
        tail(os.path.join(dst, "restore.log"))
    try:
        lrc = daemon.wait(60)
    except subprocess.TimeoutExpired:
        lrc = -1
    ok(lrc == 0, "%s: the lazy-pages daemon had every page and exited 0 (%s)" % (way, lrc))
    if lrc:
        tail(os.path.join(dst, "lazy.log"))
    try:
        drc = dumper.wait(30)
    except subprocess.TimeoutExpired:
        drc = -1
    ok(drc == 0, "%s: the dump ended once every page was served (exit %s)" % (way, drc))
    if drc:
        tail(os.path.join(src, "dump.log"))
    if rpid and alive(rpid):
        os.kill(rpid, signal.SIGUSR2)
    wait_for(lambda: not alive(rpid), 20)
    res_ = read(os.path.join(d, "result")) or "no result"
    ok(res_ == "OK", "%s: the restored task found every word right (%s)" % (way, res_))
    kill(rpid)
    kill(pid)


def faults(work, exe):
    """A fault injected at each step dump --lazy-pages adds fails the dump and leaves the task running."""
    for step in ("dump-lazy-listen", "dump-lazy-serve"):
        d = os.path.join(work, step)
        src = os.path.join(d, "src")
        os.makedirs(src)
        pid = start_task_ns(exe, d, 16)
        dumper, ready = dump_cli(pid, src, free_port(), [], env=dict(os.environ, CRIU_FAULT=step))
        try:
            drc = dumper.wait(30)
        except subprocess.TimeoutExpired:
            drc = -1
        log = read(os.path.join(src, "dump.log"))
        ok(not ready and drc == 1 and "fault injected: %s" % step in log and
           wait_for(lambda: task_state(pid) in ("R", "S"), 5) and
           not os.path.exists(os.path.join(src, "inventory.img")),
           "fault at %s: the dump fails, the task runs on (exit %s, state %s), no inventory.img" %
           (step, drc, task_state(pid)))
        kill(pid)


def lazy_server_cli(src):
    """criu page-server --lazy-pages on a free port: (port, a function that waits for its exit code)."""
    port = free_port()
    r, w = os.pipe()
    srv = subprocess.Popen([CRIU, "page-server", "--lazy-pages", "-D", src, "--address", "127.0.0.1", "--port",
                            str(port), "--status-fd", str(w), "-o", "ps.log", "-v4"], pass_fds=[w],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    ok(wait_readable(r, 30) and os.read(r, 1) == b"\0", "images: criu page-server --lazy-pages listens")
    os.close(r)

    def wait_exit():
        try:
            return srv.wait(30)
        except subprocess.TimeoutExpired:
            srv.kill()
            return srv.wait()
    return port, wait_exit


def parent_link(d):
    """The images dir's `parent` link, or None."""
    p = os.path.join(d, "parent")
    return os.readlink(p) if os.path.islink(p) else None


def lazy_server_rpc(src, req="PAGE_SERVER"):
    """RPC PAGE_SERVER (or PAGE_SERVER_CHLD) with lazy_pages (pycriu, port 0): (port, a function that waits for
    its exit code).

    The server is ours to reap (we are a subreaper) once its parent went: the swrk criu (PAGE_SERVER_CHLD) or
    the process between (PAGE_SERVER: a session of its own)."""
    import pycriu.criu
    c = pycriu.criu.criu()
    c.use_binary(CRIU)
    c.opts.images_dir = src
    c.opts.log_file = "bad-ps.log"
    c.opts.lazy_pages = True
    c.opts.parent_img = "../nowhere"
    c.opts.ps.address = "127.0.0.1"
    c.opts.ps.port = 0
    link = parent_link(src)
    try:
        c._request(req)
        refused = False
    except Exception:
        refused = True
    ok(refused and "a parent chain is not served" in read(os.path.join(src, "bad-ps.log")) and
       parent_link(src) == link,
       "%s with lazy_pages and parent_img is refused, the images dir untouched" % req)
    c = pycriu.criu.criu()
    c.use_binary(CRIU)
    c.opts.images_dir = src
    c.opts.log_file = "ps.log"
    c.opts.log_level = 4
    c.opts.lazy_pages = True
    c.opts.ps.address = "127.0.0.1"
    c.opts.ps.port = 0
    try:
        resp = c._request(req)
        port, spid = resp.ps.port, resp.ps.pid
    except Exception as e:
        print("# RPC %s with lazy_pages: %s" % (req, e))
        port = spid = 0
    ok(port > 0 and spid > 0, "RPC %s with lazy_pages: page server %d on port %d" % (req, spid, port))
    del c	# the session ends: a PAGE_SERVER_CHLD's swrk criu goes, its page server serves on

    def wait_exit():
        if not spid or not wait_for(lambda: spid in lp.reaped, 30):
            print("# the page server %d did not end (or was not ours to wait for)" % spid)
            return -1
        return lp.reaped[spid]
    return port, wait_exit


def images_case(work, exe, how="cli"):
    """criu page-server --lazy-pages (how "cli") or RPC PAGE_SERVER with lazy_pages ("rpc"): the lazy pages
    served from the images of a plain dump (CRIU's mode)."""
    tag = {"cli": "images", "rpc": "images-rpc", "chld": "images-rpc-chld"}[how]
    d = os.path.join(work, tag)
    src, dst = os.path.join(d, "src"), os.path.join(d, "dst")
    os.makedirs(src)
    pid = start_task_ns(exe, d, MIB)
    time.sleep(0.1)
    ok(lp.criu("dump", "-t", str(pid), "-D", src, "-o", "dump.log", "-v4") == 0 and wait_for(lambda: not alive(pid), 5),
       tag + ": a plain dump, the source task is gone")
    # a `parent` link the dump's dir may have (its pages here do not use it): serving must not change it
    os.makedirs(os.path.join(d, "pre"))
    os.symlink("../pre", os.path.join(src, "parent"))
    if how == "cli":
        port, wait_exit = lazy_server_cli(src)
    else:
        port, wait_exit = lazy_server_rpc(src, "PAGE_SERVER" if how == "rpc" else "PAGE_SERVER_CHLD")
    copy_images(src, dst)
    rc, lpid = lazy_daemon(dst, port, [], d)
    ok(rc == 0 and lpid, tag + ": criu lazy-pages --page-server -d")
    pidfile = os.path.join(d, "rpid")
    rc = lp.criu("restore", "-D", dst, "--lazy-pages", "-d", "--pidfile", pidfile, "-o", "restore.log", "-v4")
    rpid = int(read(pidfile) or 0)
    if rpid and alive(rpid):
        os.kill(rpid, signal.SIGUSR1)
    ok(rc == 0 and rpid and alive(rpid), tag + ": restore --lazy-pages")
    wait_for(lambda: read(os.path.join(d, "report")), 10)
    rep = read(os.path.join(d, "report")).split()
    ok(len(rep) == 4 and int(rep[1]) < int(rep[3]),
       tag + ": the task ran with part of its memory out: %s" % (" ".join(rep) or "no report"))
    done = wait_for(lambda: not alive(lpid), 30)
    stats = [l for l in read(os.path.join(dst, "lazy.log")).splitlines() if "all pages in" in l]
    ok(done and stats, tag + ": the daemon exits once every page is in: %s" %
       (stats[0].split("lazy-pages: ")[-1] if stats else "no"))
    src_rc = wait_exit()
    ok(parent_link(src) == "../pre", tag + ": the images dir's parent link is left as it was (%s)" % parent_link(src))
    served = [l for l in read(os.path.join(src, "ps.log")).splitlines() if "pages served from the images" in l]
    nr = int(served[0].split("lazy-images: ")[-1].split()[0]) if served else 0
    ok(src_rc == 0 and nr * 2 >= MIB * 256, tag + ": the page server served %d pages from the images and exited %d" %
       (nr, src_rc))
    if not served:
        tail(os.path.join(src, "ps.log"))
    if rpid and alive(rpid):
        os.kill(rpid, signal.SIGUSR2)
    wait_for(lambda: not alive(rpid), 20)
    res_ = read(os.path.join(d, "result")) or "no result"
    ok(res_ == "OK", tag + ": the restored task found every word right (%s)" % res_)
    kill(rpid)


def main():
    if not os.access(CRIU, os.X_OK):
        print("# SKIP: criu/criu is not built")
        return 77
    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)	# PR_SET_CHILD_SUBREAPER
    work = tempfile.mkdtemp(prefix="criu-lazyps.")
    exe = os.path.join(work, "task")
    subprocess.run(["gcc", "-O2", "-pthread", "-o", exe, os.path.join(HERE, "lazy_task.c")], check=True)
    certs = os.path.join(work, "certs")
    os.makedirs(certs)
    cases = sys.argv[1:] or ["plain", "fork", "tls", "rpc", "refused", "faults", "images", "images-rpc",
                              "images-rpc-chld"]
    if "tls" in cases:
        if shutil.which("openssl"):
            ps.make_certs(certs)
        else:
            print("# no openssl: the tls case is skipped")
            cases.remove("tls")
    for c in cases:
        try:
            if c == "refused":
                refused(work, exe)
            elif c == "faults":
                faults(work, exe)
            elif c == "images":
                images_case(work, exe)
            elif c == "images-rpc":
                images_case(work, exe, "rpc")
            elif c == "images-rpc-chld":
                images_case(work, exe, "chld")
            elif c in ("up2ours", "ours2up", "up2up"):
                interop(os.environ["CRIU_UPSTREAM"], work, exe, c)
            else:
                one_case(work, exe, c, certs)
        except Exception as e:
            ok(False, "%s: %s" % (c, e))
        lp.cleanup(work)
    print("1..%d" % len(lp.results))
    if all(lp.results):
        shutil.rmtree(work, ignore_errors=True)
    else:
        print("# kept %s" % work)
    return 0 if all(lp.results) else 1


if __name__ == "__main__":
    sys.exit(main())

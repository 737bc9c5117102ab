#!/usr/bin/python3
"""
LSM labels at restore, end to end, as far as this machine allows.

Runs as pid 1 of a fresh pid namespace (see lsm-labels.sh). A sleeping
process is dumped; its core image must hold no lsm_profile when the machine
has no active LSM (/sys/kernel/security/lsm: none of apparmor, selinux).
Then, restores that must fail before any process starts, with no process
left behind:
  1. `--lsm-profile` without TYPE:NAME, or an unknown TYPE (option error);
  2. `--lsm-profile apparmor:NAME` / `selinux:CTX` for an LSM that is not
     the active one (also through RPC, criu_opts.lsm_profile);
  3. a core image whose creds carry an lsm_profile (edited with pycriu), on
     a machine without AppArmor or SELinux.
Finally a restore with `--lsm-mount-context` (accepted: no mounts are
restored yet) brings the process back.
Prints TAP.
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CRIU = os.path.join(TOP, "criu", "criu")
sys.path.insert(0, os.path.join(TOP, "build", "py"))
from pycriu import images  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import ok, finish, reap, wait_gone, kill  # noqa: E402


def criu(*args):
    r = subprocess.run([CRIU] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    reap()
    return r.returncode, r.stdout


def active_lsm():
    try:
        with open("/sys/kernel/security/lsm") as f:
            names = f.read().strip().split(",")
    except OSError:
        names = []
    for n in names:
        if n in ("selinux", "apparmor"):
            return n
    if os.path.exists("/sys/fs/selinux/enforce"):
        return "selinux"
    try:
        with open("/sys/module/apparmor/parameters/enabled") as f:
            if f.read().startswith("Y"):
                return "apparmor"
    except OSError:
        pass
    return None


def core_path(d, pid):
    return os.path.join(d, "core-%d.img" % pid)


def main():
    lsm = active_lsm()
    print("# active LSM: %s" % (lsm or "none"))
    work = tempfile.mkdtemp(prefix="lsm-labels.")
    d = os.path.join(work, "img")
    os.mkdir(d)
    p = subprocess.Popen(["sleep", "1000"], start_new_session=True, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pid = p.pid
    rc, out = criu("dump", "-t", str(pid), "-D", d, "-o", "dump.log", "-v4")
    ok(rc == 0 and wait_gone(pid), "dump of a sleeping process", out)
    with open(core_path(d, pid), "rb") as f:
        core = images.load(f)
    creds = core["entries"][0]["thread_core"]["creds"]
    if lsm is None:
        ok("lsm_profile" not in creds and "lsm_sockcreate" not in creds,
           "no active LSM: the core has no LSM label (%s)" % creds.get("lsm_profile"))

    # 1. bad option values: refused by the option parser
    for bad in ("nocolon", "smack:x", "apparmor:"):
        rc, out = criu("restore", "-d", "-D", d, "--lsm-profile", bad)
        ok(rc == 1 and "takes apparmor:PROFILE or selinux:CONTEXT" in out and not os.path.exists("/proc/%d" % pid),
           "--lsm-profile %s: refused, nothing started" % bad, out)

    # 2. a profile of an LSM that is not the active one
    for kind in ("apparmor", "selinux"):
        if kind == lsm:
            continue
        rc, out = criu("restore", "-d", "-D", d, "-o", "rst-%s.log" % kind, "--lsm-profile", kind + ":criu_test")
        ok(rc == 1 and "%s is not the active LSM" % kind in out and wait_gone(pid),
           "--lsm-profile %s:criu_test without %s: restore fails clearly, nothing left" % (kind, kind), out)

    # 3. an image with a label, on a machine that can't give it back
    if lsm is None:
        keep = core_path(d, pid) + ".keep"
        os.rename(core_path(d, pid), keep)
        creds["lsm_profile"] = "criu_test_profile"
        with open(core_path(d, pid), "wb") as f:
            images.dump(core, f)
        rc, out = criu("restore", "-d", "-D", d, "-o", "rst-label.log", "--skip-image-check")  # edited
        ok(rc == 1 and "had the LSM label 'criu_test_profile'" in out and "no AppArmor or SELinux" in out
           and wait_gone(pid), "a dumped label without an active LSM: restore fails clearly, nothing left", out)
        os.rename(keep, core_path(d, pid))
    else:
        print("# %s is active: the success path is not covered here" % lsm)

    # 2b. the same through RPC (criu swrk): criu_opts.lsm_profile is mapped, not refused as unknown
    import pycriu
    if lsm != "apparmor":
        c = pycriu.criu.criu()
        c.use_binary(CRIU)
        fd = os.open(d, os.O_DIRECTORY)
        c.opts.images_dir_fd = fd
        c.opts.log_file = "rst-rpc.log"
        c.opts.log_level = 4
        c.opts.lsm_profile = "apparmor:criu_test"
        try:
            c.restore()
            failed = ""
        except pycriu.criu.CRIUException as e:
            failed = str(e)
        os.close(fd)
        with open(os.path.join(d, "rst-rpc.log")) as f:
            log = f.read()
        ok(failed and "apparmor is not the active LSM" in log and wait_gone(pid),
           "RPC lsm_profile apparmor:criu_test without apparmor: restore fails clearly, nothing left", log)

    # 4. --lsm-mount-context is accepted
    rc, out = criu("restore", "-d", "-D", d, "-o", "rst-ok.log", "--lsm-mount-context", "system_u:object_r:x:s0")
    ok(rc == 0 and os.path.exists("/proc/%d" % pid), "restore with --lsm-mount-context", out)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    wait_gone(pid)
    subprocess.run(["rm", "-rf", work])
    return finish()


if __name__ == "__main__":
    sys.exit(main())

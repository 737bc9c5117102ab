# SPDX-License-Identifier: GPL-2.0
"""What the end-to-end test scripts of test/others share: TAP lines, reaping
(each script runs as pid 1 of a fresh pid namespace, so every orphan comes to
it), waiting for a pid to be gone, and editing an image with our ./crit."""
import json
import os
import subprocess
import time

results = []


def ok(cond, what, detail=None):
    """One TAP line; on failure the last lines of detail as comments. Returns cond."""
    results.append(bool(cond))
    print("%sok %d - %s" % ("" if cond else "not ", len(results), what), flush=True)
    if not cond and detail:
        for line in str(detail).rstrip().splitlines()[-15:]:
            print("# " + line)
    return cond


def finish():
    """The plan line; the exit code of the script."""
    print("1..%d" % len(results))
    return 0 if all(results) else 1


def reap():
    """Reap every child (and orphan) that has exited, without waiting."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def all_pids():
    return set(int(p) for p in os.listdir("/proc") if p.isdigit())


def wait_gone(pid, timeout=10):
    """True once /proc/PID is gone (reaping meanwhile), False after timeout seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        reap()
        if not os.path.exists("/proc/%d" % pid):
            return True
        time.sleep(0.01)
    return False


def kill(pid):
    """SIGKILL pid if it still exists and wait until it is gone."""
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        pass
    wait_gone(pid)


def exec_detached(argv):
    """In a forked child: a session of its own, stdio on /dev/null, no other fd, then argv; never returns."""
    try:
        os.setsid()
        null = os.open("/dev/null", os.O_RDWR)
        for i in range(3):
            os.dup2(null, i)
        os.closerange(3, 1024)
        os.execv(argv[0], argv)
    finally:
        os._exit(127)


def spawn_detached(argv):
    """Start argv detached (exec_detached()); its pid."""
    pid = os.fork()
    if pid == 0:
        exec_detached(argv)
    return pid


def crit_edit(crit, path, fn):
    """Decode an image with crit, let fn change the JSON in place, encode it back."""
    js = subprocess.run([crit, "decode", "-i", path], check=True, stdout=subprocess.PIPE).stdout
    img = json.loads(js)
    fn(img)
    subprocess.run([crit, "encode", "-o", path], input=json.dumps(img).encode(), check=True)

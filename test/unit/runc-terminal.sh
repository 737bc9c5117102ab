#!/bin/sh
# runc-terminal.sh: a runc container with a terminal ("terminal": true, the
# pty master sent to our test/others/runc/consock over --console-socket) is
# checkpointed and restored through our criu: at restore criu makes a new pty
# in the container's devpts and hands its master to runc (the
# orphan-pts-master notification), which sends it to a new console socket.
# The program counts on, read through the new master; the pty is again the
# controlling terminal of its session (the init and its child), at its path
# on the container's devpts, and /dev/console is bound on it again; the pidfds
# still name the same processes (Documentation/ttys.md). Also a
# `checkpoint --leave-running` (the container goes on on its old console) and
# a restore from those images.
cd "$(dirname "$0")/../.." || exit 1
top=$(pwd)
. "$top/test/others/runc/lib.sh"
rt_require
rt_init

rt_bundle 'c["process"]["terminal"] = True' ||
	{ echo "not ok 1 - the bundle (busybox, gcc -static pidcount, runc spec, terminal)"; exit 1; }
gcc -O2 -Wall -o "$tmp/consock" "$top/test/others/runc/consock.c" || { echo "not ok 1 - consock"; exit 1; }

# consock SOCK TAG: a console socket whose terminal output goes to $tmp/TAG.out
consock() {
	"$tmp/consock" "$tmp/$1" >"$tmp/$2.out" 2>&1 &
	readers="$readers $!"
	i=0
	while [ ! -S "$tmp/$1" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
}

# ctty_ok: the init and its child have the pty of the init's stdin as their controlling terminal;
# that is /dev/pts/N on the container's devpts mount, and /dev/console is a bind of it
ctty_ok() {
	pid=$(runc state "$name" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])') || return 1
	python3 - "$pid" <<'PY'
import os, sys
pid = sys.argv[1]
rdev = os.stat("/proc/%s/fd/0" % pid).st_rdev
nr = (os.major(rdev) << 8) | (os.minor(rdev) & 0xff) | ((os.minor(rdev) & ~0xff) << 12)
kids = open("/proc/%s/task/%s/children" % (pid, pid)).read().split()
for p in [pid] + kids:
    stat = open("/proc/%s/stat" % p).read()
    f = stat[stat.rindex(")") + 2:].split()
    if int(f[4]) != nr:
        print("# task %s: tty_nr %s, not %d" % (p, f[4], nr))
        sys.exit(1)
st, con = os.stat("/proc/%s/fd/0" % pid), os.stat("/proc/%s/root/dev/console" % pid)
mnt = [l.split()[1] for l in open("/proc/%s/fdinfo/0" % pid) if l.startswith("mnt_id:")][0]
mp = [l.split()[4] for l in open("/proc/%s/mountinfo" % pid) if l.split()[0] == mnt]
link = os.readlink("/proc/%s/fd/0" % pid)
if (con.st_rdev, con.st_dev) != (st.st_rdev, st.st_dev) or mp != ["/dev/pts"] or link != "/dev/pts/%d" % os.minor(rdev):
    print("# fd 0: %s on mount %s %s; /dev/console %d:%d" % (link, mnt, mp, os.major(con.st_rdev), os.minor(con.st_rdev)))
    sys.exit(1)
print("# init %s and %d child(ren) on pty %d:%d, /dev/console on it" % (pid, len(kids), os.major(rdev), os.minor(rdev)))
PY
}

consock console1.sock out1
(cd "$tmp/bundle" && runc run -d --console-socket "$tmp/console1.sock" "$name" </dev/null >"$tmp/run.out" 2>&1)
check $? "runc run -d --console-socket: the container with a terminal runs"
rt_wait_count out1 3 && ctty_ok
check $? "it counts on its terminal, its controlling terminal"

rt_checkpoint img-lr --leave-running
check $? "runc checkpoint --leave-running of the container with a terminal"
[ "$(rt_state)" = running ] && rt_wait_count out1 "$(rt_last out1)"
check $? "the container still runs and counts on its old console after the --leave-running dump"
before_lr=$(rt_last out1)

before=$(rt_last out1)
rt_checkpoint img
check $? "runc checkpoint of the container with a terminal"
[ -z "$(rt_state)" ]
check $? "the container is gone after the checkpoint"

# restore_and_check IMG TAG MIN WHAT: restore with a new console socket; it counts on, read through the new master
restore_and_check() {
	img=$1 tag=$2 min=$3 what=$4
	consock "$tag.sock" "$tag"
	rm -rf "$tmp/$img.rwork"
	(cd "$tmp/bundle" && runc --criu "$top/criu/criu" restore -d --console-socket "$tmp/$tag.sock" \
		--image-path "$tmp/$img" --work-path "$tmp/$img.rwork" "$name" </dev/null >"$tmp/$tag.restore" 2>&1)
	rc=$?
	[ $rc = 0 ] || rt_show "$tmp/$tag.restore" "$tmp/$img.rwork/restore.log"
	check $rc "runc restore -d --console-socket: criu hands the new pty master to runc ($what)"
	[ $rc = 0 ] && grep -q "master received" "$tmp/$tag.out" && [ "$(rt_state)" = running ] &&
		rt_wait_count "$tag" "$min" &&
		! awk '{ sub(/\r$/, "") } $2 == "ok" { if ($1 <= 1) bad = 1 } END { exit !bad }' "$tmp/$tag.out"
	check $? "the restored program counts on above $min, not from 1, read through the new master ($what)"
	grep -q "master handed to the RPC client" "$tmp/$img.rwork/restore.log" && ctty_ok
	check $? "the new pty is the controlling terminal of the init and its child again ($what)"
	runc kill "$name" USR1 && rt_wait_line "$tag" "child killed through its pidfd ok"
	check $? "its child pidfd still names its child: killed and waited for through it ($what)"
	grep FAIL "$tmp/$tag.out" | sed 's/^/# /'
	runc delete -f "$name" >/dev/null 2>&1
}
restore_and_check img out2 "$before" "after checkpoint"
restore_and_check img-lr out3 "$before_lr" "from the --leave-running images"
grep FAIL "$tmp/out1.out" | sed 's/^/# /'
echo "1..$n"
exit $failed

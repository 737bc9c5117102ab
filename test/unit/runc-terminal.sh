#!/bin/sh
# runc-terminal.sh: a runc container with a terminal ("terminal": true, the
# pty master sent to our test/others/runc/consock over --console-socket).
# Restoring it needs a new pty whose master goes to runc (CRIU's
# orphan-pts-master), which this criu does not implement: the checkpoint
# must be refused with criu's error naming the terminal, and the container
# must keep running and counting (issue 14; Documentation/rpc.md, "runc").
cd "$(dirname "$0")/../.." || exit 1
top=$(pwd)
. "$top/test/others/runc/lib.sh"
rt_require
rt_init

rt_bundle 'c["process"]["terminal"] = True' ||
	{ echo "not ok 1 - the bundle (busybox, gcc -static pidcount, runc spec, terminal)"; exit 1; }
gcc -O2 -Wall -o "$tmp/consock" "$top/test/others/runc/consock.c" || { echo "not ok 1 - consock"; exit 1; }
"$tmp/consock" "$tmp/console.sock" >"$tmp/out1.out" 2>&1 &
readers="$readers $!"
i=0
while [ ! -S "$tmp/console.sock" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
(cd "$tmp/bundle" && runc run -d --console-socket "$tmp/console.sock" "$name" </dev/null >"$tmp/run.out" 2>&1)
check $? "runc run -d --console-socket: the container with a terminal runs"
rt_wait_count out1 3
check $? "it counts on its terminal"
runc --criu "$top/criu/criu" checkpoint --image-path "$tmp/img" --work-path "$tmp/img.work" "$name" \
	>"$tmp/img.runc" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "is a terminal (/dev/pts/" "$tmp/img.work/dump.log"
check $? "the checkpoint is refused, criu naming the terminal (no orphan-pts-master restore yet)"
[ "$(rt_state)" = running ] && rt_wait_count out1 "$(rt_last out1)"
check $? "the container still runs and counts"
[ $failed = 0 ] || rt_show "$tmp/img.runc" "$tmp/img.work/dump.log"
echo "1..$n"
exit $failed

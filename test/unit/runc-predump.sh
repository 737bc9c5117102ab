#!/bin/sh
# runc-predump.sh: runc's pre-dump chain (each pass a criu swrk of its own) tracks writes through the criu-track holder.
# `runc checkpoint --pre-dump` twice, then `runc checkpoint --parent-path`,
# through our criu: the first pre-dump leaves a holder of its uffds
# (criu/mem-track-holder.c), the second pre-dump and the dump take pages
# unread from the holder the pass before left, no holder is left after the
# dump, and the container restored from the chain counts on from where it
# was. On main's binary (before the holder) 3 of the 11 checks fail.
cd "$(dirname "$0")/../.." || exit 1
top=$(pwd)
. "$top/test/others/runc/lib.sh"
rt_require
rt_init

# the container's init, as runc knows it (the holders of other tests on the machine are not ours)
rt_pid() {
	runc state "$name" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])' 2>/dev/null
}

# live criu-track holders of a pidfd of the container's init, $cpid (their fdinfo says "Pid: N")
holders() {
	p=$cpid
	for c in /proc/[0-9]*/comm; do
		[ "$(cat "$c" 2>/dev/null)" = criu-track ] || continue
		d=${c%/comm}
		awk '$1 == "State:" && $2 != "Z" { found = 1 } END { exit !found }' "$d/status" 2>/dev/null || continue
		{ [ -n "$p" ] && grep -qx "Pid:[[:space:]]*$p" "$d"/fdinfo/* 2>/dev/null; } && echo "${d#/proc/}"
	done
}

# pages a pass took from the tracking, by its log in the work dir
taken() {
	awk -F': ' '/pages taken as unchanged from the write tracking/ { split($NF, a, " "); n += a[1] } END { print n + 0 }' \
		"$tmp/$1.work/dump.log" 2>/dev/null
}

rt_bundle || { echo "not ok 1 - the bundle (busybox, gcc -static pidcount, runc spec)"; exit 1; }
rt_run out1
check $? "runc run -d: the container runs"
cpid=$(rt_pid)
rt_wait_count out1 3
check $? "it counts"

rt_checkpoint p0 --pre-dump
check $? "runc checkpoint --pre-dump (p0)"
[ "$(rt_state)" = running ] && [ -n "$(holders)" ]
check $? "the container runs on, a criu-track holder keeps the tracking"
h0=$(holders)
rt_wait_count out1 "$(rt_last out1)"
rt_checkpoint p1 --pre-dump --parent-path ../p0
check $? "runc checkpoint --pre-dump --parent-path ../p0 (p1)"
t1=$(taken p1)
h1=$(holders)
[ "$t1" -gt 0 ] && [ -n "$h0" ] && [ -n "$h1" ] && [ "$h1" != "$h0" ] && ! echo "$h1" | grep -qx "$h0"
check $? "p1 took $t1 pages from the holder of p0 ($h0), which is gone; a new one is left"
rt_wait_count out1 "$(rt_last out1)"
before=$(rt_last out1)
rt_checkpoint final --parent-path ../p1
check $? "runc checkpoint --parent-path ../p1"
t2=$(taken final)
[ "$t2" -gt 0 ]
check $? "the dump took $t2 pages from the holder of p1"
i=0
while [ -n "$(holders)" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -z "$(holders)" ]
check $? "no holder is left after the dump"

rt_restore final out2
check $? "runc restore -d from the chain"
[ "$(rt_state)" = running ] && rt_wait_count out2 "$before" &&
	! awk '$2 == "ok" { if ($1 <= 1) bad = 1 } END { exit !bad }' "$tmp/out2.out"
check $? "the restored program counts on above $before"
grep -q FAIL "$tmp/out2.out" && sed 's/^/# /' "$tmp/out2.out" | grep FAIL
runc delete -f "$name" >/dev/null 2>&1

echo "1..$n"
exit $failed

#!/bin/sh
# runc-lazy.sh: a lazy migration of a runc container through our criu, over
# loopback: `runc checkpoint --lazy-pages --page-server 127.0.0.1:PORT
# --status-fd` (runc's RPC DUMP with lazy_pages, ps and status_fd: the dump
# serves the pages it leaves in the stopped container), the images copied,
# `criu lazy-pages --page-server` on the copy and `runc restore --lazy-pages`
# of it as a second container: it counts on from where it was with its
# pidfds intact, the daemon exits once every page is in and the checkpoint
# ends (the first container gone).
cd "$(dirname "$0")/../.." || exit 1
top=$(pwd)
. "$top/test/others/runc/lib.sh"
rt_require
rt_init
name2="$name-b"
lazy_cleanup() {
	runc delete -f "$name2" >/dev/null 2>&1
	[ -n "$lpid" ] && kill "$lpid" 2>/dev/null
	[ -n "$cpid" ] && kill "$cpid" 2>/dev/null
	rt_cleanup
}
trap lazy_cleanup EXIT

rt_bundle || { echo "not ok 1 - the bundle (busybox, gcc -static pidcount, runc spec)"; exit 1; }
rt_run out1
check $? "runc run -d: the container runs"
rt_wait_count out1 3
check $? "it counts and its pidfds name its child and itself"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkfifo "$tmp/status"
runc --criu "$top/criu/criu" checkpoint --lazy-pages --page-server "127.0.0.1:$port" --status-fd 3 \
	--image-path "$tmp/img" --work-path "$tmp/img.work" "$name" 3>"$tmp/status" >"$tmp/img.runc" 2>&1 &
cpid=$!
timeout 60 head -c1 "$tmp/status" | od -An -tx1 | grep -q 00
rc=$?
# why, first: a runner may show only the first lines of a failed test
[ $rc = 0 ] || { sleep 1; rt_show "$tmp/img.runc" "$tmp/img.work/dump.log"; tail -5 "$tmp/img.work/dump.log" | sed 's/^/# dump.log: /'; }
check $rc "runc checkpoint --lazy-pages: criu says it serves (--status-fd)"
before=$(rt_last out1)
[ "$(rt_state)" = paused ] || [ "$(rt_state)" = running ]
sleep 0.3
[ "$(rt_last out1)" = "$before" ]
check $? "the container is stopped while its pages are served (counter stays at $before)"

mkdir "$tmp/img2" && cp "$tmp"/img/* "$tmp/img2/"
"$top/criu/criu" lazy-pages -D "$tmp/img2" --page-server --address 127.0.0.1 --port "$port" -d \
	--pidfile "$tmp/lazy.pid" -o lazy.log -v4
check $? "criu lazy-pages --page-server on a copy of the images"
lpid=$(cat "$tmp/lazy.pid" 2>/dev/null)

(cd "$tmp/bundle" && rt_piped out2 runc --criu "$top/criu/criu" restore -d --lazy-pages --image-path "$tmp/img2" \
	--work-path "$tmp/img2.rwork" "$name2")
rc=$?
[ $rc = 0 ] || rt_show "$tmp/out2.out" "$tmp/img2.rwork/restore.log" "$tmp/img2/restore.log" "$tmp/img2/lazy.log"
check $rc "runc restore -d --lazy-pages: a second container from the copy"
rt_wait_count out2 "$before" && ! awk '$2 == "ok" { if ($1 <= 1) bad = 1 } END { exit !bad }' "$tmp/out2.out"
check $? "the restored container counts on above $before, not from 1"
i=0
while [ -n "$lpid" ] && kill -0 "$lpid" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
grep -q "all pages in" "$tmp/img2/lazy.log" && grep -Eq "page server: [1-9][0-9]* pages" "$tmp/img2/lazy.log"
check $? "the daemon exits once every page is in, fetched from the source: $(grep -Eo 'page server: [0-9]+ pages in [0-9]+ requests' "$tmp/img2/lazy.log")"
wait "$cpid"
rc=$?
cpid=""
[ $rc = 0 ] || rt_show "$tmp/img.runc" "$tmp/img.work/dump.log"
[ $rc = 0 ] && [ -z "$(rt_state)" ] && grep -q "pages served" "$tmp/img.work/dump.log"
check $? "runc checkpoint ends once every page is served, the first container is gone"
runc kill "$name2" USR1 && rt_wait_line out2 "child killed through its pidfd ok"
check $? "the restored container's child pidfd still names its child"
runc delete -f "$name2" >/dev/null 2>&1

echo "1..$n"
exit $failed

#!/bin/sh
# make demo: checkpoint and restore a supervisor that holds pidfds to two live
# workers, one of its own threads, a reaped worker (exit status 7), itself and
# a process outside the dumped tree; then check every pidfd after restore.
#
# Everything runs under a child subreaper that reaps at once (pid 1 on small
# VMs reaps orphans late, which would keep the dumped pids busy).
set -e
cd "$(dirname "$0")/.."
BIN=test/build/pidfd-demo
mkdir -p test/build
cc -O2 -Wall -pthread -o "$BIN" scripts/demo/pidfd-demo.c
if [ "$1" != "--inner" ]; then
	exec "$BIN" reaper sh "$0" --inner
fi

DIR=$(mktemp -d /tmp/criu-demo.XXXXXX)
REPORT=$DIR/report.txt
CRIU=./criu/criu

cleanup() {
	[ -n "$SUP" ] && kill -KILL "$SUP" 2>/dev/null || true
	[ -n "$OUT" ] && kill -KILL "$OUT" 2>/dev/null || true
}
trap cleanup EXIT

wait_for() {	# wait_for PATTERN: until the report has it
	for i in $(seq 100); do
		grep -q "$1" "$REPORT" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "demo: timed out waiting for '$1'" >&2
	return 1
}

echo "== criu check"
$CRIU check

"$BIN" outside &
OUT=$!
setsid "$BIN" supervisor "$OUT" "$REPORT" </dev/null >/dev/null 2>&1 &
SUP=$!
wait_for ready
kill -USR1 "$SUP"
wait_for "before dump: .* mismatches"
echo "== supervisor $SUP, outside process $OUT"
sed -n '/before dump: supervisor/,/before dump: .* mismatches/p' "$REPORT"

echo "== criu dump -t $SUP -D $DIR/img"
$CRIU dump -t "$SUP" -D "$DIR/img" -o dump.log -v4
grep 'pidfd: ' "$DIR/img/dump.log" | sed 's/^([^)]*) /  /'
echo "   the tree is killed; images: $(ls "$DIR/img" | wc -l) files"

echo "== criu restore -d -D $DIR/img"
$CRIU restore -d -D "$DIR/img" -o restore.log -v4 --pidfile "$DIR/pid"
SUP=$(cat "$DIR/pid")
kill -USR1 "$SUP"
wait_for "after restore: .* mismatches"
sed -n '/after restore: supervisor/,/after restore: .* mismatches/p' "$REPORT"

kill -TERM "$SUP"
for i in $(seq 50); do kill -0 "$SUP" 2>/dev/null || break; sleep 0.1; done
SUP=
if grep -q "after restore: 0 mismatches" "$REPORT"; then
	echo "== demo passed: every pidfd refers to the same process after restore"
else
	echo "== demo FAILED (logs in $DIR/img)"
	exit 1
fi
rm -rf "$DIR"

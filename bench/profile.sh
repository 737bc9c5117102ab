#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Profile one dump and one restore of SIZE MiB (default 1024) with images in DIR
# (default /dev/shm), and the two baselines beside them:
#   perf stat (task-clock, faults, context switches of criu and its children:
#   the restored task is criu's child while criu fills it),
#   perf record -a (flat, whole machine: the restored task does its own page faults),
#   strace -c (syscall counts and times; strace slows criu, count only; -f on dump
#   for the writer thread; not on restore, whose tasks criu ptraces itself).
# Outputs go to OUT (default bench/out/profile-SIZE); the summaries are printed.
# Usage: sh bench/profile.sh [SIZE_MIB] [DIR]   (runs itself in a new pid namespace)
set -eu
SIZE=${1:-1024}
DIR=${2:-/dev/shm}
HERE=$(cd "$(dirname "$0")" && pwd)
CRIU=$HERE/../criu/criu
OUT=${OUT:-$HERE/out/profile-$SIZE}

if [ -z "${CRIU_BENCH_IN_PIDNS:-}" ]; then
	export CRIU_BENCH_IN_PIDNS=1
	exec unshare --pid --fork --mount-proc --kill-child sh "$0" "$@"
fi

mkdir -p "$OUT"
WORK=$DIR/criu-profile-$$
IMG=$WORK/img
REP=$WORK/rep
mkdir -p "$IMG"
trap 'rm -rf "$WORK"' EXIT

start_memhog() {
	rm -f "$REP"
	"$HERE/memhog" "$SIZE" "$REP" </dev/null >/dev/null 2>&1 &
	HOG=$!
	while ! grep -q ready "$REP" 2>/dev/null; do sleep 0.02; done
}

# verify the restored memhog (pid $HOG) and reap it
verify() {
	kill -USR1 "$HOG"
	i=0
	while ! grep -q verify "$REP" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	grep verify "$REP"
	wait "$HOG" 2>/dev/null || true
}

# $1: tag; dumps with the tool in the rest of the arguments in front of criu
dump_with() {
	tag=$1
	shift
	rm -rf "$IMG" && mkdir -p "$IMG"
	start_memhog
	"$HERE/basecopy" touch "$SIZE"
	"$@" "$CRIU" dump -t "$HOG" -D "$IMG" -v4 -o dump.log
	wait "$HOG" 2>/dev/null || true
	cp "$IMG/dump.log" "$OUT/dump-$tag.log"
}

restore_with() {
	tag=$1
	shift
	"$HERE/basecopy" touch "$SIZE"
	"$@" "$CRIU" restore -D "$IMG" -d -v4 -o restore.log
	cp "$IMG/restore.log" "$OUT/restore-$tag.log"
	verify
}

EV=task-clock,page-faults,context-switches,cpu-migrations

echo "== perf stat: dump"
dump_with stat perf stat -e $EV -o "$OUT/dump.stat"
cat "$OUT/dump.stat"
echo "== perf stat: restore"
restore_with stat perf stat -e $EV -o "$OUT/restore.stat"
cat "$OUT/restore.stat"

echo "== perf stat: baselines"
"$HERE/basecopy" touch "$SIZE"
perf stat -e $EV -o "$OUT/base-write.stat" "$HERE/basecopy" write "$WORK/base.bin" "$SIZE" 0
cat "$OUT/base-write.stat"
rm -f "$WORK/base.bin"
perf stat -e $EV -o "$OUT/base-read.stat" "$HERE/basecopy" read "$IMG/pages-1.img" "$SIZE" 0
cat "$OUT/base-read.stat"

echo "== perf record -a: dump, restore"
dump_with rec perf record -q -a -o "$OUT/dump.perf.data"
restore_with rec perf record -q -a -o "$OUT/restore.perf.data"
perf record -q -a -o "$OUT/base-write.perf.data" "$HERE/basecopy" write "$WORK/base.bin" "$SIZE" 0
rm -f "$WORK/base.bin"
perf record -q -a -o "$OUT/base-read.perf.data" "$HERE/basecopy" read "$IMG/pages-1.img" "$SIZE" 0
for w in dump restore base-write base-read; do
	perf report -i "$OUT/$w.perf.data" --sort comm,dso,sym --stdio -g none 2>/dev/null |
		grep -v '^$' | grep -E '^ +[0-9]' | head -40 >"$OUT/$w.top"
	echo "-- top symbols, $w"
	cat "$OUT/$w.top"
done

echo "== strace -c -f: dump; strace -c: restore"
dump_with strace strace -c -f -o "$OUT/dump.strace"
cat "$OUT/dump.strace"
restore_with strace strace -c -o "$OUT/restore.strace"
cat "$OUT/restore.strace"

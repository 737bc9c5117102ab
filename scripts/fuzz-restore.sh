#!/bin/sh
# Fuzz `criu restore` with mutated images directories (test/fuzz/fuzz_restore.py).
#   sh scripts/fuzz-restore.sh SECONDS [RUNS SEED]
# The seeds: a --norst zdtm run of a few tests (their dump-1 directories);
# criu is criu/criu (make SANITIZE=1 first to catch memory errors).
# Findings are kept in test/build/fuzz/restore/findings; exit 0 when none.
secs=${1:-600}
runs=$2
seed=$3
tests=${FUZZ_RESTORE_TESTS:-"fork_tree pidfd_tree pipe00 eventfd00 cow_shared sk_unix_scm00 file_offset sigpending00"}
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/test/build/fuzz/restore
cd "$top" || exit 1
mkdir -p "$out"

args=""
for t in $tests; do args="$args -t $t"; done
python3 test/zdtm/zdtm.py run --norst --no-crit --label fuzz-seeds $args >"$out/seeds.log" 2>&1 || {
	echo "fuzz-restore: the seed dumps failed (see $out/seeds.log)"; tail -n 20 "$out/seeds.log"; exit 1; }
dumps=""
for t in $tests; do dumps="$dumps test/build/zdtm/run/$t/dump-1"; done
limit="--seconds $secs"
[ -n "$runs" ] && limit="--runs $runs --seed $seed"
exec python3 test/fuzz/fuzz_restore.py $limit --out "$out" $dumps

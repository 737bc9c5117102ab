#!/bin/sh
# Run the image fuzzer (test/fuzz/fuzz-images.c) over seed dumps of our own.
#   sh scripts/fuzz.sh FUZZER SECONDS [RUNS SEED]
# The seeds: a --norst zdtm run of a few tests (their dump-1 directories).
# Each seed dump gets an equal share of SECONDS (or RUNS executions with the
# fixed SEED: make test's short pass). The corpus starts from the dump's own
# files (one input per file: its index, then its bytes; the manifest as
# 0xf0 + manifest.img) and grows in test/build/fuzz/corpus-TEST; crashers,
# hangs (-timeout) and leaks go to test/build/fuzz/artifacts. Exit 0 when
# libFuzzer found nothing; the last line sums the executions.
fuzzer=$1
secs=${2:-600}
runs=$3
seed=$4
tests=${FUZZ_TESTS:-"fork_tree pidfd_tree mnt_tmpfs ns_ipc01 sk_tcp_established00 cow_shared seccomp_filter00"}
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/test/build/fuzz
cd "$top" || exit 1
mkdir -p "$out/artifacts"

args=""
for t in $tests; do args="$args -t $t"; done
python3 test/zdtm/zdtm.py run --norst --no-crit --label fuzz-seeds $args >"$out/seeds.log" 2>&1 || {
	echo "fuzz: the seed dumps failed (see $out/seeds.log)"; tail -n 20 "$out/seeds.log"; exit 1; }

n=0
for t in $tests; do n=$((n + 1)); done
share=$((secs / n))
[ $share -ge 1 ] || share=1
total=0
fail=0
for t in $tests; do
	dump=test/build/zdtm/run/$t/dump-1
	corpus=$out/corpus-$t
	mkdir -p "$corpus"
	python3 - "$dump" "$corpus" <<'PY'
import os, sys
dump, corpus = sys.argv[1], sys.argv[2]
names = sorted(n for n in os.listdir(dump) if os.path.isfile(os.path.join(dump, n)) and '.log' not in n)
for i, n in enumerate(names):
    data = open(os.path.join(dump, n), 'rb').read()
    if i < 0x80:
        open(os.path.join(corpus, 'seed-%03d' % i), 'wb').write(bytes([i]) + data)
    if n == 'manifest.img':
        open(os.path.join(corpus, 'seed-manifest'), 'wb').write(b'\xf0' + data)
PY
	if [ -n "$runs" ]; then
		limit="-runs=$runs -seed=$seed"
	else
		limit="-max_total_time=$share"
	fi
	FUZZ_SEED_DIR=$dump ASAN_OPTIONS=detect_leaks=1 "$fuzzer" $limit -timeout=10 -rss_limit_mb=1024 \
		-max_len=65536 -artifact_prefix="$out/artifacts/" "$corpus" >"$out/fuzz-$t.log" 2>&1
	rc=$?
	execs=$(grep -oE '^(#[0-9]+|Done [0-9]+ runs)' "$out/fuzz-$t.log" | tail -n 1 | grep -oE '[0-9]+')
	total=$((total + ${execs:-0}))
	echo "fuzz $t: exit $rc, ${execs:-0} executions"
	if [ $rc != 0 ]; then
		fail=1
		grep -E -A25 'ERROR|runtime error|deadly|timeout' "$out/fuzz-$t.log" | head -n 40
	fi
done
echo "fuzz: $total executions, $(ls "$out/artifacts" | wc -l) artifacts"
exit $fail

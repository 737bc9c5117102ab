#!/bin/sh
# Lazy restore keeps each VMA's flags and data: zdtm tests that compare their
# smaps records (VmFlags) and every word before and after, dumped and restored
# with --lazy-pages (criu lazy-pages from local images). mem_fill_flags has a
# private anonymous VMA written and then made read-only: restored lazily it
# lost `ac` (VM_ACCOUNT) before keep_lazy_accounting() (criu/mem-restore.c).
cd "$(dirname "$0")/../.." || exit 1
[ -x criu/criu ] || { echo "1..0 # SKIP criu/criu is not built"; exit 77; }
n=0
failed=0
for t in mem_fill_flags mem_prot00 mem_madv00 maps00; do
	n=$((n + 1))
	out=$(/usr/bin/python3 test/zdtm/zdtm.py run -t "$t" --lazy-pages 2>&1)
	if echo "$out" | grep -q "^PASS  $t"; then
		echo "ok $n - $t: dumped and restored lazily, its checks pass"
	elif echo "$out" | grep -q "^SKIP  $t"; then
		echo "ok $n - $t # SKIP $(echo "$out" | grep -m1 "^SKIP")"
	else
		echo "not ok $n - $t: dumped and restored lazily"
		echo "$out" | tail -8 | sed 's/^/# /'
		failed=1
	fi
done
echo "1..$n"
exit $failed

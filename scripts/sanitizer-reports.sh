#!/bin/sh
# make test SANITIZE=1's last part: every report ASan or UBSan wrote during the
# run (one file per process, DIR/asan.PID or DIR/ubsan.PID) is a failure.
dir=$1
[ -n "$dir" ] || { echo "usage: $0 DIR"; exit 2; }
n=0
for f in "$dir"/asan.* "$dir"/ubsan.*; do
	[ -e "$f" ] || continue
	n=$((n + 1))
	echo "--- $f"
	head -n 40 "$f"
done
if [ $n -eq 0 ]; then
	echo "sanitizer: 1 passed, 0 failed, 0 skipped"
	exit 0
fi
echo "sanitizer: 0 passed, $n failed, 0 skipped"
exit 1

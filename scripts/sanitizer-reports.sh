#!/bin/sh
# make test SANITIZE=1's last part: any report of ASan or UBSan during the run
# is a failure. ASan writes its reports to files of DIR (log_path: asan.PID);
# UBSan (built together with ASan, gcc 12) prints to stderr whatever its
# log_path says, so the logs the run kept are searched too: the parts' logs
# (test/build/out*) and every criu and test log of the zdtm runs.
dir=$1
shift
[ -n "$dir" ] || { echo "usage: $0 DIR [LOG_DIR...]"; exit 2; }
n=0
for f in "$dir"/asan.* "$dir"/ubsan.*; do
	[ -e "$f" ] || continue
	n=$((n + 1))
	echo "--- $f"
	head -n 40 "$f"
done
pat='runtime error: |ERROR: AddressSanitizer|ERROR: LeakSanitizer|SUMMARY: UndefinedBehaviorSanitizer'
for f in $(grep -rlE "$pat" "$@" 2>/dev/null | grep -v '/sanitizer\.log$'); do
	n=$((n + 1))
	echo "--- $f"
	grep -E -A12 "$pat" "$f" | head -n 30
done
if [ $n -eq 0 ]; then
	echo "sanitizer: 1 passed, 0 failed, 0 skipped"
	exit 0
fi
echo "sanitizer: 0 passed, $n failed, 0 skipped"
exit 1

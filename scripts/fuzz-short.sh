#!/bin/sh
# The short pass of the image fuzzer (make fuzz runs it long): 2000
# executions with a fixed seed over each seed dump (scripts/fuzz.sh). Fails
# on any crash, hang, leak or sanitizer report.
cd "$(dirname "$0")/.." || exit 1
fuzzer=build-fuzz/fuzz-images
[ -x "$fuzzer" ] || { echo "# SKIP: $fuzzer is not built (make fuzz-bin)"; exit 77; }
[ -x criu/criu ] || { echo "# SKIP: criu/criu is not built"; exit 77; }
if sh scripts/fuzz.sh "$fuzzer" 0 ${FUZZ_RUNS:-2000} 1; then
	echo "ok 1 - fuzz-images: no finding"
else
	echo "not ok 1 - fuzz-images: a finding (test/build/fuzz/artifacts)"
	exit 1
fi

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run upstream CRIU's zdtm tests one by one in the h flavour, with upstream's
# own criu or with ours, and record a verdict per test
# (Documentation/upstream-zdtm.md).
#
#   scripts/upstream-zdtm.sh UPSTREAM_TREE OUTDIR [CRIU_BIN] < list
#
# UPSTREAM_TREE: a built CRIU 4.2 tree with its zdtm tests built (make -C
# test/zdtm), a private copy (the runs write into it); list: test names as
# zdtm.py names them (zdtm/static/env00), one a line; CRIU_BIN: the criu
# to test (passed as --criu-bin), default upstream's. OUTDIR gets a log per
# test and `results` ("NAME PASS|FAIL|SKIP|TIMEOUT rc=N" lines, then DONE).
# ZDTM_OPTS: more zdtm.py run options for every test, split on spaces
# (ZDTM_OPTS="--pre 2", "--lazy-pages", "--rpc --pre 2").
# zdtm.py re-executes itself through "#!/usr/bin/env python3": /usr/bin
# comes first in PATH so that it finds the python with python3-protobuf.
set -u
tree=$1
out=$(realpath -m "$2")
bin=${3:-}
mkdir -p "$out"
cd "$tree" || exit 1
export PATH=/usr/bin:$PATH
while read -r t; do
	n=$(echo "$t" | tr / _)
	extra=()
	[ -n "$bin" ] && extra=(--criu-bin "$bin")
	# shellcheck disable=SC2206 # split on purpose
	extra+=(${ZDTM_OPTS:-})
	timeout -k 10 240 /usr/bin/python3 test/zdtm.py run -t "$t" -f h --ignore-taint "${extra[@]}" >"$out/$n.log" 2>&1
	rc=$?
	if grep -q "Test $t PASS" "$out/$n.log"; then
		r=PASS
	elif grep -qi "skip" "$out/$n.log" && ! grep -q "FAIL" "$out/$n.log"; then
		r=SKIP
	else
		r=FAIL
	fi
	[ $rc = 124 ] && r=TIMEOUT
	echo "$t $r rc=$rc" >>"$out/results"
done
echo DONE >>"$out/results"

#!/bin/sh
# Run the unit tests: every program built from test/unit/*.c (in BUILD_DIR,
# default test/build/unit), every test/unit/*.sh except this script, and the
# zdtm runner's self-test (test/zdtm/selftest/run.sh).
#
# A test prints TAP lines ("ok N - ...", "not ok N - ...") and exits 0 (pass),
# 77 (skip) or anything else (fail). Exit 0 with a "not ok" line is a failure
# too. Output of a failed test is shown; V=1 shows every test's output.
# Last line: "unit: N passed, N failed, N skipped"; exit 1 if anything failed.

BUILD_DIR=${1:-test/build/unit}
SRC_DIR=$(dirname "$0")
TIMEOUT=${UNIT_TIMEOUT:-120}

passed=0
failed=0
skipped=0
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT

show() {
	sed 's/^/    | /' "$out"
}

run_one() {
	name=$1
	shift
	timeout "$TIMEOUT" "$@" >"$out" 2>&1
	rc=$?
	oks=$(grep -c '^ok ' "$out")
	noks=$(grep -c '^not ok ' "$out")
	if [ $rc -eq 77 ]; then
		skipped=$((skipped + 1))
		echo "SKIP  unit/$name ($(grep -m1 -i 'skip' "$out" | cut -c1-100))"
		[ -n "$V" ] && show
	elif [ $rc -eq 0 ] && [ "$noks" -eq 0 ]; then
		passed=$((passed + 1))
		echo "PASS  unit/$name ($oks ok)"
		[ -n "$V" ] && show
	else
		failed=$((failed + 1))
		if [ $rc -eq 124 ]; then
			why="timed out after ${TIMEOUT}s"
		elif [ $rc -eq 0 ]; then
			why="exit 0 but $noks 'not ok' lines"
		else
			why="exit $rc, $noks 'not ok' lines"
		fi
		echo "FAIL  unit/$name ($why)"
		show
	fi
}

for src in "$SRC_DIR"/*.c; do
	[ -e "$src" ] || continue
	name=$(basename "$src" .c)
	bin=$BUILD_DIR/$name
	if [ ! -x "$bin" ]; then
		failed=$((failed + 1))
		echo "FAIL  unit/$name (not built: $bin missing)"
		continue
	fi
	run_one "$name" "$bin"
done

for script in "$SRC_DIR"/*.sh; do
	[ -e "$script" ] || continue
	[ "$(basename "$script")" = run-unit.sh ] && continue
	run_one "$(basename "$script")" sh "$script"
done

# the zdtm runner's own self-test (fake criu, deliberately failing tests)
selftest=$SRC_DIR/../zdtm/selftest/run.sh
[ -f "$selftest" ] && run_one zdtm-selftest sh "$selftest"

echo "unit: $passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]

#!/bin/sh
# Self-test of the zdtm runner (test/zdtm/zdtm.py) and library: builds the
# small tests of this directory into a scratch tree with a fake criu, runs
# the runner on them and checks what it reports. TAP output; exit 77 when
# the zdtm library is not built yet.
#
# The fake criu: "check --feature yes" succeeds, other features fail; dump
# writes dump.log, kills the task unless --leave-running (FAKE_DUMP_FAIL=1:
# fails instead; FAKE_DUMP_STOP=1: SIGSTOPs the task, which the before/after
# comparison must notice; FAKE_DUMP_BADIMG=1: writes an image crit can't
# decode; FAKE_DUMP_BADIMG=2: a pstree image that decodes but does not encode
# back to the same bytes, a field given twice); restore always fails with a
# message in its log. The runner gets --no-crit (the fake dumps have no
# images) but in the crit cases, which use our crit (build/py).

SRC=$(cd "$(dirname "$0")" && pwd)
ZDTM=$(dirname "$SRC")
TOP=$(cd "$ZDTM/../.." && pwd)
LIB=${ZDTM_LIB:-$TOP/test/build/zdtm/lib/libzdtm.a}

if [ ! -f "$LIB" ]; then
	echo "# SKIP: $LIB is not built (make zdtm-progs)"
	exit 77
fi

T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
ST=$T/test/zdtm/static
mkdir -p "$ST" "$T/test/build/zdtm/static" "$T/criu"
cp "$ZDTM/zdtm.py" "$ZDTM/crit_check.py" "$T/test/zdtm/"
mkdir -p "$T/test/unit"
cp "$TOP/test/unit/crit-check.sh" "$T/test/unit/"
mkdir -p "$T/criu/include"
cp "$TOP/criu/include/objects.def" "$T/criu/include/"	# crit_check.py's list of images
mkdir -p "$T/build"
ln -s "$TOP/build/py" "$T/build/py"	# our pycriu, for crit_check.py
cp "$SRC"/*.c "$ST/"
for n in crf crf_why feat_no feat_yes baddesc flav_h norst_only tty_nomark; do
	cp "$SRC/good.c" "$ST/$n.c"
done
echo "crfail = 1" > "$ST/crf.desc"
printf 'crfail\ncrfail_log = some other reason\n' > "$ST/crf_why.desc"
echo "{'feature': 'nosuchfeature'}" > "$ST/feat_no.desc"
echo "{'feature': ['yes'], 'timeout': 5}" > "$ST/feat_yes.desc"
echo "crfial = 1" > "$ST/baddesc.desc"
echo "flavor = h" > "$ST/flav_h.desc"
printf '# comment\nnorst\nopts = --foo "a b"\n' > "$ST/norst_only.desc"
echo "tty" > "$ST/tty_good.desc"
echo "tty = 1" > "$ST/tty_nomark.desc"

for c in "$ST"/*.c; do
	n=$(basename "$c" .c)
	if ! gcc -O2 -Wall -D_GNU_SOURCE -I"$ZDTM/lib" -o "$T/test/build/zdtm/static/$n" "$c" "$LIB"; then
		echo "not ok 1 - build $n"
		exit 1
	fi
done

cat > "$T/criu/criu" <<'CRIU'
#!/bin/sh
cmd=$1
shift
echo "fake criu $cmd: $*" >&2
pid= dir= log= lr=
while [ $# -gt 0 ]; do
	case $1 in
	-t) pid=$2; shift ;;
	-D) dir=$2; shift ;;
	-o) log=$2; shift ;;
	--leave-running) lr=1 ;;
	--feature) [ "$2" = yes ]; exit $? ;;
	esac
	shift
done
case $cmd in
dump)
	echo "dumping $pid" > "$dir/$log"
	if [ -n "$FAKE_DUMP_FAIL" ]; then
		echo "Error: fake dump failure" >> "$dir/$log"
		exit 1
	fi
	[ "$FAKE_DUMP_BADIMG" = 1 ] && printf 'not an image' > "$dir/core-$pid.img"
	# IMG_COMMON, PSTREE magics, then a 10-byte pstree_entry whose pid is given twice
	[ "$FAKE_DUMP_BADIMG" = 2 ] &&
		printf '\031\103\126\124\060\060\047\120\012\000\000\000\010\005\010\005\020\001\030\005\040\005' \
			> "$dir/pstree.img"
	[ -n "$FAKE_DUMP_STOP" ] && kill -STOP "$pid"
	if [ -z "$lr" ]; then
		kill -KILL "$pid"
		# as criu does: return once the killed task is a zombie or gone
		while kill -0 "$pid" 2>/dev/null && [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" != Z ]; do
			sleep 0.01
		done
	fi
	exit 0 ;;
restore)
	echo "Error: fake restore is not implemented" > "$dir/$log"
	exit 1 ;;
esac
exit 2
CRIU
chmod +x "$T/criu/criu"

n=0
failed=0
ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
not_ok() {
	n=$((n + 1))
	echo "not ok $n - $1"
	failed=1
}
# expect WHAT OUTFILE REGEX: the runner's output matches REGEX
expect() {
	if grep -qE -- "$3" "$2"; then
		ok "$1"
	else
		not_ok "$1"
		sed 's/^/# /' "$2"
	fi
}
expect_rc() {
	if [ "$(cat "$2.rc")" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1 (exit $(cat "$2.rc"), expected $3)"
	fi
}
run() {
	out=$T/out.$1
	shift
	python3 "$T/test/zdtm/zdtm.py" run ${CRIT:---no-crit} "$@" > "$out" 2>&1
	echo $? > "$out.rc"
}

# 1. without criu: the tests' own behaviour
run nocr --nocr --timeout 2 -v
o=$T/out.nocr
if grep -q "cannot make a pid namespace" "$o"; then
	ok "# SKIP no pid namespace here"
else
	expect "runs as pid 1 of a new pid namespace" "$o" "flavor ns \(runner is pid 1 in a new pid namespace\)"
	expect "the first test is pid 3, its launcher pid 2" "$o" "test started, pid 3 \(launcher 2, runner 1\)"
fi
expect "passing test: PASS" "$o" "^PASS  good \("
expect "failing check: FAIL with the message" "$o" "^FAIL  bad_check: FAIL: .*bad_check.c:[0-9]+: x is 1, expected 2"
expect "failing check: the verdict file is shown" "$o" "--- test/build/zdtm/run/bad_check/bad_check.out"
expect "crash: FAIL, no verdict, signal named" "$o" "^FAIL  crash: no verdict \(killed by signal 11\)"
expect "failure before ready: start failed" "$o" "^FAIL  early_exit: start failed \(launcher exited 1\)"
expect "failure before ready: the test's reason is shown" "$o" "setup failed \(errno 2: No such file or directory\)"
expect "failure before ready: the exit code is recorded" "$o" "FAIL: test exited 3 before test_daemon\(\)"
expect "never ready: timeout" "$o" "^FAIL  never_ready: not ready after 2s"
expect "no exit after SIGTERM: timeout" "$o" "^FAIL  hang: no exit 2s after SIGTERM"
expect "leftover child: killed and reported" "$o" "note: killed leftover processes \[[0-9]+\]"
expect "PASS with exit 1: FAIL" "$o" "^FAIL  pass_exit1: verdict PASS but the test exited 1"
expect "unknown .desc key: FAIL" "$o" "^FAIL  baddesc: bad .desc: .*unknown key 'crfial'"
expect "flavor not allowed: SKIP" "$o" "^SKIP  flav_h: flavor ns not in \['h'\]"
expect "tty test: the runner's pty is fds 0-2, the test its foreground job, the mark arrives: PASS" "$o" "^PASS  tty_good \("
expect "tty test without the mark line: FAIL" "$o" "^FAIL  tty_nomark: 'zdtm-tty-mark [0-9a-f-]+', written to fd 1 at the end, did not reach the pty master"
expect "summary line" "$o" "^zdtm: 8 passed, 8 failed, 1 skipped$"
expect_rc "exit 1 when a test failed" "$o" 1

# 2. with the fake criu
run cr -t good,crf,crf_why,feat_no,feat_yes,norst_only --timeout 3
o=$T/out.cr
expect "restore failure: FAIL" "$o" "^FAIL  good: restore failed \(exit 1\)"
expect "restore failure: log tail shown" "$o" "\| Error: fake restore is not implemented"
expect "crfail but the dump worked: FAIL" "$o" "^FAIL  crf: dump succeeded, but the test is crfail"
expect "feature missing: SKIP" "$o" "^SKIP  feat_no: feature nosuchfeature not supported"
expect "feature present: runs" "$o" "^FAIL  feat_yes: restore failed"
expect "norst in .desc: dump --leave-running with the extra options, PASS" "$o" "^PASS  norst_only"
if grep -q -- "--leave-running --foo a b" "$T/test/build/zdtm/run/norst_only/dump-1/dump.out"; then
	ok "norst in .desc: criu got --leave-running and the .desc options"
else
	not_ok "norst in .desc: criu got --leave-running and the .desc options"
fi

FAKE_DUMP_FAIL=1 run crfail -t good,crf,crf_why
o=$T/out.crfail
expect "dump failure: FAIL with the log tail" "$o" "^FAIL  good: dump failed \(exit 1\)"
expect "crfail: a failed dump leaves the task alive: PASS" "$o" "^PASS  crf \("
expect "crfail_log: a dump failing for another reason: FAIL" "$o" "^FAIL  crf_why: dump failed, but dump.log does not match"

run tty -t tty_good --timeout 3
expect "tty test: dump and restore get --shell-job" "$T/out.tty" "^FAIL  tty_good: restore failed"
if grep -q -- "--shell-job" "$T/test/build/zdtm/run/tty_good/dump-1/dump.out" &&
   grep -q "fake criu restore: .*--shell-job" "$T/test/build/zdtm/run/tty_good/tty_good.log"; then
	ok "tty test: criu dump got --shell-job, criu restore too and printed on the pty"
else
	not_ok "tty test: criu dump got --shell-job, criu restore too and printed on the pty"
fi

if [ -d "$TOP/build/py/pycriu" ]; then
	FAKE_DUMP_BADIMG=1 CRIT=--timeout=3 run crit -t good --norst
	expect "crit check: an image crit rejects: FAIL" "$T/out.crit" "^FAIL  good: crit rejects dump-1: crit decode\|encode core-[0-9]+.img: unknown magic"
	expect_rc "crit check: exit 1" "$T/out.crit" 1
	FAKE_DUMP_BADIMG=2 CRIT=--timeout=3 run crit2 -t good --norst
	expect "crit check: an image that does not encode back: FAIL" "$T/out.crit2" \
		"^FAIL  good: crit rejects dump-1: crit decode\|encode pstree.img: crit decode \| crit encode does not give the image back"
else
	not_ok "crit check: build/py/pycriu is not built (make pycriu)"
fi

# 3. --norst --iters
run iters -t good --norst --iters 3
o=$T/out.iters
expect "--norst --iters 3: PASS" "$o" "^PASS  good"
if [ -d "$T/test/build/zdtm/run/good/dump-3" ] && [ ! -d "$T/test/build/zdtm/run/good/dump-4" ]; then
	ok "--iters 3: three dumps"
else
	not_ok "--iters 3: three dumps"
fi
expect_rc "exit 0 when everything passed" "$o" 0

# 4. the before/after comparison notices a task left stopped by the dump
FAKE_DUMP_STOP=1 run stop -t good --norst --timeout 3
o=$T/out.stop
expect "a stopped task after dump --leave-running: FAIL" "$o" "^FAIL  good: the tree differs after dump --leave-running"
expect "the difference is named" "$o" "state T"
FAKE_DUMP_STOP=1 run stopnc -t good --norst --timeout 3 --no-compare
expect "--no-compare: the SIGTERM still finds it stopped: FAIL" "$T/out.stopnc" "^FAIL  good: no exit 3s after SIGTERM"

# 5. host flavor
run host -t good,flav_h --nocr --flavor h
o=$T/out.host
expect "host flavor: runs" "$o" "flavor h \(host pid namespace, runner pid [0-9]+\)"
expect "host flavor: flavor=h test runs" "$o" "^PASS  flav_h"

# 6. usage errors
run unknown -t nosuchtest --nocr
expect "unknown test: error" "$T/out.unknown" "unknown test 'nosuchtest'"
expect_rc "unknown test: exit 1" "$T/out.unknown" 1

echo "1..$n"
exit $failed

#!/bin/sh
# criu run by a user other than root (criu/privs.c): dump and restore stop
# at once with an error that says root is needed; with --unprivileged but
# without CAP_SYS_PTRACE and CAP_CHECKPOINT_RESTORE the error names each
# missing capability. Nothing is created in either case. (setpriv drops to
# uid/gid 65534 with no capabilities.)
cd "$(dirname "$0")/../.." || exit 1
[ -x criu/criu ] || { echo "# SKIP: criu/criu is not built"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "# SKIP: needs root to drop to another uid"; exit 77; }
command -v setpriv >/dev/null || { echo "# SKIP: no setpriv"; exit 77; }

criu=$PWD/criu/criu
tmp=$(mktemp -d) || exit 1
chmod 755 "$tmp"
chown 65534:65534 "$tmp"
sleep 1000 &
victim=$!
trap 'kill $victim 2>/dev/null; rm -rf "$tmp"' EXIT
n=0
fail=0

as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all "$@"
}

check() {	# name, expected exit, stderr text..., -- command
	name=$1 want=$2
	shift 2
	texts=""
	while [ "$1" != "--" ]; do texts="$texts
$1"; shift; done
	shift
	n=$((n + 1))
	"$@" >"$tmp/out" 2>&1
	rc=$?
	ok=1
	[ $rc = "$want" ] || ok=0
	echo "$texts" | while IFS= read -r t; do
		[ -z "$t" ] || grep -qF -- "$t" "$tmp/out" || exit 1
	done || ok=0
	[ -e "$tmp/img" ] && ok=0
	if [ $ok = 1 ]; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name (exit $rc)"
		sed 's/^/# /' "$tmp/out"
		ls -la "$tmp" | sed 's/^/# /'
		fail=1
	fi
}

check "dump as uid 65534: needs root" 1 "criu: dump needs root (criu runs as uid 65534)" "--unprivileged" -- \
	as_nobody "$criu" dump -t $victim -D "$tmp/img" -o dump.log
check "restore as uid 65534: needs root" 1 "criu: restore needs root (criu runs as uid 65534)" -- \
	as_nobody "$criu" restore -D "$tmp/img" -o restore.log
check "dump --unprivileged without the capabilities names both" 1 \
	"needs CAP_SYS_PTRACE" "needs CAP_CHECKPOINT_RESTORE" -- \
	as_nobody "$criu" dump --unprivileged -t $victim -D "$tmp/img" -o dump.log
check "restore --unprivileged without the capabilities names both" 1 \
	"needs CAP_SYS_PTRACE" "needs CAP_CHECKPOINT_RESTORE" -- \
	as_nobody "$criu" restore --unprivileged -D "$tmp/img" -o restore.log
kill -0 $victim 2>/dev/null || { echo "not ok - the target died"; fail=1; }
exit $fail

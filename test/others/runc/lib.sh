# Shared by test/unit/runc*.sh: a busybox bundle running our static pidcount
# (test/others/runc/pidcount.c) with runc's default config.json, its stdout and
# stderr on a pipe (read by cat into a file), and runc driving our criu.
# Sourced with $top (the source tree) set; defines $tmp, $name and helpers.

rt_skip() {
	echo "1..0 # SKIP $1"
	exit 77
}

rt_require() {
	[ -x "$top/criu/criu" ] || rt_skip "criu/criu is not built"
	command -v runc >/dev/null 2>&1 || rt_skip "runc is not installed (scripts/install-deps.sh)"
	bb=$(command -v busybox) || rt_skip "busybox is not installed (busybox-static)"
	case $(file -b "$bb" 2>/dev/null) in *dynamically*) rt_skip "busybox is not static (busybox-static)" ;; esac
	[ "$(id -u)" = 0 ] || rt_skip "runc needs root"
}

n=0
failed=0
check() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi
}

rt_init() {
	tmp=$(mktemp -d) || exit 1
	name="criu-runc-$$"
	readers=""
	trap rt_cleanup EXIT
}

rt_cleanup() {
	runc delete -f "$name" >/dev/null 2>&1
	for p in $readers; do kill "$p" 2>/dev/null; done
	rm -rf "$tmp"
}

# rt_bundle: rootfs with busybox and pidcount, `runc spec`, then only what is
# needed: args (our program, not sh) and terminal false (stdio on pipes).
# $1 (optional): a python snippet editing the config `c` further.
rt_bundle() {
	mkdir -p "$tmp/bundle/rootfs/bin" || return 1
	cp "$bb" "$tmp/bundle/rootfs/bin/busybox" && ln -s busybox "$tmp/bundle/rootfs/bin/sh" &&
		ln -s busybox "$tmp/bundle/rootfs/bin/cat" || return 1
	gcc -static -O2 -Wall -o "$tmp/bundle/rootfs/pidcount" "$top/test/others/runc/pidcount.c" || return 1
	(cd "$tmp/bundle" && runc spec) || return 1
	python3 - "$tmp/bundle/config.json" "${1:-}" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = ["/pidcount"]
exec(sys.argv[2])
json.dump(c, open(p, "w"), indent=1)
PY
}

# rt_piped TAG CMD...: run CMD (stdin /dev/null) with stdout and stderr on an
# anonymous pipe read by cat into $tmp/TAG.out; CMD's exit code is its result.
rt_piped() {
	tag=$1
	shift
	rm -f "$tmp/$tag.rc"
	( ("$@" </dev/null 2>&1; echo $? >"$tmp/$tag.rc") | cat >"$tmp/$tag.out") &
	readers="$readers $!"
	i=0
	while [ ! -s "$tmp/$tag.rc" ] && [ $i -lt 1200 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ "$(cat "$tmp/$tag.rc" 2>/dev/null)" = 0 ]
}

# the last counter the program printed in $tmp/TAG.out (0: none)
rt_last() {
	awk '{ sub(/\r$/, "") } $2 == "ok" && $1 ~ /^[0-9]+$/ { n = $1 } END { print n + 0 }' "$tmp/$1.out"
}

# rt_wait_count TAG MIN: wait until the program printed a counter above MIN (no FAIL line)
rt_wait_count() {
	i=0
	while [ $i -lt 600 ]; do
		grep -q FAIL "$tmp/$1.out" && return 1
		[ "$(rt_last "$1")" -gt "$2" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# rt_wait_line TAG TEXT
rt_wait_line() {
	i=0
	while [ $i -lt 600 ]; do
		grep -q FAIL "$tmp/$1.out" && return 1
		grep -q "$2" "$tmp/$1.out" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

rt_run() {
	(cd "$tmp/bundle" && rt_piped "$1" runc run -d "$name")
}

# rt_checkpoint IMG [runc checkpoint options]
rt_checkpoint() {
	img=$1
	shift
	runc --criu "$top/criu/criu" checkpoint --image-path "$tmp/$img" --work-path "$tmp/$img.work" "$@" \
		"$name" >"$tmp/$img.runc" 2>&1 && return 0
	rt_show "$tmp/$img.runc" "$tmp/$img.work/dump.log"
	return 1
}

# rt_restore IMG TAG: restore -d from IMG, stdout/stderr on a new pipe read into TAG.out
rt_restore() {
	rm -rf "$tmp/$1.rwork"
	(cd "$tmp/bundle" && rt_piped "$2" runc --criu "$top/criu/criu" restore -d --image-path "$tmp/$1" \
		--work-path "$tmp/$1.rwork" "$name") && return 0
	rt_show "$tmp/$2.out" "$tmp/$1.rwork/restore.log"
	return 1
}

rt_show() {
	for f in "$@"; do
		[ -f "$f" ] && grep -E "Error|error|FAIL|not supported" "$f" | head -10 | sed "s|^|# $(basename "$f"): |"
	done
}

rt_state() {
	runc state "$name" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])' 2>/dev/null
}

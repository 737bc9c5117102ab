#!/bin/sh
# runtimes.sh: Debian's runc and podman drive our criu over RPC and get past
# their CRIU version checks (runc: "CRIU version check failed", podman:
# "requires at least CRIU 31100" before they had an answer). Containers are
# not restorable yet, so the checkpoint itself must then fail with criu's
# one-line refusal naming what it lacks, and the container must keep running.
# Skips (exit 77) when runc or podman is not installed (scripts/install-deps.sh
# does not install them: make test does not need them).
cd "$(dirname "$0")/../.." || exit 1
top=$(pwd)
[ -x criu/criu ] || { echo "1..0 # SKIP criu/criu is not built"; exit 77; }
command -v runc >/dev/null 2>&1 || { echo "1..0 # SKIP runc is not installed"; exit 77; }
bb=$(command -v busybox) || { echo "1..0 # SKIP busybox is not installed"; exit 77; }
case $(file -b "$bb" 2>/dev/null) in *dynamically*) echo "1..0 # SKIP busybox is not static"; exit 77 ;; esac

n=0
failed=0
check() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi
}

tmp=$(mktemp -d) || exit 1
name="criu-rt-$$"
cleanup() {
	runc delete -f "$name" >/dev/null 2>&1
	[ -n "$have_podman" ] && podman rm -f "$name" >/dev/null 2>&1
	[ -n "$have_podman" ] && podman rmi -f "localhost/$name" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT

# a bundle: busybox in a rootfs, runc's default config running a sleep loop
mkdir -p "$tmp/bundle/rootfs/bin"
cp "$bb" "$tmp/bundle/rootfs/bin/busybox"
ln -s busybox "$tmp/bundle/rootfs/bin/sh"
ln -s busybox "$tmp/bundle/rootfs/bin/sleep"
(cd "$tmp/bundle" && runc spec) || { echo "not ok 1 - runc spec"; exit 1; }
python3 - "$tmp/bundle/config.json" <<'EOF'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/sh", "-c", "while true; do sleep 1; done"]
json.dump(c, open(p, "w"))
EOF
(cd "$tmp/bundle" && runc run -d "$name" </dev/null >/dev/null 2>&1)
check $? "runc runs a busybox container"
runc --criu "$top/criu/criu" checkpoint --image-path "$tmp/img" --work-path "$tmp/work" "$name" >"$tmp/runc.out" 2>&1
rc=$?
! grep -qi "version check" "$tmp/runc.out"
check $? "runc gets past its CRIU version check"
[ $rc -ne 0 ] && grep -q "not supported by this criu" "$tmp/work/dump.log" 2>/dev/null
check $? "the checkpoint fails with criu's refusal naming what it lacks"
[ "$(runc state "$name" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')" = running ]
check $? "the container still runs"
[ $failed = 0 ] || sed 's/^/# /' "$tmp/runc.out" "$tmp/work/dump.log" 2>/dev/null | head -20
runc delete -f "$name" >/dev/null 2>&1

if command -v podman >/dev/null 2>&1; then
	have_podman=1
	# podman as set up here: runc, cgroupfs, a file events logger, ulimits within the hard limit
	nofile=$(ulimit -Hn)
	cat >"$tmp/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
EOF
	export CONTAINERS_CONF="$tmp/containers.conf"
	tar -C "$tmp/bundle/rootfs" -cf "$tmp/rootfs.tar" .
	podman import "$tmp/rootfs.tar" "localhost/$name" >/dev/null 2>&1 &&
		podman run -d --name "$name" "localhost/$name" /bin/sh -c 'while true; do sleep 1; done' >/dev/null 2>&1
	check $? "podman runs a busybox container"
	PATH="$top/criu:$PATH" podman container checkpoint "$name" >"$tmp/podman.out" 2>&1
	rc=$?
	! grep -q "requires at least CRIU" "$tmp/podman.out"
	check $? "podman gets past its CRIU version check"
	[ $rc -ne 0 ] && grep -q "errno 95" "$tmp/podman.out"
	check $? "the checkpoint fails with criu's refusal (EOPNOTSUPP)"
	[ "$(podman inspect -f '{{.State.Status}}' "$name" 2>/dev/null)" = running ]
	check $? "the container still runs"
	[ $failed = 0 ] || sed 's/^/# /' "$tmp/podman.out" | head -20
else
	echo "# podman is not installed: its part is skipped"
fi
echo "1..$n"
exit $failed

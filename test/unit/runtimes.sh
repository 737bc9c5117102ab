#!/bin/sh
# runtimes.sh: podman drives our criu over RPC and gets past its CRIU version
# check ("requires at least CRIU 31100" before it had an answer), checkpoints
# a busybox container that counts in a file (the container exits) and
# restores it: it runs again and counts on from where it was. runc's
# checkpoint and restore are test/unit/runc.sh. Skips (exit 77) when podman
# is not installed (scripts/install-deps.sh does not install it).
cd "$(dirname "$0")/../.." || exit 1
top=$(pwd)
[ -x criu/criu ] || { echo "1..0 # SKIP criu/criu is not built"; exit 77; }
command -v runc >/dev/null 2>&1 || { echo "1..0 # SKIP runc is not installed"; exit 77; }
command -v podman >/dev/null 2>&1 || { echo "1..0 # SKIP podman is not installed"; exit 77; }
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

# the bundle podman imports: busybox in a rootfs (runc's part is test/unit/runc.sh)
mkdir -p "$tmp/bundle/rootfs/bin"
cp "$bb" "$tmp/bundle/rootfs/bin/busybox"
ln -s busybox "$tmp/bundle/rootfs/bin/sh"
ln -s busybox "$tmp/bundle/rootfs/bin/sleep"

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
		podman run -d --name "$name" "localhost/$name" /bin/sh -c \
			'i=0; while true; do i=$((i + 1)); echo $i >/count; sleep 1; done' >/dev/null 2>&1
	check $? "podman runs a busybox container"
	count() { podman exec "$name" busybox cat /count 2>/dev/null || echo 0; }
	for _ in 1 2 3 4 5 6 7 8 9 10; do [ "$(count)" -ge 3 ] && break; sleep 1; done
	PATH="$top/criu:$PATH" podman container checkpoint "$name" >"$tmp/podman.out" 2>&1
	rc=$?
	! grep -q "requires at least CRIU" "$tmp/podman.out"
	check $? "podman gets past its CRIU version check"
	[ $rc -eq 0 ] && [ "$(podman inspect -f '{{.State.Status}}' "$name" 2>/dev/null)" = exited ]
	check $? "podman checkpoints the container (it exits)"
	PATH="$top/criu:$PATH" podman container restore "$name" >>"$tmp/podman.out" 2>&1 &&
		[ "$(podman inspect -f '{{.State.Status}}' "$name" 2>/dev/null)" = running ]
	check $? "podman restores it: it runs again"
	# it counts on from where it was (a container started again would count from 1)
	first=$(count)
	sleep 2
	[ "$first" -ge 3 ] && [ "$(count)" -gt "$first" ]
	check $? "the restored container counts on from where it was (${first:-?}, then on)"
	[ $failed = 0 ] || sed 's/^/# /' "$tmp/podman.out" | head -20
else
	echo "# podman is not installed: its part is skipped"
fi
echo "1..$n"
exit $failed

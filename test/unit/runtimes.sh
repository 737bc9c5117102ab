#!/bin/sh
# runtimes.sh: podman (Debian's 4.3, runc as its runtime) checkpoints and
# restores a container through our criu (found first on PATH), end to end. The
# container: an image made with `podman import` from a busybox rootfs plus our
# static test/others/runc/pidcount (it holds pidfds to its child and to itself
# and counts); podman set up by a containers.conf named by CONTAINERS_CONF
# (cgroupfs, the file events logger, default_ulimits within the hard nofile
# limit). Checked: `podman container checkpoint` and `restore` (the counter
# goes on, never from 1 again; with --print-stats, which reads criu's
# stats-dump and stats-restore), then `checkpoint --export` of the restored
# container, `podman rm`, `restore --import` from the archive, and the pidfds
# still name the same processes (the child is killed and waited for through
# its pidfd). Then a container with a terminal (`podman run -t`): checkpoint,
# restore, it counts on. runc alone is test/unit/runc.sh.
cd "$(dirname "$0")/../.." || exit 1
top=$(pwd)
. "$top/test/others/runc/lib.sh"
rt_require
command -v podman >/dev/null 2>&1 || rt_skip "podman is not installed (scripts/install-deps.sh)"

tmp=$(mktemp -d) || exit 1
name="criu-podman-$$"
image="localhost/criu-podman-$$"
cleanup() {
	podman rm -f "$name" >/dev/null 2>&1
	podman rmi -f "$image" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT

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
PATH="$top/criu:$PATH"
export PATH

# the last counter in the container's log (a terminal's lines end in \r); how many times it printed "1 ok"
last() { podman logs "$name" 2>/dev/null | awk '{ sub(/\r$/, "") } $2 == "ok" && $1 ~ /^[0-9]+$/ { n = $1 } END { print n + 0 }'; }
starts() { podman logs "$name" 2>/dev/null | grep -c '^1 ok'; }
wait_above() {
	i=0
	while [ $i -lt 100 ]; do
		podman logs "$name" 2>/dev/null | grep -q FAIL && return 1
		[ "$(last)" -gt "$1" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
state() { podman inspect -f '{{.State.Status}}' "$name" 2>/dev/null; }
# killed_child: SIGUSR1, then the program says it killed its child through its pidfd
killed_child() {
	podman kill --signal USR1 "$name" >/dev/null 2>&1 || return 1
	i=0
	while [ $i -lt 100 ]; do
		podman logs "$name" 2>/dev/null | grep -q "child killed through its pidfd ok" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
show() {
	sed 's/^/# /' "$1" | tail -5
	f=$(podman inspect -f '{{.StaticDir}}' "$name" 2>/dev/null)
	for l in "$f/dump.log" "$f/restore.log"; do
		[ -f "$l" ] && grep -E "Error" "$l" | head -5 | sed "s|^|# $(basename "$l"): |"
	done
}

mkdir -p "$tmp/rootfs/bin" && cp "$bb" "$tmp/rootfs/bin/busybox" && ln -s busybox "$tmp/rootfs/bin/sh" &&
	gcc -static -O2 -Wall -o "$tmp/rootfs/pidcount" "$top/test/others/runc/pidcount.c" &&
	tar -C "$tmp/rootfs" -cf "$tmp/rootfs.tar" . || { echo "not ok 1 - the rootfs (busybox, gcc -static pidcount)"; exit 1; }
# podman itself must work here before criu is involved: else say why and skip
podman import "$tmp/rootfs.tar" "$image" >"$tmp/import.out" 2>&1 ||
	rt_skip "podman import fails here: $(grep -m1 -i error "$tmp/import.out" | cut -c1-200)"
podman run -d --name "$name" "$image" /pidcount >"$tmp/run.out" 2>&1 ||
	rt_skip "podman can't run a container here: $(grep -m1 -i error "$tmp/run.out" | cut -c1-200)"
wait_above 2
check $? "podman import of the rootfs, podman run -d: the container counts"

before=$(last)
podman container checkpoint --print-stats "$name" >"$tmp/cp.out" 2>&1
rc=$?
[ $rc = 0 ] || show "$tmp/cp.out"
check $rc "podman container checkpoint --print-stats through our criu"
grep -q '"freezing_time"' "$tmp/cp.out" && grep -q '"frozen_time"' "$tmp/cp.out"
check $? "podman prints criu's dump statistics (stats-dump)"
[ "$(state)" = exited ]
check $? "the container is stopped after the checkpoint"
podman container restore --print-stats "$name" >"$tmp/rst.out" 2>&1
rc=$?
[ $rc = 0 ] || show "$tmp/rst.out"
check $rc "podman container restore --print-stats through our criu"
grep -q '"forking_time"' "$tmp/rst.out" && grep -q '"restore_time"' "$tmp/rst.out"
check $? "podman prints criu's restore statistics (stats-restore)"
[ $rc = 0 ] && [ "$(state)" = running ] && wait_above "$before" && [ "$(starts)" = 1 ]
check $? "the restored container counts on above $before, never from 1 again"

before=$(last)
podman container checkpoint --export "$tmp/cp.tar.gz" "$name" >"$tmp/export.out" 2>&1 && [ -s "$tmp/cp.tar.gz" ]
rc=$?
[ $rc = 0 ] || show "$tmp/export.out"
check $rc "podman container checkpoint --export to an archive"
podman rm -f "$name" >/dev/null 2>&1 && podman container restore --import "$tmp/cp.tar.gz" >"$tmp/import-rst.out" 2>&1
rc=$?
[ $rc = 0 ] || show "$tmp/import-rst.out"
check $rc "podman rm, then podman container restore --import from the archive"
[ $rc = 0 ] && [ "$(state)" = running ] && wait_above "$before"
check $? "the imported container counts on above $before"
killed_child
check $? "its child pidfd still names its child: killed and waited for through it"
podman logs "$name" 2>/dev/null | grep FAIL | sed 's/^/# /'
podman rm -f "$name" >/dev/null 2>&1

# with a terminal (podman run -t: conmon holds the pty master; criu hands the new one to runc, runc to conmon)
podman run -dt --name "$name" "$image" /pidcount >"$tmp/run-tty.out" 2>&1 && wait_above 2
rc=$?
[ $rc = 0 ] || show "$tmp/run-tty.out"
check $rc "podman run -dt: the container with a terminal counts"
before=$(last)
podman container checkpoint "$name" >"$tmp/cp-tty.out" 2>&1 && [ "$(state)" = exited ]
rc=$?
[ $rc = 0 ] || show "$tmp/cp-tty.out"
check $rc "podman container checkpoint of the container with a terminal"
podman container restore "$name" >"$tmp/rst-tty.out" 2>&1
rc=$?
[ $rc = 0 ] || show "$tmp/rst-tty.out"
check $rc "podman container restore of the container with a terminal"
[ $rc = 0 ] && [ "$(state)" = running ] && wait_above "$before" && [ "$(starts)" = 1 ] && killed_child
check $? "it counts on above $before on its new terminal, its child pidfd still names its child"
podman logs "$name" 2>/dev/null | grep FAIL | sed 's/^/# /'
echo "1..$n"
exit $failed

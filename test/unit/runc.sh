#!/bin/sh
# runc.sh: Debian's runc checkpoints and restores a container through our
# criu, end to end (issue 14). The container: runc's default config.json
# (pid, network, ipc, uts, mount namespaces, its masked and read-only paths,
# a read-only root) with only args (our static test/others/runc/pidcount,
# which holds pidfds to a child and to itself and counts) and terminal false
# (stdio on pipes) changed. Checked: `checkpoint --leave-running` (the
# container keeps counting), `checkpoint`, `restore -d` (it counts on from
# where it was, the pidfds still name its child and itself: it kills the
# child through its pidfd and waits for it through the same pidfd), and two
# restores from the same images, the second after the first is gone.
cd "$(dirname "$0")/../.." || exit 1
top=$(pwd)
. "$top/test/others/runc/lib.sh"
rt_require
rt_init

rt_bundle || { echo "not ok 1 - the bundle (busybox, gcc -static pidcount, runc spec)"; exit 1; }
rt_run out1
check $? "runc run -d: the container runs"
rt_wait_count out1 3
check $? "it counts and its pidfds name its child and itself"

rt_checkpoint img-lr --leave-running
check $? "runc checkpoint --leave-running"
[ "$(rt_state)" = running ] && rt_wait_count out1 "$(rt_last out1)"
check $? "the container still runs and counts after the --leave-running dump"
before_lr=$(rt_last out1)

before=$(rt_last out1)
rt_checkpoint img
check $? "runc checkpoint"
[ -z "$(rt_state)" ]
check $? "the container is gone after the checkpoint"

# restore: counts on from where it was, pidfds intact
restore_and_check() {
	img=$1 tag=$2 min=$3 what=$4
	rt_restore "$img" "$tag"
	check $? "runc restore -d ($what)"
	[ "$(rt_state)" = running ] && rt_wait_count "$tag" "$min" &&
		! awk '$2 == "ok" { if ($1 <= 1) bad = 1 } END { exit !bad }' "$tmp/$tag.out"
	check $? "the restored program counts on above $min, not from 1 ($what)"
	runc kill "$name" USR1 && rt_wait_line "$tag" "child killed through its pidfd ok"
	check $? "its child pidfd still names its child: killed and waited for through it ($what)"
	grep -q FAIL "$tmp/$tag.out" && sed 's/^/# /' "$tmp/$tag.out" | grep FAIL
	runc delete -f "$name" >/dev/null 2>&1
}
restore_and_check img out2 "$before" "after checkpoint"
restore_and_check img-lr out3 "$before_lr" "from the --leave-running images"
restore_and_check img-lr out4 "$before_lr" "the same images again, after the first restore is gone"

echo "1..$n"
exit $failed

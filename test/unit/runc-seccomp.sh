#!/bin/sh
# runc-seccomp.sh: a runc container with a seccomp profile (a reduced one of
# our own, in the style of Docker's default: a deny list answering ENOSYS or
# EPERM, plus getpriority() failing with EMULTIHOP, which our pidcount checks
# every step) is checkpointed and restored through our criu; the restored
# program still sees its filter (getpriority fails with EMULTIHOP) and its
# pidfds still name its child and itself.
cd "$(dirname "$0")/../.." || exit 1
top=$(pwd)
. "$top/test/others/runc/lib.sh"
rt_require
rt_init

rt_bundle '
c["process"]["env"].append("PIDCOUNT_SECCOMP=72")
c["linux"]["seccomp"] = {
	"defaultAction": "SCMP_ACT_ALLOW",
	"architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
	"syscalls": [
		{"names": ["getpriority"], "action": "SCMP_ACT_ERRNO", "errnoRet": 72},
		{"names": ["kexec_load", "kexec_file_load", "reboot", "swapon", "swapoff", "acct",
			   "init_module", "finit_module", "delete_module", "iopl", "ioperm",
			   "open_by_handle_at", "userfaultfd", "perf_event_open", "bpf"],
		 "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
		{"names": ["add_key", "keyctl", "request_key"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
	],
}
' || { echo "not ok 1 - the bundle (busybox, gcc -static pidcount, runc spec, seccomp)"; exit 1; }
rt_run out1
check $? "runc run -d: the container with a seccomp profile runs"
rt_wait_count out1 3 && pid=$(runc state "$name" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])') &&
	grep -q "^Seccomp:[[:space:]]*2" "/proc/$pid/status"
check $? "it counts, in seccomp filter mode, getpriority fails with EMULTIHOP"
before=$(rt_last out1)
rt_checkpoint img
check $? "runc checkpoint"
rt_restore img out2
check $? "runc restore -d"
rt_wait_count out2 "$before" && pid=$(runc state "$name" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])') &&
	grep -q "^Seccomp:[[:space:]]*2" "/proc/$pid/status"
check $? "the restored program counts on above $before with its filter (getpriority still fails with EMULTIHOP)"
runc kill "$name" USR1 && rt_wait_line out2 "child killed through its pidfd ok"
check $? "its child pidfd still names its child"
grep FAIL "$tmp/out1.out" "$tmp/out2.out" | sed 's/^/# /'
echo "1..$n"
exit $failed

#!/bin/sh
# A lock whose owner is gone and whose pid a task of the tree took since is not
# the task's (test/others/lock_pid_reuse.py). In the pid namespace it is run
# in: only the initial one shows a gone owner's pid in /proc/locks (else SKIP).
cd "$(dirname "$0")/../.." || exit 1
[ -x criu/criu ] || { echo "# SKIP: criu/criu is not built"; exit 77; }
exec /usr/bin/python3 test/others/lock_pid_reuse.py

#!/bin/sh
# cgroups at restore, end to end: the --manage-cgroups modes and the failures
# (test/others/restore_cgroup.py), as pid 1 of a fresh pid namespace.
cd "$(dirname "$0")/../.." || exit 1
[ -x criu/criu ] || { echo "# SKIP: criu/criu is not built"; exit 77; }
exec unshare --pid --fork --mount-proc /usr/bin/python3 test/others/restore_cgroup.py

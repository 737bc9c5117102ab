#!/bin/sh
# Trees with their own mount namespace, end to end (test/others/restore_mntns.py),
# run as pid 1 of a fresh pid namespace so that orphans are reaped at once.
cd "$(dirname "$0")/../.." || exit 1
[ -x criu/criu ] || { echo "# SKIP: criu/criu is not built"; exit 77; }
exec unshare --pid --fork --mount-proc /usr/bin/python3 test/others/restore_mntns.py

#!/bin/sh
# A fault injected at every step of dump and restore (test/others/faults.py),
# run as pid 1 of a fresh pid namespace so that orphans are reaped at once.
cd "$(dirname "$0")/../.." || exit 1
[ -x criu/criu ] || { echo "# SKIP: criu/criu is not built"; exit 77; }
exec unshare --pid --fork --mount-proc /usr/bin/python3 test/others/faults.py "$@"

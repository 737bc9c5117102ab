#!/bin/sh
# Load: dump/restore cycles of one tree and several trees at once
# (test/others/cycles.py; CYCLES=N, TREES=N: 20 and 5 here, `make stress`
# runs 1000 and 20), as pid 1 of a fresh pid namespace.
cd "$(dirname "$0")/../.." || exit 1
[ -x criu/criu ] || { echo "# SKIP: criu/criu is not built"; exit 77; }
exec unshare --pid --fork --mount-proc /usr/bin/python3 test/others/cycles.py "$@"

#!/bin/sh
# SIGKILL to criu at random points of a dump and a restore
# (test/others/kills.py; KILLS=N runs of each, 20 by default, `make stress`
# runs 100), as pid 1 of a fresh pid namespace so that orphans are reaped.
cd "$(dirname "$0")/../.." || exit 1
[ -x criu/criu ] || { echo "# SKIP: criu/criu is not built"; exit 77; }
exec unshare --pid --fork --mount-proc /usr/bin/python3 test/others/kills.py "$@"

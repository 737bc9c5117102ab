#!/bin/sh
# A tree whose last task is a zombie: every live task's memory is dumped once
# (test/others/dump_zombie_last.py), run as pid 1 of a fresh pid namespace so
# that the tree's orphans are reaped.
cd "$(dirname "$0")/../.." || exit 1
[ -x criu/criu ] || { echo "# SKIP: criu/criu is not built"; exit 77; }
exec unshare --pid --fork --mount-proc /usr/bin/python3 test/others/dump_zombie_last.py

#!/bin/sh
# A unix stream socket whose peer is outside the tree: --external unix[INO],
# --ext-unix-sk=INO and --inherit-fd fd[N]:socket:[INO] (test/others/ext_unix.py),
# run as pid 1 of a fresh pid namespace so that orphans are reaped at once.
cd "$(dirname "$0")/../.." || exit 1
[ -x criu/criu ] || { echo "# SKIP: criu/criu is not built"; exit 77; }
exec unshare --pid --fork --mount-proc /usr/bin/python3 test/others/ext_unix.py

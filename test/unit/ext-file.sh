#!/bin/sh
# An open file that is the runtime's: --external file[MNT_ID:INO] at dump,
# --inherit-fd fd[N]:file[MNT_ID:INO] at restore (test/others/ext_file.py),
# run as pid 1 of a fresh pid namespace so that orphans are reaped at once.
cd "$(dirname "$0")/../.." || exit 1
[ -x criu/criu ] || { echo "# SKIP: criu/criu is not built"; exit 77; }
exec unshare --pid --fork --mount-proc /usr/bin/python3 test/others/ext_file.py

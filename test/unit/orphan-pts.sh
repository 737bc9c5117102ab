#!/bin/sh
# A session on a pty whose master is outside the tree (--orphan-pts-master), without runc
# (test/others/orphan_pts.py); run as pid 1 of a fresh pid and mount namespace, with a devpts of its own.
cd "$(dirname "$0")/../.." || exit 1
[ -x criu/criu ] || { echo "# SKIP: criu/criu is not built"; exit 77; }
exec unshare --pid --fork --mount --mount-proc /usr/bin/python3 test/others/orphan_pts.py

#!/bin/sh
# LSM labels: --lsm-profile and dumped labels at restore, as far as the
# machine allows (test/others/lsm_labels.py), as pid 1 of a fresh pid namespace.
cd "$(dirname "$0")/../.." || exit 1
[ -x criu/criu ] || { echo "# SKIP: criu/criu is not built"; exit 77; }
exec unshare --pid --fork --mount-proc /usr/bin/python3 test/others/lsm_labels.py

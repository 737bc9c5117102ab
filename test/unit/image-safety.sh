#!/bin/sh
# Missing and hostile images, a traced target, a full disk
# (test/others/image_safety.py), run as pid 1 of a fresh pid and mount
# namespace so that orphans are reaped at once and the tmpfs goes with it.
cd "$(dirname "$0")/../.." || exit 1
[ -x criu/criu ] || { echo "# SKIP: criu/criu is not built"; exit 77; }
[ -d build/py/pycriu ] || { echo "# SKIP: pycriu is not built (make pycriu)"; exit 77; }
exec unshare --pid --fork --mount-proc /usr/bin/python3 test/others/image_safety.py "$@"

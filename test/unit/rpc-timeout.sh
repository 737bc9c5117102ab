#!/bin/sh
# The freeze timeout: --timeout and RPC criu_opts.timeout bound the seize of
# the tree, which is left running (test/others/rpc_timeout.py).
cd "$(dirname "$0")/../.." || exit 1
[ -x criu/criu ] || { echo "# SKIP: criu/criu is not built"; exit 77; }
exec /usr/bin/python3 test/others/rpc_timeout.py

#!/bin/sh
# criu dedup and --auto-dedup on a pre-dump, pre-dump, dump chain: the parents'
# pages images are punched, the restore is right (test/others/dedup_chain.py).
cd "$(dirname "$0")/../.." || exit 1
[ -x criu/criu ] || { echo "# SKIP: criu/criu is not built"; exit 77; }
exec /usr/bin/python3 test/others/dedup_chain.py

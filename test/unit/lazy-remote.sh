#!/bin/sh
# Lazy migration over loopback: dump --lazy-pages serves the pages it leaves in
# the stopped tree, criu lazy-pages --page-server fetches them for restore
# --lazy-pages; plain, TLS, RPC and refusals; criu page-server --lazy-pages
# serving a plain dump's images (test/others/lazy_remote.py).
cd "$(dirname "$0")/../.." || exit 1
[ -x criu/criu ] || { echo "# SKIP: criu/criu is not built"; exit 77; }
exec /usr/bin/python3 test/others/lazy_remote.py

#!/bin/sh
# criu lazy-pages + restore --lazy-pages from local images: the task runs
# before its memory is in; forks and madvise/munmap/mremap in the lazy phase,
# RPC, a parent chain, a stopped daemon, no daemon (test/others/lazy_pages.py).
cd "$(dirname "$0")/../.." || exit 1
[ -x criu/criu ] || { echo "# SKIP: criu/criu is not built"; exit 77; }
exec /usr/bin/python3 test/others/lazy_pages.py

#!/bin/sh
# criu page-server: pre-dump x3 and a TLS dump to page servers on loopback,
# restore from the page server's dir; TLS refusals leave the task running
# (test/others/page_server.py).
cd "$(dirname "$0")/../.." || exit 1
[ -x criu/criu ] || { echo "# SKIP: criu/criu is not built"; exit 77; }
exec /usr/bin/python3 test/others/page_server.py

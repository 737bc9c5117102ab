#!/bin/sh
# Three pre-dumps and a TLS dump to criu page-server on loopback, restored from the page server's dir; TLS refusals leave the task running; plain dumps through the task's page pipe (vmsplice), restored; a pre-dump and dump sharing their dir with the page server, restored (test/others/page_server.py)
cd "$(dirname "$0")/../.." || exit 1
[ -x criu/criu ] || { echo "# SKIP: criu/criu is not built"; exit 77; }
exec /usr/bin/python3 test/others/page_server.py

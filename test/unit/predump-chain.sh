#!/bin/sh
# criu pre-dump x3, then dump --prev-images-dir, restore through the parent
# chain; a broken chain fails the restore; the same through RPC, and in ONE
# RPC session whose passes track writes with a userfaultfd (pages taken
# unread, every restored word checked; test/others/predump_chain.py,
# track_task.c).
cd "$(dirname "$0")/../.." || exit 1
[ -x criu/criu ] || { echo "# SKIP: criu/criu is not built"; exit 77; }
exec /usr/bin/python3 test/others/predump_chain.py

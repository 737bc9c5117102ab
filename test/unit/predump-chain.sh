#!/bin/sh
# criu pre-dump x3, then dump --prev-images-dir, restore through the parent
# chain; a broken chain fails the restore; the same through RPC, and in ONE
# RPC session whose passes track writes with a userfaultfd (pages taken
# unread, every restored word checked); then across criu processes through
# the "criu-track" holder: the RPC chain (a swrk per pass) and a CLI chain
# take pages unread, no holder after the dump; a copied or rewritten parent,
# another dir's holder and a failed pass make the next pass compare; another
# tree's holder is left alone and exits with its task
# (test/others/predump_chain.py, track_task.c).
cd "$(dirname "$0")/../.." || exit 1
[ -x criu/criu ] || { echo "# SKIP: criu/criu is not built"; exit 77; }
exec /usr/bin/python3 test/others/predump_chain.py

#!/bin/sh
# Our crit and pycriu on real dumps of zdtm programs (test/others/crit_roundtrip.py):
# decode | encode gives every image back byte for byte. Runs as pid 1 of a
# fresh pid namespace so that orphans are reaped at once, in a network namespace
# of its own (a dumped program holds a TCP connection over its loopback).
cd "$(dirname "$0")/../.." || exit 1
exec unshare --pid --net --fork --mount-proc /usr/bin/python3 test/others/crit_roundtrip.py

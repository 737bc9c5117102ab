#!/bin/sh
# The seize reads each CPU's clock once for many sleepers, and criu dumps each
# task on the CPU it last ran on (test/others/dump_cpu.py).
cd "$(dirname "$0")/../.." || exit 1
[ -x criu/criu ] || { echo "# SKIP: criu/criu is not built"; exit 77; }
exec /usr/bin/python3 test/others/dump_cpu.py

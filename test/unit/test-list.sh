#!/bin/sh
# test-list.sh: test/README.md lists every test with the first sentence of its
# header comment (scripts/test-list.py --check; --update rewrites the list).
cd "$(dirname "$0")/../.." || exit 1
exec python3 scripts/test-list.py --check

#!/bin/sh
# crit-check.sh [-s] DIR: check that crit reads the images of DIR.
#
# The crit is ours (./crit at the top, pycriu from build/py: `make pycriu`),
# or the one CRIT names: CRIT=/usr/bin/crit checks with Debian's crit
# (CRIU 3.17), an independent reader of CRIU's wire format.
#
# Decodes every image of DIR that crit knows (the IMAGE rows of
# criu/include/objects.def that name a crit magic) with `crit decode` and fails
# when crit rejects one or names another magic than the file's kind. Images
# that are not there are not checked, but at least one must be.
#
# -s (strict): also encode crit's JSON back with `crit encode` and compare it
# with the image byte for byte. A difference means crit dropped or
# reinterpreted something. Our crit knows every field of ours; Debian's
# drops the fields CRIU 3.17 does not have (our extensions, newer fields),
# so with CRIT=/usr/bin/crit use -s only on images without them.
#
# Prints one TAP line per image; exit 0 when all pass, 1 on a failure,
# 77 (skip) when no DIR is given (test-image.c and test-mem-dump.c run this
# script on the images they write) or CRIT names a crit that is not there.

strict=
if [ "$1" = -s ]; then
	strict=1
	shift
fi
dir=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
crit=${CRIT:-$top/crit}

if [ -z "$dir" ]; then
	echo "# SKIP: no image directory given (usage: $0 [-s] DIR); test-image runs this check on its own images"
	exit 77
fi
if [ -n "$CRIT" ] && ! command -v "$CRIT" >/dev/null 2>&1; then
	echo "# SKIP: $CRIT not found"
	exit 77
fi
if [ ! -d "$top/build/py/pycriu" ] && [ -z "$CRIT" ]; then
	echo "not ok 1 - pycriu is not built (make pycriu): $crit can't run"
	exit 1
fi
if [ ! -d "$dir" ]; then
	echo "not ok 1 - $dir is not a directory"
	exit 1
fi

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

n=0
failed=0

report() {
	n=$((n + 1))
	if [ "$1" = ok ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
		[ -s "$tmp/err" ] && sed 's/^/# /' "$tmp/err"
	fi
}

# check_one FILE MAGIC
check_one() {
	f=$1
	name=$(basename "$f")
	: >"$tmp/err"
	if ! "$crit" decode -i "$f" -o "$tmp/json" 2>"$tmp/err"; then
		report fail "crit decode $name"
		return
	fi
	if ! grep -q "^{\"magic\": \"$2\"" "$tmp/json"; then
		{ head -c 200 "$tmp/json"; echo; } >"$tmp/err"
		report fail "crit decode $name: magic is not $2"
		return
	fi
	if [ -z "$strict" ]; then
		report ok "crit decode $name ($2)"
		return
	fi
	if ! "$crit" encode -i "$tmp/json" -o "$tmp/bin" 2>"$tmp/err"; then
		report fail "crit encode $name"
		return
	fi
	if ! cmp "$f" "$tmp/bin" >"$tmp/err" 2>&1; then
		report fail "crit decode+encode of $name is not byte-identical"
		return
	fi
	report ok "crit decode+encode $name ($2) is byte-identical"
}

# The images to check and their magics: the IMAGE rows of criu/include/objects.def
# that name a crit magic, as "pattern:MAGIC" (%d, %u, %lu in a name become *).
objects_def=$(dirname "$0")/../../criu/include/objects.def
specs=$(sed -n 's/^IMAGE([A-Z_0-9]*,[[:space:]]*"\([^"]*\)",.*"\([A-Z_0-9]\{1,\}\)")[^)]*$/\1:\2/p' \
	"$objects_def" | sed 's/%l\{0,1\}[dux]/*/g')
if [ -z "$specs" ]; then
	echo "not ok 1 - no IMAGE rows with a crit magic in $objects_def"
	exit 1
fi

# pagemap-*.img also matches pagemap-shmem-*.img: each file is checked once
checked=" "
while IFS= read -r spec; do
	pattern=${spec%:*}
	magic=${spec##*:}
	# manifest.img is ours: CRIU's crit (CRIT=...) does not know it
	[ -n "$CRIT" ] && [ "$magic" = MANIFEST ] && continue
	for f in "$dir"/$pattern; do
		[ -e "$f" ] || continue
		case "$checked" in *" $f "*) continue ;; esac
		checked="$checked$f "
		check_one "$f" "$magic"
	done
done <<EOF
$specs
EOF

if [ $n -eq 0 ]; then
	echo "not ok 1 - no image to check in $dir"
	exit 1
fi
echo "# crit-check: $n images, $failed failed"
[ $failed -eq 0 ]

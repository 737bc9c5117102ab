#!/bin/sh
# make install PREFIX=/usr/local DESTDIR=<temporary dir>: criu, libcriu
# (libcriu.so.2 with its links, libcriu.a), the headers, criu.pc and the man
# page land where they should; pkg-config finds libcriu through
# PKG_CONFIG_PATH; a small program built against the installed header and
# library (shared, then static) asks the installed criu for its version;
# make uninstall removes it all again. TAP output.
cd "$(dirname "$0")/../.." || exit 1
top=$PWD

n=0
failed=0
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

command -v pkg-config >/dev/null 2>&1 || { echo "# SKIP: pkg-config is not installed"; exit 77; }

dest=$(mktemp -d /tmp/criu-install.XXXXXX) || exit 1
# the make test that runs us passes its jobserver in MAKEFLAGS: a make of our own
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s install PREFIX=/usr/local DESTDIR="$dest" >"$dest.log" 2>&1
rc=$?
ok $rc "make install PREFIX=/usr/local DESTDIR=$dest"
[ $rc = 0 ] || sed 's/^/# /' "$dest.log"

p=$dest/usr/local
missing=""
for f in sbin/criu lib/libcriu.so.2.0 lib/libcriu.so.2 lib/libcriu.so lib/libcriu.a \
	include/criu/criu.h include/criu/version.h include/criu/rpc.pb-c.h include/criu/rpc.proto \
	lib/pkgconfig/criu.pc share/man/man8/criu.8; do
	[ -e "$p/$f" ] || missing="$missing $f"
done
ok "$([ -z "$missing" ]; echo $?)" "installed files are there (missing:${missing:- none})"
ok "$([ -x "$p/sbin/criu" ] && cmp -s "$p/sbin/criu" criu/criu; echo $?)" "sbin/criu is criu/criu, executable"
ok "$([ "$(readlink "$p/lib/libcriu.so.2")" = libcriu.so.2.0 ] && [ "$(readlink "$p/lib/libcriu.so")" = libcriu.so.2 ]; echo $?)" \
	"libcriu.so -> libcriu.so.2 -> libcriu.so.2.0"
soname=$(readelf -d "$p/lib/libcriu.so.2.0" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
ok "$([ "$soname" = libcriu.so.2 ]; echo $?)" "soname: $soname"

# pkg-config with the installed criu.pc; the sysroot puts $dest before its paths
flags=$(PKG_CONFIG_PATH=$p/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$dest pkg-config --cflags --libs criu 2>&1)
ok "$(echo " $flags " | grep -q -- " -I$p/include/criu .* -L$p/lib -lcriu "; echo $?)" \
	"pkg-config --cflags --libs criu: $flags"
# without a sysroot: the paths of a real install under PREFIX
flags=$(PKG_CONFIG_PATH=$p/lib/pkgconfig pkg-config --cflags --libs criu 2>&1)
ok "$(echo " $flags " | grep -q -- " -I/usr/local/include/criu .*-L/usr/local/lib -lcriu "; echo $?)" \
	"criu.pc points into PREFIX: $flags"
version=$(PKG_CONFIG_PATH=$p/lib/pkgconfig pkg-config --modversion criu 2>&1)
ok "$([ "$version" = 4.2 ]; echo $?)" "pkg-config --modversion criu: $version"

# a program of a libcriu user: criu.h only, the installed criu asked for its version
cat >"$dest/prog.c" <<'EOF'
#include <stdio.h>
#include <criu.h>

int main(int argc, char **argv)
{
	int v;

	if (argc != 2 || criu_init_opts() || criu_set_service_binary(argv[1]))
		return 2;
	v = criu_get_version();
	printf("%d %d.%d\n", v, CRIU_VERSION_MAJOR, CRIU_VERSION_MINOR);
	criu_free_opts();
	return v >= 40200 ? 0 : 1;
}
EOF
cflags=$(PKG_CONFIG_PATH=$p/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$dest pkg-config --cflags criu)
libs=$(PKG_CONFIG_PATH=$p/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$dest pkg-config --libs criu)
# shellcheck disable=SC2086
cc -Wall -Werror $cflags -o "$dest/prog" "$dest/prog.c" $libs -Wl,-rpath,"$p/lib" 2>"$dest/cc.log"
rc=$?
ok $rc "a program compiles against the installed criu.h and links with -lcriu"
[ $rc = 0 ] || sed 's/^/# /' "$dest/cc.log"
lib=$(ldd "$dest/prog" 2>/dev/null | sed -n 's/.*libcriu.so.2 => \([^ ]*\).*/\1/p')
ok "$([ "$lib" = "$p/lib/libcriu.so.2" ]; echo $?)" "it uses the installed libcriu.so.2 ($lib)"
out=$("$dest/prog" "$p/sbin/criu" 2>&1)
ok $? "it runs: the installed criu answers version $out"

# the same program linked with libcriu.a (and protobuf-c, which criu.pc names for --static)
slibs=$(PKG_CONFIG_PATH=$p/lib/pkgconfig pkg-config --static --libs-only-l criu | sed 's/-lcriu//')
# shellcheck disable=SC2086
cc -Wall -Werror $cflags -o "$dest/prog-static" "$dest/prog.c" "$p/lib/libcriu.a" $slibs 2>"$dest/cc.log"
rc=$?
ok $rc "it links with the installed libcriu.a"
[ $rc = 0 ] || sed 's/^/# /' "$dest/cc.log"
ok "$(readelf -d "$dest/prog-static" | grep -q libcriu; [ $? = 1 ] && "$dest/prog-static" "$p/sbin/criu" >/dev/null 2>&1; echo $?)" \
	"the static build needs no libcriu.so and runs"

# C++ and the header alone (g++ is not a build dependency: only when it is there)
if command -v c++ >/dev/null 2>&1; then
	echo '#include <criu/criu.h>
int main() { return criu_init_opts(); }' >"$dest/prog.cc"
	c++ -fsyntax-only -Wall -Werror -I"$p/include" -I"$p/include/criu" "$dest/prog.cc" 2>"$dest/cc.log"
	rc=$?
	ok $rc "<criu/criu.h> compiles as C++"
	[ $rc = 0 ] || sed 's/^/# /' "$dest/cc.log"
else
	echo "# no c++ compiler: the C++ check of criu.h is left out"
fi

# the man page: a roff page groff reads without a warning, with criu.txt's sections
man=$p/share/man/man8/criu.8
if command -v groff >/dev/null 2>&1; then
	warn=$(groff -man -ww -z "$man" 2>&1)
	ok "$([ -z "$warn" ]; echo $?)" "groff reads criu.8 without warnings ${warn:+($warn)}"
	text=$(groff -man -Tascii -P-cbou "$man" 2>/dev/null)
	ok "$(echo "$text" | grep -q '^NAME' && echo "$text" | grep -q 'criu - checkpoint and restore' &&
		echo "$text" | grep -q '^OPTIONS' && echo "$text" | grep -q -- '-t, --tree pid'; echo $?)" \
		"criu.8 renders NAME, OPTIONS and the option list"
else
	ok "$(head -n1 "$man" | grep -q '^\.TH "CRIU" "8"'; echo $?)" "criu.8 starts with .TH CRIU 8 (no groff to render it)"
fi

# crit and pycriu: the installed crit decodes a hand-made (empty) inventory with the installed pycriu
site=$(find "$p/lib" -maxdepth 3 -type d -name dist-packages | head -n1)
ok "$([ -x "$p/bin/crit" ] && [ -f "$site/pycriu/__init__.py" ]; echo $?)" "crit in bin, pycriu in ${site#$dest}"
printf '\026\061\061\130' >"$dest/bad.img"	# the inventory magic and nothing more: an empty inventory
out=$(cd / && PYTHONPATH="$site" "$p/bin/crit" decode -i "$dest/bad.img" 2>&1)
ok "$(echo "$out" | grep -q '"magic": "INVENTORY"'; echo $?)" "the installed crit decodes with the installed pycriu ($out)"
used=$(cd / && PYTHONPATH="$site" /usr/bin/python3 -c 'import pycriu; print(pycriu.__file__)' 2>&1)
ok "$(case $used in "$site"/*) echo 0 ;; *) echo 1 ;; esac)" "python imports the installed pycriu ($used)"

env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s uninstall PREFIX=/usr/local DESTDIR="$dest" >"$dest.log" 2>&1
left=$(cd "$p" && find . ! -type d | grep -v '^\./prog' | tr '\n' ' ')
ok "$([ -z "$left" ]; echo $?)" "make uninstall removes every installed file (left: ${left:-none})"

if [ $failed = 0 ]; then
	rm -rf "$dest" "$dest.log"
else
	echo "# kept $dest"
fi
echo "1..$n"
[ $failed = 0 ]

#!/bin/sh
# criu's command line as CRIU's: option spellings, configuration files and
# their order, one-line errors for unknown and unsupported options, the
# version line, CRIU's check feature names, and action scripts (with their
# environment, at their stages, and failing ones) around a real dump and
# restore of a sleeping process. TAP output.
cd "$(dirname "$0")/../.." || exit 1
[ -x criu/criu ] || { echo "# SKIP: criu/criu is not built"; exit 77; }
CRIU=${CRIU_BIN:-$(pwd)/criu/criu}
T=$(mktemp -d /tmp/test-cli.XXXXXX) || exit 1
SLEEPER=
cleanup() {
	[ -n "$SLEEPER" ] && kill -9 "$SLEEPER" 2>/dev/null
	[ -n "$KEEP" ] || rm -rf "$T"
}
trap cleanup EXIT

n=0
failed=0
ok() {	# ok COND-EXIT-STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		printf 'ok %d - %s\n' "$n" "$2"
	else
		printf 'not ok %d - %s\n' "$n" "$2"
		failed=$((failed + 1))
	fi
}
is() {	# is GOT WANT DESCRIPTION
	[ "$1" = "$2" ]
	r=$?
	[ $r -ne 0 ] && printf "# got '%s', want '%s'\n" "$1" "$2"
	ok $r "$3"
}

# Runs criu with a clean environment (no default config of the machine's):
# HOME=$T/home. Sets rc, out (stdout) and err (stderr).
run() {
	HOME=$T/home "$CRIU" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	out=$(cat "$T/out")
	err=$(cat "$T/err")
}
mkdir -p "$T/home/.criu" "$T/w"

# ---- version
run --version
is "$(echo "$out" | head -n1)" "Version: 4.2" "--version: CRIU's 'Version: 4.2' first"
echo "$out" | grep -q "pidfd edition"
ok $? "--version names the pidfd edition"
run -V
is "$rc" 0 "-V exits 0"

# ---- -v spellings: the info-level "Version:" log line shows from level 3 on
loglevel_shows() {	# OPTIONS... -> 0 when the log has info lines
	rm -f "$T/l"
	run check --feature pidfs -o "$T/l" "$@"
	grep -q "Version:" "$T/l"
}
for spelling in -v4 -v3 -vv -vvv -v --verbosity=4 --verbosity=3 --verbosity; do
	loglevel_shows "$spelling"
	ok $? "$spelling: info lines logged"
done
for spelling in -v2 -v0 --verbosity=2 --verbosity=0 -verbosity=0 -verbosity=2; do
	loglevel_shows "$spelling"
	ok $((!$?)) "$spelling: no info lines"
done
run check --feature pidfs -vv -v1 -o "$T/l"
! grep -q "Version:" "$T/l"
ok $? "the last -v wins"
run check --feature pidfs -vx
is "$rc:$(echo "$err" | wc -l)" "1:1" "-vx: exit 1, one line"

# ---- argument spellings: --opt=value, --opt value, -ovalue, -o value
for spelling in "-o$T/a.log" "--log-file=$T/a.log"; do
	rm -f "$T/a.log"
	run check --feature pidfs "$spelling"
	[ -f "$T/a.log" ]
	ok $? "$spelling"
done
for opt in -o --log-file; do
	rm -f "$T/a.log"
	run check --feature pidfs "$opt" "$T/a.log"
	[ -f "$T/a.log" ]
	ok $? "$opt FILE"
done
rm -f "$T/w/rel.log"
run check --feature pidfs -W "$T/w" -o rel.log
[ -f "$T/w/rel.log" ]
ok $? "-W: a relative log file is in the work dir"
run --feature pidfs check
is "$rc" 0 "options before the command"

# ---- unknown and unsupported options: exit 1, one line on stderr, no usage, nothing on stdout
one_line_error() {	# DESCRIPTION ARGS...
	d=$1
	shift
	run "$@"
	lines=$(printf '%s\n' "$err" | grep -c .)
	[ "$rc" -eq 1 ] && [ "$lines" -eq 1 ] && [ -z "$out" ] && ! printf '%s' "$err" | grep -qi usage
	r=$?
	[ $r -ne 0 ] && echo "# rc=$rc stderr: $err"
	ok $r "$d"
}
one_line_error "an unknown option" check --no-such-option
one_line_error "an unknown short option" check -X
one_line_error "a missing argument" dump -t
one_line_error "an argument to a flag" check --leave-running=yes
one_line_error "--stream" check --stream
run check --stream
is "$err" "criu: --stream: not supported yet" "the unsupported option's line"
one_line_error "-s (short form of an unsupported option)" dump -s -t 1
one_line_error "--manage-cgroups=bogus" check --manage-cgroups=bogus
one_line_error "an unknown command" frobnicate
one_line_error "pre-dump without -t" pre-dump
one_line_error "no command" -v4

# every option --help lists as not supported
"$CRIU" --help | sed -n '/^Not supported yet/,/^$/p' | grep -- '--' >"$T/nope"
# a sanity bound only: the list shrinks as options are implemented
[ "$(wc -l <"$T/nope")" -gt 3 ]
ok $? "--help lists the unsupported options"
all_refused=0
while IFS= read -r line; do
	# the left column: "-c|--[no-]NAME ARG" up to the first two blanks
	left=$(printf '%s\n' "$line" | sed 's/^ *//; s/  .*//')
	opt=$(printf '%s\n' "$left" | sed 's/^-.|//; s/^--\[no-\]/--/; s/[ [].*//')
	case $left in *" "*|*"[="*) args="$opt=x" ;; *) args="$opt" ;; esac
	run check "$args"
	if [ "$rc" -ne 1 ] || [ "$err" != "criu: $opt: not supported yet" ]; then
		echo "# $args: rc=$rc: $err"
		all_refused=1
	fi
done <"$T/nope"
ok $all_refused "each unsupported option fails with 'criu: --NAME: not supported yet'"

run check --feature pidfs --no-tcp-established --no-file-locks --no-lazy-pages-is-not-an-option
is "$rc" 1 "--no- exists only for CRIU's boolean options"
run check --feature pidfs --no-tcp-established --no-file-locks --no-restore-sibling --no-page-server
is "$rc" 0 "--no-X of an unsupported boolean asks for the default: accepted"
run check --feature pidfs --timeout 10 --pre-dump-mode=read --network-lock skip --link-remap \
	--file-validation=filesize --ghost-fiemap --no-ghost-fiemap --weak-sysctls --skip-file-rwx-check \
	--mntns-compat-mode --unprivileged --allow-uprobes --deprecated --log-pid -L /nonexistent \
	--evasive-devices --irmap-scan-path /x --manage-cgroups=ignore --cpu-cap=none --ghost-limit 8M \
	--no-default-config --status-fd 9 --extra --experimental --all --daemon --no-daemon
is "$rc:$err" "0:" "the accepted options pass"
one_line_error "--pre-dump-mode with a bad value" check --pre-dump-mode=fast

# ---- configuration files
printf '# a comment\n\n  log-file %s/home.log  # trailing comment\n' "$T" >"$T/home/.criu/default.conf"
rm -f "$T/home.log"
run check --feature pidfs
[ -f "$T/home.log" ]
ok $? "~/.criu/default.conf is read"
rm -f "$T/home.log"
run check --feature pidfs --no-default-config
[ ! -f "$T/home.log" ]
ok $? "--no-default-config skips it"
printf 'log-file "%s/with \\"quotes\\" and blanks.log"\nverbosity 4\n' "$T" >"$T/env.conf"
rm -f "$T/home.log"
CRIU_CONFIG_FILE=$T/env.conf run check --feature pidfs
[ -f "$T/with \"quotes\" and blanks.log" ] && [ ! -f "$T/home.log" ]
ok $? "CRIU_CONFIG_FILE is read after ~/.criu/default.conf (and overrides it); quoted values"
grep -q "Version:" "$T/with \"quotes\" and blanks.log"
ok $? "'verbosity 4' in a config file"
rm -f "$T"/with*
CRIU_CONFIG_FILE=$T/env.conf run check --feature pidfs --no-default-config
[ -f "$T/with \"quotes\" and blanks.log" ]
ok $? "CRIU_CONFIG_FILE is read even with --no-default-config"
printf 'log-file %s/cfg.log\n' "$T" >"$T/cfg.conf"
rm -f "$T/cfg.log" "$T/home.log" "$T"/with*
CRIU_CONFIG_FILE=$T/env.conf run check --feature pidfs --config "$T/cfg.conf"
[ -f "$T/cfg.log" ] && [ ! -f "$T/home.log" ] && [ ! -f "$T"/with* ]
ok $? "--config FILE: read last of the files, and no default files"
rm -f "$T/cfg.log"
run check --feature pidfs --config="$T/cfg.conf" -o "$T/cmd.log"
[ -f "$T/cmd.log" ] && [ ! -f "$T/cfg.log" ]
ok $? "--config=FILE; the command line overrides the files"
printf 'stream\n' >"$T/bad.conf"
run check --feature pidfs --config "$T/bad.conf"
is "$rc:$err" "1:criu: --stream (in $T/bad.conf): not supported yet" "an unsupported option in a file names the file"
printf 'log-file "unterminated\n' >"$T/bad.conf"
one_line_error "a bad line in a file" check --feature pidfs --config "$T/bad.conf"
printf 'log-file a b\n' >"$T/bad.conf"
one_line_error "two values on a line" check --feature pidfs --config "$T/bad.conf"
rm -f "$T/home/.criu/default.conf"

# ---- criu check with CRIU's names
run check --feature list
for f in timerfd userns mem_dirty_track clone3_set_tid get_rseq_conf kcmp_epoll ns_pid mnt_id pidfs pidfd-thread; do
	printf '%s\n' "$out" | grep -qx "$f"
	ok $? "--feature list names $f"
done
for f in userns tun tcp_half_closed net_diag_raw sk_ns has_ipt_legacy; do
	run check --feature "$f"
	[ "$rc" -eq 1 ] && printf '%s' "$out" | grep -q "not supported"
	ok $? "$f: not supported (criu does not restore it)"
done
for f in timerfd clone3_set_tid kcmp_epoll ns_pid get_rseq_conf mnt_id seccomp_filters seccomp_suspend \
	ipv6_freebind sockopt_buf_lock network_lock_nftables nftables tcp-repair tcp-repair-window iptables \
	uffd uffd-noncoop mem_dirty_track; do
	run check --feature "$f" -verbosity=0 --no-default-config
	is "$rc:$out" "0:$f is supported" "$f: supported (criu restores it, the kernel has it)"
done
run check
is "$rc" 0 "criu check"
run check --extra
[ "$rc" -eq 1 ] && printf '%s' "$out" | grep -q "^userns  *no" && printf '%s' "$out" | grep -q "^timerfd  *yes"
ok $? "--extra: CRIU's extra features, with the missing ones, exit 1"
printf '%s' "$out" | grep -q "^autofs"
ok $((!$?)) "--extra leaves out the experimental ones"
run check --all
printf '%s' "$out" | grep -q "^autofs" && printf '%s' "$out" | grep -q "^userns"
ok $? "--all: extra and experimental"

# ---- action scripts around a dump and a restore
cat >"$T/script.sh" <<EOF
#!/bin/sh
inv=no
[ -e "\$CRTOOLS_IMAGE_DIR/inventory.img" ] && inv=yes
echo "\$CRTOOLS_SCRIPT_ACTION pid=\$CRTOOLS_INIT_PID inv=\$inv" >>"$T/actions"
[ "\$CRTOOLS_SCRIPT_ACTION" = "\$FAIL_AT" ] && exit 3
exit 0
EOF
cat >"$T/second.sh" <<EOF
#!/bin/sh
echo "second \$CRTOOLS_SCRIPT_ACTION" >>"$T/actions"
EOF
chmod +x "$T/script.sh" "$T/second.sh"

start_sleeper() {
	setsid sleep 1000 </dev/null >/dev/null 2>&1 &
	SLEEPER=$!
	sleep 0.2
}
# kill the sleeper and wait until its pid is free (pid 1 reaps the orphan)
kill_sleeper() {
	kill -9 "$SLEEPER" 2>/dev/null
	for _ in $(seq 100); do
		[ -e "/proc/$SLEEPER" ] || return 0
		sleep 0.05
	done
}
alive() {
	kill -0 "$SLEEPER" 2>/dev/null && [ "$(cut -d' ' -f3 "/proc/$SLEEPER/stat")" != Z ]
}
dump() {	# dump [FAIL_AT]
	rm -rf "$T/img" "$T/actions"
	FAIL_AT=$1 run dump -t "$SLEEPER" -D "$T/img" -o dump.log -v4 --action-script "$T/script.sh" \
		--pidfile "$T/dump.pid"
}
restore() {	# restore [FAIL_AT] [more options]
	f=$1
	shift
	rm -f "$T/actions"
	FAIL_AT=$f run restore -d -D "$T/img" -o restore.log -v4 --action-script "$T/script.sh" "$@"
}

start_sleeper
dump
is "$rc" 0 "dump with an action script"
is "$(cat "$T/actions" 2>/dev/null | tr '\n' ,)" "pre-dump pid=$SLEEPER inv=no,post-dump pid=$SLEEPER inv=yes," \
	"dump runs pre-dump before and post-dump after the images, with CRTOOLS_INIT_PID and CRTOOLS_IMAGE_DIR"
[ ! -e "$T/dump.pid" ]
ok $? "--pidfile is accepted and ignored by dump, as by CRIU"
alive
ok $((!$?)) "the tree is gone after dump"
exec 8>"$T/status"
restore "" --status-fd 8 --pidfile "$T/restore.pid"
exec 8>&-
is "$rc" 0 "restore with an action script"
is "$(cat "$T/actions" 2>/dev/null | tr '\n' ,)" \
	"pre-restore pid= inv=yes,post-restore pid=$SLEEPER inv=yes,pre-resume pid=$SLEEPER inv=yes,post-resume pid=$SLEEPER inv=yes," \
	"restore runs pre-restore, post-restore, pre-resume and post-resume"
is "$(od -An -c "$T/status" | tr -d ' ')" '\0' "--status-fd gets one NUL byte"
alive
ok $? "the restored tree runs"

dump pre-dump
is "$rc" 1 "a failing pre-dump script fails the dump"
alive && [ ! -e "$T/img/inventory.img" ]
ok $? "... leaving the tree running and no images"
dump post-dump
is "$rc" 255 "a failing post-dump script: exit 255, as CRIU"
alive && [ -e "$T/img/inventory.img" ]
ok $? "... the tree runs on and the images are kept"
kill_sleeper
restore pre-restore
is "$rc:$(cat "$T/actions" 2>/dev/null)" "1:pre-restore pid= inv=yes" "a failing pre-restore script fails the restore"
alive
ok $((!$?)) "... before anything runs"
restore post-restore
is "$rc:$(tail -n1 "$T/actions" 2>/dev/null)" "1:post-restore pid=$SLEEPER inv=yes" \
	"a failing post-restore script fails the restore"
alive
ok $((!$?)) "... and the tree is killed"
kill_sleeper
restore post-resume
is "$rc" 0 "a failing post-resume script does not fail the restore"
alive
ok $? "... the tree runs"
kill_sleeper
rm -f "$T/actions"
run restore -d -D "$T/img" --action-script "$T/script.sh" --action-script "$T/second.sh"
is "$(head -n2 "$T/actions" | tr '\n' ,)" "second pre-restore,pre-restore pid= inv=yes," \
	"several scripts: the last given runs first, as in CRIU"

echo "1..$n"
[ $failed -eq 0 ]

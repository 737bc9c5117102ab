#!/bin/sh
# Install every Debian package the build, the tests and the demo need.
# Idempotent and quiet when everything is already there.
set -e

# protobuf-compiler (protoc) and python3-protobuf: pycriu and ./crit (lib/py)
PKGS="gcc make pkg-config protobuf-c-compiler libprotobuf-c-dev libnl-3-dev python3 python3-protobuf protobuf-compiler util-linux procps"
# go-criu and Go: test/unit/go-criu.sh drives criu swrk through the RPC library runc uses
PKGS="$PKGS golang-go golang-github-checkpoint-restore-go-criu-dev"
# libarchive-dev: tmpfs contents as CRIU's gzip tar images (criu/tmpfs-tar.c)
PKGS="$PKGS libarchive-dev"
# nftables and iptables: the network lock (--network-lock) of established TCP connections
PKGS="$PKGS nftables iptables"
# redis-server: zdtm sk_tcp_redis checkpoints a redis-server with connected clients
PKGS="$PKGS redis-server"
# clang and its libFuzzer runtime: make fuzz (test/fuzz/fuzz-images.c); gcc's libasan/libubsan come with gcc
PKGS="$PKGS clang-14 libclang-rt-14-dev"
# runc, busybox-static and libc6-dev (gcc -static): test/unit/runc.sh checkpoints and restores a container
PKGS="$PKGS runc busybox-static libc6-dev file"
# libgnutls28-dev: the page server's --tls (criu/tls.c); openssl: test/others/page_server.py makes its certificates
PKGS="$PKGS libgnutls28-dev openssl"
# podman (with conmon and the CNI plugins it depends on): test/unit/runtimes.sh checkpoints and restores a
# podman container (runc as its runtime) through our criu
PKGS="$PKGS podman"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing (run as root)" >&2
	exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# Debian's 'criu' package is not needed: the tests use our own crit (./crit).
# When it is installed anyway, its crit (CRIU 3.17) is an optional second
# check of CRIU's wire format (test/zdtm/crit_check.py --debian, test-image,
# crit-roundtrip.sh); its criu binary is never run.
if ! apt-get install -y -q --no-install-recommends $missing >/dev/null; then
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends $missing >/dev/null
fi

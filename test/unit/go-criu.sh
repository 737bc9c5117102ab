#!/bin/sh
# go-criu (Debian's golang-github-checkpoint-restore-go-criu-dev) drives our
# criu swrk: test/others/go-criu/main.go, built offline (GOPATH mode over
# /usr/share/gocode, no module proxy). Exit 77 when Go, go-criu, criu/criu or
# env00 is missing.
cd "$(dirname "$0")/../.." || exit 1
GOCRIU=/usr/share/gocode/src/github.com/checkpoint-restore/go-criu
ENV00=test/build/zdtm/static/env00

command -v go >/dev/null 2>&1 || { echo "# SKIP: go is not installed (golang-go)"; exit 77; }
[ -f $GOCRIU/main.go ] || { echo "# SKIP: go-criu is not installed (golang-github-checkpoint-restore-go-criu-dev)"; exit 77; }
[ -x criu/criu ] && [ -x $ENV00 ] || { echo "# SKIP: criu/criu or $ENV00 is not built"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "# SKIP: needs root"; exit 77; }

build=$PWD/test/build/go-criu
# Debian ships the v5 module in the GOPATH tree without its /v5 suffix: a
# private GOPATH maps the import path onto it.
mkdir -p "$build/gopath/src/github.com/checkpoint-restore/go-criu" "$build/gopath/src/google.golang.org" || exit 1
ln -sfn $GOCRIU "$build/gopath/src/github.com/checkpoint-restore/go-criu/v5" || exit 1
ln -sfn /usr/share/gocode/src/google.golang.org/protobuf "$build/gopath/src/google.golang.org/protobuf" || exit 1

if ! env GO111MODULE=off GOPROXY=off GOFLAGS= GOPATH="$build/gopath" GOCACHE="$build/cache" \
	go build -o "$build/go-criu-test" ./test/others/go-criu/ >"$build/build.log" 2>&1; then
	echo "not ok 1 - go build of test/others/go-criu failed:"
	sed 's/^/# /' "$build/build.log"
	exit 1
fi

tmp=$(mktemp -d /tmp/go-criu.XXXXXX) || exit 1
"$build/go-criu-test" "$PWD/criu/criu" "$PWD/$ENV00" "$tmp"
rc=$?
if [ $rc -eq 0 ]; then
	rm -rf "$tmp"
else
	echo "# logs kept in $tmp"
fi
exit $rc

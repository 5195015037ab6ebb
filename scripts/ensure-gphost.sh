#!/usr/bin/env bash
# Builds the Go programs the tests play against, once: the go-plugin host
# (../shared/goplugin-host → .build/gphost) that runs our plugin as the Argo Rollouts
# controller does, and the gob fixture generator (.build/gob-gen/gen), a live Go net/rpc
# client. Needs Debian's golang-go, golang-github-hashicorp-go-plugin-dev and
# golang-google-grpc-dev (GOPATH mode, no module downloads).
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build/gphost
src=$(cd "${GPHOST_SRC:-../shared/goplugin-host}" && pwd)
if ! command -v go >/dev/null; then
  echo "ensure-gphost: Go is missing; install it with:" >&2
  echo "  sudo apt-get install -y golang-go golang-github-hashicorp-go-plugin-dev golang-google-grpc-dev" >&2
  exit 1
fi
if ! { [ -x "$out/host" ] && [ -x "$out/stubplugin" ] && [ "$out/host" -nt "$src/build.sh" ]; }; then
  "$src/build.sh" "$out"
fi
gen=$PWD/.build/gob-gen
if [ ! -x "$gen/gen" ]; then
  mkdir -p "$gen"
  (cd test/fixtures/gob/gen && GO111MODULE=off GOPROXY=off GOFLAGS= GOTOOLCHAIN=local CGO_ENABLED=0 \
    GOPATH="$src" GOCACHE="$gen/gocache" go build -o "$gen/gen" .)
fi

#!/usr/bin/env bash
# Builds the go-plugin host (../shared/goplugin-host) into .build/gphost once; the plugin
# conformance tests run our plugin under it. Needs Debian's golang-go,
# golang-github-hashicorp-go-plugin-dev and golang-google-grpc-dev.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build/gphost
src=${GPHOST_SRC:-../shared/goplugin-host}
if [ -x "$out/host" ] && [ -x "$out/stubplugin" ] && [ "$out/host" -nt "$src/build.sh" ]; then exit 0; fi
if ! command -v go >/dev/null; then
  echo "ensure-gphost: Go is missing; install it with:" >&2
  echo "  sudo apt-get install -y golang-go golang-github-hashicorp-go-plugin-dev golang-google-grpc-dev" >&2
  exit 1
fi
"$src/build.sh" "$out"

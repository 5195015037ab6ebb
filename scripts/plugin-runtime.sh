#!/bin/sh
# Assembles the self-contained plugin runtime directory that the init container copies into
# the controller pod (mounted at /plugin):
#
#   OUTDIR/rollouts-companion-plugin      static launcher (the file `location:` points at)
#   OUTDIR/node                           the node binary
#   OUTDIR/lib/                           node's glibc, libstdc++ and dynamic loader
#   OUTDIR/rollouts-companion-plugin.cjs  the bundle (scripts/bundle.mjs), its other files and proto/ beside it
#
# usage: scripts/plugin-runtime.sh OUTDIR [NODE]   (needs go, ldd, and a built bundle or esbuild)
set -eu
[ $# -ge 1 ] || { echo "usage: $0 OUTDIR [NODE]" >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$1
NODE=${2:-$(command -v node)}
mkdir -p "$OUT/lib"

# The code cache is recorded with the node that will run it.
node "$ROOT/scripts/bundle.mjs" --outdir "$OUT" --minify --node "$NODE" >/dev/null
cp "$NODE" "$OUT/node"
# Every shared object node needs, and the loader itself (the "=>" path, or the bare path
# of the interpreter line).
ldd "$NODE" | awk '/=> \//{print $3} /^[[:space:]]*\/.*ld-linux/{print $1}' | while read -r lib; do
	cp -L "$lib" "$OUT/lib/"
done
ls "$OUT"/lib/ld-linux-*.so.* >/dev/null 2>&1 || { echo "$0: no ld-linux loader found for $NODE" >&2; exit 1; }

flags=$(cd "$ROOT" && node --input-type=module -e "import { PLUGIN_NODE_FLAGS } from './scripts/bundle.mjs'; console.log(PLUGIN_NODE_FLAGS.join(' '))")
( cd "$ROOT/deploy/plugin/launcher" &&
  CGO_ENABLED=0 GO111MODULE=off GOPROXY=off GOFLAGS= GOTOOLCHAIN=local go build -trimpath -ldflags="-s -w -X 'main.nodeFlags=$flags'" -o "$OUT/rollouts-companion-plugin" . )
chmod 0755 "$OUT/rollouts-companion-plugin" "$OUT/node"
echo "plugin runtime in $OUT: $(du -sh "$OUT" | cut -f1)"

// rollouts-companion-plugin: a static launcher for the Node.js plugin on controller images
// that have no shell and no libc (the stock Argo Rollouts image is distroless-static).
//
// Two layouts, one binary:
//
//   - Single file (the release, `npm run release`): the Node runtime travels appended to this
//     executable (gzip payload + JSON manifest + trailer, written by scripts/release.mjs). The
//     first start unpacks it, SHA-256-verified, into a private cache directory; later starts
//     reuse it. See unpack.go.
//   - Directory (init container or a controller image with the plugin built in): the runtime
//     lies in ROOT (default /plugin, or $ROLLOUTS_COMPANION_PLUGIN_ROOT).
//
// Either way the controller copies this one file to plugin-bin/<org>/<name> and executes it;
// it execs node through the runtime's own glibc dynamic loader, so no library of the
// controller image is used:
//
//	ROOT/lib/ld-linux-*.so.*  --library-path ROOT/lib  ROOT/node  ROOT/rollouts-companion-plugin.cjs  ARGS...
//
// Build (stdlib only, GOPATH mode): CGO_ENABLED=0 GO111MODULE=off go build -trimpath -ldflags="-s -w" -o rollouts-companion-plugin .
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

const (
	defaultRoot = "/plugin"
	bundleName  = "rollouts-companion-plugin.cjs"
)

func main() {
	exe := executable()
	payload, err := openPayload(exe)
	if err != nil {
		fail("%v", err)
	}
	if payload == nil {
		root := os.Getenv("ROLLOUTS_COMPANION_PLUGIN_ROOT")
		if root == "" {
			root = defaultRoot
		}
		execRuntime(root, "did the init container copy the plugin runtime into "+root+"?")
	}
	root, err := payload.ensureUnpacked(cacheBases(exe))
	if err != nil {
		fail("%v", err)
	}
	execRuntime(root, "the unpacked runtime is incomplete; remove "+root+" and start again")
}

// executable is this file's path. /proc may be missing (a bare chroot); the controller
// starts plugins by a path relative to its working directory, so argv[0] resolves it then.
func executable() string {
	if exe, err := os.Executable(); err == nil {
		return exe
	}
	exe, err := filepath.Abs(os.Args[0])
	if err != nil {
		fail("cannot find my own executable (%s): %v", os.Args[0], err)
	}
	return exe
}

// nodeFlags are node flags for the plugin (node's own options only, --v8-pool-size=1 by
// default: the plugin sets its V8 flags itself once started, src/plugin/heap.ts), set at
// build time from PLUGIN_NODE_FLAGS in scripts/bundle.mjs (-ldflags "-X main.nodeFlags=..."),
// so the benches, the tests and the shipped file run node alike.
var nodeFlags string

func execRuntime(root, hint string) {
	loaders, _ := filepath.Glob(filepath.Join(root, "lib", "ld-linux-*.so.*"))
	if len(loaders) == 0 {
		fail("no dynamic loader in %s/lib: %s", root, hint)
	}
	argv := []string{
		loaders[0],
		"--library-path", filepath.Join(root, "lib"),
		filepath.Join(root, "node"),
	}
	argv = append(argv, strings.Fields(nodeFlags)...)
	argv = append(argv, filepath.Join(root, bundleName))
	argv = append(argv, os.Args[1:]...)
	if err := syscall.Exec(loaders[0], argv, os.Environ()); err != nil {
		fail("exec %s: %v", loaders[0], err)
	}
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "rollouts-companion-plugin: "+format+"\n", args...)
	os.Exit(1)
}

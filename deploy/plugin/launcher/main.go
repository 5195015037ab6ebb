// rollouts-companion-plugin: a static launcher for the Node.js plugin on controller images
// that have no shell and no libc (the stock Argo Rollouts image is distroless-static).
//
// The controller copies this one file to plugin-bin/<org>/<name> and executes it, so it
// cannot find anything relative to itself. It execs the node runtime that the init
// container copied to ROOT (default /plugin, or $ROLLOUTS_COMPANION_PLUGIN_ROOT) through
// ROOT's own glibc dynamic loader, so no library from the controller image is used:
//
//	ROOT/lib/ld-linux-*.so.*  --library-path ROOT/lib  ROOT/node  ROOT/rollouts-companion-plugin.mjs  ARGS...
//
// Build: CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o rollouts-companion-plugin .
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

const defaultRoot = "/plugin"

func main() {
	root := os.Getenv("ROLLOUTS_COMPANION_PLUGIN_ROOT")
	if root == "" {
		root = defaultRoot
	}
	loaders, _ := filepath.Glob(filepath.Join(root, "lib", "ld-linux-*.so.*"))
	if len(loaders) == 0 {
		fail("no dynamic loader in %s/lib: did the init container copy the plugin runtime into %s?", root, root)
	}
	argv := []string{
		loaders[0],
		"--library-path", filepath.Join(root, "lib"),
		filepath.Join(root, "node"),
		filepath.Join(root, "rollouts-companion-plugin.mjs"),
	}
	argv = append(argv, os.Args[1:]...)
	if err := syscall.Exec(loaders[0], argv, os.Environ()); err != nil {
		fail("exec %s: %v", loaders[0], err)
	}
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "rollouts-companion-plugin: "+format+"\n", args...)
	os.Exit(1)
}

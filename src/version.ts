import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Which build this is: the package version, the commit it was built from, and the version of
// the gRPC contract it speaks. Free of gRPC imports: the plugin logs it before its handshake.
//
// Version and commit: the plugin
// bundle has both baked in by scripts/bundle.mjs (esbuild `define`); the compiled CLI reads
// package.json and dist/build-info.json (`npm run build` writes it from git). Run from source,
// or built outside a git checkout, the commit is "unknown".

declare const ROLLOUTS_COMPANION_BUILD: BuildInfo | undefined;

export interface BuildInfo {
  version: string;
  commit: string;
}

const UNKNOWN = 'unknown';

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function fromFiles(): BuildInfo {
  // src/version.ts and dist/version.js both sit one level below the package root.
  const here = dirname(fileURLToPath(import.meta.url));
  const version = readJson(join(here, '..', 'package.json'))?.version;
  const commit = readJson(join(here, 'build-info.json'))?.commit;
  return { version: typeof version === 'string' ? version : UNKNOWN, commit: typeof commit === 'string' ? commit : UNKNOWN };
}

let cached: BuildInfo | undefined;

export function buildInfo(): BuildInfo {
  cached ??= typeof ROLLOUTS_COMPANION_BUILD === 'object' && ROLLOUTS_COMPANION_BUILD ? ROLLOUTS_COMPANION_BUILD : fromFiles();
  return cached;
}

// The contract's version (proto/rollouts/companion/v1/version.proto says what MAJOR.MINOR
// mean). Bump the minor when the plugin starts relying on a new method or field, the major
// when one changes meaning or goes away.
export const CONTRACT_VERSION = '1.0';

export interface VersionInfo extends BuildInfo {
  contractVersion: string;
}

/** What this build says about itself: `rollouts-companion version`, the plugin's startup log, the Version RPC. */
export function ownVersion(): VersionInfo {
  return { ...buildInfo(), contractVersion: CONTRACT_VERSION };
}

/** A caller speaking contract `ours` can use a companion serving `theirs`: same major, minor at least ours. */
export function contractCompatible(ours: string, theirs: string): boolean {
  const parse = (v: string) => /^(\d+)\.(\d+)$/.exec(v)?.slice(1).map(Number);
  const [a, b] = [parse(ours), parse(theirs)];
  return Boolean(a && b && a[0] === b[0] && b[1]! >= a[1]!);
}

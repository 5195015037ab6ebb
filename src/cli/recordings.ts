// What scripts/bundle.mjs recorded from a first reconcile, as src/cli/plugin-loader.ts found
// it: the core's V8 code cache, the controller's gob type definitions and the reconcile's
// calls themselves. The startup log says what became of them, because a start without them
// is slower. A global carries them from the loader to the core: they are separate files,
// and the core also runs without the loader (from source, in tests).

export const CodeCache = {
  /** V8 took it: the plugin compiled only what the recorded first reconcile did not. */
  Accepted: 'accepted',
  /** V8 refused it (recorded by another node binary or with other flags): compiled as usual. */
  Rejected: 'rejected',
  /** The bundle has none (a foreign-architecture release, or built with --no-code-cache). */
  Absent: 'absent',
} as const;
export type CodeCache = (typeof CodeCache)[keyof typeof CodeCache];

export interface Recordings {
  codeCache?: CodeCache;
  /** The file of type definitions the controller sends (src/plugin/gob/known-types.ts). */
  knownTypesFile?: string;
  /** The reconcile's calls as the controller wrote them (src/plugin/warm-up.ts). */
  firstReconcileFile?: string;
}

const KEY = Symbol.for('rollouts-companion.recordings');

export function setRecordings(found: Recordings): void {
  (globalThis as Record<symbol, unknown>)[KEY] = found;
}

/** Empty when the plugin was not started by the loader (from source, tests). */
export function recordings(): Recordings {
  return ((globalThis as Record<symbol, unknown>)[KEY] as Recordings | undefined) ?? {};
}

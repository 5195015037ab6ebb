// What became of the plugin bundle's V8 code cache (src/cli/plugin-loader.ts): the startup log
// says it, because a rejected cache (another node binary, other V8 flags) costs every start.

export const CodeCache = {
  /** V8 took it: the plugin compiled only what the recorded first reconcile did not. */
  Accepted: 'accepted',
  /** V8 refused it (recorded by another node binary or with other flags): compiled as usual. */
  Rejected: 'rejected',
  /** The bundle has none (a foreign-architecture release, or built with --no-code-cache). */
  Absent: 'absent',
} as const;
export type CodeCache = (typeof CodeCache)[keyof typeof CodeCache];

const KEY = Symbol.for('rollouts-companion.code-cache');

export function setCodeCacheStatus(status: CodeCache): void {
  (globalThis as Record<symbol, unknown>)[KEY] = status;
}

/** Undefined when the plugin was not started by the loader (from source, tests). */
export function codeCacheStatus(): CodeCache | undefined {
  return (globalThis as Record<symbol, unknown>)[KEY] as CodeCache | undefined;
}

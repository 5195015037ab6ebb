/** The release file's name on this machine: rollouts-companion-plugin-linux-<amd64|arm64>. */
export declare function releaseName(arch?: string): string;
/** Builds (or takes from .build/release when inputs are unchanged) the single-file plugin and its .sha256 into outdir (default dist/release). */
export declare function buildRelease(options?: { outdir?: string; node?: string; /** node's process.arch naming: x64, arm64 */ arch?: string }): Promise<{ file: string; sha256: string; cached: boolean; commit: string }>;
/** Warm start-up medians in ms: node -e, handshake line, and first reply under the go-plugin host when it is built. */
export declare function measureStartup(
  file: string,
  runs?: number,
): Promise<{ coldMs: number; nodeMs: number; bundleMs: number; handshakeMs: number; replyMs?: number; bundleReplyMs?: number }>;

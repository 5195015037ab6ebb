export declare const BUNDLE_NAME: string;
/**
 * Builds OUTDIR (default dist)/rollouts-companion-plugin.cjs, its core, plugin-deps/ and proto/,
 * records the controller's gob type definitions and, unless `codeCache` is false, the core's
 * code cache for `node` (default: this node); returns the entry path.
 */
export declare function bundlePlugin(options?: { outdir?: string; minify?: boolean; codeCache?: boolean; node?: string }): Promise<string>;
/** node flags the launcher passes before the bundle (V8 heap sizing). */
export declare const PLUGIN_NODE_FLAGS: string[];
export declare const COMPANION_BUNDLE_NAME: string;
/** Builds OUTDIR (default dist)/rollouts-companion.mjs (the whole CLI, `serve` included) and proto/; returns its path. */
export declare function bundleCompanion(options?: { outdir?: string; minify?: boolean }): Promise<string>;

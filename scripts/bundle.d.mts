export declare const BUNDLE_NAME: string;
/** Builds dist/rollouts-companion-plugin.mjs (or OUTDIR/...) with proto/ beside it; returns its path. */
export declare function bundlePlugin(options?: { outdir?: string; minify?: boolean }): Promise<string>;

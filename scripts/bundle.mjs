#!/usr/bin/env node
// Bundles the plugin (src/cli/plugin-main.ts) and all its dependencies into dist/, with the
// gRPC contract beside it (dist/proto/, for remote mode); no node_modules needed at run time.
//   rollouts-companion-plugin.cjs         the entry (src/cli/plugin-loader.ts)
//   rollouts-companion-plugin.core.cjs    our code, pino and commander: all a start and an
//                                         in-process call need, one CommonJS file
//   rollouts-companion-plugin.core.cache  its V8 code cache, recorded from a first reconcile
//   rollouts-companion-plugin.gob-types.json  the controller's gob type definitions, recorded
//                                         from the same reconcile (src/plugin/gob/known-types.ts)
//   rollouts-companion-plugin.first-reconcile.gob  that reconcile's calls, which the plugin
//                                         serves itself once to warm up (src/plugin/warm-up.ts)
//   plugin-deps/<package>.cjs             packages only some paths need (gRPC for remote mode,
//                                         OpenTelemetry, prom-client, client-node for exec
//                                         credentials, yaml, re2js), required when first used
// CommonJS because node's ES module loader costs a start ~40 ms more (its own modules, a facade
// per builtin imported, chunks read asynchronously after the first call has arrived); esbuild
// splits only ES modules, hence one file per lazily needed package instead of chunks.
//
//   node scripts/bundle.mjs [--outdir dist] [--minify] [--node PATH | --no-code-cache]
//   node scripts/bundle.mjs --companion [--outdir dist] [--minify]    (the CLI with `serve`)
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { buildInfo } from './build-info.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * node flags for whatever starts the bundle (deploy/plugin's launcher compiles them in). Only
 * node's own options: any V8 flag here makes node 20 reject the code cache of its own modules,
 * ~20 ms of every start, so the plugin sets its V8 flags itself once started
 * (src/plugin/heap.ts). `--v8-pool-size=1`: one V8 worker thread instead of four, so what
 * the collector and the compiler free on worker threads stays in one malloc arena, not four
 * (after 10 000 calls 1.3–2.3 MB less RSS, bench/README.md). Overridable with
 * PLUGIN_NODE_FLAGS (space-separated) for experiments; the code cache is recorded with them.
 */
export const PLUGIN_NODE_FLAGS = process.env.PLUGIN_NODE_FLAGS?.split(' ').filter(Boolean) ?? ['--v8-pool-size=1'];

/** esbuild options every bundle shares: node 20, no node_modules needed, the build's identity. */
function nodeOptions(minify) {
  return {
    bundle: true,
    platform: 'node',
    target: 'node20',
    minify,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
    // `version` and the startup log name the release and commit built from (src/version.ts).
    define: { ROLLOUTS_COMPANION_BUILD: JSON.stringify(buildInfo()) },
  };
}

/** One ESM file (the companion) whose CommonJS dependencies (grpc-js, ...) still find require() and __dirname. */
function nodeEsm(minify) {
  return {
    ...nodeOptions(minify),
    format: 'esm',
    banner: {
      js: [
        "import { createRequire as __cr } from 'node:module';",
        "import { fileURLToPath as __fu } from 'node:url';",
        "import { dirname as __dn } from 'node:path';",
        'const require = __cr(import.meta.url);',
        'const __filename = __fu(import.meta.url);',
        'const __dirname = __dn(__filename);',
      ].join('\n'),
    },
  };
}

/** CommonJS for the plugin: `import()` becomes require(), import.meta.url the file's own URL. */
function nodeCjs(minify) {
  const options = nodeOptions(minify);
  return {
    ...options,
    format: 'cjs',
    supported: { 'dynamic-import': false },
    define: { ...options.define, 'import.meta.url': '__import_meta_url' },
    banner: { js: "var __import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
    alias: { 'whatwg-url': join(ROOT, 'scripts/bundle-shims/whatwg-url.mjs') },
  };
}

export const BUNDLE_NAME = 'rollouts-companion-plugin.cjs';
/** The plugin bundle's other files (src/cli/plugin-loader.ts gets the names through `define`). */
const PLUGIN_LAYOUT = {
  core: 'rollouts-companion-plugin.core.cjs',
  codeCache: 'rollouts-companion-plugin.core.cache',
  knownTypes: 'rollouts-companion-plugin.gob-types.json',
  firstReconcile: 'rollouts-companion-plugin.first-reconcile.gob',
  recordEnv: 'ROLLOUTS_COMPANION_RECORD_CODE_CACHE',
};
const PLUGIN_DEPS = 'plugin-deps';
/** A Rollout's first reconcile as Argo Rollouts' own plugin client sends it (scripts/code-cache/capture.ts). */
const FIRST_RECONCILE = join(ROOT, 'scripts/code-cache/calls.gob');
/** Packages every start runs (logger, argument parser): in the core file. */
const CORE_PACKAGES = new Set(['pino', 'commander']);

const packageName = (spec) => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');
const depsFile = (spec) => `${spec.replace(/^@/, '').replace(/\//g, '-')}.cjs`;

/**
 * An esbuild plugin that leaves `lazy` packages out: imported from `from`, each becomes a
 * require of its plugin-deps file. `collect` also adds every other package our own code
 * imports (outside CORE_PACKAGES) to `lazy`.
 */
function lazyPackages(lazy, from, collect) {
  return {
    name: 'lazy-packages',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (isBuiltin(args.path) || args.kind === 'entry-point') return undefined;
        const fromOurCode = !args.importer.includes(`${sep}node_modules${sep}`);
        if (collect && fromOurCode && !CORE_PACKAGES.has(packageName(args.path))) lazy.add(args.path);
        return lazy.has(args.path) ? { path: `${from}${depsFile(args.path)}`, external: true } : undefined;
      });
    },
  };
}

/**
 * Builds the plugin bundle into `outdir`; returns the entry's path. Records the controller's
 * gob type definitions and, with `codeCache`, the core's V8 code cache by running it under
 * `node` with PLUGIN_NODE_FLAGS (the cache is only valid for that node binary and those flags).
 */
export async function bundlePlugin({ outdir = join(ROOT, 'dist'), minify = false, codeCache = true, node = process.execPath } = {}) {
  mkdirSync(outdir, { recursive: true });
  // Also what the ES module layout of earlier versions left in a reused dist/.
  for (const stale of ['plugin-chunks', PLUGIN_DEPS, 'rollouts-companion-plugin.mjs', PLUGIN_LAYOUT.codeCache, PLUGIN_LAYOUT.knownTypes, PLUGIN_LAYOUT.firstReconcile]) {
    rmSync(join(outdir, stale), { recursive: true, force: true });
  }
  const lazy = new Set();
  await build({
    ...nodeCjs(minify),
    entryPoints: [join(ROOT, 'src/cli/plugin-main.ts')],
    outfile: join(outdir, PLUGIN_LAYOUT.core),
    plugins: [lazyPackages(lazy, `./${PLUGIN_DEPS}/`, true)],
  });
  await Promise.all(
    [...lazy].map((spec) =>
      build({
        ...nodeCjs(minify),
        stdin: { contents: `module.exports = require(${JSON.stringify(spec)});`, resolveDir: ROOT, loader: 'js' },
        outfile: join(outdir, PLUGIN_DEPS, depsFile(spec)),
        plugins: [lazyPackages(new Set([...lazy].filter((s) => s !== spec)), './', false)],
      }),
    ),
  );
  const options = nodeCjs(minify);
  await build({
    ...options,
    define: { ...options.define, PLUGIN_LAYOUT: JSON.stringify(PLUGIN_LAYOUT) },
    entryPoints: [join(ROOT, 'src/cli/plugin-loader.ts')],
    outfile: join(outdir, BUNDLE_NAME),
  });
  cpSync(join(ROOT, 'proto'), join(outdir, 'proto'), { recursive: true });
  cpSync(FIRST_RECONCILE, join(outdir, PLUGIN_LAYOUT.firstReconcile));
  const entry = join(outdir, BUNDLE_NAME);
  await record(codeCache ? [node, ...PLUGIN_NODE_FLAGS, entry] : undefined, outdir);
  return entry;
}

/**
 * Runs scripts/code-cache/record.ts (bundled on the fly) to record the controller's type
 * definitions into `outdir` and, if `argv` (which starts the bundle) is given, the core's code cache.
 */
async function record(argv, outdir) {
  const dir = mkdtempSync(join(tmpdir(), 'code-cache-record-'));
  try {
    const script = join(dir, 'record.mjs');
    await build({ ...nodeEsm(false), entryPoints: [join(ROOT, 'scripts/code-cache/record.ts')], outfile: script, logLevel: 'error' });
    const options = {
      argv,
      out: join(outdir, PLUGIN_LAYOUT.codeCache),
      knownTypes: join(outdir, PLUGIN_LAYOUT.knownTypes),
      recordEnv: PLUGIN_LAYOUT.recordEnv,
      calls: FIRST_RECONCILE,
      examples: join(ROOT, 'examples/pinned-routes'),
    };
    execFileSync(process.execPath, [script, JSON.stringify(options)], { stdio: ['ignore', 'ignore', 'inherit'] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const COMPANION_BUNDLE_NAME = 'rollouts-companion.mjs';

/**
 * The whole CLI (`serve` first of all) as one file, dist/rollouts-companion.mjs, with proto/
 * beside it: `serve` then loads no node_modules tree, which is most of its idle memory.
 */
export async function bundleCompanion({ outdir = join(ROOT, 'dist'), minify = false } = {}) {
  mkdirSync(outdir, { recursive: true });
  // gRPC health and reflection read their .proto files relative to their own __dirname: point
  // that at deps/<package>/… beside the bundle and copy the files there.
  const protoDirs = { 'grpc-health-check': 'proto', '@grpc/reflection': 'build/proto' };
  const protoPackages = Object.keys(protoDirs);
  const packageProtos = {
    name: 'package-protos',
    setup(b) {
      b.onLoad({ filter: /node_modules[\\/](grpc-health-check|@grpc[\\/]reflection)[\\/].*\.js$/ }, (args) => {
        const pkg = protoPackages.find((p) => args.path.includes(`node_modules/${p}/`));
        const dir = relative(join(ROOT, 'node_modules', pkg), dirname(args.path));
        const contents = readFileSync(args.path, 'utf8').replace(/\b__dirname\b/g, `(__dirname + ${JSON.stringify(`/deps/${pkg}/${dir}`)})`);
        return { contents, loader: 'js' };
      });
    },
  };
  for (const [pkg, dir] of Object.entries(protoDirs)) {
    cpSync(join(ROOT, 'node_modules', pkg, dir), join(outdir, 'deps', pkg, dir), { recursive: true });
  }
  await build({
    plugins: [packageProtos],
    entryPoints: { 'rollouts-companion': join(ROOT, 'src/cli/main.ts') },
    outdir,
    outExtension: { '.js': '.mjs' },
    ...nodeEsm(minify),
  });
  cpSync(join(ROOT, 'proto'), join(outdir, 'proto'), { recursive: true });
  return join(outdir, COMPANION_BUNDLE_NAME);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const value = (flag) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
  const outdir = value('--outdir') && resolve(value('--outdir'));
  (args.includes('--companion')
    ? bundleCompanion({ outdir, minify: args.includes('--minify') })
    : bundlePlugin({ outdir, minify: args.includes('--minify'), codeCache: !args.includes('--no-code-cache'), node: value('--node') }))
    .then((file) => process.stdout.write(`bundled ${file}\n`))
    .catch((err) => {
      process.stderr.write(`${err.stack ?? err}\n`);
      process.exit(1);
    });
}

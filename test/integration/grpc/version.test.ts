import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { createRemoteRouter, type RemoteRouter } from '../../../src/grpc/client.js';
import { trafficRouterService } from '../../../src/grpc/contract.js';
import { listen } from '../../../src/grpc/server.js';
import { addVersionService, type VersionReply } from '../../../src/grpc/version.js';
import { startApiServer, type ApiServer } from '../../../src/kube/apiserver/index.js';
import type { Rollout } from '../../../src/routing/rollout.js';
import { CONTRACT_VERSION } from '../../../src/version.js';
import { startCompanion } from '../../support/companion.js';

// Remote mode asks the companion for its contract version before forwarding anything, and
// `rollouts-companion version` says what a build is and whether a companion fits it.

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..', '..');
const CLI = ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts')];
const VERSION = (JSON.parse((await import('node:fs')).readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const rollout = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', metadata: { name: 'web', namespace: 'default' } } as Rollout;

/** A companion of another release: it counts TrafficRouter calls and reports `contract` (none: a release without the Version service). */
async function otherCompanion(contract: { version?: string }) {
  const calls: string[] = [];
  const server = new grpc.Server();
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const method of Object.keys(trafficRouterService())) {
    implementation[method] = (_call: unknown, callback: grpc.sendUnaryData<object>) => {
      calls.push(method);
      callback(null, { error: '', verified: 1, type: 'rollouts-companion/gatewayAPI' });
    };
  }
  server.addService(trafficRouterService(), implementation);
  if (contract.version !== undefined) {
    addVersionService(server, (): VersionReply => ({ version: '9.9.9', commit: 'abcdef123456', contractVersion: contract.version! }));
  }
  const address = `127.0.0.1:${await listen(server, '127.0.0.1:0')}`;
  return { address, calls, stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())) };
}

describe('contract versions between the plugin (remote mode) and the companion', function () {
  this.timeout(60_000);
  let client: RemoteRouter | undefined;
  afterEach(() => client?.close());

  it('forwards to a companion of the same contract major with a newer minor', async () => {
    const [major] = CONTRACT_VERSION.split('.');
    const companion = await otherCompanion({ version: `${major}.99` });
    client = createRemoteRouter({ address: companion.address, deadlineMs: 5000 });
    expect(await client.setWeight(rollout, 10, [])).to.deep.equal({ error: '' });
    expect(companion.calls).to.deep.equal(['SetWeight']);
    await companion.stop();
  });

  it('refuses a companion of another contract major, forwards nothing, and says which side to upgrade', async () => {
    const companion = await otherCompanion({ version: '99.0' });
    client = createRemoteRouter({ address: companion.address, deadlineMs: 5000 });
    const result = await client.setWeight(rollout, 10, []);
    const verify = await client.verifyWeight(rollout, 10, []);
    expect(result.error).to.equal(
      `companion ${companion.address} serves contract rollouts.companion.v1 99.0 (release 9.9.9), but this plugin (release ${VERSION}) ` +
        `needs ${CONTRACT_VERSION.split('.')[0]}.x at ${CONTRACT_VERSION} or later: upgrade the plugin (location and sha256 in argo-rollouts-config) ` +
        'to a release that speaks it; nothing was forwarded',
    );
    expect(verify).to.deep.equal({ verified: 0, error: result.error });
    expect(companion.calls).to.deep.equal([]);
    await companion.stop();
  });

  it('refuses a companion from before contract versions and says to upgrade it first', async () => {
    // Given a companion without the Version service
    const old = await otherCompanion({});
    client = createRemoteRouter({ address: old.address, deadlineMs: 5000 });
    // When the plugin forwards a call
    const refused = await client.setWeight(rollout, 10, []);
    // Then nothing reaches it and the error says to upgrade the companion first
    expect(refused.error).to.match(
      /^companion 127\.0\.0\.1:\d+ does not report its contract version .*: upgrade the companion first, then the plugin; nothing was forwarded$/,
    );
    expect(old.calls).to.deep.equal([]);
    await old.stop();
  });

  it('asks again after a refusal: an upgraded companion at the same address is used without restarting the plugin', async () => {
    const contract = { version: '99.0' as string | undefined };
    // (the stand-in reads `contract` at every GetVersion)
    const companion = await otherCompanion(contract);
    client = createRemoteRouter({ address: companion.address, deadlineMs: 5000 });
    expect((await client.setWeight(rollout, 10, [])).error).to.match(/serves contract rollouts.companion.v1 99.0/);
    contract.version = CONTRACT_VERSION;
    expect(await client.setWeight(rollout, 20, [])).to.deep.equal({ error: '' });
    expect(companion.calls).to.deep.equal(['SetWeight']);
    await companion.stop();
  });
});

describe('rollouts-companion version', function () {
  this.timeout(60_000);
  let api: ApiServer | undefined;
  afterEach(async () => api?.close());

  it('prints the release, the commit and the contract version', async () => {
    const { stdout } = await run(process.execPath, [...CLI, 'version']);
    // (run from source: no commit was recorded at build time)
    expect(stdout).to.equal(`rollouts-companion ${VERSION} (commit unknown), contract rollouts.companion.v1 ${CONTRACT_VERSION}\n`);
    const json = JSON.parse((await run(process.execPath, [...CLI, 'version', '--json'])).stdout);
    expect(json).to.deep.equal({ version: VERSION, commit: 'unknown', contractVersion: CONTRACT_VERSION });
  });

  it('--companion says whether a running companion fits this build', async () => {
    api = await startApiServer({ simulateGateway: true });
    const companion = await startCompanion(api.kubeConfig());
    try {
      const { stdout } = await run(process.execPath, [...CLI, 'version', '--companion', companion.address]);
      expect(stdout.split('\n')[1]).to.equal(
        `companion ${companion.address}: ${VERSION} (commit unknown), contract rollouts.companion.v1 ${CONTRACT_VERSION}: compatible`,
      );
    } finally {
      await companion.stop();
    }
    const old = await otherCompanion({});
    const failed = await run(process.execPath, [...CLI, 'version', '--companion', old.address]).then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failed?.code).to.equal(1);
    expect(failed?.stderr).to.match(/does not report its contract version .*upgrade the companion first/);
    await old.stop();
  });
});

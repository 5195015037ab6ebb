import { expect } from 'chai';
import { createServer } from 'node:net';
import { startApiServer, type ApiServer } from '../../../src/kube/apiserver/index.js';
import type { Rollout } from '../../../src/routing/rollout.js';
import { ruleNames, ruleWeights } from '../../support/routes.js';
import { startCompanion, type RunningCompanion } from '../../support/companion.js';
import { CANARY, describeRun, httpRoute, pluginBundle, requireHost, runHost, seedAndRollout, STABLE, topLevel } from './support.js';

// Remote mode: the plugin forwards every call to a companion over gRPC (--companion).

describe('plugin under the go-plugin host: remote mode (--companion)', function () {
  this.timeout(120_000);
  let api: ApiServer;
  let rollout: Rollout;

  before(async () => {
    requireHost();
    await pluginBundle();
  });
  beforeEach(async () => {
    api = await startApiServer({ simulateGateway: true });
    rollout = await seedAndRollout(api);
  });
  afterEach(async () => {
    await api.close();
  });

  describe('with the companion running', () => {
    let companion: RunningCompanion;
    beforeEach(async () => {
      companion = await startCompanion(api.kubeConfig());
    });
    afterEach(async () => {
      await companion.stop();
    });

    it('drives canary-route through the companion and never writes the pinned routes', async () => {
      const pinned = () => ['always-old-version', 'always-new-version'].map((n) => httpRoute(api, n).metadata.resourceVersion);
      const before = pinned();
      // When the controller's calls go through the plugin to the companion
      const run = await runHost(
        {
          rollout,
          calls: [
            { method: 'InitPlugin' },
            { method: 'Type' },
            { method: 'SetWeight', desiredWeight: 10 },
            { method: 'SetHeaderRoute', setHeaderRoute: { name: 'canary-header', match: [{ headerName: 'X-Canary', headerValue: { exact: 'yes' } }] } },
            { method: 'SetWeight', desiredWeight: 50 },
            { method: 'VerifyWeight', desiredWeight: 50 },
          ],
        },
        ['--companion', companion.address, '--deadline', '5000'],
      );
      // Then every call succeeds and the route shows them
      expect(run.code, describeRun(run)).to.equal(0);
      expect(topLevel(run).filter((l) => !l.ok), describeRun(run)).to.deep.equal([]);
      expect(topLevel(run)[1]!.type).to.equal('rollouts-companion/gatewayAPI');
      expect(ruleWeights(httpRoute(api, 'canary-route'))[1]).to.deep.equal({ [STABLE]: 50, [CANARY]: 50 });
      expect(ruleNames(httpRoute(api, 'canary-route'))).to.deep.equal(['canary-header', undefined]);
      expect(pinned()).to.deep.equal(before);
    });
  });

  it('answers a clear RpcError, not a hang, when the companion is down', async () => {
    // Given a port nobody listens on
    const port = await freePort();
    // When the controller calls every method (the host gives up on a call after 15 s)
    const run = await runHost(
      {
        rollout,
        calls: [
          { method: 'InitPlugin' },
          { method: 'UpdateHash', canaryHash: 'a', stableHash: 'b' },
          { method: 'SetWeight', desiredWeight: 10 },
          { method: 'SetHeaderRoute', setHeaderRoute: { name: 'canary-header', match: [{ headerName: 'X-Canary', headerValue: { exact: 'yes' } }] } },
          { method: 'SetMirrorRoute', setMirrorRoute: { name: 'canary-mirror', percentage: 50, match: [{ path: { prefix: '/api' } }] } },
          { method: 'VerifyWeight', desiredWeight: 10 },
          { method: 'RemoveManagedRoutes' },
          { method: 'Ping' },
        ],
      },
      ['--companion', `127.0.0.1:${port}`, '--deadline', '3000'],
      { callTimeout: '15s' },
    );
    // Then each routing call is an answer naming the companion, and the plugin itself stays healthy
    expect(run.code, describeRun(run)).to.equal(0);
    const lines = topLevel(run);
    // InitPlugin is answered before the gRPC client loads (issue #9.3): it cannot know yet
    expect(lines[0]).to.include({ method: 'InitPlugin', ok: true });
    for (const line of lines.slice(1, 7)) {
      expect(line.transportError, describeRun(run)).to.equal(undefined);
      expect(line.ok).to.equal(false);
      expect(line.rpcError).to.match(new RegExp(`companion 127\\.0\\.0\\.1:${port} (is unavailable|did not answer)`));
    }
    expect(lines[5]!.verified ?? 0).to.equal(0);
    expect(lines[7]).to.include({ method: 'Ping', ok: true });
    // And nothing was written
    expect(ruleWeights(httpRoute(api, 'canary-route'))).to.deep.equal([{ [STABLE]: undefined, [CANARY]: undefined }]);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer, type ApiServer } from '../../../src/kube/apiserver/index.js';
import { backend, route, service } from '../../support/builders.js';
import { ruleWeights } from '../../support/routes.js';
import { describeRun, httpRoute, pluginBundle, REALHOST, requireHost, runHost } from './support.js';

// Ping-pong as the controller really sends it: realhost is Argo Rollouts' own plugin client
// with its real Rollout types (v1.9.1: pingPong and status.canary.stablePingPong travel the
// same in 1.10, whose validation is what admits ping-pong for plugins). The plugin must find
// the stable Service in the gob-decoded status and make the pinned routes follow the flip.

const PING = 'web-ping';
const PONG = 'web-pong';

describe('plugin under realhost (Argo Rollouts’ own client and types): ping-pong', function () {
  this.timeout(120_000);
  let api: ApiServer;
  let kubeconfig: string;

  before(async () => {
    requireHost(REALHOST);
    await pluginBundle();
  });
  beforeEach(async () => {
    api = await startApiServer({ simulateGateway: true });
    api.apply([
      service(PING),
      service(PONG),
      route('HTTPRoute', 'canary-route', [{ backendRefs: [backend(PING), backend(PONG)] }]),
      route('HTTPRoute', 'always-old-version', [{ backendRefs: [backend(PING)] }]),
      route('HTTPRoute', 'always-new-version', [{ backendRefs: [backend(PONG)] }]),
    ]);
    kubeconfig = join(mkdtempSync(join(tmpdir(), 'plugin-kube-')), 'kubeconfig');
    await api.writeKubeconfig(kubeconfig);
  });
  afterEach(async () => {
    await api.close();
  });

  it('weighs by status.canary.stablePingPong and moves the pinned routes at the flip', async () => {
    const rollout = {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Rollout',
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        strategy: {
          canary: {
            pingPong: { pingService: PING, pongService: PONG },
            trafficRouting: {
              plugins: {
                'rollouts-companion/gatewayAPI': {
                  httpRoute: 'canary-route',
                  pinnedRoutes: { stable: ['always-old-version'], canary: ['always-new-version'] },
                },
              },
            },
          },
        },
      },
      status: { canary: { stablePingPong: 'ping' } },
    };
    const play = async (calls: Record<string, unknown>[]) => {
      const run = await runHost({ rollout, calls }, ['--kubeconfig', kubeconfig], { host: REALHOST });
      const lines = run.lines.filter((l) => l.i >= 0);
      expect(lines.map((l) => [l.method, l.ok, l.rpcError ?? '']), describeRun(run)).to.deep.equal(calls.map((c) => [c.method, true, '']));
    };
    const backendsOf = (name: string) => (httpRoute(api, name).spec.rules ?? []).flatMap((r) => (r.backendRefs as { name: string }[]).map((b) => b.name));

    // Ping is stable: the canary weight goes to pong; the pinned routes are not written.
    await play([{ method: 'InitPlugin' }, { method: 'UpdateHash', canaryHash: 'v2', stableHash: 'v1' }, { method: 'SetWeight', desiredWeight: 40 }]);
    expect(ruleWeights(httpRoute(api, 'canary-route'))).to.deep.equal([{ [PING]: 60, [PONG]: 40 }]);
    expect([backendsOf('always-old-version'), backendsOf('always-new-version')]).to.deep.equal([[PING], [PONG]]);

    // Promoted: the controller flips stablePingPong, then removes managed rules and sets 0.
    const flipped = { status: { canary: { stablePingPong: 'pong' } } };
    await play([
      { method: 'RemoveManagedRoutes', rolloutPatch: flipped },
      { method: 'UpdateHash', canaryHash: 'v2', stableHash: 'v2', rolloutPatch: flipped },
      { method: 'SetWeight', desiredWeight: 0, rolloutPatch: flipped },
    ]);
    expect(ruleWeights(httpRoute(api, 'canary-route'))).to.deep.equal([{ [PING]: 0, [PONG]: 100 }]);
    expect([backendsOf('always-old-version'), backendsOf('always-new-version')]).to.deep.equal([[PONG], [PING]]);
  });
});

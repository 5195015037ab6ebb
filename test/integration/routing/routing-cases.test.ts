import { expect } from 'chai';
import { startApiServer, type ApiServer } from '../../../src/kube/apiserver/index.js';
import { PLUGIN_TYPE } from '../../../src/routing/api.js';
import type { RouteObject } from '../../../src/routing/route-store.js';
import { startCompanion, type RunningCompanion } from '../../support/companion.js';
import { backend, CANARY_SVC, rolloutWith, route, service, STABLE_SVC } from '../../support/builders.js';
import { ruleWeights } from '../../support/routes.js';

// Each case through gRPC → companion → real client → in-process API server.

describe('companion over gRPC: route kinds, experiments and bad input', () => {
  let api: ApiServer;
  let companion: RunningCompanion;
  const get = (kind: string, name: string) =>
    api.get(kind === 'TCPRoute' || kind === 'TLSRoute' ? 'gateway.networking.k8s.io/v1alpha2' : 'gateway.networking.k8s.io/v1', kind, 'default', name) as unknown as RouteObject;

  beforeEach(async () => {
    api = await startApiServer();
    api.apply([service(STABLE_SVC), service(CANARY_SVC)]);
    companion = await startCompanion(api.kubeConfig());
  });
  afterEach(async () => {
    await companion.stop();
    await api.close();
  });

  it('moves only the rules that reference both Services in a multi-rule route', async () => {
    // Given /api and / split between stable and canary, /static on stable only
    api.apply([
      route('HTTPRoute', 'web', [
        { matches: [{ path: { type: 'PathPrefix', value: '/api' } }], backendRefs: [backend(STABLE_SVC), backend(CANARY_SVC)] },
        { matches: [{ path: { type: 'PathPrefix', value: '/static' } }], backendRefs: [backend(STABLE_SVC)] },
        { matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [backend(STABLE_SVC), backend(CANARY_SVC)] },
      ]),
    ]);
    // When the canary goes to 30%
    const r = await companion.client.setWeight(rolloutWith({ httpRoute: 'web' }), 30, []);
    // Then both split rules carry 70/30 and /static is as it was
    expect(r.error).to.equal('');
    expect(ruleWeights(get('HTTPRoute', 'web'))).to.deep.equal([
      { [STABLE_SVC]: 70, [CANARY_SVC]: 30 },
      { [STABLE_SVC]: undefined },
      { [STABLE_SVC]: 70, [CANARY_SVC]: 30 },
    ]);
  });

  it('adds experiment destinations, shrinks stable, and removes them when the experiment ends', async () => {
    api.apply([service('web-exp'), route('HTTPRoute', 'web', [{ backendRefs: [backend(STABLE_SVC), backend(CANARY_SVC)] }])]);
    const rollout = rolloutWith({ httpRoute: 'web' });
    // When an experiment takes 5% beside a 20% canary
    expect((await companion.client.setWeight(rollout, 20, [{ serviceName: 'web-exp', podTemplateHash: 'abc', weight: 5 }])).error).to.equal('');
    expect(ruleWeights(get('HTTPRoute', 'web'))).to.deep.equal([{ [STABLE_SVC]: 75, [CANARY_SVC]: 20, 'web-exp': 5 }]);
    // When it ends
    expect((await companion.client.setWeight(rollout, 20, [])).error).to.equal('');
    expect(ruleWeights(get('HTTPRoute', 'web'))).to.deep.equal([{ [STABLE_SVC]: 80, [CANARY_SVC]: 20 }]);
  });

  it('drives GRPCRoute, TCPRoute and TLSRoute with the same weights', async () => {
    api.apply([
      route('GRPCRoute', 'web-grpc', [{ backendRefs: [backend(STABLE_SVC, 9000), backend(CANARY_SVC, 9000)] }]),
      route('TCPRoute', 'web-tcp', [{ backendRefs: [backend(STABLE_SVC, 5432), backend(CANARY_SVC, 5432)] }]),
      route('TLSRoute', 'web-tls', [{ backendRefs: [backend(STABLE_SVC, 443), backend(CANARY_SVC, 443)] }]),
    ]);
    const rollout = rolloutWith({ grpcRoute: 'web-grpc', tcpRoutes: [{ name: 'web-tcp' }], tlsRoute: 'web-tls' });
    expect((await companion.client.setWeight(rollout, 40, [])).error).to.equal('');
    for (const [kind, name] of [['GRPCRoute', 'web-grpc'], ['TCPRoute', 'web-tcp'], ['TLSRoute', 'web-tls']] as const) {
      expect(ruleWeights(get(kind, name)), `${kind} ${name}`).to.deep.equal([{ [STABLE_SVC]: 60, [CANARY_SVC]: 40 }]);
    }
  });

  it('finds routes by label selector', async () => {
    api.apply([
      route('HTTPRoute', 'a', [{ backendRefs: [backend(STABLE_SVC), backend(CANARY_SVC)] }], { app: 'web' }),
      route('HTTPRoute', 'b', [{ backendRefs: [backend(STABLE_SVC), backend(CANARY_SVC)] }], { app: 'web' }),
      route('HTTPRoute', 'other', [{ backendRefs: [backend(STABLE_SVC), backend(CANARY_SVC)] }], { app: 'other' }),
    ]);
    expect((await companion.client.setWeight(rolloutWith({ httpRouteSelector: { matchLabels: { app: 'web' } } }), 10, [])).error).to.equal('');
    expect(ruleWeights(get('HTTPRoute', 'a'))).to.deep.equal([{ [STABLE_SVC]: 90, [CANARY_SVC]: 10 }]);
    expect(ruleWeights(get('HTTPRoute', 'b'))).to.deep.equal([{ [STABLE_SVC]: 90, [CANARY_SVC]: 10 }]);
    expect(ruleWeights(get('HTTPRoute', 'other'))).to.deep.equal([{ [STABLE_SVC]: undefined, [CANARY_SVC]: undefined }]);
  });

  it('names the route that lacks the canary backend and writes no route at all', async () => {
    // Given two managed routes, the second without the canary Service
    api.apply([
      route('HTTPRoute', 'good', [{ backendRefs: [backend(STABLE_SVC), backend(CANARY_SVC)] }]),
      route('HTTPRoute', 'bad', [{ backendRefs: [backend(STABLE_SVC)] }]),
    ]);
    const goodRv = get('HTTPRoute', 'good').metadata.resourceVersion;
    const r = await companion.client.setWeight(rolloutWith({ httpRoutes: [{ name: 'good' }, { name: 'bad' }] }), 10, []);
    expect(r.error).to.contain('HTTPRoute default/bad: no rule references both the stable Service "web-stable" and the canary Service "web-canary"');
    expect(get('HTTPRoute', 'good').metadata.resourceVersion).to.equal(goodRv);
    expect(companion.writes).to.deep.equal([]);
  });

  it('rejects a config typo, naming the key, on InitPlugin and SetWeight alike', async () => {
    const rollout = rolloutWith({ httpRoutte: 'web' });
    const init = await companion.client.initPlugin(rollout);
    expect(init.error).to.match(/^invalid plugin config "rollouts-companion\/gatewayAPI" of rollout default\/web: unknown key "httpRoutte"; accepted keys: /);
    expect((await companion.client.setWeight(rollout, 10, [])).error).to.equal(init.error);
  });

  it('reports a missing stable Service on UpdateHash', async () => {
    api.apply([route('HTTPRoute', 'web', [{ backendRefs: [backend(STABLE_SVC), backend(CANARY_SVC)] }])]);
    api.delete('v1', 'Service', 'default', STABLE_SVC);
    const r = await companion.client.updateHash(rolloutWith({ httpRoute: 'web' }), 'c1', 's1', []);
    expect(r.error).to.contain(STABLE_SVC);
  });

  it('refuses to move traffic while a pinned route points at the wrong Service, but still returns to stable', async () => {
    // Given the VIP route (pinned to stable) was edited to include the canary
    api.apply([
      route('HTTPRoute', 'web', [{ backendRefs: [backend(STABLE_SVC), backend(CANARY_SVC)] }]),
      route('HTTPRoute', 'vip', [{ backendRefs: [backend(STABLE_SVC), backend(CANARY_SVC)] }]),
    ]);
    const rollout = rolloutWith({ httpRoute: 'web', pinnedRoutes: { stable: ['vip'] } });
    const vipRv = get('HTTPRoute', 'vip').metadata.resourceVersion;
    // When the canary would go to 10%: refused, nothing written
    const r = await companion.client.setWeight(rollout, 10, []);
    expect(r.error).to.contain('HTTPRoute default/vip');
    expect(ruleWeights(get('HTTPRoute', 'web'))).to.deep.equal([{ [STABLE_SVC]: undefined, [CANARY_SVC]: undefined }]);
    // When traffic goes back to stable: allowed
    expect((await companion.client.setWeight(rollout, 0, [])).error).to.equal('');
    expect(ruleWeights(get('HTTPRoute', 'web'))).to.deep.equal([{ [STABLE_SVC]: 100, [CANARY_SVC]: 0 }]);
    // And the pinned route itself was never "fixed"
    expect(get('HTTPRoute', 'vip').metadata.resourceVersion).to.equal(vipRv);
  });

  it('answers Type with a stable name', async () => {
    expect(await companion.client.type()).to.equal(PLUGIN_TYPE);
  });
});

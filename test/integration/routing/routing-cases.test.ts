import { expect } from 'chai';
import { GatewayApiChannel, startApiServer, type ApiServer, type GatewayApiCrds } from '../../../src/kube/apiserver/index.js';
import { PLUGIN_TYPE } from '../../../src/routing/api.js';
import type { RouteObject } from '../../../src/routing/route-store.js';
import { startCompanion, type RunningCompanion } from '../../support/companion.js';
import { backend, CANARY_SVC, rolloutWith, route, service, STABLE_SVC } from '../../support/builders.js';
import { ruleNames, ruleWeights } from '../../support/routes.js';
import { traffic } from '../../support/traffic.js';

// Each case through gRPC → companion → real client → in-process API server; run on a server that
// keeps every field and on one with Gateway API v1.3 Standard CRDs (rules[].name pruned).

const ROLES = { stable: STABLE_SVC, canary: CANARY_SVC };
const SERVERS: { label: string; gatewayApi?: GatewayApiCrds }[] = [
  { label: '' },
  { label: ' (Gateway API v1.3 Standard CRDs)', gatewayApi: { version: 'v1.3.0', channel: GatewayApiChannel.Standard } },
];

for (const { label, gatewayApi } of SERVERS) describe(`companion over gRPC: route kinds, experiments and bad input${label}`, () => {
  let api: ApiServer;
  let companion: RunningCompanion;
  const get = (kind: string, name: string) =>
    api.get(kind === 'TCPRoute' || kind === 'TLSRoute' ? 'gateway.networking.k8s.io/v1alpha2' : 'gateway.networking.k8s.io/v1', kind, 'default', name) as unknown as RouteObject;

  beforeEach(async () => {
    api = await startApiServer(gatewayApi ? { gatewayApi } : {});
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
    const see = traffic([get('HTTPRoute', 'web')], ROLES);
    expect(see('GET web.example.com/api/x')).to.equal('stable 70 %, canary 30 %');
    expect(see('GET web.example.com/static/x')).to.equal('stable 100 %');
    expect(see('GET web.example.com/')).to.equal('stable 70 %, canary 30 %');
  });

  it('adds header and mirror rules per split rule where they win, and removes exactly them', async () => {
    // Given /api and / split, /static on stable only
    const rules = [
      { matches: [{ path: { type: 'PathPrefix', value: '/api' } }], backendRefs: [backend(STABLE_SVC), backend(CANARY_SVC)] },
      { matches: [{ path: { type: 'PathPrefix', value: '/static' } }], backendRefs: [backend(STABLE_SVC)] },
      { matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [backend(STABLE_SVC), backend(CANARY_SVC)] },
    ];
    api.apply([route('HTTPRoute', 'web', rules)]);
    const rollout = rolloutWith({ httpRoute: 'web' }, { managedRoutes: ['canary-header', 'canary-mirror'] });
    const requests = ['GET h/api/x', 'GET h/api/x X-Canary:yes', 'GET h/x x-debug:1', 'GET h/static/a X-Canary:yes'];
    const before = requests.map(traffic([get('HTTPRoute', 'web')], ROLES));
    // When a header route and a mirror route (same paths as the rules, by header) are set, twice
    for (let i = 0; i < 2; i++) {
      expect((await companion.client.setWeight(rollout, 20, [])).error).to.equal('');
      expect((await companion.client.setHeaderRoute(rollout, { name: 'canary-header', match: [{ headerName: 'X-Canary', headerValue: { exact: 'yes' } }] })).error).to.equal('');
      expect((await companion.client.setMirrorRoute(rollout, { name: 'canary-mirror', percentage: 50, match: [{ headers: { 'x-debug': { exact: '1' } } }] })).error).to.equal('');
    }
    // Then each split rule got one header and one mirror rule, before it (never duplicated)
    const names = ruleNames(get('HTTPRoute', 'web'));
    expect(names).to.deep.equal(gatewayApi ? Array(7).fill(undefined) : ['canary-header', 'canary-mirror', undefined, undefined, 'canary-header-1', 'canary-mirror-1', undefined]);
    const see = traffic([get('HTTPRoute', 'web')], ROLES);
    expect(see('GET h/api/x X-Canary:yes')).to.equal('canary 100 %');
    expect(see('GET h/x X-Canary:yes')).to.equal('canary 100 %');
    expect(see('GET h/x x-debug:1')).to.equal('stable 80 %, canary 20 %; mirrored to canary at 50 %');
    expect(see('GET h/api/x')).to.equal('stable 80 %, canary 20 %');
    expect(see('GET h/static/a X-Canary:yes')).to.equal('stable 100 %');
    // When they are removed and the weight returns to where it started
    expect((await companion.client.removeManagedRoutes(rollout)).error).to.equal('');
    expect((await companion.client.setWeight(rollout, 0, [])).error).to.equal('');
    const after = get('HTTPRoute', 'web');
    expect(ruleNames(after)).to.deep.equal([undefined, undefined, undefined]);
    expect(requests.map(traffic([after], ROLES))).to.deep.equal(before.map((t) => t.replace('stable 50 %, canary 50 %', 'stable 100 %')));
  });

  // A ruleName needs rules[].name, which these CRDs prune.
  if (!gatewayApi) it('with a ruleName, the mirror rule derived from the named rule follows its weight; other rules stay as written', async () => {
    // Given the named rule split between stable and canary, and /static split 90/10 by hand
    api.apply([
      route('HTTPRoute', 'web', [
        { name: 'main', matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [backend(STABLE_SVC), backend(CANARY_SVC)] },
        { matches: [{ path: { type: 'PathPrefix', value: '/static' } }], backendRefs: [{ ...backend(STABLE_SVC), weight: 90 }, { ...backend(CANARY_SVC), weight: 10 }] },
      ]),
    ]);
    const rollout = rolloutWith({ httpRoutes: [{ name: 'web', ruleName: 'main' }] }, { managedRoutes: ['canary-mirror'] });
    // When the canary is at 10 % with a mirror step, then goes to 60 %
    expect((await companion.client.setWeight(rollout, 10, [])).error).to.equal('');
    expect((await companion.client.setMirrorRoute(rollout, { name: 'canary-mirror', percentage: 100, match: [{ headers: { 'x-debug': { exact: '1' } } }] })).error).to.equal('');
    expect((await companion.client.setWeight(rollout, 60, [])).error).to.equal('');
    // Then a mirrored request of the named rule is split as the rule is; /static's split and its mirror copy are the user's
    const see = traffic([get('HTTPRoute', 'web')], ROLES);
    expect(see('GET h/x')).to.equal('stable 40 %, canary 60 %');
    expect(see('GET h/x x-debug:1')).to.equal('stable 40 %, canary 60 %; mirrored to canary at 100 %');
    expect(see('GET h/static/a')).to.equal('stable 90 %, canary 10 %');
    expect(see('GET h/static/a x-debug:1')).to.equal('stable 90 %, canary 10 %; mirrored to canary at 100 %');
  });

  it('drives a route in namespace gateway whose backends live in namespace app; other kinds are left alone', async () => {
    // Given the Services and Rollout in app, the route in gateway referring to app's Services (ReferenceGrant), and a ServiceImport
    const inApp = (name: string) => ({ ...service(name), metadata: { name, namespace: 'app' } });
    api.apply([inApp(STABLE_SVC), inApp(CANARY_SVC), inApp('web-exp')]);
    // Weight 0: a standby in another cluster, kept as the user wrote it.
    const imported = { group: 'multicluster.x-k8s.io', kind: 'ServiceImport', name: CANARY_SVC, port: 80, weight: 0 };
    const r = route('HTTPRoute', 'web', [
      { backendRefs: [{ ...backend(STABLE_SVC), namespace: 'app' }, { ...backend(CANARY_SVC), namespace: 'app' }, imported] },
      // A backendRef without namespace means gateway/web-canary: not the Rollout's Service.
      { matches: [{ path: { type: 'PathPrefix', value: '/local' } }], backendRefs: [backend(STABLE_SVC), backend(CANARY_SVC)] },
    ]);
    // The route's owner consents to Rollouts of namespace app (src/security/consent.ts).
    api.apply([{ ...r, metadata: { ...r.metadata, namespace: 'gateway', annotations: { 'rollouts-companion.argoproj.io/allow-rollouts-from': 'app' } } }]);
    const base = rolloutWith({ httpRoute: 'web', namespace: 'gateway' }, { managedRoutes: ['canary-header'] });
    const rollout = { ...base, metadata: { ...base.metadata, namespace: 'app' } };
    const getGw = () => api.get('gateway.networking.k8s.io/v1', 'HTTPRoute', 'gateway', 'web') as unknown as RouteObject;
    // When the canary goes to 30 % with a 10 % experiment and a header route
    expect((await companion.client.setWeight(rollout, 30, [{ serviceName: 'web-exp', podTemplateHash: 'x', weight: 10 }])).error).to.equal('');
    expect((await companion.client.setHeaderRoute(rollout, { name: 'canary-header', match: [{ headerName: 'X-Canary', headerValue: { exact: 'yes' } }] })).error).to.equal('');
    // Then app's Services carry the split, the experiment is added in app, the ServiceImport and the local rule are untouched
    const stored = getGw();
    const rulesOf = stored.spec.rules as { backendRefs: Record<string, unknown>[] }[];
    const split = rulesOf.find((x) => x.backendRefs.length === 4)!;
    expect(split.backendRefs).to.deep.equal([
      { kind: 'Service', name: STABLE_SVC, namespace: 'app', port: 80, weight: 60 },
      { kind: 'Service', name: CANARY_SVC, namespace: 'app', port: 80, weight: 30 },
      imported,
      { name: 'web-exp', namespace: 'app', port: 80, weight: 10 },
    ]);
    const see = traffic([stored], { ...ROLES, experiment: 'web-exp' });
    expect(see('GET h/')).to.equal('stable 60 %, canary 30 %, experiment 10 %');
    expect(see('GET h/local/x')).to.equal('stable 50 %, canary 50 %');
    expect(see('GET h/ X-Canary:yes')).to.equal('canary 100 %');
  });

  it('adds experiment destinations, shrinks stable, and removes them when the experiment ends', async () => {
    api.apply([service('web-exp'), route('HTTPRoute', 'web', [{ backendRefs: [backend(STABLE_SVC), backend(CANARY_SVC)] }])]);
    const rollout = rolloutWith({ httpRoute: 'web' });
    // When an experiment takes 5% beside a 20% canary
    expect((await companion.client.setWeight(rollout, 20, [{ serviceName: 'web-exp', podTemplateHash: 'abc', weight: 5 }])).error).to.equal('');
    expect(ruleWeights(get('HTTPRoute', 'web'))).to.deep.equal([{ [STABLE_SVC]: 75, [CANARY_SVC]: 20, 'web-exp': 5 }]);
    expect(traffic([get('HTTPRoute', 'web')], { ...ROLES, experiment: 'web-exp' })('GET h/')).to.equal('stable 75 %, canary 20 %, experiment 5 %');
    // When it ends
    expect((await companion.client.setWeight(rollout, 20, [])).error).to.equal('');
    expect(ruleWeights(get('HTTPRoute', 'web'))).to.deep.equal([{ [STABLE_SVC]: 80, [CANARY_SVC]: 20 }]);
    expect(traffic([get('HTTPRoute', 'web')], ROLES)('GET h/')).to.equal('stable 80 %, canary 20 %');
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
    expect(traffic([get('GRPCRoute', 'web-grpc')], ROLES)('GRPC h shop.Cart/Add')).to.equal('stable 60 %, canary 40 %');
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

describe('companion over gRPC: a mirror percentage on CRDs without requestMirror.percent (Gateway API v1.2 Standard)', () => {
  let api: ApiServer;
  let companion: RunningCompanion;
  const get = () => api.get('gateway.networking.k8s.io/v1', 'HTTPRoute', 'default', 'web') as unknown as RouteObject;
  beforeEach(async () => {
    api = await startApiServer({ gatewayApi: { version: 'v1.2.0', channel: GatewayApiChannel.Standard } });
    api.apply([service(STABLE_SVC), service(CANARY_SVC), route('HTTPRoute', 'web', [{ backendRefs: [backend(STABLE_SVC), backend(CANARY_SVC)] }])]);
    companion = await startCompanion(api.kubeConfig());
  });
  afterEach(async () => {
    await companion.stop();
    await api.close();
  });

  const rollout = rolloutWith({ httpRoute: 'web' }, { managedRoutes: ['canary-mirror'] });
  const mirror = (percentage: number) => ({ name: 'canary-mirror', percentage, match: [{ headers: { 'x-debug': { exact: '1' } } }] });

  it('Given a 20 % mirror step, Then it fails naming the CRDs, and the route is not written (it would mirror every request)', async () => {
    expect((await companion.client.setWeight(rollout, 10, [])).error).to.equal('');
    const before = get();
    const puts = () => api.requestLog.filter((r) => r.method === 'PUT' && r.path.endsWith('/httproutes/web'));
    const putsBefore = puts().length;
    // When the step asks for 20 %, twice (the controller retries on its next reconcile)
    for (let i = 0; i < 2; i++) {
      const r = await companion.client.setMirrorRoute(rollout, mirror(20));
      expect(r.error).to.equal(
        'setMirrorRoute "canary-mirror": HTTPRoute default/web would mirror every request, not 20%: the API server drops ' +
          "requestMirror.percent (the Standard channel's Gateway API CRDs have it from v1.3). Nothing was written; install " +
          'Gateway API v1.3 or later, or set percentage: 100',
      );
    }
    // Then only dry runs went out, and requests go where they went
    expect(puts().slice(putsBefore).map((r) => r.query)).to.deep.equal(['dryRun=All', 'dryRun=All']);
    expect(get().metadata.resourceVersion).to.equal(before.metadata.resourceVersion);
    expect(traffic([get()], ROLES)('GET h/x x-debug:1')).to.equal('stable 90 %, canary 10 %');
  });

  it('Given a 100 % mirror step, Then it is written without a dry run and mirrors every matching request', async () => {
    expect((await companion.client.setWeight(rollout, 0, [])).error).to.equal('');
    expect((await companion.client.setMirrorRoute(rollout, mirror(100))).error).to.equal('');
    expect(api.requestLog.some((r) => r.query.includes('dryRun'))).to.equal(false);
    expect(traffic([get()], ROLES)('GET h/x x-debug:1')).to.equal('stable 100 %; mirrored to canary at 100 %');
    expect(traffic([get()], ROLES)('GET h/x')).to.equal('stable 100 %');
  });
});

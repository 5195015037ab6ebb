import { expect } from 'chai';
import { TrafficRouter } from '../../../src/routing/router.js';
import { CANARY, EXPERIMENTS, httpRoute, IN_PROGRESS, prefix, rollout, route, seedConfig, seedRoutes, seedStore, STABLE, svc } from './fixtures.js';
import { FakeRouteStore } from './fake-store.js';
import { RouteStoreError } from '../../../src/routing/route-store.js';
import { Verified } from '../../../src/routing/api.js';
import { traffic } from '../../support/traffic.js';
import { ROLES } from './fixtures.js';

// SetWeight through TrafficRouter: what lands in the routes, and what does not.

const setup = (plugin: unknown, routes = seedRoutes()) => {
  const store = seedStore(routes);
  const warnings: { message: string; fields: Record<string, unknown> }[] = [];
  const router = new TrafficRouter({ store, onWarning: (message, fields) => warnings.push({ message, fields }) });
  return { store, router, warnings, ro: rollout(plugin) };
};
const rulesOf = (store: FakeRouteStore, kind: Parameters<FakeRouteStore['route']>[0], name: string) => store.route(kind, name).spec.rules;

describe('routing: setWeight', () => {
  it('changes only the rules that reference both Services in a multi-rule route', async () => {
    const multi = route('HTTPRoute', 'multi', {
      rules: [
        { matches: [prefix('/static')], backendRefs: [svc('cdn')] },
        { matches: [prefix('/')], backendRefs: [svc(STABLE), svc(CANARY)] },
        { matches: [prefix('/admin')], backendRefs: [svc(STABLE)] },
        { matches: [prefix('/v2')], backendRefs: [svc(STABLE, { weight: 5 }), svc(CANARY, { weight: 5 })] },
      ],
    });
    const { store, router, ro } = setup({ httpRoute: 'multi' }, [multi]);
    expect((await router.setWeight(ro, 30, [])).error).to.equal('');
    expect(rulesOf(store, 'HTTPRoute', 'multi')).to.deep.equal([
      { matches: [prefix('/static')], backendRefs: [svc('cdn')] },
      { matches: [prefix('/')], backendRefs: [svc(STABLE, { weight: 70 }), svc(CANARY, { weight: 30 })] },
      { matches: [prefix('/admin')], backendRefs: [svc(STABLE)] },
      { matches: [prefix('/v2')], backendRefs: [svc(STABLE, { weight: 70 }), svc(CANARY, { weight: 30 })] },
    ]);
    const see = traffic([store.route('HTTPRoute', 'multi')], ROLES);
    expect(['GET h/', 'GET h/v2/x', 'GET h/admin', 'GET h/static/a.css'].map(see)).to.deep.equal([
      'stable 70 %, canary 30 %',
      'stable 70 %, canary 30 %',
      'stable 100 %',
      'cdn 100 %',
    ]);
  });

  it('drives GRPCRoute, TCPRoute and TLSRoute rules the same way', async () => {
    const backends = () => [{ name: STABLE, port: 9000 }, { name: CANARY, port: 9000 }];
    const routes = [
      route('GRPCRoute', 'g', { rules: [{ matches: [{ method: { service: 'a.B' } }], backendRefs: backends() }] }),
      route('TCPRoute', 't', { rules: [{ backendRefs: backends() }] }),
      route('TLSRoute', 's', { hostnames: ['db.example.com'], rules: [{ backendRefs: backends() }] }),
    ];
    const { store, router, ro } = setup({ grpcRoute: 'g', tcpRoute: 't', tlsRoutes: [{ name: 's' }] }, routes);
    expect((await router.setWeight(ro, 25, [])).error).to.equal('');
    const weighted = [{ name: STABLE, port: 9000, weight: 75 }, { name: CANARY, port: 9000, weight: 25 }];
    expect(rulesOf(store, 'GRPCRoute', 'g')).to.deep.equal([{ matches: [{ method: { service: 'a.B' } }], backendRefs: weighted }]);
    expect(rulesOf(store, 'TCPRoute', 't')).to.deep.equal([{ backendRefs: weighted }]);
    expect(rulesOf(store, 'TLSRoute', 's')).to.deep.equal([{ backendRefs: weighted }]);
    expect(traffic([store.route('GRPCRoute', 'g')], ROLES)('GRPC h a.B/Get')).to.equal('stable 75 %, canary 25 %');
    for (const [kind, name] of [['GRPCRoute', 'g'], ['TCPRoute', 't'], ['TLSRoute', 's']] as const) {
      expect(store.route(kind, name).metadata.labels).to.deep.equal({ [IN_PROGRESS]: 'in-progress' });
    }
  });

  it('adds experiment backends, shrinks stable, removes them when no longer listed, and never touches the user’s own', async () => {
    const withThird = httpRoute('canary-route', 'app.example.com', [svc(STABLE), svc(CANARY), svc('legacy', { weight: 0 })]);
    const { store, router, ro } = setup(seedConfig(), [withThird, ...seedRoutes().slice(1)]);
    const exp = [{ serviceName: 'exp-a', weight: 10 }, { serviceName: 'exp-b', weight: 5 }];
    expect((await router.setWeight(ro, 20, exp)).error).to.equal('');
    let r = store.route('HTTPRoute', 'canary-route');
    expect(r.spec.rules![0]!.backendRefs).to.deep.equal([
      svc(STABLE, { weight: 65 }),
      svc(CANARY, { weight: 20 }),
      svc('legacy', { weight: 0 }),
      { name: 'exp-a', port: 80, weight: 10 },
      { name: 'exp-b', port: 80, weight: 5 },
    ]);
    expect(r.metadata.annotations?.[EXPERIMENTS]).to.equal('["exp-a","exp-b"]');
    expect(traffic([r], ROLES)('GET app.example.com/')).to.equal('stable 65 %, canary 20 %, exp-a 10 %, exp-b 5 %');

    expect((await router.setWeight(ro, 20, [{ serviceName: 'exp-b', weight: 30 }])).error).to.equal('');
    r = store.route('HTTPRoute', 'canary-route');
    expect(r.spec.rules![0]!.backendRefs).to.deep.equal([
      svc(STABLE, { weight: 50 }),
      svc(CANARY, { weight: 20 }),
      svc('legacy', { weight: 0 }),
      { name: 'exp-b', port: 80, weight: 30 },
    ]);

    expect((await router.setWeight(ro, 0, [])).error).to.equal('');
    r = store.route('HTTPRoute', 'canary-route');
    expect(r.spec.rules![0]!.backendRefs).to.deep.equal([svc(STABLE, { weight: 100 }), svc(CANARY, { weight: 0 }), svc('legacy', { weight: 0 })]);
    expect(r.metadata.annotations?.[EXPERIMENTS]).to.equal(undefined);
    expect(traffic([r], ROLES)('GET app.example.com/')).to.equal('stable 100 %');
  });

  it('rejects weights out of range before reading anything', async () => {
    const { store, router, ro } = setup(seedConfig());
    expect((await router.setWeight(ro, 101, [])).error).to.equal('desired canary weight 101 must be an integer between 0 and 100');
    expect((await router.setWeight(ro, 60, [{ serviceName: 'e', weight: 50 }])).error).to.equal(
      'canary weight 60 plus additional destination weights 50 exceed 100',
    );
    expect((await router.setWeight(ro, 10, [{ weight: 5 }])).error).to.equal('additionalDestinations[0].serviceName must be a non-empty string');
    expect(store.writes).to.deep.equal([]);
  });

  it('does not write when nothing changes', async () => {
    const { store, router, ro } = setup(seedConfig());
    await router.setWeight(ro, 10, []);
    expect(store.writes).to.have.length(1);
    await router.setWeight(ro, 10, []);
    await router.setWeight(ro, 10, []);
    expect(store.writes).to.have.length(1);
  });

  it('re-runs on a 409 Conflict, keeping the concurrent change', async () => {
    const { store, router, ro } = setup(seedConfig());
    store.interfere('HTTPRoute', 'canary-route', (r) => {
      r.metadata.labels = { team: 'web' };
    });
    expect((await router.setWeight(ro, 40, [])).error).to.equal('');
    const r = store.route('HTTPRoute', 'canary-route');
    expect(store.conflicts).to.equal(1);
    expect(r.metadata.labels).to.deep.equal({ team: 'web', [IN_PROGRESS]: 'in-progress' });
    expect(r.spec.rules![0]!.backendRefs).to.deep.equal([svc(STABLE, { weight: 60 }), svc(CANARY, { weight: 40 })]);
  });

  it('passes the store’s one-line error through as it is: no repeated prefix, no client dump', async () => {
    const { store, router, ro } = setup(seedConfig());
    const line = 'updating HTTPRoute default/canary-route: forbidden: RBAC must allow verb "update" on "httproutes.gateway.networking.k8s.io" in namespace "default"';
    store.update = async () => {
      throw new RouteStoreError(line, { cause: new Error('HTTP-Code: 403 Message: Unknown API Status Code! Body: {} Headers: {}') });
    };
    expect((await router.setWeight(ro, 10, [])).error).to.equal(line);
  });

  it('names a missing route', async () => {
    const { store, router, ro } = setup({ httpRoutes: [{ name: 'canary-route' }, { name: 'gone' }] });
    expect((await router.setWeight(ro, 10, [])).error).to.equal('HTTPRoute default/gone not found');
    expect(store.writes).to.deep.equal([]);
  });

  it('names a route without a rule to split, and writes none of the routes', async () => {
    const { store, router, ro } = setup({ httpRoutes: [{ name: 'canary-route' }, { name: 'always-old-version' }] });
    expect((await router.setWeight(ro, 10, [])).error).to.equal(
      `HTTPRoute default/always-old-version: no rule references both the stable Service "${STABLE}" and the canary Service "${CANARY}" in spec.rules[].backendRefs; missing: canary Service "${CANARY}"`,
    );
    expect(store.writes).to.deep.equal([]);
  });

  it('says so when both Services are referenced, but by different rules', async () => {
    const split = route('HTTPRoute', 'split', { rules: [{ backendRefs: [svc(STABLE)] }, { backendRefs: [svc(CANARY)] }] });
    const { router, ro } = setup({ httpRoute: 'split' }, [split]);
    expect((await router.setWeight(ro, 10, [])).error).to.equal(
      `HTTPRoute default/split: no rule references both the stable Service "${STABLE}" and the canary Service "${CANARY}" in spec.rules[].backendRefs; they are referenced by different rules`,
    );
  });

  it('ignores backendRefs that are not core Services in the Services’ namespace', async () => {
    const other = route('HTTPRoute', 'other', {
      rules: [{ backendRefs: [svc(STABLE, { namespace: 'elsewhere' }), { name: CANARY, group: 'example.io', kind: 'Backend' }] }],
    });
    const { router, ro } = setup({ httpRoute: 'other' }, [other]);
    expect((await router.setWeight(ro, 10, [])).error).to.match(/missing: stable Service "argo-rollouts-stable-service", canary Service/);
  });

  it('finds routes by label selector and leaves pinned ones alone', async () => {
    const routes = seedRoutes().map((r) => ({ ...r, metadata: { ...r.metadata, labels: { app: 'demo' } } }));
    const { store, router, ro } = setup(
      { httpRouteSelector: { matchLabels: { app: 'demo' } }, pinnedRoutes: seedConfig().pinnedRoutes },
      routes,
    );
    expect((await router.setWeight(ro, 10, [])).error).to.equal('');
    expect(store.writes).to.deep.equal(['HTTPRoute default/canary-route']);
  });

  it('refuses to move or verify traffic when the selectors match no route, and says which', async () => {
    const { store, router, ro, warnings } = setup({
      httpRouteSelector: { matchLabels: { app: 'typo' } },
      grpcRouteSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }] },
    });
    const why =
      'no route to manage: no HTTPRoute in namespace default matches the label selector "app=typo", ' +
      'and no GRPCRoute in namespace default matches the label selector "tier in (a,b)"; the canary weight can be neither set nor verified';
    expect((await router.setWeight(ro, 10, [])).error).to.equal(why);
    expect(await router.verifyWeight(ro, 10, [])).to.deep.equal({ verified: Verified.NotVerified, error: why });
    expect((await router.initPlugin(ro)).error).to.equal(why);
    // An abort still goes through: there is no traffic to take back, and UpdateHash only warns.
    expect((await router.setWeight(ro, 0, [])).error).to.equal('');
    expect((await router.updateHash(ro, 'a', 'b', [])).error).to.equal('');
    expect(warnings.map((w) => w.message)).to.deep.equal([why]);
    expect(store.writes).to.deep.equal([]);
  });

  it('respects disableInProgressLabel and a custom label', async () => {
    let s = setup({ ...seedConfig(), disableInProgressLabel: true });
    await s.router.setWeight(s.ro, 10, []);
    expect(s.store.route('HTTPRoute', 'canary-route').metadata.labels).to.equal(undefined);
    s = setup({ ...seedConfig(), inProgressLabelKey: 'example.com/canary', inProgressLabelValue: 'yes' });
    await s.router.setWeight(s.ro, 10, []);
    expect(s.store.route('HTTPRoute', 'canary-route').metadata.labels).to.deep.equal({ 'example.com/canary': 'yes' });
  });
});

describe('routing: pinned routes', () => {
  const brokenPin = () => [seedRoutes()[0]!, httpRoute('always-old-version', 'old.example.com', [svc(STABLE), svc(CANARY)]), seedRoutes()[2]!];
  const violation =
    `pinned route HTTPRoute default/always-old-version must reference only the stable Service "${STABLE}", ` +
    `but spec.rules[0].backendRefs[1] references Service "${CANARY}"`;

  it('refuses a canary weight above 0 while a pin is broken, writing nothing', async () => {
    const { store, router, ro } = setup(seedConfig(), brokenPin());
    expect((await router.setWeight(ro, 10, [])).error).to.equal(`refusing to set canary weight 10: ${violation}`);
    expect(store.writes).to.deep.equal([]);
  });

  it('never blocks the return to stable (weight 0): proceeds and warns', async () => {
    const { store, router, ro, warnings } = setup(seedConfig(), brokenPin());
    store.put({ ...store.route('HTTPRoute', 'canary-route'), spec: { rules: [{ backendRefs: [svc(STABLE, { weight: 50 }), svc(CANARY, { weight: 50 })] }] } });
    expect((await router.setWeight(ro, 0, [])).error).to.equal('');
    expect(store.route('HTTPRoute', 'canary-route').spec.rules![0]!.backendRefs).to.deep.equal([svc(STABLE, { weight: 100 }), svc(CANARY, { weight: 0 })]);
    expect(traffic([store.route('HTTPRoute', 'canary-route')], ROLES)('GET app.example.com/')).to.equal('stable 100 %');
    expect(warnings).to.deep.equal([{ message: violation, fields: { rollout: 'default/demo', plugin: 'rollouts-companion/gatewayAPI' } }]);
  });

  it('reports a missing pinned route, a pin to the wrong version and a route without backends', async () => {
    const routes = [seedRoutes()[0]!, httpRoute('always-new-version', 'new.example.com', [svc(STABLE)]), route('HTTPRoute', 'redirect', { rules: [{}] })];
    const { router, ro } = setup({ httpRoute: 'canary-route', pinnedRoutes: { stable: ['always-old-version', 'redirect'], canary: ['always-new-version'] } }, routes);
    expect((await router.initPlugin(ro)).error).to.equal(
      [
        'pinned route HTTPRoute default/always-old-version (pinned to stable) not found',
        `pinned route HTTPRoute default/redirect has no backendRefs; it must reference the stable Service "${STABLE}"`,
        `pinned route HTTPRoute default/always-new-version must reference only the canary Service "${CANARY}", but spec.rules[0].backendRefs[0] references Service "${STABLE}"`,
      ].join('; '),
    );
  });

  it('UpdateHash warns about a broken pin but does not fail (it would block an abort)', async () => {
    const { store, router, ro, warnings } = setup(seedConfig(), brokenPin());
    expect((await router.updateHash(ro, 'a', 'b', [])).error).to.equal('');
    expect(warnings.map((w) => w.message)).to.deep.equal([violation]);
    expect(store.writes).to.deep.equal([]);
  });

  it('UpdateHash and InitPlugin report missing Services', async () => {
    const { router, ro } = setup(seedConfig());
    const bare = new TrafficRouter({ store: new FakeRouteStore(seedRoutes()) });
    const expected = `stable Service default/${STABLE} not found; canary Service default/${CANARY} not found`;
    expect((await bare.updateHash(ro, 'a', 'b', [])).error).to.equal(expected);
    expect((await bare.initPlugin(ro)).error).to.equal(expected);
    expect((await router.initPlugin()).error).to.equal('');
  });
});

import { expect } from 'chai';
import { TrafficRouter } from '../../../src/routing/router.js';
import { CANARY, MANAGED_RULES, prefix, rollout, route, seedConfig, seedRoutes, seedStore, STABLE, svc } from './fixtures.js';

// Header and mirror rules: built per source rule, named after the managed route, recorded in
// an annotation, and the only rules the companion ever removes.

const setup = (plugin: unknown, routes = seedRoutes(), managed?: string[]) => {
  const store = seedStore(routes);
  return { store, router: new TrafficRouter({ store }), ro: rollout(plugin, managed) };
};
const header = (name: string, value: Record<string, string>) => ({ name: 'canary-header', match: [{ headerName: name, headerValue: value }] });
const mirrorFilter = (percent?: number) => ({
  type: 'RequestMirror',
  requestMirror: { backendRef: { name: CANARY, port: 80 }, ...(percent !== undefined && { percent }) },
});

// Two source rules and one rule that does not reach the canary.
const twoSources = () =>
  route('HTTPRoute', 'web', {
    rules: [
      { matches: [prefix('/')], backendRefs: [svc(STABLE, { weight: 100 }), svc(CANARY, { weight: 0 })] },
      { name: 'own', matches: [prefix('/static')], backendRefs: [svc('cdn')] },
      {
        matches: [{ path: { type: 'Exact', value: '/login' }, method: 'POST' }],
        filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-a', value: '1' }] } }],
        backendRefs: [svc(STABLE, { weight: 100 }), svc(CANARY, { weight: 0 })],
      },
    ],
  });

describe('routing: setHeaderRoute', () => {
  it('turns prefix and regex header values into anchored regular expressions', async () => {
    const { store, router, ro } = setup(seedConfig());
    expect((await router.setHeaderRoute(ro, header('X-Group', { prefix: 'beta.' }))).error).to.equal('');
    expect(store.route('HTTPRoute', 'canary-route').spec.rules![1]!.matches).to.deep.equal([
      { ...prefix('/'), headers: [{ type: 'RegularExpression', name: 'X-Group', value: '^beta\\..*' }] },
    ]);
    expect((await router.setHeaderRoute(ro, header('X-Group', { regex: 'a|b' }))).error).to.equal('');
    expect(store.route('HTTPRoute', 'canary-route').spec.rules![1]!.matches).to.deep.equal([
      { ...prefix('/'), headers: [{ type: 'RegularExpression', name: 'X-Group', value: 'a|b' }] },
    ]);
  });

  it('adds one rule per source rule, suffixed -1, -2, copying matches and filters', async () => {
    const { store, router, ro } = setup({ httpRoute: 'web' }, [twoSources()]);
    expect((await router.setHeaderRoute(ro, header('X-Canary', { exact: 'yes' }))).error).to.equal('');
    const r = store.route('HTTPRoute', 'web');
    const h = { type: 'Exact', name: 'X-Canary', value: 'yes' };
    expect(r.spec.rules!.slice(3)).to.deep.equal([
      { name: 'canary-header-1', matches: [{ ...prefix('/'), headers: [h] }], backendRefs: [svc(CANARY)] },
      {
        name: 'canary-header-2',
        matches: [{ path: { type: 'Exact', value: '/login' }, method: 'POST', headers: [h] }],
        filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-a', value: '1' }] } }],
        backendRefs: [svc(CANARY)],
      },
    ]);
    expect(JSON.parse(r.metadata.annotations![MANAGED_RULES]!)).to.deep.equal({ 'canary-header': ['canary-header-1', 'canary-header-2'] });
  });

  it('replaces its own rules in place when the match changes, and writes nothing when it does not', async () => {
    const { store, router, ro } = setup(seedConfig());
    await router.setHeaderRoute(ro, header('X-Canary', { exact: 'yes' }));
    await router.setMirrorRoute(ro, { name: 'canary-mirror', match: [{ path: { prefix: '/api' } }] });
    await router.setHeaderRoute(ro, header('X-Canary', { exact: 'please' }));
    const names = store.route('HTTPRoute', 'canary-route').spec.rules!.map((r) => r.name);
    expect(names).to.deep.equal([undefined, 'canary-header', 'canary-mirror']);
    const writes = store.writes.length;
    await router.setHeaderRoute(ro, header('X-Canary', { exact: 'please' }));
    await router.setMirrorRoute(ro, { name: 'canary-mirror', match: [{ path: { prefix: '/api' } }] });
    expect(store.writes.length).to.equal(writes);
    expect(JSON.parse(store.route('HTTPRoute', 'canary-route').metadata.annotations![MANAGED_RULES]!)).to.deep.equal({
      'canary-header': ['canary-header'],
      'canary-mirror': ['canary-mirror'],
    });
  });

  it('adds rules on GRPCRoutes keeping the gRPC method match; skips routes without useHeaderRoutes', async () => {
    const grpc = route('GRPCRoute', 'g', { rules: [{ matches: [{ method: { service: 'a.B' } }], backendRefs: [{ name: STABLE, port: 9 }, { name: CANARY, port: 9 }] }] });
    const tcp = route('TCPRoute', 't', { rules: [{ backendRefs: [svc(STABLE), svc(CANARY)] }] });
    const { store, router, ro } = setup({ grpcRoute: 'g', tcpRoute: 't', httpRoutes: [{ name: 'canary-route' }] }, [grpc, tcp, seedRoutes()[0]!]);
    expect((await router.setHeaderRoute(ro, header('x-canary', { exact: '1' }))).error).to.equal('');
    expect(store.route('GRPCRoute', 'g').spec.rules![1]).to.deep.equal({
      name: 'canary-header',
      matches: [{ method: { service: 'a.B' }, headers: [{ type: 'Exact', name: 'x-canary', value: '1' }] }],
      backendRefs: [{ name: CANARY, port: 9 }],
    });
    expect(store.writes).to.deep.equal(['GRPCRoute default/g']);
  });

  it('requires the name to be declared in trafficRouting.managedRoutes', async () => {
    const { store, router, ro } = setup(seedConfig(), seedRoutes(), ['other']);
    expect((await router.setHeaderRoute(ro, header('X', { exact: 'y' }))).error).to.equal(
      'managed route "canary-header" is not declared in spec.strategy.canary.trafficRouting.managedRoutes of rollout default/demo (declared: "other")',
    );
    expect((await router.setHeaderRoute(ro, { name: 'other', match: [{ headerName: 'X' }] })).error).to.equal(
      'setHeaderRoute "other": match[0].headerValue must set exactly one of exact, prefix or regex',
    );
    expect(store.writes).to.deep.equal([]);
  });

  it('refuses to take over a rule name the user chose', async () => {
    const taken = route('HTTPRoute', 'web', { rules: [{ name: 'canary-header', backendRefs: [svc(STABLE), svc(CANARY)] }] });
    const { store, router, ro } = setup({ httpRoute: 'web' }, [taken]);
    expect((await router.setHeaderRoute(ro, header('X', { exact: 'y' }))).error).to.equal(
      'HTTPRoute default/web: spec.rules[0].name "canary-header" is used by a rule the companion did not create; cannot add managed route "canary-header"',
    );
    expect(store.writes).to.deep.equal([]);
  });
});

describe('routing: setMirrorRoute', () => {
  it('mirrors all traffic when percentage is absent or 100, and the given percent otherwise', async () => {
    const { store, router, ro } = setup(seedConfig());
    for (const [percentage, expected] of [[undefined, undefined], [100, undefined], [0, 0], [25, 25]] as const) {
      expect((await router.setMirrorRoute(ro, { name: 'canary-mirror', percentage, match: [{ path: { exact: '/x' } }] })).error).to.equal('');
      expect(store.route('HTTPRoute', 'canary-route').spec.rules![1]).to.deep.equal({
        name: 'canary-mirror',
        matches: [{ path: { type: 'Exact', value: '/x' } }],
        backendRefs: [svc(STABLE), svc(CANARY)],
        filters: [mirrorFilter(expected)],
      });
    }
    expect((await router.setMirrorRoute(ro, { name: 'canary-mirror', percentage: 101, match: [{ path: { exact: '/x' } }] })).error).to.equal(
      'setMirrorRoute "canary-mirror": percentage 101 must be an integer between 0 and 100',
    );
  });

  it('combines each source rule’s matches with the mirror matches (method, path, headers)', async () => {
    const { store, router, ro } = setup({ httpRoute: 'web' }, [twoSources()]);
    const match = [{ method: { exact: 'POST' }, headers: { 'x-debug': { exact: '1' } } }, { path: { prefix: '/api' } }];
    expect((await router.setMirrorRoute(ro, { name: 'canary-mirror', match })).error).to.equal('');
    const rules = store.route('HTTPRoute', 'web').spec.rules!;
    const backendRefs = [svc(STABLE, { weight: 100 }), svc(CANARY, { weight: 0 })];
    expect(rules.slice(3)).to.deep.equal([
      {
        name: 'canary-mirror-1',
        matches: [
          { ...prefix('/'), method: 'POST', headers: [{ type: 'Exact', name: 'x-debug', value: '1' }] },
          { ...prefix('/api') },
        ],
        backendRefs,
        filters: [mirrorFilter()],
      },
      {
        // Exact /login cannot be under /api: only the method/header condition applies.
        name: 'canary-mirror-2',
        matches: [{ path: { type: 'Exact', value: '/login' }, method: 'POST', headers: [{ type: 'Exact', name: 'x-debug', value: '1' }] }],
        backendRefs,
        filters: [
          { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-a', value: '1' }] } },
          mirrorFilter(),
        ],
      },
    ]);
  });

  it('rejects a prefix or regex method, and HTTP paths on a GRPCRoute', async () => {
    const { store, router, ro } = setup(seedConfig());
    expect((await router.setMirrorRoute(ro, { name: 'canary-mirror', match: [{ method: { prefix: 'G' } }] })).error).to.equal(
      'setMirrorRoute "canary-mirror": match[0].method supports only exact (Gateway API matches HTTP methods exactly), got prefix',
    );
    const grpc = route('GRPCRoute', 'g', { rules: [{ backendRefs: [svc(STABLE), svc(CANARY)] }] });
    const g = setup({ grpcRoute: 'g', httpRoute: 'canary-route' }, [grpc, seedRoutes()[0]!]);
    expect((await g.router.setMirrorRoute(g.ro, { name: 'canary-mirror', match: [{ path: { prefix: '/api' } }] })).error).to.equal(
      'setMirrorRoute "canary-mirror": match[0].path cannot be expressed on a GRPCRoute (only headers can)',
    );
    expect([...store.writes, ...g.store.writes]).to.deep.equal([]);
  });

  it('mirrors by header on a GRPCRoute (with or without useHeaderRoutes) and skips TCP routes', async () => {
    const grpc = route('GRPCRoute', 'g', { rules: [{ backendRefs: [{ name: STABLE, port: 9 }, { name: CANARY, port: 9 }] }] });
    const tcp = route('TCPRoute', 't', { rules: [{ backendRefs: [svc(STABLE), svc(CANARY)] }] });
    const { store, router, ro } = setup({ grpcRoutes: [{ name: 'g' }], tcpRoute: 't' }, [grpc, tcp]);
    expect((await router.setMirrorRoute(ro, { name: 'canary-mirror', percentage: 10, match: [{ headers: { 'x-t': { regex: '.+' } } }] })).error).to.equal('');
    expect(store.route('GRPCRoute', 'g').spec.rules![1]).to.deep.equal({
      name: 'canary-mirror',
      matches: [{ headers: [{ type: 'RegularExpression', name: 'x-t', value: '.+' }] }],
      backendRefs: [{ name: STABLE, port: 9 }, { name: CANARY, port: 9 }],
      filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: CANARY, port: 9 }, percent: 10 } }],
    });
    expect(store.writes).to.deep.equal(['GRPCRoute default/g']);
  });

  it('names the rule whose path cannot be combined with a regular-expression mirror path', async () => {
    const { router, ro } = setup({ httpRoute: 'web' }, [twoSources()]);
    expect((await router.setMirrorRoute(ro, { name: 'canary-mirror', match: [{ path: { regex: '/a.*' } }] })).error).to.equal(
      'HTTPRoute default/web: rules[2].matches path Exact "/login" cannot be combined with mirror path RegularExpression "/a.*"',
    );
  });
});

describe('routing: removeManagedRoutes', () => {
  it('removes exactly the rules it created, and writes nothing when there are none', async () => {
    const { store, router, ro } = setup({ httpRoute: 'web' }, [twoSources()]);
    const before = store.route('HTTPRoute', 'web');
    await router.setHeaderRoute(ro, header('X-Canary', { exact: 'yes' }));
    await router.setMirrorRoute(ro, { name: 'canary-mirror', match: [{ path: { prefix: '/api' } }] });
    expect(store.route('HTTPRoute', 'web').spec.rules).to.have.length(6);
    expect((await router.removeManagedRoutes(ro)).error).to.equal('');
    const after = store.route('HTTPRoute', 'web');
    expect(after.spec).to.deep.equal(before.spec);
    expect(after.metadata.annotations).to.deep.equal({});
    const writes = store.writes.length;
    expect((await router.removeManagedRoutes(ro)).error).to.equal('');
    expect(store.writes.length).to.equal(writes);
  });

  it('keeps header and mirror rules in step with SetWeight: header rules canary only, mirror rules copy the split', async () => {
    const { store, router, ro } = setup(seedConfig());
    await router.setHeaderRoute(ro, header('X-Canary', { exact: 'yes' }));
    await router.setMirrorRoute(ro, { name: 'canary-mirror', match: [{ path: { prefix: '/api' } }] });
    await router.setWeight(ro, 30, [{ serviceName: 'exp', weight: 10 }]);
    const refs = store.route('HTTPRoute', 'canary-route').spec.rules!.map((r) => r.backendRefs);
    const split = [svc(STABLE, { weight: 60 }), svc(CANARY, { weight: 30 }), { name: 'exp', port: 80, weight: 10 }];
    expect(refs).to.deep.equal([split, [svc(CANARY)], split]);
  });
});

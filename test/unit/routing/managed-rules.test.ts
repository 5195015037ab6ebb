import { expect } from 'chai';
import { TrafficRouter } from '../../../src/routing/router.js';
import { traffic, trafficTable } from '../../support/traffic.js';
import { CANARY, prefix, recordedNames, ROLES, rollout, route, seedConfig, seedRoutes, seedStore, STABLE, svc } from './fixtures.js';

// Header and mirror rules: built per source rule, named after the managed route (as
// argoproj-labs/gatewayAPI does), placed before the rule they copy so that they are reachable,
// recorded in an annotation, and the only rules the companion ever removes.

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
const WEB_REQUESTS = ['GET web.example.com/', 'GET web.example.com/ X-Canary:yes', 'POST web.example.com/login X-Canary:yes', 'GET web.example.com/static/x', 'GET web.example.com/api/x x-debug:1'];
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
    const see = () => traffic(seedRoutes().slice(1).concat(store.route('HTTPRoute', 'canary-route')), ROLES);
    expect((await router.setHeaderRoute(ro, header('X-Group', { prefix: 'beta.' }))).error).to.equal('');
    expect(store.route('HTTPRoute', 'canary-route').spec.rules![0]!.matches).to.deep.equal([
      { ...prefix('/'), headers: [{ type: 'RegularExpression', name: 'X-Group', value: '^beta\\..*' }] },
    ]);
    expect(see()('GET app.example.com/ X-Group:beta.7')).to.equal('canary 100 %');
    expect(see()('GET app.example.com/ X-Group:betax')).to.equal('stable 50 %, canary 50 %');
    expect((await router.setHeaderRoute(ro, header('X-Group', { regex: 'a|b' }))).error).to.equal('');
    expect(store.route('HTTPRoute', 'canary-route').spec.rules![0]!.matches).to.deep.equal([
      { ...prefix('/'), headers: [{ type: 'RegularExpression', name: 'X-Group', value: 'a|b' }] },
    ]);
    expect(see()('GET app.example.com/ X-Group:b')).to.equal('canary 100 %');
  });

  it('adds one rule per source rule, named n, n-1 as argoproj-labs/gatewayAPI, each right before the rule it copies', async () => {
    const { store, router, ro } = setup({ httpRoute: 'web' }, [twoSources()]);
    const before = trafficTable([store.route('HTTPRoute', 'web')], ROLES, WEB_REQUESTS);
    expect((await router.setHeaderRoute(ro, header('X-Canary', { exact: 'yes' }))).error).to.equal('');
    const r = store.route('HTTPRoute', 'web');
    const h = { type: 'Exact', name: 'X-Canary', value: 'yes' };
    const [source1, own, source2] = twoSources().spec.rules!;
    expect(r.spec.rules).to.deep.equal([
      { name: 'canary-header', matches: [{ ...prefix('/'), headers: [h] }], backendRefs: [svc(CANARY)] },
      source1,
      own,
      {
        name: 'canary-header-1',
        matches: [{ path: { type: 'Exact', value: '/login' }, method: 'POST', headers: [h] }],
        filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-a', value: '1' }] } }],
        backendRefs: [svc(CANARY)],
      },
      source2,
    ]);
    expect(recordedNames(r)).to.deep.equal({ 'canary-header': ['canary-header', 'canary-header-1'] });
    const see = traffic([r], ROLES);
    expect(see('GET web.example.com/ X-Canary:yes')).to.equal('canary 100 %');
    expect(see('POST web.example.com/login X-Canary:yes')).to.equal('canary 100 %');
    expect(see('GET web.example.com/static/a.css X-Canary:yes')).to.equal('cdn 100 %');
    expect(see('POST web.example.com/login')).to.equal('stable 100 %');
    // Removing the header route restores every request's traffic exactly.
    expect((await router.setHeaderRoute(ro, { name: 'canary-header' })).error).to.equal('');
    expect(trafficTable([store.route('HTTPRoute', 'web')], ROLES, WEB_REQUESTS)).to.deep.equal(before);
  });

  it('replaces its own rules in place when the match changes, and writes nothing when it does not', async () => {
    const { store, router, ro } = setup(seedConfig());
    await router.setHeaderRoute(ro, header('X-Canary', { exact: 'yes' }));
    await router.setMirrorRoute(ro, { name: 'canary-mirror', match: [{ path: { prefix: '/api' } }] });
    await router.setHeaderRoute(ro, header('X-Canary', { exact: 'please' }));
    const names = store.route('HTTPRoute', 'canary-route').spec.rules!.map((r) => r.name);
    expect(names).to.deep.equal(['canary-header', 'canary-mirror', undefined]);
    const writes = store.writes.length;
    await router.setHeaderRoute(ro, header('X-Canary', { exact: 'please' }));
    await router.setMirrorRoute(ro, { name: 'canary-mirror', match: [{ path: { prefix: '/api' } }] });
    expect(store.writes.length).to.equal(writes);
    expect(recordedNames(store.route('HTTPRoute', 'canary-route'))).to.deep.equal({
      'canary-header': ['canary-header'],
      'canary-mirror': ['canary-mirror'],
    });
    expect(traffic([store.route('HTTPRoute', 'canary-route')], ROLES)('GET app.example.com/ X-Canary:please')).to.equal('canary 100 %');
  });

  it('adds rules on GRPCRoutes keeping the gRPC method match; skips routes without useHeaderRoutes', async () => {
    const grpc = route('GRPCRoute', 'g', { rules: [{ matches: [{ method: { service: 'a.B' } }], backendRefs: [{ name: STABLE, port: 9 }, { name: CANARY, port: 9 }] }] });
    const tcp = route('TCPRoute', 't', { rules: [{ backendRefs: [svc(STABLE), svc(CANARY)] }] });
    const { store, router, ro } = setup({ grpcRoute: 'g', tcpRoute: 't', httpRoutes: [{ name: 'canary-route' }] }, [grpc, tcp, seedRoutes()[0]!]);
    expect((await router.setHeaderRoute(ro, header('x-canary', { exact: '1' }))).error).to.equal('');
    expect(store.route('GRPCRoute', 'g').spec.rules![0]).to.deep.equal({
      name: 'canary-header',
      matches: [{ method: { service: 'a.B' }, headers: [{ type: 'Exact', name: 'x-canary', value: '1' }] }],
      backendRefs: [{ name: CANARY, port: 9 }],
    });
    expect(store.writes).to.deep.equal(['GRPCRoute default/g']);
    const see = traffic([store.route('GRPCRoute', 'g')], ROLES);
    expect(see('GRPC g.example.com a.B/Get x-canary:1')).to.equal('canary 100 %');
    expect(see('GRPC g.example.com a.B/Get')).to.equal('stable 50 %, canary 50 %');
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

describe('routing: a step on a header its source rule already tests', () => {
  // Production traffic (x-env: prod) is split; staging traffic (x-env: staging) has its own backend.
  const byEnv = () =>
    route('HTTPRoute', 'env', {
      rules: [
        { matches: [{ ...prefix('/'), headers: [{ type: 'Exact', name: 'x-env', value: 'prod' }] }], backendRefs: [svc(STABLE, { weight: 90 }), svc(CANARY, { weight: 10 })] },
        { matches: [{ ...prefix('/'), headers: [{ type: 'Exact', name: 'x-env', value: 'staging' }] }], backendRefs: [svc('staging')] },
      ],
    });
  const REQUESTS = ['GET h/ x-env:prod', 'GET h/ x-env:staging', 'GET h/'];

  it('adds no rule where the step asks for another value: staging requests stay on staging', async () => {
    const { store, router, ro } = setup({ httpRoute: 'env' }, [byEnv()]);
    const before = trafficTable([store.route('HTTPRoute', 'env')], ROLES, REQUESTS);
    expect((await router.setHeaderRoute(ro, header('X-Env', { exact: 'staging' }))).error).to.equal('');
    expect((await router.setMirrorRoute(ro, { name: 'canary-mirror', match: [{ headers: { 'x-env': { exact: 'staging' } } }] })).error).to.equal('');
    expect(store.writes).to.deep.equal([]);
    expect(trafficTable([store.route('HTTPRoute', 'env')], ROLES, REQUESTS)).to.deep.equal(before);
  });

  it('tests the header once where the step asks for the same value', async () => {
    const { store, router, ro } = setup({ httpRoute: 'env' }, [byEnv()]);
    expect((await router.setHeaderRoute(ro, header('x-env', { exact: 'prod' }))).error).to.equal('');
    expect(store.route('HTTPRoute', 'env').spec.rules![0]!.matches).to.deep.equal([{ ...prefix('/'), headers: [{ type: 'Exact', name: 'x-env', value: 'prod' }] }]);
    expect(trafficTable([store.route('HTTPRoute', 'env')], ROLES, REQUESTS)).to.deep.equal({
      'GET h/ x-env:prod': 'canary 100 %',
      'GET h/ x-env:staging': 'staging 100 %',
      'GET h/': 'no route (404)',
    });
  });

  it('refuses a condition one match cannot express, naming the rule and both conditions', async () => {
    const { store, router, ro } = setup({ httpRoute: 'env' }, [byEnv()]);
    expect((await router.setHeaderRoute(ro, header('x-env', { regex: 'pro.*' }))).error).to.equal(
      'HTTPRoute default/env: rules[0].matches header x-env Exact "prod" cannot be combined with setHeaderRoute "canary-header" header ' +
        'x-env RegularExpression "pro.*" (Gateway API tests one condition per header name)',
    );
    expect(store.writes).to.deep.equal([]);
  });
});

describe('routing: setMirrorRoute', () => {
  it('mirrors all traffic when percentage is absent or 100, and the given percent otherwise', async () => {
    const { store, router, ro } = setup(seedConfig());
    for (const [percentage, expected] of [[undefined, undefined], [100, undefined], [0, 0], [25, 25]] as const) {
      expect((await router.setMirrorRoute(ro, { name: 'canary-mirror', percentage, match: [{ path: { exact: '/x' } }] })).error).to.equal('');
      expect(store.route('HTTPRoute', 'canary-route').spec.rules![0]).to.deep.equal({
        name: 'canary-mirror',
        matches: [{ path: { type: 'Exact', value: '/x' } }],
        backendRefs: [svc(STABLE), svc(CANARY)],
        filters: [mirrorFilter(expected)],
      });
      const mirrored = expected === 0 ? '' : `; mirrored to canary at ${expected ?? 100} %`;
      expect(traffic([store.route('HTTPRoute', 'canary-route')], ROLES)('GET app.example.com/x')).to.equal(`stable 50 %, canary 50 %${mirrored}`);
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
    expect(rules.map((r) => r.name)).to.deep.equal(['canary-mirror', undefined, 'own', 'canary-mirror-1', undefined]);
    expect([rules[0], rules[3]]).to.deep.equal([
      {
        name: 'canary-mirror',
        matches: [
          { ...prefix('/'), method: 'POST', headers: [{ type: 'Exact', name: 'x-debug', value: '1' }] },
          { ...prefix('/api') },
        ],
        backendRefs,
        filters: [mirrorFilter()],
      },
      {
        // Exact /login cannot be under /api: only the method/header condition applies.
        name: 'canary-mirror-1',
        matches: [{ path: { type: 'Exact', value: '/login' }, method: 'POST', headers: [{ type: 'Exact', name: 'x-debug', value: '1' }] }],
        backendRefs,
        filters: [
          { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-a', value: '1' }] } },
          mirrorFilter(),
        ],
      },
    ]);
    const see = traffic([store.route('HTTPRoute', 'web')], ROLES);
    expect(see('POST web.example.com/login x-debug:1')).to.equal('stable 100 %; mirrored to canary at 100 %');
    expect(see('GET web.example.com/api/v1')).to.equal('stable 100 %; mirrored to canary at 100 %');
    expect(see('POST web.example.com/login')).to.equal('stable 100 %');
    expect(see('GET web.example.com/static/x x-debug:1')).to.equal('cdn 100 %');
  });

  it('makes a mirror whose matches equal its source rule’s reachable: it goes first and wins the tie', async () => {
    const { store, router, ro } = setup(seedConfig());
    const routeNow = () => store.route('HTTPRoute', 'canary-route');
    const before = trafficTable([routeNow()], ROLES, ['GET app.example.com/', 'GET app.example.com/a']);
    // The source rule matches PathPrefix "/"; so does the mirror: a tie the first rule wins.
    expect((await router.setMirrorRoute(ro, { name: 'canary-mirror', percentage: 50, match: [{ path: { prefix: '/' } }] })).error).to.equal('');
    expect(routeNow().spec.rules![0]!.name).to.equal('canary-mirror');
    expect(traffic([routeNow()], ROLES)('GET app.example.com/a')).to.equal('stable 50 %, canary 50 %; mirrored to canary at 50 %');
    expect((await router.removeManagedRoutes(ro)).error).to.equal('');
    expect(trafficTable([routeNow()], ROLES, ['GET app.example.com/', 'GET app.example.com/a'])).to.deep.equal(before);
  });

  it('bounds a step’s matches by Gateway API’s limits, naming the field, and combines 64 × 64 matches without stalling', async () => {
    const { store, router, ro } = setup(seedConfig());
    const many = (n: number) => Array.from({ length: n }, (_, i) => ({ path: { prefix: `/p${i}` } }));
    expect((await router.setMirrorRoute(ro, { name: 'canary-mirror', match: many(65) })).error).to.equal(
      'setMirrorRoute "canary-mirror": match has 65 entries; Gateway API allows at most 64 matches per rule',
    );
    const wide = route('HTTPRoute', 'web', { rules: [{ matches: many(64).map((m, i) => ({ ...m, headers: [{ name: 'x', value: String(i) }] })), backendRefs: [svc(STABLE), svc(CANARY)] }] });
    const w = setup({ httpRoute: 'web' }, [wide]);
    const headers = Object.fromEntries(Array.from({ length: 2 }, (_, i) => [`h${i}`, { exact: '1' }]));
    expect((await w.router.setMirrorRoute(w.ro, { name: 'canary-mirror', match: Array.from({ length: 64 }, (_, i) => ({ headers: { ...headers, [`k${i}`]: { exact: '1' } } })) })).error).to.equal(
      'HTTPRoute default/web: spec.rules[0].matches would have 4096 entries; Gateway API allows at most 64',
    );
    const tooManyHeaders = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`h${i}`, { exact: '1' }]));
    expect((await w.router.setMirrorRoute(w.ro, { name: 'canary-mirror', match: [{ headers: tooManyHeaders }] })).error).to.equal(
      'HTTPRoute default/web: spec.rules[0].matches[0].headers would have 17 entries; Gateway API allows at most 16',
    );
    expect([...store.writes, ...w.store.writes]).to.deep.equal([]);
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
    expect(store.route('GRPCRoute', 'g').spec.rules![0]).to.deep.equal({
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
    expect(refs).to.deep.equal([[svc(CANARY)], split, split]);
    const see = traffic([store.route('HTTPRoute', 'canary-route')], { ...ROLES, experiment: 'exp' });
    expect(see('GET app.example.com/')).to.equal('stable 60 %, canary 30 %, experiment 10 %');
    expect(see('GET app.example.com/ X-Canary:yes')).to.equal('canary 100 %');
    // Gateway API ranks the longer path prefix above a header match: under /api the mirror rule wins.
    expect(see('GET app.example.com/api X-Canary:yes')).to.equal('stable 60 %, canary 30 %, experiment 10 %; mirrored to canary at 100 %');
    expect(see('GET app.example.com/api')).to.equal('stable 60 %, canary 30 %, experiment 10 %; mirrored to canary at 100 %');
  });
});

describe('routing: two Rollouts sharing one route', () => {
  // Rollout "demo" (the fixtures' Services) serves /, Rollout "api" its own Services under /api.
  const API = { stable: 'api-stable', canary: 'api-canary' };
  const shared = () =>
    route('HTTPRoute', 'shared', {
      rules: [
        { matches: [prefix('/api')], backendRefs: [svc(API.stable, { weight: 100 }), svc(API.canary, { weight: 0 })] },
        { matches: [prefix('/')], backendRefs: [svc(STABLE, { weight: 100 }), svc(CANARY, { weight: 0 })] },
      ],
    });
  const apiRollout = (managed: string[]) => {
    const ro = rollout({ httpRoute: 'shared' }, managed, 'api');
    ro.spec!.strategy!.canary = { ...ro.spec!.strategy!.canary!, stableService: API.stable, canaryService: API.canary };
    return ro;
  };
  const ROLES2 = { ...ROLES, 'api stable': API.stable, 'api canary': API.canary };

  it('RemoveManagedRoutes of one Rollout leaves the other Rollout’s header rule in place', async () => {
    const { store, router, ro } = setup({ httpRoute: 'shared' }, [shared()]);
    const api = apiRollout(['api-header']);
    expect((await router.setHeaderRoute(api, { name: 'api-header', match: [{ headerName: 'X-Api-Canary', headerValue: { exact: 'yes' } }] })).error).to.equal('');
    expect((await router.setHeaderRoute(ro, header('X-Canary', { exact: 'yes' }))).error).to.equal('');
    expect((await router.removeManagedRoutes(ro)).error).to.equal('');
    const see = traffic([store.route('HTTPRoute', 'shared')], ROLES2);
    expect(see('GET h/api/x X-Api-Canary:yes')).to.equal('api canary 100 %');
    expect(see('GET h/ X-Canary:yes')).to.equal('stable 100 %');
    expect(recordedNames(store.route('HTTPRoute', 'shared'))).to.deep.equal({ 'api-header': ['api-header'] });
    // ...and the other Rollout still knows its rule: removing it restores the route as it was.
    expect((await router.removeManagedRoutes(api)).error).to.equal('');
    expect(store.route('HTTPRoute', 'shared').spec).to.deep.equal(shared().spec);
  });

  it('refuses a managed route name another Rollout’s rule already holds on the route, instead of taking it over', async () => {
    const { store, router, ro } = setup({ httpRoute: 'shared' }, [shared()]);
    const api = apiRollout(['canary-header']);
    expect((await router.setHeaderRoute(api, header('X-Canary', { exact: 'yes' }))).error).to.equal('');
    const before = store.route('HTTPRoute', 'shared');
    expect((await router.setHeaderRoute(ro, header('X-Canary', { exact: 'yes' }))).error).to.equal(
      'HTTPRoute default/shared: spec.rules[0].name "canary-header" belongs to managed route "canary-header" of another Rollout sharing this route ' +
        '(it serves neither of this Rollout\'s Services); cannot add managed route "canary-header": give it a name of its own',
    );
    expect(store.route('HTTPRoute', 'shared')).to.deep.equal(before);
    expect(traffic([before], ROLES2)('GET h/api X-Canary:yes')).to.equal('api canary 100 %');
  });
});

describe('routing: managed rules recorded by an earlier companion', () => {
  it('reads the old annotation (bare rule names), moves the rule before its source, and records it with its fingerprint', async () => {
    const old = route('HTTPRoute', 'canary-route', { rules: [{ matches: [prefix('/')], backendRefs: [svc(STABLE), svc(CANARY)] }, { name: 'canary-header', matches: [{ ...prefix('/'), headers: [{ type: 'Exact', name: 'X-Canary', value: 'yes' }] }], backendRefs: [svc(CANARY)] }] }, 'app.example.com');
    old.metadata.annotations = { 'rollouts-companion.argoproj.io/managed-rules': JSON.stringify({ 'canary-header': ['canary-header'] }) };
    const { store, router, ro } = setup(seedConfig(), [old, ...seedRoutes().slice(1)]);
    expect((await router.setHeaderRoute(ro, header('X-Canary', { exact: 'yes' }))).error).to.equal('');
    const r = store.route('HTTPRoute', 'canary-route');
    expect(r.spec.rules!.map((x) => x.name)).to.deep.equal(['canary-header', undefined]);
    const recorded = JSON.parse(r.metadata.annotations!['rollouts-companion.argoproj.io/managed-rules']!) as Record<string, { name: string; sha: string }[]>;
    expect(recorded['canary-header']!.map((e) => e.name)).to.deep.equal(['canary-header']);
    expect(recorded['canary-header']![0]!.sha).to.match(/^[0-9a-f]{16}$/);
  });
});

describe('routing: managed rules where the CRD prunes rules[].name (Gateway API before v1.4)', () => {
  const pruned = (routes = seedRoutes(), plugin: unknown = seedConfig()) => {
    const store = seedStore(routes, { pruneRuleNames: true });
    return { store, router: new TrafficRouter({ store }), ro: rollout(plugin) };
  };

  it('finds its rules by recorded content: never duplicates them, replaces and removes only them', async () => {
    // A user rule with no name that reaches the canary only, beside the split.
    const userRule = { matches: [{ path: { type: 'PathPrefix', value: '/beta' } }], backendRefs: [svc(CANARY)] };
    const r = route('HTTPRoute', 'web', { rules: [{ matches: [prefix('/')], backendRefs: [svc(STABLE), svc(CANARY)] }, userRule] }, 'app.example.com');
    const { store, router, ro } = pruned([r], { httpRoute: 'web' });
    for (let i = 0; i < 3; i++) expect((await router.setHeaderRoute(ro, header('X-Canary', { exact: 'yes' }))).error).to.equal('');
    expect((await router.setMirrorRoute(ro, { name: 'canary-mirror', match: [{ headers: { 'x-debug': { exact: '1' } } }] })).error).to.equal('');
    expect((await router.setMirrorRoute(ro, { name: 'canary-mirror', match: [{ headers: { 'x-debug': { exact: '1' } } }] })).error).to.equal('');
    let stored = store.route('HTTPRoute', 'web');
    // Two sources (the split and the user's /beta rule): two header and two mirror rules, no names.
    expect(stored.spec.rules!.map((x) => x.name)).to.deep.equal([undefined, undefined, undefined, undefined, undefined, undefined]);
    expect(stored.spec.rules).to.have.length(6);
    expect(recordedNames(stored)).to.deep.equal({ 'canary-header': ['canary-header', 'canary-header-1'], 'canary-mirror': ['canary-mirror', 'canary-mirror-1'] });
    const see = traffic([stored], ROLES);
    expect(see('GET app.example.com/ X-Canary:yes')).to.equal('canary 100 %');
    expect(see('GET app.example.com/ x-debug:1')).to.equal('stable 50 %, canary 50 %; mirrored to canary at 100 %');
    // Changing the header value replaces the header rules (still 6 rules).
    expect((await router.setHeaderRoute(ro, header('X-Canary', { exact: 'please' }))).error).to.equal('');
    stored = store.route('HTTPRoute', 'web');
    expect(stored.spec.rules).to.have.length(6);
    expect(traffic([stored], ROLES)('GET app.example.com/ X-Canary:yes')).to.equal('stable 50 %, canary 50 %');
    expect((await router.removeManagedRoutes(ro)).error).to.equal('');
    expect(store.route('HTTPRoute', 'web').spec.rules).to.deep.equal(r.spec.rules);
  });
});

describe('routing: taking over a route argoproj-labs/gatewayAPI managed mid-canary', () => {
  const gwHeaderRule = (name?: string) => ({
    ...(name !== undefined && { name }),
    matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [{ type: 'Exact', name: 'X-Canary', value: 'yes' }] }],
    backendRefs: [{ group: '', kind: 'Service', name: CANARY, port: 80 }],
  });
  const split = { matches: [prefix('/')], backendRefs: [svc(STABLE, { weight: 90 }), svc(CANARY, { weight: 10 })] };

  it('GW ≥ 0.13: adopts rules named after the managed route (n, n-1), moves them before their source, removes them', async () => {
    // GW appended its header rule after the split: unreachable for ties, but here headers make it win.
    const gw = route('HTTPRoute', 'canary-route', { rules: [split, gwHeaderRule('canary-header')] }, 'app.example.com');
    const { store, router, ro } = setup(seedConfig(), [gw, ...seedRoutes().slice(1)]);
    expect(traffic([store.route('HTTPRoute', 'canary-route')], ROLES)('GET app.example.com/ X-Canary:yes')).to.equal('canary 100 %');
    // SetHeaderRoute now works (no "rule name taken") and replaces GW's rule instead of adding one.
    expect((await router.setHeaderRoute(ro, header('X-Canary', { exact: 'yes' }))).error).to.equal('');
    let r = store.route('HTTPRoute', 'canary-route');
    expect(r.spec.rules!.map((x) => x.name)).to.deep.equal(['canary-header', undefined]);
    expect(recordedNames(r)).to.deep.equal({ 'canary-header': ['canary-header'] });
    expect(traffic([r], ROLES)('GET app.example.com/ X-Canary:yes')).to.equal('canary 100 %');
    // RemoveManagedRoutes removes it.
    expect((await router.removeManagedRoutes(ro)).error).to.equal('');
    r = store.route('HTTPRoute', 'canary-route');
    expect(r.spec.rules).to.deep.equal([split]);
    expect(traffic([r], ROLES)('GET app.example.com/ X-Canary:yes')).to.equal('stable 90 %, canary 10 %');
  });

  it('GW ≥ 0.13: RemoveManagedRoutes alone removes GW’s rules, and a user rule that shares the name but splits is never touched', async () => {
    const gw = route('HTTPRoute', 'canary-route', { rules: [split, gwHeaderRule('canary-header'), gwHeaderRule('canary-header-1')] }, 'app.example.com');
    const { store, router, ro } = setup(seedConfig(), [gw, ...seedRoutes().slice(1)]);
    expect((await router.removeManagedRoutes(ro)).error).to.equal('');
    expect(store.route('HTTPRoute', 'canary-route').spec.rules).to.deep.equal([split]);
    const userNamed = route('HTTPRoute', 'web', { rules: [{ name: 'canary-header', backendRefs: [svc(STABLE), svc(CANARY)] }] });
    const u = setup({ httpRoute: 'web' }, [userNamed]);
    expect((await u.router.removeManagedRoutes(u.ro)).error).to.equal('');
    expect(u.store.writes).to.deep.equal([]);
  });

  it('GW ≤ 0.12: adopts the rule its ConfigMap indexes, once; SetHeaderRoute and RemoveManagedRoutes work on it', async () => {
    const gw = route('HTTPRoute', 'canary-route', { rules: [split, gwHeaderRule()] }, 'app.example.com');
    const { store, router, ro } = setup(seedConfig(), [gw, ...seedRoutes().slice(1)]);
    store.configMaps.set('default/argo-gatewayapi-configmap', { resourceVersion: '7', data: { httpManagedRoutes: JSON.stringify({ 'canary-header': { 'canary-route': 1 } }) } });
    expect((await router.setHeaderRoute(ro, header('X-Canary', { exact: 'yes' }))).error).to.equal('');
    let r = store.route('HTTPRoute', 'canary-route');
    expect(r.spec.rules!.map((x) => x.name)).to.deep.equal(['canary-header', undefined]);
    expect(r.spec.rules).to.have.length(2);
    expect(traffic([r], ROLES)('GET app.example.com/ X-Canary:yes')).to.equal('canary 100 %');
    expect((await router.removeManagedRoutes(ro)).error).to.equal('');
    r = store.route('HTTPRoute', 'canary-route');
    expect(r.spec.rules).to.deep.equal([split]);
    // The stale index now points at nothing of GW's: a rule the user adds there later is left alone.
    const later = { matches: [{ path: { type: 'PathPrefix', value: '/beta' } }], backendRefs: [svc(CANARY)] };
    store.put({ ...r, spec: { ...r.spec, rules: [split, later] } });
    const writes = store.writes.length;
    expect((await router.removeManagedRoutes(ro)).error).to.equal('');
    expect(store.writes.length).to.equal(writes);
  });
});

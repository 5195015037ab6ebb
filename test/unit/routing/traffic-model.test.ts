import { expect } from 'chai';
import type { RouteObject } from '../../../src/routing/route-store.js';
import { describeDecision, parseRequest, selectRule, type Listener } from '../../../src/routing/traffic/index.js';
import { hostMatches, hostnamesIntersect } from '../../../src/routing/traffic/hostnames.js';

// The request-matching model against the Gateway API spec's own examples and precedence lists
// (apis/v1 HTTPRouteSpec.hostnames, HTTPRouteRule.matches, GRPCRouteRule.matches, BackendRef.weight,
// HTTPRequestMirrorFilter).

let clock = 0;
function route(name: string, rules: Record<string, unknown>[], opts: { hostnames?: string[]; kind?: string; ns?: string; created?: string } = {}): RouteObject {
  clock += 1;
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: opts.kind ?? 'HTTPRoute',
    metadata: { name, namespace: opts.ns ?? 'default', creationTimestamp: opts.created ?? new Date(Date.UTC(2026, 0, 1, 0, 0, clock)).toISOString() },
    spec: { ...(opts.hostnames && { hostnames: opts.hostnames }), rules },
  };
}
const to = (name: string, weight?: number) => ({ name, port: 80, ...(weight !== undefined && { weight }) });
const short = (b: { name: string }) => b.name;
const send = (routes: RouteObject[], request: string, listener?: Listener) => describeDecision(selectRule(routes, parseRequest(request), listener), short);
const rule = (routes: RouteObject[], request: string, listener?: Listener) => {
  const d = selectRule(routes, parseRequest(request), listener);
  return d && `${d.route.name}#${d.ruleIndex}`;
};

describe('traffic model: hostnames', () => {
  it('treats "*." as a suffix over one or more labels, never the bare domain', () => {
    expect(hostMatches('*.example.com', 'test.example.com')).to.equal(true);
    expect(hostMatches('*.example.com', 'foo.test.example.com')).to.equal(true);
    expect(hostMatches('*.example.com', 'example.com')).to.equal(false);
  });

  it('attaches routes to a listener only through an intersecting hostname (the spec’s listener examples)', () => {
    // A Listener with test.example.com matches routes with no hostnames, test.example.com or *.example.com.
    expect(['test.example.com', '*.example.com'].map((h) => hostnamesIntersect('test.example.com', h))).to.deep.equal([true, true]);
    expect(hostnamesIntersect('test.example.com', 'other.example.com')).to.equal(false);
    // A Listener with *.example.com matches *.example.com, test.example.com, foo.test.example.com; not example.com or test.example.net.
    expect(['*.example.com', 'test.example.com', 'foo.test.example.com'].map((h) => hostnamesIntersect('*.example.com', h))).to.deep.equal([true, true, true]);
    expect(['example.com', 'test.example.net'].map((h) => hostnamesIntersect('*.example.com', h))).to.deep.equal([false, false]);
  });

  it('ignores route hostnames that do not match the listener (test.example.net under *.example.com)', () => {
    const r = route('r', [{ backendRefs: [to('a')] }], { hostnames: ['test.example.com', 'test.example.net'] });
    const listener = { hostname: '*.example.com' };
    expect(send([r], 'GET test.example.com/', listener)).to.equal('a 100 %');
    expect(send([r], 'GET test.example.net/', listener)).to.equal('no route (404)');
  });

  it('prefers the route with the longest matching non-wildcard hostname, then the longest hostname, ignoring the port', () => {
    const routes = [
      route('wild', [{ backendRefs: [to('wild')] }], { hostnames: ['*.example.com'] }),
      route('wilder', [{ backendRefs: [to('wilder')] }], { hostnames: ['*.test.example.com'] }),
      route('exact', [{ backendRefs: [to('exact')] }], { hostnames: ['foo.test.example.com'] }),
      route('any', [{ matches: [{ path: { type: 'Exact', value: '/' } }], backendRefs: [to('any')] }]),
    ];
    expect(send(routes, 'GET foo.test.example.com:8080/')).to.equal('exact 100 %');
    expect(send(routes, 'GET bar.test.example.com/')).to.equal('wilder 100 %');
    expect(send(routes, 'GET x.example.com/')).to.equal('wild 100 %');
    expect(send(routes, 'GET example.org/')).to.equal('any 100 %');
  });
});

describe('traffic model: HTTPRoute match precedence', () => {
  it('matches the spec’s example: (prefix /foo AND version: v2) OR prefix /v2/foo', () => {
    const r = route('r', [
      { matches: [{ path: { value: '/foo' }, headers: [{ name: 'version', value: 'v2' }] }, { path: { value: '/v2/foo' } }], backendRefs: [to('v2')] },
    ]);
    expect(send([r], 'GET h/foo/bar version:v2')).to.equal('v2 100 %');
    expect(send([r], 'GET h/foo/bar')).to.equal('no route (404)');
    expect(send([r], 'GET h/v2/foo')).to.equal('v2 100 %');
  });

  it('matches prefixes element by element: /abc matches /abc, /abc/ and /abc/def, not /abcd', () => {
    const r = route('r', [{ matches: [{ path: { type: 'PathPrefix', value: '/abc' } }], backendRefs: [to('abc')] }]);
    expect(['/abc', '/abc/', '/abc/def', '/abcd'].map((p) => send([r], `GET h${p}`))).to.deep.equal(['abc 100 %', 'abc 100 %', 'abc 100 %', 'no route (404)']);
  });

  it('orders Exact path, longest prefix, method, most headers, most query params', () => {
    const routes = [
      route('r', [
        { matches: [{ path: { value: '/' } }], backendRefs: [to('root')] },
        { matches: [{ path: { value: '/api' } }], backendRefs: [to('api')] },
        { matches: [{ path: { value: '/api' }, headers: [{ name: 'x', value: '1' }], queryParams: [{ name: 'q', value: '1' }] }], backendRefs: [to('api-header-query')] },
        { matches: [{ path: { value: '/api' }, headers: [{ name: 'x', value: '1' }, { name: 'y', value: '1' }] }], backendRefs: [to('api-2-headers')] },
        { matches: [{ path: { value: '/api' }, method: 'POST' }], backendRefs: [to('api-post')] },
        { matches: [{ path: { value: '/api/v1' } }], backendRefs: [to('api-v1')] },
        { matches: [{ path: { type: 'Exact', value: '/api/v1/login' } }], backendRefs: [to('login')] },
      ]),
    ];
    expect(send(routes, 'GET h/x')).to.equal('root 100 %');
    expect(send(routes, 'GET h/api/v1/login')).to.equal('login 100 %');
    expect(send(routes, 'POST h/api/v1/x x:1 y:1')).to.equal('api-v1 100 %');
    expect(send(routes, 'POST h/api/x x:1 y:1')).to.equal('api-post 100 %');
    expect(send(routes, 'GET h/api/x?q=1 x:1 y:1')).to.equal('api-2-headers 100 %');
    expect(send(routes, 'GET h/api/x?q=1 x:1')).to.equal('api-header-query 100 %');
    expect(send(routes, 'GET h/api/x x:1')).to.equal('api 100 %');
  });

  it('breaks ties across routes by the oldest creation time, then namespace/name; within a route by the first rule', () => {
    const same = (name: string, created: string, ns = 'default') =>
      route(name, [{ backendRefs: [to(`${name}-1`)] }, { backendRefs: [to(`${name}-2`)] }], { created, ns });
    expect(rule([same('b', '2026-01-01T00:00:00Z'), same('a', '2026-01-02T00:00:00Z')], 'GET h/')).to.equal('b#0');
    expect(rule([same('b', '2026-01-01T00:00:00Z'), same('a', '2026-01-01T00:00:00Z', 'z')], 'GET h/')).to.equal('b#0');
    expect(rule([same('b', '2026-01-01T00:00:00Z', 'a'), same('a', '2026-01-01T00:00:00Z', 'b')], 'GET h/')).to.equal('b#0');
  });

  it('matches header names case-insensitively, considers only the first entry of a repeated name, and regexes as a whole', () => {
    const r = route('r', [
      { matches: [{ headers: [{ name: 'X-Canary', value: 'yes' }, { name: 'x-canary', value: 'no' }] }], backendRefs: [to('canary')] },
      { matches: [{ headers: [{ type: 'RegularExpression', name: 'x-group', value: 'beta.*' }] }], backendRefs: [to('beta')] },
      { backendRefs: [to('stable')] },
    ]);
    expect(send([r], 'GET h/ x-canary:yes')).to.equal('canary 100 %');
    expect(send([r], 'GET h/ X-Group:beta1')).to.equal('beta 100 %');
    expect(send([r], 'GET h/ X-Group:alpha-beta')).to.equal('stable 100 %');
  });

  it('never merges GRPCRoutes into HTTP traffic, nor HTTPRoutes into gRPC calls', () => {
    const routes = [route('http', [{ backendRefs: [to('http')] }]), route('grpc', [{ backendRefs: [to('grpc')] }], { kind: 'GRPCRoute' })];
    expect(send(routes, 'GET h/')).to.equal('http 100 %');
    expect(send(routes, 'GRPC h shop.Cart/Add')).to.equal('grpc 100 %');
  });
});

describe('traffic model: GRPCRoute match precedence', () => {
  it('orders by characters in a matching service, then method, then header matches', () => {
    const g = route('g', [
      { backendRefs: [to('any')] },
      { matches: [{ method: { service: 'shop.Cart' } }], backendRefs: [to('cart')] },
      { matches: [{ method: { service: 'shop.Cart', method: 'Add' } }], backendRefs: [to('cart-add')] },
      { matches: [{ method: { service: 'shop.Cart' }, headers: [{ name: 'x-canary', value: 'yes' }] }], backendRefs: [to('cart-canary')] },
      { matches: [{ method: { type: 'RegularExpression', service: 'shop\\..*', method: 'Get.*' } }], backendRefs: [to('regex')] },
    ], { kind: 'GRPCRoute' });
    expect(send([g], 'GRPC h other.S/M')).to.equal('any 100 %');
    expect(send([g], 'GRPC h shop.Cart/Remove')).to.equal('cart 100 %');
    expect(send([g], 'GRPC h shop.Cart/Add x-canary:yes')).to.equal('cart-add 100 %');
    expect(send([g], 'GRPC h shop.Cart/Remove x-canary:yes')).to.equal('cart-canary 100 %');
    expect(send([g], 'GRPC h shop.Order/GetOne')).to.equal('regex 100 %');
  });
});

describe('traffic model: backends and mirrors', () => {
  it('splits by weight: a missing weight is 1, weight 0 gets nothing, all zero answers 500', () => {
    expect(send([route('r', [{ backendRefs: [to('a', 90), to('b', 10)] }])], 'GET h/')).to.equal('a 90 %, b 10 %');
    expect(send([route('r', [{ backendRefs: [to('a'), to('b'), to('c', 2)] }])], 'GET h/')).to.equal('a 25 %, b 25 %, c 50 %');
    expect(send([route('r', [{ backendRefs: [to('a', 100), to('b', 0)] }])], 'GET h/')).to.equal('a 100 %');
    expect(send([route('r', [{ backendRefs: [to('a', 5)] }])], 'GET h/')).to.equal('a 100 %');
    expect(send([route('r', [{ backendRefs: [to('a', 0), to('b', 0)] }])], 'GET h/')).to.equal('no backend (500)');
  });

  it('mirrors all requests, a percent, or a fraction (denominator default 100)', () => {
    const mirror = (extra: Record<string, unknown>) => ({ type: 'RequestMirror', requestMirror: { backendRef: { name: 'm', port: 80 }, ...extra } });
    const with_ = (f: Record<string, unknown>) => send([route('r', [{ filters: [f], backendRefs: [to('a')] }])], 'GET h/');
    expect(with_(mirror({}))).to.equal('a 100 %; mirrored to m at 100 %');
    expect(with_(mirror({ percent: 50 }))).to.equal('a 100 %; mirrored to m at 50 %');
    expect(with_(mirror({ fraction: { numerator: 1, denominator: 3 } }))).to.equal('a 100 %; mirrored to m at 33.333 %');
    expect(with_(mirror({ fraction: { numerator: 5 } }))).to.equal('a 100 %; mirrored to m at 5 %');
    expect(with_(mirror({ percent: 0 }))).to.equal('a 100 %');
  });

  it('resolves backends to the route’s namespace unless they name another, and keeps their kind', () => {
    const r = route('r', [{ backendRefs: [{ name: 'a', namespace: 'app', weight: 1 }, { name: 'b', kind: 'ServiceImport', group: 'multicluster.x-k8s.io', weight: 1 }] }], { ns: 'gateway' });
    expect(describeDecision(selectRule([r], parseRequest('GET h/')))).to.equal('app/a 50 %, ServiceImport.multicluster.x-k8s.io/gateway/b 50 %');
  });
});

describe('traffic model: request notation', () => {
  it('reads method, host, path, query and headers, and says what it expects', () => {
    expect(parseRequest('POST app.example.com/api/x?debug=1&a=b X-Canary:yes')).to.deep.equal({
      host: 'app.example.com', method: 'POST', path: '/api/x', headers: { 'X-Canary': 'yes' }, query: { debug: '1', a: 'b' },
    });
    expect(() => parseRequest('app.example.com')).to.throw(/expected "METHOD host\/path\?query Header:value …"/);
    expect(() => parseRequest('GET h/ X-Canary')).to.throw('request "GET h/ X-Canary": header "X-Canary" must be Name:value');
  });
});

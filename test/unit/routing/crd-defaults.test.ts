import { expect } from 'chai';
import { TrafficRouter } from '../../../src/routing/router.js';
import { route, rollout, ROLES, seedConfig, seedStore, STABLE, CANARY } from './fixtures.js';
import { traffic } from '../../support/traffic.js';

// A real API server fills in the Gateway API CRD defaults (backendRef group/kind/weight,
// HTTPRoute path matches, header match types). Given such a server, when the controller
// repeats each call on every reconcile, then nothing is written a second time.

for (const pruneRuleNames of [false, true]) describe(`routing: no rewrite against an API server that applies CRD defaults${pruneRuleNames ? ' and prunes rules[].name' : ''}`, () => {
  it('repeats setWeight, setHeaderRoute, setMirrorRoute, removeManagedRoutes without writing, and the traffic follows', async () => {
    const grpc = route('GRPCRoute', 'g', { rules: [{ matches: [{ method: { service: 'a.B' } }], backendRefs: [{ name: STABLE, port: 9 }, { name: CANARY, port: 9 }] }] });
    const bare = route('HTTPRoute', 'bare', { rules: [{ backendRefs: [{ name: STABLE, port: 80 }, { name: CANARY, port: 80 }] }] });
    const store = seedStore(undefined, { crdDefaults: true, pruneRuleNames });
    store.put(grpc);
    store.put(bare);
    const router = new TrafficRouter({ store });
    const ro = rollout({ ...seedConfig(), grpcRoute: 'g', httpRoutes: [{ name: 'bare', useHeaderRoutes: true }] });
    const calls: [string, () => Promise<{ error: string }>][] = [
      ['setWeight 10', () => router.setWeight(ro, 10, [{ serviceName: 'exp', weight: 5 }])],
      ['setHeaderRoute', () => router.setHeaderRoute(ro, { name: 'canary-header', match: [{ headerName: 'x-canary', headerValue: { prefix: 'y' } }] })],
      ['setMirrorRoute', () => router.setMirrorRoute(ro, { name: 'canary-mirror', percentage: 20, match: [{ headers: { 'x-m': { exact: '1' } } }] })],
      ['setWeight 0', () => router.setWeight(ro, 0, [])],
      ['removeManagedRoutes', () => router.removeManagedRoutes(ro)],
    ];
    for (const [name, call] of calls) {
      expect((await call()).error, name).to.equal('');
      const writes = store.writes.length;
      expect(writes, `${name} wrote`).to.be.greaterThan(0);
      expect((await call()).error, name).to.equal('');
      expect(store.writes.length, `${name} repeated`).to.equal(writes);
      store.writes.length = 0;
    }
    // After the last step the routes are back to their own rules: every request on stable.
    expect(store.route('HTTPRoute', 'bare').spec.rules).to.have.length(1);
    expect(traffic([store.route('HTTPRoute', 'bare')], ROLES)('GET h/ x-canary:yes x-m:1')).to.equal('stable 100 %');
    expect(traffic([store.route('GRPCRoute', 'g')], ROLES)('GRPC h a.B/C x-canary:yes')).to.equal('stable 100 %');
  });

  it('sends header users to the canary and mirrors while the managed rules are set', async () => {
    const store = seedStore(undefined, { crdDefaults: true, pruneRuleNames });
    const router = new TrafficRouter({ store });
    const ro = rollout(seedConfig());
    expect((await router.setWeight(ro, 10, [])).error).to.equal('');
    expect((await router.setHeaderRoute(ro, { name: 'canary-header', match: [{ headerName: 'x-canary', headerValue: { prefix: 'y' } }] })).error).to.equal('');
    expect((await router.setMirrorRoute(ro, { name: 'canary-mirror', percentage: 20, match: [{ headers: { 'x-m': { exact: '1' } } }] })).error).to.equal('');
    const see = traffic([store.route('HTTPRoute', 'canary-route')], ROLES);
    expect(see('GET app.example.com/ x-canary:yes')).to.equal('canary 100 %');
    expect(see('GET app.example.com/ x-m:1')).to.equal('stable 90 %, canary 10 %; mirrored to canary at 20 %');
    expect(see('GET app.example.com/')).to.equal('stable 90 %, canary 10 %');
    expect(store.route('HTTPRoute', 'canary-route').spec.rules).to.have.length(3);
  });
});

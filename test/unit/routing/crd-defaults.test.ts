import { expect } from 'chai';
import { TrafficRouter } from '../../../src/routing/router.js';
import { route, rollout, seedConfig, seedStore, STABLE, CANARY } from './fixtures.js';

// A real API server fills in the Gateway API CRD defaults (backendRef group/kind/weight,
// HTTPRoute path matches, header match types). Given such a server, when the controller
// repeats each call on every reconcile, then nothing is written a second time.

describe('routing: no rewrite against an API server that applies CRD defaults', () => {
  it('repeats setWeight, setHeaderRoute, setMirrorRoute, removeManagedRoutes without writing', async () => {
    const grpc = route('GRPCRoute', 'g', { rules: [{ matches: [{ method: { service: 'a.B' } }], backendRefs: [{ name: STABLE, port: 9 }, { name: CANARY, port: 9 }] }] });
    const bare = route('HTTPRoute', 'bare', { rules: [{ backendRefs: [{ name: STABLE, port: 80 }, { name: CANARY, port: 80 }] }] });
    const store = seedStore(undefined, { crdDefaults: true });
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
  });
});

import { expect } from 'chai';
import { silentLogger } from '../../../src/log.js';
import { startApiServer, type ApiServer } from '../../../src/kube/apiserver/index.js';
import { KubeClient } from '../../../src/kube/client.js';
import { localRouters } from '../../../src/kube/local-router.js';
import type { TrafficRouterApi } from '../../../src/routing/api.js';
import type { Rollout } from '../../../src/routing/rollout.js';
import type { RouteObject } from '../../../src/routing/route-store.js';
import { seedPinnedRoutes } from '../../support/seed.js';
import { CANARY_SVC, STABLE_SVC, backend, rolloutWith, route, service } from '../../support/builders.js';

// What each call costs the API server, counted by the in-process API server itself: TCP
// connections (one keep-alive pool per process) and requests by verb (#9.1, #9.2). The
// seeds' Rollout manages one route (canary-route) and pins two (always-old/new-version).

const MANAGED = 1;
const PINNED = 2;

describe('API budgets: connections and requests per call, with the shipped defaults', function () {
  this.timeout(60_000);
  let api: ApiServer;
  let kube: KubeClient;
  let router: TrafficRouterApi;
  let rollout: Rollout;

  beforeEach(async () => {
    api = await startApiServer({ simulateGateway: true });
    rollout = await seedPinnedRoutes(api);
    // The shipped defaults: no qps/burst given.
    kube = new KubeClient({ kubeConfig: api.kubeConfig() });
    router = localRouters({ client: kube, logger: silentLogger })('');
    api.resetCounters();
  });
  afterEach(async () => {
    kube.close();
    await api.close();
  });

  const ok = async (p: Promise<{ error: string }>) => expect((await p).error).to.equal('');
  async function gatewayCaughtUp(name: string) {
    const caughtUp = () => {
      const route = api.get('gateway.networking.k8s.io/v1', 'HTTPRoute', 'default', name) as unknown as RouteObject;
      const conditions = (route.status as { parents?: { conditions?: { observedGeneration?: number }[] }[] } | undefined)?.parents?.[0]?.conditions ?? [];
      return conditions.length > 0 && conditions.every((c) => c.observedGeneration === route.metadata.generation);
    };
    while (!caughtUp()) await new Promise((r) => setTimeout(r, 2));
  }
  async function counted(call: () => Promise<unknown>) {
    api.resetCounters();
    await call();
    return api.requestsByVerb();
  }

  it('100 calls reuse a handful of connections', async () => {
    for (let i = 0; i < 25; i++) {
      await ok(router.setWeight(rollout, i % 2 ? 10 : 20, []));
      await ok(router.verifyWeight(rollout, 10, []));
      await ok(router.updateHash(rollout, 'a', 'b', []));
      await ok(router.setWeight(rollout, i % 2 ? 10 : 20, []));
    }
    // No more than one call's own parallel reads: UpdateHash's first call reads the managed and
    // pinned routes and both Services at once.
    expect(api.connectionsAccepted).to.be.at.most(MANAGED + PINNED + 2);
  });

  it('100 concurrent calls, as from 100 Rollouts reconciling at once, all succeed over at most the pool size of connections', async () => {
    await ok(router.setWeight(rollout, 10, []));
    api.resetCounters();
    const results = await Promise.all(Array.from({ length: 100 }, () => router.setWeight(rollout, 10, [], { deadline: Date.now() + 5000 })));
    expect(results.filter((r) => r.error !== '')).to.deep.equal([]);
    expect(api.connectionsAccepted).to.be.at.most(16);
  });

  it('a reconcile pass of 100 Rollouts (UpdateHash, SetWeight, VerifyWeight each) is not throttled by the default budget', async () => {
    api.apply([service(STABLE_SVC), service(CANARY_SVC)]);
    const rollouts = Array.from({ length: 100 }, (_, i) => {
      api.apply([route('HTTPRoute', `route-${i}`, [{ backendRefs: [backend(STABLE_SVC), backend(CANARY_SVC)] }])]);
      return rolloutWith({ httpRoute: `route-${i}` }, { name: `app-${i}` });
    });
    const pass = () =>
      Promise.all(
        rollouts.map(async (r) => {
          await ok(router.updateHash(r, 'a', 'b', []));
          await ok(router.setWeight(r, 10, []));
          expect((await router.verifyWeight(r, 10, [])).error).to.equal('');
        }),
      );
    // The first pass also looks up the Services; later passes are what every reconcile costs.
    await pass();
    await new Promise((r) => setTimeout(r, 3500));
    const before = kube.throttled;
    await pass();
    expect(kube.throttled - before).to.equal(0);
  });

  it('unchanged SetWeight: one read per managed and pinned route, no write', async () => {
    await ok(router.setWeight(rollout, 10, []));
    expect(await counted(() => ok(router.setWeight(rollout, 10, [])))).to.deep.equal({ get: MANAGED + PINNED });
  });

  it('changing SetWeight: one read per route and one write per changed route', async () => {
    await ok(router.setWeight(rollout, 10, []));
    // Once the simulated Gateway has written its status for that change: a read taken before
    // that meets 409 on write, as it would against a real controller writing status meanwhile.
    await gatewayCaughtUp('canary-route');
    expect(await counted(() => ok(router.setWeight(rollout, 20, [])))).to.deep.equal({ get: MANAGED + PINNED, update: MANAGED });
  });

  it('VerifyWeight: one read per managed route', async () => {
    await ok(router.setWeight(rollout, 10, []));
    expect(await counted(() => router.verifyWeight(rollout, 10, []))).to.deep.equal({ get: MANAGED });
  });

  it('UpdateHash on every reconcile: one read per managed and pinned route (Services are remembered once seen)', async () => {
    await ok(router.updateHash(rollout, 'a', 'b', []));
    expect(await counted(() => ok(router.updateHash(rollout, 'c', 'b', [])))).to.deep.equal({ get: MANAGED + PINNED });
  });

  it('a header route: one read per managed route with header routes, one write when it changes', async () => {
    const header = { name: 'canary-header', match: [{ headerName: 'X-Canary', headerValue: { exact: 'yes' } }] };
    expect(await counted(() => ok(router.setHeaderRoute(rollout, header)))).to.deep.equal({ get: MANAGED, update: MANAGED });
    expect(await counted(() => ok(router.setHeaderRoute(rollout, header)))).to.deep.equal({ get: MANAGED });
  });

  it('a mirror route with a percentage: when it changes, one read, one dry run (the CRDs must keep the percent) and one write per route; else one read', async () => {
    const mirror = { name: 'canary-mirror', percentage: 20, match: [{ path: { prefix: '/api' } }] };
    expect(await counted(() => ok(router.setMirrorRoute(rollout, mirror)))).to.deep.equal({ get: MANAGED, update: 2 * MANAGED });
    expect(await counted(() => ok(router.setMirrorRoute(rollout, mirror)))).to.deep.equal({ get: MANAGED });
  });

  it('a mirror step whose dry run meets a concurrent write: read and planned again, then dry run and write', async () => {
    api.faults.conflictOnNextUpdate('httproutes', 'canary-route');
    const mirror = { name: 'canary-mirror', percentage: 20, match: [{ path: { prefix: '/api' } }] };
    expect(await counted(() => ok(router.setMirrorRoute(rollout, mirror)))).to.deep.equal({ get: 2, update: 3 });
    const puts = api.requestLog.filter((r) => r.method === 'PUT').map((r) => `${r.status} ${r.query}`);
    expect(puts).to.deep.equal(['409 dryRun=All', '200 dryRun=All', '200 ']);
  });
});

import { expect } from 'chai';
import { silentLogger } from '../../../src/log.js';
import { startApiServer, type ApiServer } from '../../../src/kube/apiserver/index.js';
import { KubeClient } from '../../../src/kube/client.js';
import { kubeConfigForServer } from '../../../src/kube/kubeconfig.js';
import { localRouters } from '../../../src/kube/local-router.js';
import { KubeRouteStore } from '../../../src/kube/route-store.js';
import { RouteKind, type RouteObject, type RoutePlan, type RouteRef } from '../../../src/routing/route-store.js';
import type { Rollout } from '../../../src/routing/rollout.js';
import { ruleWeights } from '../../support/routes.js';
import { seedPinnedRoutes } from '../../support/seed.js';
import { FaultAction, startFaultProxy, type FaultProxy } from '../../faults/proxy.js';

// SetWeight reads the managed route together with the pinned ones (one round trip, not two).
// That read stands in for the one taken in the route's write queue only while no write of
// ours to the route went out since it began (src/kube/route-store.ts).

const CANARY = 'argo-rollouts-canary-service';
const MANAGED: RouteRef = { kind: RouteKind.HTTPRoute, namespace: 'default', name: 'canary-route' };
const COUNT = 'test.rollouts-companion/count';

const MARK = 'test.rollouts-companion/mark';

/** Sets the mark annotation to `value`; nothing to write when it already has it. */
const setMark =
  (value: string): RoutePlan =>
  (route: RouteObject) => {
    if (route.metadata.annotations?.[MARK] === value) return null;
    route.metadata.annotations = { ...route.metadata.annotations, [MARK]: value };
    return route;
  };

/** Writes the route with its count annotation one higher than it reads. */
const increment: RoutePlan = (route: RouteObject) => {
  route.metadata.annotations = { ...route.metadata.annotations, [COUNT]: String(Number(route.metadata.annotations?.[COUNT] ?? 0) + 1) };
  return route;
};

describe('prefetched route reads', function () {
  this.timeout(30_000);
  let api: ApiServer;
  let proxy: FaultProxy;
  let kube: KubeClient;
  let rollout: Rollout;

  beforeEach(async () => {
    api = await startApiServer({ simulateGateway: true });
    rollout = await seedPinnedRoutes(api);
    proxy = await startFaultProxy(api.url);
    kube = new KubeClient({ kubeConfig: kubeConfigForServer(proxy.url) });
  });
  afterEach(async () => {
    kube.close();
    await proxy.close();
    await api.close();
  });

  const managed = () => api.get('gateway.networking.k8s.io/v1', 'HTTPRoute', 'default', 'canary-route') as unknown as RouteObject;
  const routeGets = () => proxy.forwarded.filter((f) => f.startsWith('GET') && f.includes('/httproutes/'));

  it('Given slow answers for the pinned routes, When SetWeight runs, Then the managed route is read without waiting for them, and written once', async () => {
    const router = localRouters({ client: kube, logger: silentLogger })('');
    expect((await router.setWeight(rollout, 10, [])).error).to.equal('');
    proxy.forwarded.length = 0;
    proxy.inject({ method: 'GET', path: /always-(old|new)-version$/, action: FaultAction.Delay, delayMs: 300, times: 2 });
    expect((await router.setWeight(rollout, 30, [])).error).to.equal('');
    expect(routeGets().map((f) => f.split('/').pop())).to.deep.equal(['canary-route', 'always-old-version', 'always-new-version']);
    expect(ruleWeights(managed())[0]![CANARY]).to.equal(30);
    expect(proxy.forwarded.filter((f) => f.startsWith('PUT'))).to.have.length(1);
  });

  it('Given a read prefetched before a write of ours to the route, Then the update reads it again and plans on what that write left', async () => {
    const store = new KubeRouteStore(kube);
    await store.update([MANAGED], setMark('a'));
    const stale = store.prefetch([MANAGED]);
    await stale.get('HTTPRoute/default/canary-route')!.read;
    await store.update([MANAGED], setMark('b'));
    proxy.forwarded.length = 0;
    // The stale read still says "a": planned on it, this update would write nothing.
    const [update] = await store.update([MANAGED], setMark('a'), undefined, stale);
    expect(update!.written).to.equal(true);
    expect(managed().metadata.annotations?.[MARK]).to.equal('a');
    expect(routeGets()).to.have.length(1);
  });

  it('Given no write in between, Then the update takes the prefetched read and reads nothing more', async () => {
    const store = new KubeRouteStore(kube);
    const early = store.prefetch([MANAGED]);
    await early.get('HTTPRoute/default/canary-route')!.read;
    proxy.forwarded.length = 0;
    await store.update([MANAGED], increment, undefined, early);
    expect(managed().metadata.annotations?.[COUNT]).to.equal('1');
    expect(routeGets()).to.deep.equal([]);
  });

  it('Given a call of ours holding the route (its write under way), Then nothing is prefetched for it', async () => {
    const store = new KubeRouteStore(kube);
    proxy.inject({ method: 'PUT', path: /canary-route$/, action: FaultAction.Delay, delayMs: 300 });
    const writing = store.update([MANAGED], increment);
    while (!proxy.forwarded.some((f) => f.startsWith('GET') && f.endsWith('canary-route'))) await new Promise((r) => setTimeout(r, 5));
    expect(store.prefetch([MANAGED]).size).to.equal(0);
    await writing;
    expect(managed().metadata.annotations?.[COUNT]).to.equal('1');
  });
});

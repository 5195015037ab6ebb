import { expect } from 'chai';
import { silentLogger } from '../../../src/log.js';
import { startApiServer, type ApiServer } from '../../../src/kube/apiserver/index.js';
import { KubeClient } from '../../../src/kube/client.js';
import { kubeConfigForServer } from '../../../src/kube/kubeconfig.js';
import { localRouters } from '../../../src/kube/local-router.js';
import type { TrafficRouterApi } from '../../../src/routing/api.js';
import type { Rollout } from '../../../src/routing/rollout.js';
import type { RouteObject } from '../../../src/routing/route-store.js';
import { seedPinnedRoutes } from '../../support/seed.js';
import { ruleWeights } from '../../support/routes.js';
import { FaultAction, startFaultProxy, type FaultProxy } from '../../faults/proxy.js';

// The write path: a call waits for earlier calls on the same route, and is not written once
// its caller has gone.

const CANARY = 'argo-rollouts-canary-service';

describe('write path: ordered per route, nothing written for a caller that has gone', function () {
  this.timeout(30_000);
  let api: ApiServer;
  let proxy: FaultProxy;
  let kube: KubeClient;
  let router: TrafficRouterApi;
  let rollout: Rollout;

  beforeEach(async () => {
    api = await startApiServer();
    rollout = await seedPinnedRoutes(api);
    proxy = await startFaultProxy(api.url);
    kube = new KubeClient({ kubeConfig: kubeConfigForServer(proxy.url) });
    router = localRouters({ client: kube, logger: silentLogger })('');
  });
  afterEach(async () => {
    kube.close();
    await proxy.close();
    await api.close();
  });

  const canaryWeight = () =>
    ruleWeights(api.get('gateway.networking.k8s.io/v1', 'HTTPRoute', 'default', 'canary-route') as unknown as RouteObject)[0]![CANARY];

  it('a call cancelled while it waits for the route is never written; the earlier one lands', async () => {
    // Given SetWeight(20) holds the route: its PUT takes 600 ms
    proxy.inject({ method: 'PUT', path: /canary-route$/, action: FaultAction.Delay, delayMs: 600 });
    let reads = 0;
    kube.onRequest((o) => void (o.verb === 'get' && o.code === 200 && reads++));
    const first = router.setWeight(rollout, 20, []);
    await new Promise((r) => setTimeout(r, 200));
    // When SetWeight(50) queues behind it and its caller cancels
    const gone = new AbortController();
    const second = router.setWeight(rollout, 50, [], { signal: gone.signal });
    // (once its pinned routes are read: the first call's three GETs and its own two)
    while (reads < 5) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 20));
    gone.abort(new Error('cancelled'));
    // Then the second call says so, the first lands, and 50 is never written
    expect((await second).error).to.equal('updating HTTPRoute default/canary-route: abandoned: the caller went away or its deadline passed');
    expect((await first).error).to.equal('');
    await new Promise((r) => setTimeout(r, 100));
    expect(canaryWeight()).to.equal(20);
    expect(proxy.forwarded.filter((f) => f.startsWith('PUT'))).to.have.length(1);
    // And the next call works
    expect((await router.setWeight(rollout, 0, [])).error).to.equal('');
    expect(canaryWeight()).to.equal(0);
  });
});

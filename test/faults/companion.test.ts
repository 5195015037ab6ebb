import { expect } from 'chai';
import { silentLogger } from '../../src/log.js';
import { startApiServer, type ApiServer } from '../../src/kube/apiserver/index.js';
import { KubeClient, type KubeClientOptions } from '../../src/kube/client.js';
import { kubeConfigForServer } from '../../src/kube/kubeconfig.js';
import { localRouters } from '../../src/kube/local-router.js';
import type { EventRecorder } from '../../src/kube/events.js';
import { WRITE_FENCE_ANNOTATION } from '../../src/kube/route-store.js';
import { createCompanionServer, listen } from '../../src/grpc/server.js';
import { createRemoteRouter, type RemoteRouter } from '../../src/grpc/client.js';
import { Verified } from '../../src/routing/api.js';
import type { Rollout } from '../../src/routing/rollout.js';
import type { RouteObject } from '../../src/routing/route-store.js';
import { seedPinnedRoutes } from '../support/seed.js';
import { ruleWeights } from '../support/routes.js';
import { FaultAction, startFaultProxy, type FaultProxy } from './proxy.js';

// The companion (gRPC) with a fault-injecting proxy between it and the API server: truncated
// and unanswered responses, delayed writes that land after their caller gave up, resets, 5xx,
// another writer. Every case checks the route as stored and that the next call succeeds.

const CANARY = 'argo-rollouts-canary-service';
const STABLE = 'argo-rollouts-stable-service';
const PUT_ROUTE = { method: 'PUT', path: /\/httproutes\/canary-route$/ };
const GET_ROUTE = { method: 'GET', path: /\/httproutes\/canary-route$/ };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const within = (ms: number) => ({ deadline: Date.now() + ms });

describe('faults: the companion between a faulty network and its callers', function () {
  this.timeout(60_000);
  let api: ApiServer;
  let proxy: FaultProxy;
  let rollout: Rollout;
  let client: RemoteRouter;
  let kube: KubeClient;
  let stopServer: () => Promise<void>;
  let changes: string[] = [];

  const canaryRoute = (): RouteObject => api.get('gateway.networking.k8s.io/v1', 'HTTPRoute', 'default', 'canary-route') as unknown as RouteObject;
  const canaryWeight = () => ruleWeights(canaryRoute())[0]![CANARY];

  async function start(options: Partial<KubeClientOptions> = {}) {
    changes = [];
    api = await startApiServer({ simulateGateway: true });
    rollout = await seedPinnedRoutes(api);
    proxy = await startFaultProxy(api.url);
    kube = new KubeClient({ kubeConfig: kubeConfigForServer(proxy.url), ...options });
    // Each route change as its Event would say it.
    const recorder = { record: (_object: unknown, _type: string, reason: string) => changes.push(reason) } as unknown as EventRecorder;
    const { server } = createCompanionServer({ routerFor: localRouters({ client: kube, logger: silentLogger, recorder }), logger: silentLogger });
    const port = await listen(server, '127.0.0.1:0');
    client = createRemoteRouter({ address: `127.0.0.1:${port}`, deadlineMs: 10_000 });
    stopServer = () => new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  }

  afterEach(async () => {
    client.close();
    await stopServer();
    kube.close();
    await proxy.close();
    await api.close();
  });

  async function untilDelaysLanded() {
    while (proxy.pendingDelays() > 0) await sleep(20);
    await sleep(50);
  }

  it('a truncated PUT response does not wedge the route: the write completes, and SetWeight(0) lands', async () => {
    await start({ requestTimeoutMs: 1000 });
    // Given the API server's answer to our PUT is cut short (the write itself landed)
    proxy.inject({ ...PUT_ROUTE, action: FaultAction.Truncate });
    // When the controller sets 20%, then aborts
    expect((await client.setWeight(rollout, 20, [], within(5000))).error).to.equal('');
    expect(canaryWeight()).to.equal(20);
    expect((await client.setWeight(rollout, 0, [], within(5000))).error).to.equal('');
    // Then the route is back on stable, and the next call works
    expect(ruleWeights(canaryRoute())).to.deep.equal([{ [STABLE]: 100, [CANARY]: 0 }]);
    expect((await client.setWeight(rollout, 10, [])).error).to.equal('');
    expect(canaryWeight()).to.equal(10);
  });

  it('a truncated PUT response with no time left to retry: that call fails in time, the abort lands', async () => {
    await start();
    proxy.inject({ ...PUT_ROUTE, action: FaultAction.Truncate });
    const r = await client.setWeight(rollout, 20, [], within(1500));
    expect(r.error).to.match(/^(updating HTTPRoute default\/canary-route: no answer from the API server within \d+ ms|companion .* did not answer SetWeight)/);
    expect((await client.setWeight(rollout, 0, [], within(5000))).error).to.equal('');
    expect(canaryWeight()).to.equal(0);
  });

  it('an unanswered PUT is abandoned at the deadline; the next SetWeight does not wait for it', async () => {
    await start({ requestTimeoutMs: 800 });
    proxy.inject({ ...PUT_ROUTE, action: FaultAction.Stall });
    // The stalled attempt is aborted and retried: the call still succeeds
    expect((await client.setWeight(rollout, 30, [], within(5000))).error).to.equal('');
    expect(canaryWeight()).to.equal(30);
    expect((await client.setWeight(rollout, 0, [], within(5000))).error).to.equal('');
    expect(canaryWeight()).to.equal(0);
  });

  it('SetWeight(20) abandoned with its PUT delayed, then SetWeight(0) acknowledged: the route ends at 0', async () => {
    await start();
    expect((await client.setWeight(rollout, 0, [])).error).to.equal('');
    // Given the PUT of SetWeight(20) is held up for 2 s in the network, and its caller gives up after 1 s
    proxy.inject({ ...PUT_ROUTE, action: FaultAction.Delay, delayMs: 2000 });
    const abandoned = await client.setWeight(rollout, 20, [], within(1000));
    expect(abandoned.error).to.not.equal('');
    // When the abort is acknowledged before the late PUT reaches the API server
    expect(canaryWeight()).to.equal(0);
    const changesBefore = changes.length;
    expect((await client.setWeight(rollout, 0, [])).error).to.equal('');
    expect(changes.slice(changesBefore), 'the fence is no weight change').to.deep.equal([]);
    // Then the late PUT meets a moved resourceVersion (409) and the route stays on stable
    await untilDelaysLanded();
    expect(ruleWeights(canaryRoute())).to.deep.equal([{ [STABLE]: 100, [CANARY]: 0 }]);
    expect(canaryRoute().metadata.annotations).to.have.property(WRITE_FENCE_ANNOTATION);
    // And the next call works
    expect((await client.setWeight(rollout, 10, [])).error).to.equal('');
    expect(canaryWeight()).to.equal(10);
  });

  it('acks "20 then 10" end at 10, even when the write of 20 is slow', async () => {
    await start();
    proxy.inject({ ...PUT_ROUTE, action: FaultAction.Delay, delayMs: 800 });
    const acks: number[] = [];
    const twenty = client.setWeight(rollout, 20, []).then((r) => (expect(r.error).to.equal(''), acks.push(20)));
    await sleep(100);
    const ten = client.setWeight(rollout, 10, []).then((r) => (expect(r.error).to.equal(''), acks.push(10)));
    await Promise.all([twenty, ten]);
    await untilDelaysLanded();
    expect(acks).to.deep.equal([20, 10]);
    expect(canaryWeight()).to.equal(10);
    expect((await client.setWeight(rollout, 0, [])).error).to.equal('');
    expect(canaryWeight()).to.equal(0);
  });

  it('another writer at 10 writes/s does not fail our SetWeights: conflicts are re-planned with back-off', async () => {
    await start();
    let stop = false;
    let n = 0;
    const writer = (async () => {
      while (!stop) {
        const r = canaryRoute();
        api.update({ ...r, metadata: { ...r.metadata, labels: { ...r.metadata.labels, 'other-writer': String(++n) } } });
        await sleep(100);
      }
    })();
    const errors: string[] = [];
    for (let i = 0; i < 30; i++) {
      // Two conflicts in a row on every call, on top of the other writer
      api.faults.conflictOnNextUpdate('httproutes', 'canary-route');
      api.faults.conflictOnNextUpdate('httproutes', 'canary-route');
      const r = await client.setWeight(rollout, i % 2 ? 10 : 20, [], within(5000));
      if (r.error) errors.push(r.error);
    }
    stop = true;
    await writer;
    expect(errors).to.deep.equal([]);
    expect(canaryWeight()).to.equal(10);
    expect(canaryRoute().metadata.labels).to.have.property('other-writer');
  });

  it('300 abandoned VerifyWeights leave the queue: a real SetWeight still lands within its deadline', async () => {
    await start({ qps: 20, burst: 5 });
    // Given 300 VerifyWeights whose callers give up after 200 ms (far more than 20 qps can serve)
    const abandoned = await Promise.all(Array.from({ length: 300 }, () => client.verifyWeight(rollout, 0, [], within(200))));
    expect(abandoned.filter((r) => r.error !== '').length).to.be.greaterThan(200);
    // When the controller sets a weight with 3 s to spare
    const r = await client.setWeight(rollout, 40, [], within(3000));
    // Then it lands
    expect(r.error).to.equal('');
    expect(canaryWeight()).to.equal(40);
  });

  it('a full rate-limit queue answers RESOURCE_EXHAUSTED with a clear message, and later calls succeed', async () => {
    await start({ qps: 2, burst: 1, maxQueued: 5 });
    const results = await Promise.all(Array.from({ length: 30 }, () => client.verifyWeight(rollout, 0, [], within(3000))));
    const refused = results.filter((r) => /too many Kubernetes API requests are queued in this process \(5, the limit\)/.test(r.error));
    expect(refused.length).to.be.greaterThan(0);
    expect(refused[0]!.error).to.match(/^companion .* is overloaded \(VerifyWeight\): too many Kubernetes API requests/);
    expect((await client.setWeight(rollout, 10, [], within(5000))).error).to.equal('');
    expect(canaryWeight()).to.equal(10);
  });

  it('5xx answers, 429 and connection resets are retried', async () => {
    await start();
    proxy.inject({ ...GET_ROUTE, action: FaultAction.Status, status: 503 });
    proxy.inject({ ...GET_ROUTE, action: FaultAction.Reset });
    proxy.inject({ ...PUT_ROUTE, action: FaultAction.Status, status: 500, times: 2 });
    proxy.inject({ ...PUT_ROUTE, action: FaultAction.Status, status: 429 });
    expect((await client.setWeight(rollout, 25, [], within(5000))).error).to.equal('');
    expect(canaryWeight()).to.equal(25);
    const v = await client.verifyWeight(rollout, 25, []);
    expect(v.error).to.equal('');
    expect(v.verified).to.be.oneOf([Verified.Verified, Verified.NotVerified]);
  });

  it('a 5xx that persists past the deadline is one line naming the route, the verb and the server\'s reason', async () => {
    await start();
    proxy.inject({ ...PUT_ROUTE, action: FaultAction.Status, status: 500, times: Infinity });
    const r = await client.setWeight(rollout, 25, [], within(1500));
    expect(r.error).to.equal('updating HTTPRoute default/canary-route: API server error 500 InternalError: injected 500');
    proxy.clear();
    expect((await client.setWeight(rollout, 0, [])).error).to.equal('');
    expect(canaryWeight()).to.equal(0);
  });
});

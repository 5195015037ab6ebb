import { expect } from 'chai';
import { startApiServer, type ApiServer } from '../../../src/kube/apiserver/index.js';
import { KubeClient } from '../../../src/kube/client.js';
import { kubeConfigForServer } from '../../../src/kube/kubeconfig.js';
import { KubeRouteStore } from '../../../src/kube/route-store.js';
import { readRollout } from '../../../src/kube/rollouts.js';
import { TrafficRouter } from '../../../src/routing/router.js';
import type { Rollout } from '../../../src/routing/rollout.js';
import { RouteKind, type RouteRef } from '../../../src/routing/route-store.js';
import { seedPinnedRoutes } from '../../support/seed.js';
import { FaultAction, startFaultProxy } from '../../faults/proxy.js';

// Every way an API request fails, as the user reads it: one line naming the object, the verb
// and the API server's reason (#8.5) — through the real client, against the in-process API
// server answering each status code.

const CANARY_ROUTE: RouteRef = { kind: RouteKind.HTTPRoute, namespace: 'default', name: 'canary-route' };

describe('API errors: one line per status code, naming the object, the verb and the reason', function () {
  this.timeout(30_000);
  let api: ApiServer;
  let kube: KubeClient;
  let store: KubeRouteStore;
  let router: TrafficRouter;
  let rollout: Rollout;

  beforeEach(async () => {
    api = await startApiServer();
    rollout = await seedPinnedRoutes(api);
    kube = new KubeClient({ kubeConfig: api.kubeConfig() });
    store = new KubeRouteStore(kube);
    router = new TrafficRouter({ store });
  });
  afterEach(async () => {
    kube.close();
    await api.close();
  });

  const setWeightError = async (deadlineMs = 5000) => (await router.setWeight(rollout, 10, [], { deadline: Date.now() + deadlineMs })).error;

  it('404: "<Kind> <namespace>/<name> not found"', async () => {
    api.delete('gateway.networking.k8s.io/v1', 'HTTPRoute', 'default', 'canary-route');
    expect(await setWeightError()).to.equal('HTTPRoute default/canary-route not found');
  });

  it('403: which RBAC rule is missing (verb, resource.group, namespace)', async () => {
    api.faults.inject({ verb: 'update', resource: 'httproutes', status: 403, times: Infinity });
    expect(await setWeightError()).to.equal(
      'updating HTTPRoute default/canary-route: forbidden: RBAC must allow verb "update" on "httproutes.gateway.networking.k8s.io" in namespace "default"',
    );
  });

  it('403 on a core resource names it without a group', async () => {
    api.faults.inject({ verb: 'get', resource: 'services', status: 403, times: Infinity });
    const r = await router.updateHash(rollout, 'a', 'b', []);
    expect(r.error).to.include('reading Service default/argo-rollouts-stable-service: forbidden: RBAC must allow verb "get" on "services" in namespace "default"');
  });

  it('401: the credentials were rejected', async () => {
    api.faults.inject({ verb: 'get', resource: 'httproutes', name: 'canary-route', status: 401, times: Infinity });
    expect(await setWeightError()).to.equal(
      'reading HTTPRoute default/canary-route: unauthorized: the API server rejected the credentials (expired token?)',
    );
  });

  it('409 until the deadline: conflict retries exhausted, with the number of attempts', async () => {
    api.faults.inject({ verb: 'update', resource: 'httproutes', status: 409, times: Infinity });
    expect(await setWeightError(2000)).to.match(
      /^updating HTTPRoute default\/canary-route: still conflicting after \d+ attempts: another writer keeps changing it$/,
    );
  });

  it('422: rejected as invalid, with the server\'s message', async () => {
    api.faults.inject({ verb: 'update', resource: 'httproutes', status: 422, message: 'spec.rules[0].backendRefs[0].weight: Invalid value: -1', times: Infinity });
    expect(await setWeightError()).to.equal(
      'updating HTTPRoute default/canary-route: rejected as invalid: spec.rules[0].backendRefs[0].weight: Invalid value: -1',
    );
  });

  it('429 until the deadline: throttled', async () => {
    api.faults.inject({ verb: 'get', resource: 'httproutes', name: 'canary-route', status: 429, message: 'too many requests', times: Infinity });
    expect(await setWeightError(1000)).to.equal('reading HTTPRoute default/canary-route: the API server is throttling requests (429): too many requests');
  });

  it('500 until the deadline: the server\'s code, reason and message on one line', async () => {
    api.faults.inject({ verb: 'update', resource: 'httproutes', status: 500, message: 'etcdserver: request timed out\n(retry later)', times: Infinity });
    expect(await setWeightError(1000)).to.equal(
      'updating HTTPRoute default/canary-route: API server error 500 InternalError: etcdserver: request timed out (retry later)',
    );
  });

  it('no answer: a timeout names the request and how long it waited', async () => {
    const proxy = await startFaultProxy(api.url);
    const slow = new KubeClient({ kubeConfig: kubeConfigForServer(proxy.url), requestTimeoutMs: 300 });
    try {
      proxy.inject({ method: 'GET', path: /canary-route$/, action: FaultAction.Stall, times: Infinity });
      const error = await new KubeRouteStore(slow).get(CANARY_ROUTE, { deadline: Date.now() + 400 }).then(
        () => '',
        (e: Error) => e.message,
      );
      expect(error).to.match(/^reading HTTPRoute default\/canary-route: no answer from the API server within \d+ ms$/);
    } finally {
      slow.close();
      await proxy.close();
    }
  });

  it('unreachable: names the server and the connection error', async () => {
    const url = api.url;
    await api.faults.down('refuse');
    const error = await store.get(CANARY_ROUTE, { deadline: Date.now() + 500 }).then(
      () => '',
      (e: Error) => e.message,
    );
    expect(error).to.match(new RegExp(`^reading HTTPRoute default/canary-route: API server ${url} unreachable: connect ECONNREFUSED [0-9.:]+$`));
    await api.faults.up();
  });

  it('a Rollout read names the Rollout', async () => {
    api.faults.inject({ verb: 'get', resource: 'rollouts', status: 403 });
    const error = await readRollout(kube, 'default', 'web').then(
      () => '',
      (e: Error) => e.message,
    );
    expect(error).to.equal('reading Rollout default/web: forbidden: RBAC must allow verb "get" on "rollouts.argoproj.io" in namespace "default"');
  });
});

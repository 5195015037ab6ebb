import { expect } from 'chai';
import { startApiServer, type ApiServer } from '../../../src/kube/apiserver/index.js';
import { KubeClient } from '../../../src/kube/client.js';
import { EventRecorder } from '../../../src/kube/events.js';
import { createLocalRouter } from '../../../src/kube/local-router.js';
import { silentLogger } from '../../../src/log.js';
import type { TrafficRouterApi } from '../../../src/routing/api.js';
import type { Rollout } from '../../../src/routing/rollout.js';
import { backend, CANARY_SVC, rolloutWith, route, service, STABLE_SVC } from '../../support/builders.js';
import { seedPinnedRoutes } from '../../support/seed.js';

// Route changes as `kubectl describe rollout` shows them: Events on the Rollout, one per change,
// none for calls that change nothing, repeats counted on one Event.

interface Event {
  type: string;
  reason: string;
  message: string;
  count: number;
  involvedObject: { kind: string; name: string; uid?: string };
}

describe('route Events on the Rollout (TrafficRouter through the real client)', () => {
  let api: ApiServer;
  let rollout: Rollout;
  let recorder: EventRecorder;
  let router: TrafficRouterApi;
  const events = (): Event[] => api.list('v1', 'Event', 'default') as unknown as Event[];
  const summary = () => events().map((e) => `${e.type} ${e.reason} x${e.count}: ${e.message}`);

  beforeEach(async () => {
    api = await startApiServer();
    rollout = await seedPinnedRoutes(api);
    rollout.metadata.uid = 'uid-of-the-rollout';
    const kube = new KubeClient({ kubeConfig: api.kubeConfig() });
    recorder = new EventRecorder({ kube, component: 'rollouts-companion' });
    router = createLocalRouter({ client: kube, recorder, logger: silentLogger });
  });
  afterEach(async () => api.close());

  it('Given SetWeight 10 twice and then 50, Then one TrafficWeightUpdated Event per weight, none for the unchanged call', async () => {
    expect((await router.setWeight(rollout, 10, [])).error).to.equal('');
    expect((await router.setWeight(rollout, 10, [])).error).to.equal('');
    expect((await router.setWeight(rollout, 50, [])).error).to.equal('');
    await recorder.flush();
    expect(summary()).to.have.members([
      'Normal TrafficWeightUpdated x1: canary weight 10 on HTTPRoute default/canary-route',
      'Normal TrafficWeightUpdated x1: canary weight 50 on HTTPRoute default/canary-route',
    ]);
    expect(events()[0].involvedObject).to.deep.include({ kind: 'Rollout', name: rollout.metadata.name, uid: 'uid-of-the-rollout' });
  });

  it('Given header and mirror steps and their removal, Then HeaderRouteSet, MirrorRouteSet and ManagedRoutesRemoved', async () => {
    const header = { name: 'canary-header', match: [{ headerName: 'X-Canary', headerValue: { exact: 'yes' } }] };
    expect((await router.setHeaderRoute(rollout, header)).error).to.equal('');
    expect((await router.setMirrorRoute(rollout, { name: 'canary-mirror', match: [{ path: { prefix: '/' } }], percentage: 20 })).error).to.equal('');
    expect((await router.removeManagedRoutes(rollout)).error).to.equal('');
    await recorder.flush();
    expect(summary()).to.have.members([
      'Normal HeaderRouteSet x1: header route canary-header updated on HTTPRoute default/canary-route',
      'Normal MirrorRouteSet x1: mirror route canary-mirror updated on HTTPRoute default/canary-route',
      'Normal ManagedRoutesRemoved x1: managed header and mirror routes removed from HTTPRoute default/canary-route',
    ]);
  });

  it('Given two managed routes and a write the API server refuses on the second, Then the first one\'s change still has its Event', async () => {
    const split = [{ backendRefs: [backend(STABLE_SVC), backend(CANARY_SVC)] }];
    api.apply([service(STABLE_SVC), service(CANARY_SVC), route('HTTPRoute', 'web-a', split), route('HTTPRoute', 'web-b', split)]);
    api.faults.inject({ verb: 'update', resource: 'httproutes', name: 'web-b', status: 422, message: 'denied by policy' });
    const r = await router.setWeight(rolloutWith({ httpRoutes: [{ name: 'web-a' }, { name: 'web-b' }] }), 30, []);
    expect(r.error).to.contain('HTTPRoute default/web-b').and.contain('denied by policy');
    await recorder.flush();
    expect(summary()).to.deep.equal(['Normal TrafficWeightUpdated x1: canary weight 30 on HTTPRoute default/web-a']);
  });

  it('Given a pinned route that sends VIP users to the canary, When SetWeight is refused twice, Then one Warning counted twice', async () => {
    const pinned = api.get('gateway.networking.k8s.io/v1', 'HTTPRoute', 'default', 'always-old-version')!;
    const broken = structuredClone(pinned);
    const rules = (broken.spec as { rules: { backendRefs: { name: string }[] }[] }).rules;
    rules[0].backendRefs[0].name = 'argo-rollouts-canary-service';
    api.update(broken);

    expect((await router.setWeight(rollout, 10, [])).error).to.contain('always-old-version');
    expect((await router.setWeight(rollout, 10, [])).error).to.contain('always-old-version');
    await recorder.flush();
    const [violation, ...more] = events();
    expect(more).to.deep.equal([]);
    expect(violation).to.deep.include({ type: 'Warning', reason: 'PinnedRouteViolation', count: 2 });
    expect(violation.message).to.contain('always-old-version');
  });
});

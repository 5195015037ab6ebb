import { expect } from 'chai';
import { startApiServer, type ApiServer } from '../../../src/kube/apiserver/index.js';
import type { RouteObject } from '../../../src/routing/route-store.js';
import { backend, CANARY_SVC, rolloutWith, route, service, STABLE_SVC } from '../../support/builders.js';
import { startCompanion, type RunningCompanion } from '../../support/companion.js';
import { ruleWeights } from '../../support/routes.js';

// What changes with the controller's version, seen from the plugin (README: "Argo Rollouts
// versions"). Mirror steps and ping-pong are tested in pinned-routes and ping-pong; here, the
// call order v1.10 introduced.

describe('companion over gRPC: Argo Rollouts v1.10 call order', () => {
  let api: ApiServer;
  let companion: RunningCompanion;
  const get = (name: string) => api.get('gateway.networking.k8s.io/v1', 'HTTPRoute', 'default', name) as unknown as RouteObject;

  beforeEach(async () => {
    api = await startApiServer();
    api.apply([service(STABLE_SVC), service(CANARY_SVC), route('HTTPRoute', 'web', [{ backendRefs: [backend(STABLE_SVC), backend(CANARY_SVC)] }])]);
    companion = await startCompanion(api.kubeConfig());
  });
  afterEach(async () => {
    await companion.stop();
    await api.close();
  });

  it('takes SetWeight before any UpdateHash (a new canary without available pods), then UpdateHash', async () => {
    // Given a plugin that has seen no call for this Rollout yet
    const rollout = rolloutWith({ httpRoute: 'web' });
    // When v1.10 sends SetWeight(0) first (the canary has no available pods), then UpdateHash and SetWeight(20)
    expect((await companion.client.setWeight(rollout, 0, [])).error).to.equal('');
    expect(ruleWeights(get('web'))).to.deep.equal([{ [STABLE_SVC]: 100, [CANARY_SVC]: 0 }]);
    expect((await companion.client.updateHash(rollout, 'new', 'old', [])).error).to.equal('');
    expect((await companion.client.setWeight(rollout, 20, [])).error).to.equal('');
    // Then the route carries the weights of the last call
    expect(ruleWeights(get('web'))).to.deep.equal([{ [STABLE_SVC]: 80, [CANARY_SVC]: 20 }]);
  });
});

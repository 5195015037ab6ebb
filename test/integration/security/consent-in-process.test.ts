import { expect } from 'chai';
import { silentLogger } from '../../../src/log.js';
import { startApiServer, type ApiServer, type KubeObject } from '../../../src/kube/apiserver/index.js';
import { createLocalRouter } from '../../../src/kube/local-router.js';
import type { Rollout } from '../../../src/routing/rollout.js';
import type { RouteObject } from '../../../src/routing/route-store.js';
import { ruleWeights } from '../../support/routes.js';
import { CANARY, STABLE } from '../plugin/support.js';
import { seedPinnedRoutes } from '../../support/seed.js';

// Plugin in-process mode writes routes with the controller's own (cluster-wide) permissions, so
// the route owner's consent is checked there too: a Rollout in team-a cannot take over shop's route.

const PLUGIN = 'rollouts-companion/gatewayAPI';
const ALLOW = 'rollouts-companion.argoproj.io/allow-rollouts-from';

describe('plugin in-process mode: cross-namespace routes need consent', () => {
  let api: ApiServer;
  let rollout: Rollout;

  beforeEach(async () => {
    api = await startApiServer({ simulateGateway: true });
    const seed = await seedPinnedRoutes(api);
    // The Rollout's Services (team-a) as backends of shop's route.
    for (const name of [STABLE, CANARY]) api.create({ ...api.get('v1', 'Service', 'default', name)!, metadata: { name, namespace: 'team-a' } });
    const route = api.get('gateway.networking.k8s.io/v1', 'HTTPRoute', 'default', 'canary-route') as unknown as RouteObject;
    const rules = (route.spec.rules ?? []).map((r) => ({ ...r, backendRefs: (r.backendRefs as object[]).map((b) => ({ ...b, namespace: 'team-a' })) }));
    api.create({ apiVersion: route.apiVersion, kind: route.kind, metadata: { name: 'shop', namespace: 'shop' }, spec: { ...route.spec, rules } } as KubeObject);
    rollout = structuredClone(seed);
    rollout.metadata = { name: 'checkout', namespace: 'team-a', uid: 'u-1' };
    (rollout.spec!.strategy!.canary!.trafficRouting!.plugins as Record<string, unknown>)[PLUGIN] = { httpRoute: 'shop', namespace: 'shop' };
  });
  afterEach(() => api.close());

  const shop = () => api.get('gateway.networking.k8s.io/v1', 'HTTPRoute', 'shop', 'shop') as unknown as RouteObject;
  const router = (allowCrossNamespaceRoutes = false) =>
    createLocalRouter({ kubeConfig: api.kubeConfig(), logger: silentLogger, pluginName: PLUGIN, allowCrossNamespaceRoutes });

  it('refuses without the route\'s consent and writes nothing', async () => {
    const r = await router().setWeight(rollout, 100, []);
    expect(r.error).to.match(/^Rollout team-a\/checkout may not use routes in namespace shop: every route it names there must be annotated/);
    expect(ruleWeights(shop())).to.deep.equal([{ [STABLE]: undefined, [CANARY]: undefined }]);
  });

  it('serves once the route names the Rollout\'s namespace', async () => {
    api.update({ ...(shop() as unknown as KubeObject), metadata: { ...shop().metadata, annotations: { [ALLOW]: 'team-a' } } } as KubeObject);
    expect((await router().setWeight(rollout, 40, [])).error).to.equal('');
    expect(ruleWeights(shop())[0]).to.deep.equal({ [STABLE]: 60, [CANARY]: 40 });
  });

  it('serves when the operator allows cross-namespace routes (--allow-cross-namespace-routes)', async () => {
    expect((await router(true).setWeight(rollout, 40, [])).error).to.equal('');
    expect(ruleWeights(shop())[0]).to.deep.equal({ [STABLE]: 60, [CANARY]: 40 });
  });
});

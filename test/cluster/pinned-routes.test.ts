import { join } from 'node:path';
import { CoreV1Api, KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { readManifests, readRollout } from '../../src/cli/manifests.js';
import { startCompanion, type RunningCompanion } from '../support/companion.js';
import { PINNED_ROUTES_DIR } from '../support/seed.js';
import { routeReader, walkPinnedRoutes } from '../scenarios/pinned-routes.js';

// Opt-in: `KUBECONFIG=~/.kube/config npm run test:cluster`. Needs the Gateway API CRDs
// (HTTPRoute) installed; runs the same scenario as the in-process suite in a throw-away
// namespace. A gateway controller is not required (VerifyWeight is not part of it).

describe('real cluster: the seeds\' pinned-routes scenario', function () {
  this.timeout(120_000);
  const namespace = `rollouts-companion-e2e-${Date.now().toString(36)}`;
  let kc: KubeConfig;
  let companion: RunningCompanion;

  before(async () => {
    if (!process.env.KUBECONFIG) throw new Error('the cluster suite needs KUBECONFIG pointing at a test cluster');
    kc = new KubeConfig();
    kc.loadFromDefault();
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
    const objects = kc.makeApiClient(KubernetesObjectApi);
    for (const file of ['services.yaml', 'httproutes.yaml']) {
      for (const m of await readManifests(join(PINNED_ROUTES_DIR, file))) {
        await objects.create({ ...m, metadata: { ...m.metadata, namespace } } as KubernetesObject);
      }
    }
    companion = await startCompanion(kc);
  });

  after(async () => {
    await companion?.stop();
    await kc?.makeApiClient(CoreV1Api).deleteNamespace({ name: namespace });
  });

  it('moves canary-route 0→10→50→100→0 and never writes the pinned routes', async () => {
    const rollout = await readRollout(join(PINNED_ROUTES_DIR, 'rollout.yaml'));
    rollout.metadata.namespace = namespace;
    const config = rollout.spec!.strategy!.canary!.trafficRouting!.plugins!['rollouts-companion/gatewayAPI'] as Record<string, unknown>;
    config.namespace = namespace;
    await walkPinnedRoutes(companion.client, rollout, routeReader(kc, namespace));
  });
});

import { expect } from 'chai';
import { CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { silentLogger } from '../../src/log.js';
import { KubeClient } from '../../src/kube/client.js';
import { startCanaryController, type CanaryController } from '../../src/canary/index.js';

// Opt-in: `KUBECONFIG=... npm run test:cluster`. Needs the Argo Rollouts CRDs but NOT a running
// Argo Rollouts controller in the cluster (it would reconcile the test's Rollout and rewrite the
// Service selector itself): the test plays the controller's part by switching the selector.

const HASH = 'rollouts-pod-template-hash';
const ATTACH = 'rollouts-companion.argoproj.io/attach-to';

describe('real cluster: a long-lived canary follows a blueGreen promotion', function () {
  this.timeout(120_000);
  const namespace = `rollouts-companion-llc-${Date.now().toString(36)}`;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let controller: CanaryController | undefined;

  const podHash = async () => (await core.readNamespacedPod({ namespace, name: 'long-lived-canary' })).metadata?.labels?.[HASH];
  const eventually = async (what: string, check: () => Promise<boolean>) => {
    for (const deadline = Date.now() + 30_000; !(await check()); ) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  before(async () => {
    if (!process.env.KUBECONFIG) throw new Error('the cluster suite needs KUBECONFIG pointing at a test cluster');
    kc = new KubeConfig();
    kc.loadFromDefault();
    core = kc.makeApiClient(CoreV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    // Given the active Service selecting hash h1 and a Rollout whose stable ReplicaSet is h1
    await core.createNamespacedService({
      namespace,
      body: {
        metadata: { name: 'bluegreen-demo', annotations: { 'argo-rollouts.argoproj.io/managed-by-rollouts': 'bluegreen-demo' } },
        spec: { ports: [{ port: 80, targetPort: 8080 }], selector: { app: 'bluegreen-demo', [HASH]: 'h1' } },
      },
    });
    const rollout = {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Rollout',
      metadata: { name: 'bluegreen-demo', namespace },
      spec: {
        replicas: 0,
        // `tier` keeps the Rollout's ReplicaSets from adopting the hand-made pod below.
        selector: { matchLabels: { app: 'bluegreen-demo', tier: 'main' } },
        template: { metadata: { labels: { app: 'bluegreen-demo', tier: 'main' } }, spec: { containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.9' }] } },
        strategy: { blueGreen: { activeService: 'bluegreen-demo', autoPromotionEnabled: false } },
      },
    };
    const created = (await custom.createNamespacedCustomObject({ group: 'argoproj.io', version: 'v1alpha1', namespace, plural: 'rollouts', body: rollout })) as typeof rollout;
    await custom.replaceNamespacedCustomObjectStatus({
      group: 'argoproj.io',
      version: 'v1alpha1',
      namespace,
      plural: 'rollouts',
      name: 'bluegreen-demo',
      body: { ...created, status: { stableRS: 'h1', blueGreen: { activeSelector: 'h1' } } },
    });
    // And a hand-made pod attached to it, without the hash
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'long-lived-canary', labels: { app: 'bluegreen-demo', [ATTACH]: 'bluegreen-demo' } },
        spec: { containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.9', env: [{ name: 'GOGC', value: '50' }] }] },
      },
    });
    controller = await startCanaryController({ kube: new KubeClient({ kubeConfig: kc }), logger: silentLogger, namespaces: [namespace] });
  });

  after(async () => {
    await controller?.stop();
    await core?.deleteNamespace({ name: namespace });
  });

  it('labels the attached pod with the hash the active Service selects', async () => {
    await eventually('the pod to get h1', async () => (await podHash()) === 'h1');
  });

  it('moves the pod to the new hash as soon as the Service switches, before stableRS is recorded', async () => {
    // When the controller switches the active Service to h2 (blueGreen promotion)
    await core.patchNamespacedService(
      { namespace, name: 'bluegreen-demo', body: { spec: { selector: { [HASH]: 'h2' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    // Then the pod follows the Service
    await eventually('the pod to get h2', async () => (await podHash()) === 'h2');
    const pod = await core.readNamespacedPod({ namespace, name: 'long-lived-canary' });
    expect(pod.metadata?.labels).to.include({ app: 'bluegreen-demo', [ATTACH]: 'bluegreen-demo', [HASH]: 'h2' });
  });
});

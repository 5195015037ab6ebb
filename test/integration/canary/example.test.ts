import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../../src/kube/apiserver/index.js';
import { selectorMatches, type LabelSelector } from '../../../src/canary/rule.js';
import { eventually, harness, podHash, setServiceHash, setStableRS, type Harness } from './fixtures.js';

const load = (file: string): KubeObject[] =>
  parseAllDocuments(readFileSync(new URL(`../../../examples/long-lived-canary/${file}`, import.meta.url), 'utf8'))
    .map((doc) => doc.toJSON() as KubeObject)
    .filter(Boolean);

interface Workload {
  spec: { selector: LabelSelector; template: { metadata: { labels: Record<string, string> }; spec: unknown } };
}

describe('examples/long-lived-canary', function () {
  this.timeout(30_000);
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });
  afterEach(async () => h.close());

  const ns = 'rollouts-demo';
  const rolloutDocs = load('rollout.yaml');
  const [deployment] = load('canary.yaml') as (KubeObject & Workload)[];
  const rollout = rolloutDocs.find((d) => d.kind === 'Rollout') as KubeObject & Workload;
  const canaryLabels = deployment.spec.template.metadata.labels;

  it('keeps the canary Deployment and the Rollout from selecting each other’s pods', () => {
    expect(selectorMatches(deployment.spec.selector, rollout.spec.template.metadata.labels)).to.equal(false);
    // The Rollout's ReplicaSets would select the canary once it carries the hash: hence its own controller.
    expect(selectorMatches(rollout.spec.selector, canaryLabels)).to.equal(true);
  });

  it('Given the example applied and the Rollout up, When it is promoted, Then the canary pod follows as the README says', async () => {
    h.api.apply(rolloutDocs);
    // What the Deployment controller would create (the in-process API server runs no controllers).
    h.api.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'long-lived-canary-5f7d9c6b8-x2x4q',
        namespace: ns,
        labels: { ...canaryLabels, 'pod-template-hash': '5f7d9c6b8' },
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'long-lived-canary-5f7d9c6b8', uid: 'rs-uid', controller: true, blockOwnerDeletion: true },
        ],
      },
      spec: deployment.spec.template.spec,
    });
    // What Argo Rollouts does once the first ReplicaSet is up: selector first, then status.
    setServiceHash(h.api, 'bluegreen-demo', 'fbc7b7f55', ns);
    setStableRS(h.api, 'bluegreen-demo', 'fbc7b7f55', ns);
    await h.start();

    const hashes = () => ({
      stableRS: (h.api.get('argoproj.io/v1alpha1', 'Rollout', ns, 'bluegreen-demo')?.status as { stableRS?: string }).stableRS,
      service: (h.api.get('v1', 'Service', ns, 'bluegreen-demo')?.spec as { selector: Record<string, string> }).selector['rollouts-pod-template-hash'],
      canary: podHash(h.api, 'long-lived-canary-5f7d9c6b8-x2x4q', ns),
    });
    await eventually('the canary to carry the active hash', () => hashes().canary === 'fbc7b7f55');
    expect(hashes()).to.deep.equal({ stableRS: 'fbc7b7f55', service: 'fbc7b7f55', canary: 'fbc7b7f55' });

    setServiceHash(h.api, 'bluegreen-demo', '6f8b9c7d4', ns);
    setStableRS(h.api, 'bluegreen-demo', '6f8b9c7d4', ns);
    await eventually('the canary to follow the promotion', () => hashes().canary === '6f8b9c7d4');
    expect(hashes()).to.deep.equal({ stableRS: '6f8b9c7d4', service: '6f8b9c7d4', canary: '6f8b9c7d4' });
    expect(h.api.get('v1', 'Pod', ns, 'long-lived-canary-5f7d9c6b8-x2x4q')?.metadata.labels).to.deep.equal({
      ...canaryLabels,
      'pod-template-hash': '5f7d9c6b8',
      'rollouts-pod-template-hash': '6f8b9c7d4',
    });
  });
});

import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../../src/kube/apiserver/index.js';
import { eventually, harness, podHash, setServiceHash, setStableRS, type Harness } from './fixtures.js';

const load = (file: string): KubeObject[] =>
  parseAllDocuments(readFileSync(new URL(`../../../examples/long-lived-canary/${file}`, import.meta.url), 'utf8'))
    .map((doc) => doc.toJSON() as KubeObject)
    .filter(Boolean);

describe('examples/long-lived-canary', function () {
  this.timeout(30_000);
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });
  afterEach(async () => h.close());

  it('Given the example applied and the Rollout up, When it is promoted, Then the canary pod follows as the README says', async () => {
    h.api.apply(load('rollout.yaml'));
    h.api.apply(load('canary.yaml'));
    const ns = 'rollouts-demo';
    // What Argo Rollouts does once the first ReplicaSet is up: selector first, then status.
    setServiceHash(h.api, 'bluegreen-demo', 'fbc7b7f55', ns);
    setStableRS(h.api, 'bluegreen-demo', 'fbc7b7f55', ns);
    await h.start();

    const hashes = () => ({
      stableRS: (h.api.get('argoproj.io/v1alpha1', 'Rollout', ns, 'bluegreen-demo')?.status as { stableRS?: string }).stableRS,
      service: (h.api.get('v1', 'Service', ns, 'bluegreen-demo')?.spec as { selector: Record<string, string> }).selector['rollouts-pod-template-hash'],
      canary: podHash(h.api, 'long-lived-canary', ns),
    });
    await eventually('the canary to carry the active hash', () => hashes().canary === 'fbc7b7f55');
    expect(hashes()).to.deep.equal({ stableRS: 'fbc7b7f55', service: 'fbc7b7f55', canary: 'fbc7b7f55' });

    setServiceHash(h.api, 'bluegreen-demo', '6f8b9c7d4', ns);
    setStableRS(h.api, 'bluegreen-demo', '6f8b9c7d4', ns);
    await eventually('the canary to follow the promotion', () => hashes().canary === '6f8b9c7d4');
    expect(hashes()).to.deep.equal({ stableRS: '6f8b9c7d4', service: '6f8b9c7d4', canary: '6f8b9c7d4' });
    expect(h.api.get('v1', 'Pod', ns, 'long-lived-canary')?.metadata.labels).to.deep.equal({
      app: 'bluegreen-demo',
      'rollouts-companion.argoproj.io/attach-to': 'bluegreen-demo',
      'rollouts-pod-template-hash': '6f8b9c7d4',
    });
  });
});

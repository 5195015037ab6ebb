import { expect } from 'chai';
import {
  DEFAULT_ATTACH_LABEL,
  Decision,
  decide,
  isValidLabelKey,
  LEGACY_ATTACH_LABEL,
  podView,
  relabelPatch,
  rolloutView,
  selectorMatches,
  serviceView,
  trafficServiceName,
  type PodView,
  type RolloutView,
  type ServiceView,
} from '../../../src/canary/rule.js';

const pod = (labels: Record<string, string>, name = 'long-lived-canary') => ({
  metadata: { name, namespace: 'demo', resourceVersion: '7', labels },
});

const controlled = (labels: Record<string, string>) => ({
  metadata: {
    ...pod(labels).metadata,
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'long-lived-canary-5d9f', uid: 'u', controller: true }],
  },
});

const blueGreen = (status: Record<string, unknown> = {}) => ({
  metadata: { name: 'bluegreen-demo', namespace: 'demo' },
  spec: {
    selector: { matchLabels: { app: 'bluegreen-demo' } },
    strategy: { blueGreen: { activeService: 'bluegreen-demo', previewService: 'bluegreen-demo-preview' } },
  },
  status,
});

const canary = (status: Record<string, unknown> = {}) => ({
  metadata: { name: 'canary-demo', namespace: 'demo' },
  spec: { strategy: { canary: { stableService: 'canary-demo-stable', canaryService: 'canary-demo-canary' } } },
  status,
});

const service = (name: string, selector: Record<string, string>, managedBy = 'bluegreen-demo') => ({
  metadata: { name, namespace: 'demo', annotations: { 'argo-rollouts.argoproj.io/managed-by-rollouts': managedBy } },
  spec: { selector },
});

const attached = (hash?: string): PodView =>
  podView(
    controlled({ app: 'bluegreen-demo', [DEFAULT_ATTACH_LABEL]: 'bluegreen-demo', ...(hash ? { 'rollouts-pod-template-hash': hash } : {}) }),
    DEFAULT_ATTACH_LABEL,
  )!;

describe('canary rule', () => {
  describe('which pods are attached', () => {
    it('Given a pod with the attach label, Then it is attached to the Rollout the label names', () => {
      const view = podView(pod({ [DEFAULT_ATTACH_LABEL]: 'bluegreen-demo', app: 'x' }), DEFAULT_ATTACH_LABEL);
      expect(view).to.deep.equal({
        namespace: 'demo',
        name: 'long-lived-canary',
        resourceVersion: '7',
        labels: { [DEFAULT_ATTACH_LABEL]: 'bluegreen-demo', app: 'x' },
        rollout: 'bluegreen-demo',
        hash: undefined,
      });
    });

    it('Given a pod without the label or with an empty value, Then it is not attached', () => {
      expect(podView(pod({ app: 'x' }), DEFAULT_ATTACH_LABEL)).to.equal(undefined);
      expect(podView(pod({ [DEFAULT_ATTACH_LABEL]: '' }), DEFAULT_ATTACH_LABEL)).to.equal(undefined);
    });

    it('Given the argo-canary label and that key configured, Then the pod is attached', () => {
      expect(podView(pod({ [LEGACY_ATTACH_LABEL]: 'bluegreen-demo' }), LEGACY_ATTACH_LABEL)?.rollout).to.equal('bluegreen-demo');
      expect(podView(pod({ [LEGACY_ATTACH_LABEL]: 'bluegreen-demo' }), DEFAULT_ATTACH_LABEL)).to.equal(undefined);
    });
  });

  describe('which Service carries production traffic', () => {
    it('is the active Service for blueGreen and the stable Service for canary', () => {
      expect(trafficServiceName(blueGreen().spec)).to.equal('bluegreen-demo');
      expect(trafficServiceName(canary().spec)).to.equal('canary-demo-stable');
    });

    it('is none for a canary without a stable Service or a Rollout without a strategy', () => {
      expect(trafficServiceName({ strategy: { canary: { steps: [] } } })).to.equal(undefined);
      expect(trafficServiceName({})).to.equal(undefined);
      expect(trafficServiceName(undefined)).to.equal(undefined);
    });
  });

  describe('only Services Argo Rollouts manages are considered', () => {
    it('keeps the managing Rollout and the selected hash', () => {
      expect(serviceView(service('bluegreen-demo', { app: 'a', 'rollouts-pod-template-hash': 'fbc7b7f55' }))).to.deep.equal({
        namespace: 'demo',
        name: 'bluegreen-demo',
        managedBy: 'bluegreen-demo',
        hash: 'fbc7b7f55',
      });
    });

    it('drops a Service without the managed-by annotation', () => {
      expect(serviceView({ metadata: { name: 'plain', namespace: 'demo' }, spec: { selector: { app: 'a' } } })).to.equal(undefined);
    });
  });

  describe('the hash an attached pod must carry', () => {
    const rollout = (status: Record<string, unknown>): RolloutView => rolloutView(blueGreen(status))!;
    const active = (hash?: string): ServiceView =>
      serviceView(service('bluegreen-demo', hash ? { app: 'a', 'rollouts-pod-template-hash': hash } : { app: 'a' }))!;

    it('Given blueGreen switched the active Service before recording stableRS, Then the pod follows the Service', () => {
      const decision = decide(attached('old'), rollout({ stableRS: 'old' }), active('new'));
      expect(decision).to.deep.equal({ kind: Decision.Patch, hash: 'new', source: 'service' });
    });

    it('Given a canary whose stable Service was switched, Then the pod follows the stable Service', () => {
      const view = rolloutView(canary({ stableRS: 'new' }))!;
      const stable = serviceView(service('canary-demo-stable', { 'rollouts-pod-template-hash': 'old' }, 'canary-demo'))!;
      // The controller records stableRS first and switches the Service on the next reconcile;
      // until then the Service still sends traffic to "old", so the pod stays there.
      expect(decide(attached('none'), view, stable)).to.deep.equal({ kind: Decision.Patch, hash: 'old', source: 'service' });
    });

    it('Given a Service with no hash in its selector yet, Then stableRS is used', () => {
      expect(decide(attached(), rollout({ stableRS: 'abc' }), active())).to.deep.equal({
        kind: Decision.Patch,
        hash: 'abc',
        source: 'stableRS',
      });
    });

    it('Given no Service at all, Then stableRS is used', () => {
      expect(decide(attached(), rollout({ stableRS: 'abc' }), undefined)).to.include({ kind: Decision.Patch, hash: 'abc' });
    });

    it('Given a Service that is not the Rollout’s traffic Service, Then it is ignored', () => {
      const other = serviceView(service('somewhere-else', { 'rollouts-pod-template-hash': 'zzz' }))!;
      expect(decide(attached(), rollout({ stableRS: 'abc' }), other)).to.include({ hash: 'abc' });
    });

    it('Given the pod already carries the hash, Then nothing is done', () => {
      expect(decide(attached('new'), rollout({ stableRS: 'old' }), active('new'))).to.deep.equal({ kind: Decision.InSync, hash: 'new' });
    });

    it('Given no hash is known anywhere, Then the pod is skipped', () => {
      expect(decide(attached('x'), rollout({}), active())).to.deep.equal({ kind: Decision.NoHash });
    });

    it('Given the Rollout does not exist, Then the pod is left alone', () => {
      expect(decide(attached('x'), undefined, undefined)).to.deep.equal({ kind: Decision.RolloutMissing });
    });
  });

  describe('adoption by the Rollout’s ReplicaSet', () => {
    const bare = (labels: Record<string, string>) => podView(pod({ [DEFAULT_ATTACH_LABEL]: 'bluegreen-demo', ...labels }), DEFAULT_ATTACH_LABEL)!;

    it('Given a pod with a controller, Then it is relabeled and records that controller', () => {
      const view = attached();
      expect(view.controller).to.equal('ReplicaSet/long-lived-canary-5d9f');
      expect(decide(view, rolloutView(blueGreen({ stableRS: 'abc' })), undefined)).to.include({ kind: Decision.Patch });
    });

    it('Given a bare pod matching the Rollout selector, Then it is left alone: its ReplicaSet would take it over', () => {
      const decision = decide(bare({ app: 'bluegreen-demo' }), rolloutView(blueGreen({ stableRS: 'abc' })), undefined);
      expect(decision).to.deep.equal({ kind: Decision.WouldBeAdopted, hash: 'abc' });
    });

    it('Given a bare pod the Rollout selector does not match, Then it is relabeled', () => {
      const rollout = rolloutView(blueGreen({ stableRS: 'abc' }))!;
      const strict = { ...rollout, selector: { matchLabels: { app: 'bluegreen-demo', track: 'main' } } };
      expect(decide(bare({ app: 'bluegreen-demo' }), strict, undefined)).to.include({ kind: Decision.Patch, hash: 'abc' });
    });

    it('Given a bare pod and a Rollout without spec.selector (workloadRef), Then it is left alone', () => {
      const rollout = { ...rolloutView(blueGreen({ stableRS: 'abc' }))!, selector: undefined };
      expect(decide(bare({ app: 'bluegreen-demo' }), rollout, undefined)).to.include({ kind: Decision.WouldBeAdopted });
    });

    it('Given a pod of a Rollout’s own ReplicaSet (named after its hash), Then it is left alone: relabelled, it would leave it', () => {
      const own = { ...attached('ccc'), controller: 'ReplicaSet/bluegreen-demo-ccc' };
      expect(decide(own, rolloutView(blueGreen({ stableRS: 'abc' })), undefined)).to.deep.equal({ kind: Decision.RolloutReplicaSetPod, hash: 'abc' });
      // A Deployment's ReplicaSet is named after pod-template-hash, not this label: its pod is followed.
      const deployed = { ...attached('ccc'), controller: 'ReplicaSet/long-lived-canary-5d9f' };
      expect(decide(deployed, rolloutView(blueGreen({ stableRS: 'abc' })), undefined)).to.include({ kind: Decision.Patch, hash: 'abc' });
    });

    it('matches label selectors as Kubernetes does', () => {
      const labels = { app: 'a', tier: 'web' };
      expect(selectorMatches({}, labels)).to.equal(true);
      expect(selectorMatches({ matchLabels: { app: 'a' } }, labels)).to.equal(true);
      expect(selectorMatches({ matchLabels: { app: 'b' } }, labels)).to.equal(false);
      expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }] }, labels)).to.equal(true);
      expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] }, labels)).to.equal(false);
      expect(selectorMatches({ matchExpressions: [{ key: 'track', operator: 'NotIn', values: ['x'] }] }, labels)).to.equal(true);
      expect(selectorMatches({ matchExpressions: [{ key: 'track', operator: 'Exists' }] }, labels)).to.equal(false);
      expect(selectorMatches({ matchExpressions: [{ key: 'track', operator: 'DoesNotExist' }] }, labels)).to.equal(true);
    });
  });

  describe('the patch', () => {
    it('sets only the hash label', () => {
      expect(relabelPatch('abc')).to.deep.equal({ metadata: { labels: { 'rollouts-pod-template-hash': 'abc' } } });
    });

    it('carries the resourceVersion precondition when asked', () => {
      expect(relabelPatch('abc', '42')).to.deep.equal({
        metadata: { labels: { 'rollouts-pod-template-hash': 'abc' }, resourceVersion: '42' },
      });
    });
  });

  describe('label keys', () => {
    it('accepts prefixed and plain keys', () => {
      for (const key of [DEFAULT_ATTACH_LABEL, LEGACY_ATTACH_LABEL, 'canary', 'a.b/c_d-e.f']) {
        expect(isValidLabelKey(key), key).to.equal(true);
      }
    });

    it('rejects malformed keys', () => {
      for (const key of ['', '/x', 'Example.com/x', 'a/b/c', 'x'.repeat(64), 'a/-x', 'a b']) {
        expect(isValidLabelKey(key), key).to.equal(false);
      }
    });
  });
});

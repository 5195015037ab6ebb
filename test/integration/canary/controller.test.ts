import { expect } from 'chai';
import { LEGACY_ATTACH_LABEL } from '../../../src/canary/index.js';
import { KubeClient } from '../../../src/kube/client.js';
import {
  ATTACH,
  HASH_LABEL,
  NS,
  attachedPod,
  barePod,
  blueGreenRollout,
  canaryRollout,
  eventually,
  harness,
  managedService,
  metricValue,
  mutate,
  pause,
  pod,
  podHash,
  podLabels,
  setServiceHash,
  setStableRS,
  type Harness,
} from './fixtures.js';

describe('long-lived canaries (through the real client against the in-process API server)', function () {
  this.timeout(60_000);
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });
  afterEach(async () => h.close());

  const seedBlueGreen = (hash = 'aaa') => {
    h.api.create(blueGreenRollout('bluegreen-demo', hash));
    h.api.create(managedService('bluegreen-demo', 'bluegreen-demo', hash));
  };

  describe('promotions', () => {
    it('Given a blueGreen Rollout, When the active Service selector switches before stableRS is recorded, Then the pod follows the Service at once', async () => {
      seedBlueGreen('aaa');
      h.api.create(attachedPod('long-lived-canary', 'bluegreen-demo'));
      await h.start();
      await eventually('the pod to get the active hash', () => podHash(h.api, 'long-lived-canary') === 'aaa');

      setServiceHash(h.api, 'bluegreen-demo', 'bbb');
      await eventually('the pod to follow the active Service', () => podHash(h.api, 'long-lived-canary') === 'bbb');
      expect(h.api.get('argoproj.io/v1alpha1', 'Rollout', NS, 'bluegreen-demo')?.status).to.deep.include({ stableRS: 'aaa' });

      setStableRS(h.api, 'bluegreen-demo', 'bbb');
      await pause(200);
      expect(podHash(h.api, 'long-lived-canary')).to.equal('bbb');
      expect(podLabels(h.api, 'long-lived-canary')).to.deep.equal({ app: 'bluegreen-demo', [ATTACH]: 'bluegreen-demo', [HASH_LABEL]: 'bbb' });
    });

    it('Given a canary Rollout, When stableRS moves and then the stable Service follows, Then the pod moves with the Service', async () => {
      h.api.create(canaryRollout('canary-demo', 'aaa'));
      h.api.create(managedService('canary-demo-stable', 'canary-demo', 'aaa'));
      h.api.create(managedService('canary-demo-canary', 'canary-demo', 'bbb'));
      h.api.create(attachedPod('long-lived-canary', 'canary-demo'));
      await h.start();
      await eventually('the pod to get the stable hash', () => podHash(h.api, 'long-lived-canary') === 'aaa');

      setStableRS(h.api, 'canary-demo', 'bbb');
      await pause(200);
      expect(podHash(h.api, 'long-lived-canary'), 'still where the stable Service sends traffic').to.equal('aaa');

      setServiceHash(h.api, 'canary-demo-stable', 'bbb');
      await eventually('the pod to follow the stable Service', () => podHash(h.api, 'long-lived-canary') === 'bbb');
    });

    it('Given a Service with no hash in its selector yet, Then the pod gets status.stableRS', async () => {
      h.api.create(blueGreenRollout('bluegreen-demo', 'abc'));
      h.api.create(managedService('bluegreen-demo', 'bluegreen-demo'));
      h.api.create(attachedPod('long-lived-canary', 'bluegreen-demo'));
      await h.start();
      await eventually('the pod to get stableRS', () => podHash(h.api, 'long-lived-canary') === 'abc');
    });

    it('Given a Rollout with several attached pods, When it is promoted, Then every attached pod follows', async () => {
      seedBlueGreen('aaa');
      for (let i = 0; i < 6; i += 1) h.api.create(attachedPod(`canary-${i}`, 'bluegreen-demo'));
      const { metrics } = await h.start();
      setServiceHash(h.api, 'bluegreen-demo', 'bbb');
      await eventually('all pods to follow', () => [0, 1, 2, 3, 4, 5].every((i) => podHash(h.api, `canary-${i}`) === 'bbb'));
      expect(await metricValue(metrics, 'rollouts_companion_attached_pods', { namespace: NS, rollout: 'bluegreen-demo' })).to.equal(6);

      type Event = { reason: string; message: string; count: number; involvedObject: { kind: string; name: string } };
      const relabeled = await eventually('the promotion to be one Event on the Rollout', () => {
        const found = (h.api.list('v1', 'Event', NS) as unknown as Event[]).filter((e) => e.reason === 'Relabeled' && e.message.includes('=bbb'));
        return found.length === 1 && found[0].count === 6 && found[0];
      });
      expect(relabeled.involvedObject).to.deep.include({ kind: 'Rollout', name: 'bluegreen-demo' });
      expect(relabeled.message).to.equal('attached pods set to rollouts-pod-template-hash=bbb (from the selector of Service bluegreen-demo)');
    });
  });

  describe('tracing', () => {
    it('Given a tracing hook, When a pod is relabelled, Then one span per relabel carries the pod, Rollout and hash, and ends without error', async () => {
      seedBlueGreen('aaa');
      h.api.create(attachedPod('long-lived-canary', 'bluegreen-demo'));
      const spans: { attributes: Record<string, string>; ended: boolean; error?: unknown }[] = [];
      await h.start({
        traceRelabel: (attributes) => {
          const span: (typeof spans)[number] = { attributes, ended: false };
          spans.push(span);
          return (error) => Object.assign(span, { ended: true, error });
        },
      });
      await eventually('the relabel', () => podHash(h.api, 'long-lived-canary') === 'aaa');
      await eventually('the span to end', () => spans.length === 1 && spans[0].ended);
      expect(spans[0].attributes).to.deep.equal({
        'k8s.namespace.name': NS,
        'k8s.pod.name': 'long-lived-canary',
        'rollouts.rollout.name': 'bluegreen-demo',
        'rollouts.pod_template_hash': 'aaa',
      });
      expect(spans[0].error).to.equal(undefined);
    });
  });

  describe('ordering of pods and Rollouts', () => {
    it('Given a pod created before its Rollout, Then it is left alone and counted, and relabeled once the Rollout appears', async () => {
      h.api.create(attachedPod('early', 'late-rollout', { [HASH_LABEL]: 'mine' }));
      const { metrics } = await h.start();
      await eventually('the missing Rollout to be counted', async () =>
        (await metricValue(metrics, 'rollouts_companion_relabels_total', { result: 'rollout_missing' })) >= 1,
      );
      expect(podHash(h.api, 'early')).to.equal('mine');

      h.api.create(blueGreenRollout('late-rollout', 'fff'));
      h.api.create(managedService('late-rollout', 'late-rollout', 'fff'));
      await eventually('the pod to follow the new Rollout', () => podHash(h.api, 'early') === 'fff');
    });

    it('Given a running controller, When a pod is attached after its Rollout exists, Then it is relabeled', async () => {
      seedBlueGreen('aaa');
      await h.start();
      h.api.create(attachedPod('late-pod', 'bluegreen-demo'));
      await eventually('the new pod to be relabeled', () => podHash(h.api, 'late-pod') === 'aaa');
    });

    it('Given an existing unattached pod, When the attach label is added to it, Then it is relabeled', async () => {
      seedBlueGreen('aaa');
      h.api.create(pod('later-attached', { app: 'bluegreen-demo' }));
      await h.start();
      mutate(h.api, 'v1', 'Pod', 'later-attached', (p) => {
        p.metadata.labels = { ...p.metadata.labels, [ATTACH]: 'bluegreen-demo' };
      });
      await eventually('the newly attached pod to be relabeled', () => podHash(h.api, 'later-attached') === 'aaa');
    });

    it('Given the Rollout is deleted and recreated with another stable hash, Then the pod is left alone meanwhile and then follows', async () => {
      seedBlueGreen('aaa');
      h.api.create(attachedPod('long-lived-canary', 'bluegreen-demo'));
      const { metrics } = await h.start();
      await eventually('the pod to get the first hash', () => podHash(h.api, 'long-lived-canary') === 'aaa');

      h.api.delete('argoproj.io/v1alpha1', 'Rollout', NS, 'bluegreen-demo');
      h.api.delete('v1', 'Service', NS, 'bluegreen-demo');
      await eventually('the missing Rollout to be counted', async () =>
        (await metricValue(metrics, 'rollouts_companion_relabels_total', { result: 'rollout_missing' })) >= 1,
      );
      expect(podHash(h.api, 'long-lived-canary')).to.equal('aaa');

      seedBlueGreen('ccc');
      await eventually('the pod to follow the recreated Rollout', () => podHash(h.api, 'long-lived-canary') === 'ccc');
    });
  });

  describe('attachment', () => {
    it('Given two Rollouts in one namespace, Then each pod follows the Rollout its label names, also after the label is changed', async () => {
      seedBlueGreen('aaa');
      h.api.create(canaryRollout('canary-demo', 'xxx'));
      h.api.create(managedService('canary-demo-stable', 'canary-demo', 'xxx'));
      h.api.create(attachedPod('follows-bluegreen', 'bluegreen-demo'));
      h.api.create(attachedPod('follows-canary', 'canary-demo'));
      await h.start();
      await eventually('both pods to be relabeled', () => podHash(h.api, 'follows-bluegreen') === 'aaa' && podHash(h.api, 'follows-canary') === 'xxx');

      setServiceHash(h.api, 'canary-demo-stable', 'yyy');
      await eventually('the canary pod to follow', () => podHash(h.api, 'follows-canary') === 'yyy');
      expect(podHash(h.api, 'follows-bluegreen')).to.equal('aaa');

      mutate(h.api, 'v1', 'Pod', 'follows-bluegreen', (p) => {
        p.metadata.labels = { ...p.metadata.labels, [ATTACH]: 'canary-demo' };
      });
      await eventually('the re-attached pod to follow its new Rollout', () => podHash(h.api, 'follows-bluegreen') === 'yyy');
    });

    it('Given the argo-canary label key configured, Then pods carrying it are followed and pods with the default key are not', async () => {
      seedBlueGreen('aaa');
      h.api.create(pod('legacy', { app: 'bluegreen-demo', [LEGACY_ATTACH_LABEL]: 'bluegreen-demo' }));
      h.api.create(attachedPod('new-style', 'bluegreen-demo', { [HASH_LABEL]: 'untouched' }));
      await h.start({ labelKey: LEGACY_ATTACH_LABEL });
      await eventually('the legacy pod to be relabeled', () => podHash(h.api, 'legacy') === 'aaa');
      setServiceHash(h.api, 'bluegreen-demo', 'bbb');
      await eventually('the legacy pod to follow', () => podHash(h.api, 'legacy') === 'bbb');
      expect(podHash(h.api, 'new-style')).to.equal('untouched');
    });

    it('Given an unattached pod carrying an old hash, Then it is never touched, nor read from the pod watch', async () => {
      seedBlueGreen('aaa');
      const bystander = h.api.create(pod('bystander', { app: 'bluegreen-demo', [HASH_LABEL]: 'aaa' }));
      h.api.create(attachedPod('long-lived-canary', 'bluegreen-demo'));
      await h.start();
      setServiceHash(h.api, 'bluegreen-demo', 'bbb');
      await eventually('the attached pod to follow', () => podHash(h.api, 'long-lived-canary') === 'bbb');
      const after = h.api.get('v1', 'Pod', NS, 'bystander')!;
      expect(after.metadata.labels).to.deep.equal({ app: 'bluegreen-demo', [HASH_LABEL]: 'aaa' });
      expect(after.metadata.resourceVersion).to.equal(bystander.metadata.resourceVersion);
      const podRequests = h.api.requestLog.filter((r) => r.path.endsWith('/pods') || r.path.includes('/pods/'));
      expect(podRequests.filter((r) => r.path.endsWith('/bystander'))).to.deep.equal([]);
      expect(podRequests.filter((r) => r.method === 'GET').every((r) => decodeURIComponent(r.query).includes(`labelSelector=${ATTACH}`))).to.equal(true);
    });

    it('Given a pod attached to a Rollout that does not exist, Then it is left alone and counted', async () => {
      seedBlueGreen('aaa');
      h.api.create(attachedPod('orphan', 'no-such-rollout', { [HASH_LABEL]: 'keep' }));
      const { metrics } = await h.start();
      await eventually('the orphan to be counted', async () =>
        (await metricValue(metrics, 'rollouts_companion_relabels_total', { result: 'rollout_missing' })) >= 1,
      );
      setServiceHash(h.api, 'bluegreen-demo', 'bbb');
      await pause(200);
      expect(podHash(h.api, 'orphan')).to.equal('keep');
      expect(await metricValue(metrics, 'rollouts_companion_attached_pods', { namespace: NS, rollout: 'no-such-rollout' })).to.equal(1);
    });

    it('Given a bare pod the Rollout’s ReplicaSet would adopt, Then it is left alone and counted; a bare pod outside the Rollout selector is followed', async () => {
      seedBlueGreen('aaa');
      h.api.create(barePod('adoptable', { app: 'bluegreen-demo', [ATTACH]: 'bluegreen-demo' }));
      h.api.create(canaryRollout('strict', 'sss'));
      mutate(h.api, 'argoproj.io/v1alpha1', 'Rollout', 'strict', (ro) => {
        (ro.spec as { selector: unknown }).selector = { matchLabels: { app: 'strict', track: 'main' } };
      });
      h.api.create(managedService('strict-stable', 'strict', 'sss'));
      h.api.create(barePod('outside-selector', { app: 'strict', [ATTACH]: 'strict' }));
      const { metrics } = await h.start();
      await eventually('the bare pod outside the selector to be relabeled', () => podHash(h.api, 'outside-selector') === 'sss');
      await eventually('the adoptable pod to be counted', async () =>
        (await metricValue(metrics, 'rollouts_companion_relabels_total', { result: 'would_be_adopted' })) >= 1,
      );
      expect(podHash(h.api, 'adoptable')).to.equal(undefined);
      type Event = { reason: string; message: string; involvedObject: { name: string } };
      const warnings = await eventually('a warning event', () => {
        const found = (h.api.list('v1', 'Event', NS) as unknown as Event[]).filter((e) => e.reason === 'WouldBeAdopted');
        return found.length > 0 && found;
      });
      expect(warnings.map((e) => e.involvedObject.name)).to.deep.equal(['adoptable']);
      expect(warnings[0].message).to.contain('Run the canary from its own Deployment');
    });

    it('Given a pod of the Rollout’s own ReplicaSet with the attach label, Then it keeps its hash and a warning says why', async () => {
      seedBlueGreen('aaa');
      const own = attachedPod('bluegreen-demo-ccc-x1', 'bluegreen-demo', { [HASH_LABEL]: 'ccc' });
      own.metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'bluegreen-demo-ccc', uid: 'uid-rs-ccc', controller: true }];
      h.api.create(own);
      const { metrics } = await h.start();
      await eventually('the pod to be counted', async () =>
        (await metricValue(metrics, 'rollouts_companion_relabels_total', { result: 'rollout_replicaset_pod' })) >= 1,
      );
      expect(podHash(h.api, 'bluegreen-demo-ccc-x1')).to.equal('ccc');
      type Event = { reason: string; message: string; involvedObject: { name: string } };
      const warnings = await eventually('a warning event', () => {
        const found = (h.api.list('v1', 'Event', NS) as unknown as Event[]).filter((e) => e.reason === 'InRolloutReplicaSet');
        return found.length > 0 && found;
      });
      expect(warnings[0].message).to.contain('belongs to ReplicaSet/bluegreen-demo-ccc');
    });

    it('Given a namespace filter, Then pods in other namespaces are not followed', async () => {
      seedBlueGreen('aaa');
      h.api.create(blueGreenRollout('bluegreen-demo', 'aaa', 'elsewhere'));
      h.api.create(managedService('bluegreen-demo', 'bluegreen-demo', 'aaa', 'elsewhere'));
      h.api.create(attachedPod('inside', 'bluegreen-demo'));
      h.api.create(attachedPod('outside', 'bluegreen-demo', {}, 'elsewhere'));
      await h.start({ namespaces: [NS] });
      await eventually('the pod in the watched namespace to be relabeled', () => podHash(h.api, 'inside') === 'aaa');
      await pause(200);
      expect(podHash(h.api, 'outside', 'elsewhere')).to.equal(undefined);
    });
  });

  describe('failures', () => {
    it('Given watches dropped mid-stream, When the Service switches, Then the pod still follows', async () => {
      seedBlueGreen('aaa');
      h.api.create(attachedPod('long-lived-canary', 'bluegreen-demo'));
      const { metrics } = await h.start();
      await eventually('the first relabel', () => podHash(h.api, 'long-lived-canary') === 'aaa');
      h.api.faults.dropWatches({ abrupt: true });
      setServiceHash(h.api, 'bluegreen-demo', 'bbb');
      await eventually('the pod to follow after the watch came back', () => podHash(h.api, 'long-lived-canary') === 'bbb');
      expect(await metricValue(metrics, 'rollouts_companion_watch_restarts_total', { resource: 'services' })).to.be.at.least(1);
    });

    it('Given the history compacted while the controller was disconnected (410 Gone), Then it relists and no transition is lost', async () => {
      seedBlueGreen('aaa');
      h.api.create(attachedPod('long-lived-canary', 'bluegreen-demo'));
      await h.start();
      await eventually('the first relabel', () => podHash(h.api, 'long-lived-canary') === 'aaa');

      await h.api.faults.down('refuse');
      setServiceHash(h.api, 'bluegreen-demo', 'bbb');
      setStableRS(h.api, 'bluegreen-demo', 'bbb');
      h.api.create(attachedPod('born-while-away', 'bluegreen-demo'));
      h.api.faults.compact();
      await h.api.faults.up();

      await eventually('both pods to follow', () =>
        podHash(h.api, 'long-lived-canary') === 'bbb' && podHash(h.api, 'born-while-away') === 'bbb',
      );
      const relists = h.api.requestLog.filter((r) => r.method === 'GET' && r.path.endsWith('/services') && !r.query.includes('watch=true'));
      expect(relists.length, 'services listed again after 410').to.be.at.least(2);
    });

    it('Given the API server answers pod patches with 500 for a while, Then the patch is retried with back-off and eventually relabels', async () => {
      seedBlueGreen('aaa');
      h.api.create(attachedPod('long-lived-canary', 'bluegreen-demo'));
      h.api.faults.inject({ verb: 'patch', resource: 'pods', status: 500, times: 4 });
      const { metrics } = await h.start();
      await eventually('the pod to be relabeled after the errors', () => podHash(h.api, 'long-lived-canary') === 'aaa');
      // The label is visible in the store before the controller has read the answer and counted it.
      await eventually('the relabel to be counted', async () =>
        (await metricValue(metrics, 'rollouts_companion_relabels_total', { result: 'patched' })) >= 1,
      );
      const patches = h.api.requestLog.filter((r) => r.method === 'PATCH' && r.path.includes('/pods/')).map((r) => r.status);
      expect(patches).to.deep.equal([500, 500, 500, 500, 200]);
      expect(await metricValue(metrics, 'rollouts_companion_relabels_total', { result: 'patched' })).to.equal(1);
    });

    it('Given the API server answers but keeps refusing pod patches (429, a failing webhook\'s 500), Then the relabel keeps backing off instead of following the recovery probe', async () => {
      seedBlueGreen('aaa');
      h.api.create(attachedPod('long-lived-canary', 'bluegreen-demo'));
      h.api.faults.inject({ verb: 'patch', resource: 'pods', status: 429, times: 2 });
      h.api.faults.inject({ verb: 'patch', resource: 'pods', status: 500, times: Infinity });
      // One attempt per relabel (the client's own retries fit in no 300 ms call), with the
      // shipped back-off: 100 ms doubling, so relabels fail at about 0, 0.1, 0.3, 0.7, 1.5, 3.1
      // and 6.3 s. A probe answered at once used to retry them all at once, once a second.
      const { metrics } = await h.start({ kube: new KubeClient({ kubeConfig: h.api.kubeConfig(), callTimeoutMs: 300 }), retry: undefined });
      await pause(7000);
      const probes = h.api.requestLog.filter((r) => r.method === 'GET' && r.path.startsWith('/version'));
      expect(probes, 'the recovery probe ran').to.not.be.empty;
      const failures = await metricValue(metrics, 'rollouts_companion_relabels_total', { result: 'error' });
      expect(failures).to.be.within(5, 8);
      expect(podHash(h.api, 'long-lived-canary')).to.equal(undefined);
    });

    it('Given the resourceVersion precondition and a concurrent writer, When the patch conflicts, Then it is retried on the fresh pod and lands', async () => {
      seedBlueGreen('aaa');
      h.api.create(attachedPod('long-lived-canary', 'bluegreen-demo'));
      h.api.faults.conflictOnNextUpdate('pods', 'long-lived-canary', (p) => {
        p.metadata.annotations = { ...p.metadata.annotations, 'example.com/touched': 'yes' };
      });
      const { metrics } = await h.start({ resourceVersionPrecondition: true });
      await eventually('the pod to be relabeled after the conflict', () => podHash(h.api, 'long-lived-canary') === 'aaa');
      expect(h.api.get('v1', 'Pod', NS, 'long-lived-canary')?.metadata.annotations).to.deep.equal({ 'example.com/touched': 'yes' });
      // A retry may still carry the old resourceVersion until the watch has delivered the fresh pod.
      const patches = h.api.requestLog.filter((r) => r.method === 'PATCH' && r.path.includes('/pods/')).map((r) => r.status);
      expect(patches.at(-1)).to.equal(200);
      expect(patches.slice(0, -1)).to.not.be.empty;
      expect(patches.slice(0, -1).every((status) => status === 409), String(patches)).to.equal(true);
      expect(await metricValue(metrics, 'rollouts_companion_relabels_total', { result: 'error' })).to.equal(patches.length - 1);
    });

    it('Given an API outage long enough for the back-offs to grow past several seconds, When the API server returns, Then relabels resume within 2 s', async () => {
      seedBlueGreen('aaa');
      h.api.create(attachedPod('long-lived-canary', 'bluegreen-demo'));
      // The shipped back-offs (200 ms doubling to 30 s), not the harness's fast ones.
      await h.start({ watchBackoff: undefined, retry: undefined });
      await eventually('the first relabel', () => podHash(h.api, 'long-lived-canary') === 'aaa');

      await h.api.faults.down('refuse');
      setServiceHash(h.api, 'bluegreen-demo', 'bbb');
      await pause(7000);
      await h.api.faults.up();
      const back = Date.now();
      await eventually('the pod to follow the Service switched during the outage', () => podHash(h.api, 'long-lived-canary') === 'bbb', 2000);
      expect(Date.now() - back).to.be.at.most(2000);
    });

    it('Given the API server is unavailable when the controller starts, Then it becomes ready once it is back', async () => {
      seedBlueGreen('aaa');
      h.api.create(attachedPod('long-lived-canary', 'bluegreen-demo'));
      await h.api.faults.down('unavailable');
      const started = h.start();
      await pause(300);
      await h.api.faults.up();
      await started;
      await eventually('the pod to be relabeled', () => podHash(h.api, 'long-lived-canary') === 'aaa');
    });
  });

  describe('leader election', () => {
    const election = (identity: string) => ({
      leaseName: 'rollouts-companion-canaries',
      leaseNamespace: NS,
      identity,
      leaseDurationMs: 2000,
      renewDeadlineMs: 1500,
      retryPeriodMs: 200,
    });

    it('Given two replicas, Then only the leader relabels; When the leader dies without releasing, Then the standby takes over and relabels', async () => {
      seedBlueGreen('aaa');
      h.api.create(attachedPod('long-lived-canary', 'bluegreen-demo'));
      const a = await h.start({ leaderElection: election('replica-a') });
      const b = await h.start({ leaderElection: election('replica-b') });
      const [leader, standby] = await eventually('one leader', () =>
        a.controller.isLeader() ? [a, b] : b.controller.isLeader() ? [b, a] : undefined,
      );
      await eventually('the leader to relabel', () => podHash(h.api, 'long-lived-canary') === 'aaa');
      expect(standby.controller.isLeader()).to.equal(false);
      expect(standby.controller.ready(), 'standby keeps its caches warm').to.equal(true);
      expect(await metricValue(standby.metrics, 'rollouts_companion_relabels_total', { result: 'patched' })).to.equal(0);
      expect(await metricValue(leader.metrics, 'rollouts_companion_leader')).to.equal(1);

      await leader.controller.stop({ releaseLease: false });
      setServiceHash(h.api, 'bluegreen-demo', 'bbb');
      await eventually('the standby to take over', () => standby.controller.isLeader(), 15_000);
      await eventually('the new leader to relabel', () => podHash(h.api, 'long-lived-canary') === 'bbb');
      expect(await metricValue(standby.metrics, 'rollouts_companion_leader')).to.equal(1);
      const lease = h.api.get('coordination.k8s.io/v1', 'Lease', NS, 'rollouts-companion-canaries');
      expect((lease?.spec as { holderIdentity?: string }).holderIdentity).to.equal(standby === a ? 'replica-a' : 'replica-b');
    });

    it('Given the leader releases the lease on a clean stop, Then the standby takes over', async () => {
      seedBlueGreen('aaa');
      h.api.create(attachedPod('long-lived-canary', 'bluegreen-demo'));
      const a = await h.start({ leaderElection: election('replica-a') });
      await eventually('a to lead', () => a.controller.isLeader());
      const b = await h.start({ leaderElection: election('replica-b') });
      await a.controller.stop();
      await eventually('b to take over', () => b.controller.isLeader(), 15_000);
      setServiceHash(h.api, 'bluegreen-demo', 'bbb');
      await eventually('b to relabel', () => podHash(h.api, 'long-lived-canary') === 'bbb');
    });

    it('Given one failed renew, Then the leader pauses writes and catches up once the next renew succeeds', async () => {
      seedBlueGreen('aaa');
      h.api.create(attachedPod('long-lived-canary', 'bluegreen-demo'));
      const a = await h.start({ leaderElection: election('replica-a') });
      await eventually('the first relabel', () => podHash(h.api, 'long-lived-canary') === 'aaa');

      const clear = h.api.faults.inject({ verb: 'update', resource: 'leases', status: 500, times: Infinity });
      await pause(500);
      setServiceHash(h.api, 'bluegreen-demo', 'bbb');
      await pause(300);
      expect(podHash(h.api, 'long-lived-canary'), 'no write without a fresh renew').to.equal('aaa');
      clear();
      await eventually('the pod to follow once the lease is renewed', () => podHash(h.api, 'long-lived-canary') === 'bbb');
      expect(a.controller.isLeader()).to.equal(true);
    });

    it('Given a pod patch being retried when the leader stops renewing, Then its retries end by the renew deadline, before a standby could lead', async () => {
      seedBlueGreen('aaa');
      h.api.create(attachedPod('long-lived-canary', 'bluegreen-demo'));
      const a = await h.start({ leaderElection: election('replica-a') });
      await eventually('the first relabel', () => podHash(h.api, 'long-lived-canary') === 'aaa');

      h.api.faults.inject({ verb: 'patch', resource: 'pods', status: 500, times: Infinity });
      const patches = () => h.api.requestLog.filter((r) => r.method === 'PATCH' && r.path.includes('/pods/') && r.status === 500).length;
      setServiceHash(h.api, 'bluegreen-demo', 'bbb');
      await eventually('the patch to be failing', () => patches() > 0);
      h.api.faults.inject({ verb: 'update', resource: 'leases', status: 500, times: Infinity });
      // The renew deadline is 1.5 s after the last renew, which came at most 200 ms ago.
      await eventually('a to step down', () => !a.controller.isLeader(), 10_000);
      const atDeadline = patches();
      await pause(3000);
      expect(patches(), 'no patch retried after the renew deadline').to.equal(atDeadline);
    });

    it('Given the leader cannot renew its lease, Then it stops writing at once and leadership resumes once the API server recovers', async () => {
      seedBlueGreen('aaa');
      h.api.create(attachedPod('long-lived-canary', 'bluegreen-demo'));
      const a = await h.start({ leaderElection: election('replica-a') });
      await eventually('a to lead', () => a.controller.isLeader());
      const b = await h.start({ leaderElection: election('replica-b') });
      await eventually('the first relabel', () => podHash(h.api, 'long-lived-canary') === 'aaa');

      const clear = h.api.faults.inject({ verb: 'update', resource: 'leases', status: 500, times: Infinity });
      await eventually('a to step down', () => !a.controller.isLeader(), 10_000);
      setServiceHash(h.api, 'bluegreen-demo', 'bbb');
      await pause(500);
      expect(podHash(h.api, 'long-lived-canary'), 'no replica holds the lease, so nobody writes').to.equal('aaa');
      expect(b.controller.isLeader()).to.equal(false);

      clear();
      await eventually('a replica to lead again', () => a.controller.isLeader() || b.controller.isLeader(), 15_000);
      await eventually('the new leader to relabel', () => podHash(h.api, 'long-lived-canary') === 'bbb');
    });
  });
});

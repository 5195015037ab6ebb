import { expect } from 'chai';
import { startApiServer, type ApiServer, type KubeObject } from '../../../src/kube/apiserver/index.js';
import { KubeClient } from '../../../src/kube/client.js';
import { readRollout } from '../../../src/kube/rollouts.js';
import { Verified } from '../../../src/routing/api.js';
import type { Rollout } from '../../../src/routing/rollout.js';
import type { RouteObject } from '../../../src/routing/route-store.js';
import { backend, route, service } from '../../support/builders.js';
import { startCompanion, type RunningCompanion } from '../../support/companion.js';
import { ruleWeights } from '../../support/routes.js';

// Ping-pong (`canary.pingPong`, Argo Rollouts ≥ 1.10 for plugin routers): two long-lived
// Services take turns being stable; the controller says which one is stable now in
// status.canary.stablePingPong and flips it when it promotes. Weights move between them, and
// the pinned routes follow the roles: "always the new version" reaches whichever Service is
// the canary, "always the old version" the stable one. Driven the way the controller calls
// the plugin (facts: UpdateHash, SetWeight, VerifyWeight each pass; after promotion
// RemoveManagedRoutes, UpdateHash, SetWeight(0), VerifyWeight(0)), through gRPC, the
// companion and the real client, against the in-process API server. The Rollout lives there
// too: each phase stores the status the controller would write and every pass reads it back.

const PING = 'web-ping';
const PONG = 'web-pong';
const V1 = 'gateway.networking.k8s.io/v1';

function pingPongRollout(stablePingPong: 'ping' | 'pong' | undefined, podHash: string): Rollout {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      strategy: {
        canary: {
          pingPong: { pingService: PING, pongService: PONG },
          trafficRouting: {
            plugins: {
              'rollouts-companion/gatewayAPI': {
                httpRoute: 'canary-route',
                pinnedRoutes: { stable: ['always-old-version'], canary: ['always-new-version'] },
              },
            },
          },
        },
      },
    },
    status: { currentPodHash: podHash, ...(stablePingPong && { canary: { stablePingPong } }) },
  };
}

describe('companion over gRPC: ping-pong across three rollouts', function () {
  this.timeout(60_000);
  let api: ApiServer;
  let companion: RunningCompanion;
  let kube: KubeClient;
  /** The controller writes the Rollout's status (here: which Service is stable, the new pod hash)… */
  const store = (stablePingPong: 'ping' | 'pong' | undefined, podHash: string) => api.apply([pingPongRollout(stablePingPong, podHash) as unknown as KubeObject]);
  /** …and hands the plugin the Rollout as stored. */
  const stored = async (): Promise<Rollout> => (await readRollout(kube, 'default', 'web'))!;
  const get = (name: string) => api.get(V1, 'HTTPRoute', 'default', name) as unknown as RouteObject;
  const backends = (name: string) => (get(name).spec.rules ?? []).flatMap((r) => (r.backendRefs as { name: string }[]).map((b) => b.name));

  beforeEach(async () => {
    api = await startApiServer({ simulateGateway: true });
    api.apply([
      service(PING),
      service(PONG),
      route('HTTPRoute', 'canary-route', [{ backendRefs: [backend(PING), backend(PONG)] }]),
      // VIPs stay on stable (ping before the first promotion), early adopters on the canary (pong).
      route('HTTPRoute', 'always-old-version', [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ ...backend(PING), weight: 1 }] }]),
      route('HTTPRoute', 'always-new-version', [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ ...backend(PONG), weight: 1 }] }]),
    ]);
    companion = await startCompanion(api.kubeConfig());
    kube = new KubeClient({ kubeConfig: api.kubeConfig() });
  });
  afterEach(async () => {
    kube.close();
    await companion.stop();
    await api.close();
  });

  /** One reconcile pass at weight w, as the controller makes it; VerifyWeight until the gateway accepted. */
  async function pass(ro: Rollout, w: number): Promise<void> {
    expect((await companion.client.updateHash(ro, ro.status!.currentPodHash!, 'stable', [])).error).to.equal('');
    expect((await companion.client.setWeight(ro, w, [])).error).to.equal('');
    let v = await companion.client.verifyWeight(ro, w, []);
    for (let i = 0; i < 100 && v.verified !== Verified.Verified; i++) {
      await new Promise((r) => setTimeout(r, 20));
      v = await companion.client.verifyWeight(ro, w, []);
    }
    expect(v, `VerifyWeight(${w})`).to.include({ verified: Verified.Verified, error: '' });
  }

  /** The pass after a promotion: managed rules removed, weight back to 0 on the new stable. */
  async function afterPromotion(ro: Rollout): Promise<void> {
    expect((await companion.client.removeManagedRoutes(ro)).error).to.equal('');
    await pass(ro, 0);
  }

  const pinnedGenerations = () => [get('always-old-version').metadata.generation, get('always-new-version').metadata.generation];

  it('moves weights between ping and pong by role, and the pinned routes follow each role flip (ping → pong → abort → ping)', async () => {
    const oldSpec = structuredClone(get('always-old-version').spec);
    const startGen = pinnedGenerations();

    // Rollout 1: ping is stable, pong the canary.
    store('ping', 'v2');
    let ro = await stored();
    expect(ro.status?.canary?.stablePingPong).to.equal('ping');
    for (const w of [20, 50]) {
      await pass(ro, w);
      expect(ruleWeights(get('canary-route'))).to.deep.equal([{ [PING]: 100 - w, [PONG]: w }]);
    }
    await pass(ro, 100);
    expect(ruleWeights(get('canary-route'))).to.deep.equal([{ [PING]: 0, [PONG]: 100 }]);
    // The pinned routes were never written during the rollout.
    expect(pinnedGenerations()).to.deep.equal(startGen);
    expect(backends('always-old-version')).to.deep.equal([PING]);
    expect(backends('always-new-version')).to.deep.equal([PONG]);

    // Promotion: the controller flips stablePingPong to pong. Pong (v2) keeps all the traffic,
    // the VIPs follow it, early adopters now reach ping (the next canary).
    store('pong', 'v2');
    ro = await stored();
    await afterPromotion(ro);
    expect(ruleWeights(get('canary-route'))).to.deep.equal([{ [PING]: 0, [PONG]: 100 }]);
    expect(backends('always-old-version')).to.deep.equal([PONG]);
    expect(backends('always-new-version')).to.deep.equal([PING]);
    // Only the backend's name changed: port, weight, matches, parents are as the user wrote them.
    const flipped = get('always-old-version').spec;
    expect(flipped).to.deep.equal({ ...oldSpec, rules: [{ ...oldSpec.rules![0], backendRefs: [{ ...backend(PONG), weight: 1 }] }] });
    const afterFirstFlip = pinnedGenerations();
    expect(afterFirstFlip).to.deep.equal(startGen.map((g) => g! + 1));
    // Every later reconcile of the promoted Rollout repeats that pass without writing.
    await afterPromotion(ro);
    expect(pinnedGenerations()).to.deep.equal(afterFirstFlip);

    // Rollout 2: pong is stable, ping the canary; aborted at 30%.
    store('pong', 'v3');
    ro = await stored();
    await pass(ro, 30);
    expect(ruleWeights(get('canary-route'))).to.deep.equal([{ [PING]: 30, [PONG]: 70 }]);
    await afterPromotion(ro); // the abort: RemoveManagedRoutes and SetWeight(0), no flip
    expect(ruleWeights(get('canary-route'))).to.deep.equal([{ [PING]: 0, [PONG]: 100 }]);
    expect(pinnedGenerations()).to.deep.equal(afterFirstFlip);
    expect(backends('always-old-version')).to.deep.equal([PONG]);
    expect(backends('always-new-version')).to.deep.equal([PING]);

    // Rollout 3: retried to the end; promotion flips back to ping.
    store('pong', 'v4');
    ro = await stored();
    for (const w of [50, 100]) await pass(ro, w);
    expect(ruleWeights(get('canary-route'))).to.deep.equal([{ [PING]: 100, [PONG]: 0 }]);
    expect(pinnedGenerations()).to.deep.equal(afterFirstFlip);
    store('ping', 'v4');
    ro = await stored();
    await afterPromotion(ro);
    expect(ruleWeights(get('canary-route'))).to.deep.equal([{ [PING]: 100, [PONG]: 0 }]);
    expect(backends('always-old-version')).to.deep.equal([PING]);
    expect(backends('always-new-version')).to.deep.equal([PONG]);
    expect(pinnedGenerations()).to.deep.equal(afterFirstFlip.map((g) => g! + 1));
    expect(get('always-old-version').spec).to.deep.equal(oldSpec);
  });

  it('reads an absent stablePingPong as Argo does: pong is stable, ping the canary', async () => {
    api.apply([
      route('HTTPRoute', 'always-old-version', [{ backendRefs: [backend(PONG)] }]),
      route('HTTPRoute', 'always-new-version', [{ backendRefs: [backend(PING)] }]),
    ]);
    store(undefined, 'v1');
    await pass(await stored(), 10);
    expect(ruleWeights(get('canary-route'))).to.deep.equal([{ [PING]: 10, [PONG]: 90 }]);
  });

  it('still refuses to move traffic past a pinned route that names a third Service (not a role flip), writing nothing', async () => {
    api.apply([service('web-legacy'), route('HTTPRoute', 'always-new-version', [{ backendRefs: [backend('web-legacy')] }])]);
    const before = get('canary-route').metadata.resourceVersion;
    const { error } = await companion.client.setWeight(pingPongRollout('ping', 'v2'), 10, []);
    expect(error).to.equal(
      `refusing to set canary weight 10: pinned route HTTPRoute default/always-new-version must reference only the canary Service "${PONG}", but spec.rules[0].backendRefs[0] references Service "web-legacy"`,
    );
    expect(get('canary-route').metadata.resourceVersion).to.equal(before);
    expect(backends('always-new-version')).to.deep.equal(['web-legacy']);
  });

  it('refuses ping and pong naming the same Service, as Argo Rollouts does', async () => {
    const ro = pingPongRollout('ping', 'v2');
    ro.spec!.strategy!.canary!.pingPong = { pingService: PING, pongService: PING };
    expect((await companion.client.setWeight(ro, 10, [])).error).to.equal(
      `rollout default/web: spec.strategy.canary.pingPong.pingService and pongService are both "${PING}"; traffic routing needs two different Services (Argo Rollouts rejects this too)`,
    );
  });
});

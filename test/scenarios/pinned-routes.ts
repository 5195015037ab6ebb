import { expect } from 'chai';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import type { TrafficRouterApi } from '../../src/routing/api.js';
import type { Rollout } from '../../src/routing/rollout.js';
import type { RouteObject } from '../../src/routing/route-store.js';
import { ruleNames, ruleWeights } from '../support/routes.js';

// The seeds' walkthrough (Argo Rollouts docs, "Pinning clients to a specific version"):
// canary-route at app.example.com moves 0→10→50→100→0 with a header route and a mirror
// route added and removed; always-old-version and always-new-version are never written.
// Shared by the in-process suite and the opt-in real-cluster suite.

export const STABLE = 'argo-rollouts-stable-service';
export const CANARY = 'argo-rollouts-canary-service';
export const IN_PROGRESS_LABEL = 'rollouts.argoproj.io/gatewayapi-canary';

export function routeReader(kubeConfig: KubeConfig, namespace: string) {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  return (name: string): Promise<RouteObject> =>
    api.getNamespacedCustomObject({ group: 'gateway.networking.k8s.io', version: 'v1', namespace, plural: 'httproutes', name }) as Promise<RouteObject>;
}

export async function walkPinnedRoutes(router: TrafficRouterApi, rollout: Rollout, readRoute: (name: string) => Promise<RouteObject>) {
  const pinnedBefore = {
    old: (await readRoute('always-old-version')).metadata.resourceVersion,
    new: (await readRoute('always-new-version')).metadata.resourceVersion,
  };
  const ok = async (p: Promise<{ error: string }>) => expect((await p).error).to.equal('');
  const weightsOf = async () => ruleWeights(await readRoute('canary-route'));

  // Step 0: the canary starts with no traffic.
  await ok(router.setWeight(rollout, 0, []));
  expect(await weightsOf()).to.deep.equal([{ [STABLE]: 100, [CANARY]: 0 }]);

  // setWeight: 10
  await ok(router.setWeight(rollout, 10, []));
  let route = await readRoute('canary-route');
  expect(ruleWeights(route)).to.deep.equal([{ [STABLE]: 90, [CANARY]: 10 }]);
  expect(route.metadata.labels?.[IN_PROGRESS_LABEL]).to.equal('in-progress');

  // setHeaderRoute: X-Canary: yes always reaches the canary.
  await ok(router.setHeaderRoute(rollout, { name: 'canary-header', match: [{ headerName: 'X-Canary', headerValue: { exact: 'yes' } }] }));
  route = await readRoute('canary-route');
  expect(ruleNames(route)).to.deep.equal([undefined, 'canary-header']);
  const headerRule = route.spec.rules![1]!;
  expect(headerRule.matches).to.deep.equal([
    { path: { type: 'PathPrefix', value: '/' }, headers: [{ type: 'Exact', name: 'X-Canary', value: 'yes' }] },
  ]);
  expect((headerRule.backendRefs as { name: string }[]).map((b) => b.name)).to.deep.equal([CANARY]);

  // setWeight: 50 moves the weighted rule only.
  await ok(router.setWeight(rollout, 50, []));
  expect((await weightsOf())[0]).to.deep.equal({ [STABLE]: 50, [CANARY]: 50 });

  // setMirrorRoute: half of /api requests are mirrored to the canary.
  await ok(router.setMirrorRoute(rollout, { name: 'canary-mirror', percentage: 50, match: [{ path: { prefix: '/api' } }] }));
  route = await readRoute('canary-route');
  expect(ruleNames(route)).to.deep.equal([undefined, 'canary-header', 'canary-mirror']);
  const mirrorRule = route.spec.rules![2]!;
  expect(mirrorRule.filters).to.deep.equal([
    { type: 'RequestMirror', requestMirror: { backendRef: { name: CANARY, port: 80 }, percent: 50 } },
  ]);
  expect(mirrorRule.matches).to.deep.equal([{ path: { type: 'PathPrefix', value: '/api' } }]);

  // Past the last step: all traffic to the canary; the mirror rule follows its source rule.
  await ok(router.setWeight(rollout, 100, []));
  const at100 = await weightsOf();
  expect(at100[0]).to.deep.equal({ [STABLE]: 0, [CANARY]: 100 });
  expect(at100[2]).to.deep.equal({ [STABLE]: 0, [CANARY]: 100 });

  // Fully promoted: managed rules go, weight back to 0, label removed.
  await ok(router.removeManagedRoutes(rollout));
  expect(ruleNames(await readRoute('canary-route'))).to.deep.equal([undefined]);
  await ok(router.setWeight(rollout, 0, []));
  route = await readRoute('canary-route');
  expect(ruleWeights(route)).to.deep.equal([{ [STABLE]: 100, [CANARY]: 0 }]);
  expect(route.metadata.labels?.[IN_PROGRESS_LABEL]).to.equal(undefined);

  // Every later reconcile repeats RemoveManagedRoutes + SetWeight(0): nothing is written.
  const rv = route.metadata.resourceVersion;
  await ok(router.removeManagedRoutes(rollout));
  await ok(router.updateHash(rollout, 'abc123', 'abc123', []));
  await ok(router.setWeight(rollout, 0, []));
  expect((await readRoute('canary-route')).metadata.resourceVersion).to.equal(rv);

  // The pinned routes were never written.
  expect((await readRoute('always-old-version')).metadata.resourceVersion).to.equal(pinnedBefore.old);
  expect((await readRoute('always-new-version')).metadata.resourceVersion).to.equal(pinnedBefore.new);
}

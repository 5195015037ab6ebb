import { expect } from 'chai';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import type { TrafficRouterApi } from '../../src/routing/api.js';
import type { Rollout } from '../../src/routing/rollout.js';
import type { RouteObject } from '../../src/routing/route-store.js';
import { ruleNames, ruleWeights } from '../support/routes.js';
import { traffic, trafficTable } from '../support/traffic.js';

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
  const roles = { stable: STABLE, canary: CANARY };
  const allRoutes = async () => Promise.all(['canary-route', 'always-old-version', 'always-new-version'].map(readRoute));
  // Where requests go on a Gateway API implementation, through the request-matching model.
  const see = async (request: string) => traffic(await allRoutes(), roles)(request);
  const requests = ['GET app.example.com/', 'GET app.example.com/api/x', 'GET app.example.com/ X-Canary:yes', 'GET old.example.com/', 'GET new.example.com/'];
  // Older CRDs prune rules[].name: then the managed rules carry none (they are found by content).
  const named = async (...names: (string | undefined)[]) => {
    const actual = ruleNames(await readRoute('canary-route'));
    expect(actual).to.deep.equal(actual.every((n) => n === undefined) ? names.map(() => undefined) : names);
  };

  // Step 0: the canary starts with no traffic.
  await ok(router.setWeight(rollout, 0, []));
  expect(await weightsOf()).to.deep.equal([{ [STABLE]: 100, [CANARY]: 0 }]);

  // setWeight: 10
  await ok(router.setWeight(rollout, 10, []));
  let route = await readRoute('canary-route');
  expect(ruleWeights(route)).to.deep.equal([{ [STABLE]: 90, [CANARY]: 10 }]);
  expect(route.metadata.labels?.[IN_PROGRESS_LABEL]).to.equal('in-progress');
  expect(await see('GET app.example.com/')).to.equal('stable 90 %, canary 10 %');
  expect(await see('GET old.example.com/')).to.equal('stable 100 %');
  expect(await see('GET new.example.com/')).to.equal('canary 100 %');
  const at10 = trafficTable(await allRoutes(), roles, requests);

  // setHeaderRoute: X-Canary: yes always reaches the canary (its rule goes before the one it copies).
  await ok(router.setHeaderRoute(rollout, { name: 'canary-header', match: [{ headerName: 'X-Canary', headerValue: { exact: 'yes' } }] }));
  route = await readRoute('canary-route');
  await named('canary-header', undefined);
  expect(await see('GET app.example.com/ X-Canary:yes')).to.equal('canary 100 %');
  expect(await see('GET app.example.com/')).to.equal('stable 90 %, canary 10 %');
  const headerRule = route.spec.rules![0]!;
  expect(headerRule.matches).to.deep.equal([
    { path: { type: 'PathPrefix', value: '/' }, headers: [{ type: 'Exact', name: 'X-Canary', value: 'yes' }] },
  ]);
  expect((headerRule.backendRefs as { name: string }[]).map((b) => b.name)).to.deep.equal([CANARY]);

  // setWeight: 50 moves the weighted rule only.
  await ok(router.setWeight(rollout, 50, []));
  expect((await weightsOf())[1]).to.deep.equal({ [STABLE]: 50, [CANARY]: 50 });
  expect(await see('GET app.example.com/')).to.equal('stable 50 %, canary 50 %');

  // setMirrorRoute: half of /api requests are mirrored to the canary.
  await ok(router.setMirrorRoute(rollout, { name: 'canary-mirror', percentage: 50, match: [{ path: { prefix: '/api' } }] }));
  route = await readRoute('canary-route');
  await named('canary-header', 'canary-mirror', undefined);
  expect(await see('GET app.example.com/api/x')).to.equal('stable 50 %, canary 50 %; mirrored to canary at 50 %');
  expect(await see('GET app.example.com/x')).to.equal('stable 50 %, canary 50 %');
  const mirrorRule = route.spec.rules![1]!;
  expect(mirrorRule.filters).to.deep.equal([
    { type: 'RequestMirror', requestMirror: { backendRef: { name: CANARY, port: 80 }, percent: 50 } },
  ]);
  expect(mirrorRule.matches).to.deep.equal([{ path: { type: 'PathPrefix', value: '/api' } }]);

  // Past the last step: all traffic to the canary; the mirror rule follows its source rule.
  await ok(router.setWeight(rollout, 100, []));
  const at100 = await weightsOf();
  expect(at100[2]).to.deep.equal({ [STABLE]: 0, [CANARY]: 100 });
  expect(at100[1]).to.deep.equal({ [STABLE]: 0, [CANARY]: 100 });
  expect(await see('GET app.example.com/')).to.equal('canary 100 %');
  expect(await see('GET old.example.com/')).to.equal('stable 100 %');

  // Fully promoted: managed rules go, weight back to 0, label removed.
  await ok(router.removeManagedRoutes(rollout));
  expect(ruleNames(await readRoute('canary-route'))).to.deep.equal([undefined]);
  // Without the managed rules, traffic is exactly what it was before them at the same weight.
  await ok(router.setWeight(rollout, 10, []));
  expect(trafficTable(await allRoutes(), roles, requests)).to.deep.equal(at10);
  await ok(router.setWeight(rollout, 0, []));
  route = await readRoute('canary-route');
  expect(ruleWeights(route)).to.deep.equal([{ [STABLE]: 100, [CANARY]: 0 }]);
  expect(route.metadata.labels?.[IN_PROGRESS_LABEL]).to.equal(undefined);
  expect(await see('GET app.example.com/ X-Canary:yes')).to.equal('stable 100 %');

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

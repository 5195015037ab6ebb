import type { RouteObject, RouteRef } from './route-store.js';
import * as msg from './errors.js';
import { isWeightedRule, refersTo, rulesOf, weightOf, type ServicePair } from './rules.js';
import { assertWeightedRule, type DesiredWeights } from './weights.js';

// VerifyWeight for one route: the split is in place AND every parent Gateway has accepted
// the current generation (so the data plane was told). Returns why not, or undefined.

function weightMismatch(route: RouteObject, ref: RouteRef, services: ServicePair, want: DesiredWeights): string | undefined {
  const wanted = [
    { service: services.stable, role: 'stable', weight: want.stable },
    { service: services.canary, role: 'canary', weight: want.canary },
    ...want.additional.map((d) => ({ service: d.service, role: 'experiment', weight: d.weight })),
  ];
  for (const [index, rule] of rulesOf(route).entries()) {
    if (!isWeightedRule(rule, services, ref.namespace)) continue;
    for (const w of wanted) {
      const refs = (rule.backendRefs ?? []).filter((b) => refersTo(b, w.service, ref.namespace));
      if (!refs.length) return msg.verifyNoBackend(ref, index, w.role, w.service);
      const wrong = refs.find((b) => weightOf(b) !== w.weight);
      if (wrong) return msg.verifyWrongWeight(ref, index, w.role, w.service, weightOf(wrong), w.weight);
    }
  }
  return undefined;
}

function parentsNotReady(route: RouteObject, ref: RouteRef): string | undefined {
  const parents = route.status?.parents ?? [];
  if (!parents.length) return msg.verifyNoParents(ref);
  const generation = route.metadata.generation;
  for (const p of parents) {
    const parent = `${p.parentRef.namespace ?? ref.namespace}/${p.parentRef.name}${p.parentRef.sectionName ? `#${p.parentRef.sectionName}` : ''}`;
    const accepted = p.conditions?.find((c) => c.type === 'Accepted');
    if (accepted?.status !== 'True') {
      return msg.verifyNotAccepted(ref, parent, accepted?.status, [accepted?.reason, accepted?.message].filter(Boolean).join(': '));
    }
    if (accepted.observedGeneration !== generation) return msg.verifyStaleGeneration(ref, parent, accepted.observedGeneration, generation);
  }
  return undefined;
}

/** Why the route does not yet carry the desired weights, or undefined when it does. Throws on a route that cannot be split. */
export function verifyRoute(route: RouteObject, ref: RouteRef, services: ServicePair, want: DesiredWeights): string | undefined {
  assertWeightedRule(route, ref, services);
  return weightMismatch(route, ref, services, want) ?? parentsNotReady(route, ref);
}

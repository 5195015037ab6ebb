import type { RouteObject, RouteRef } from './route-store.js';
import { routeLabel } from './errors.js';
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
      if (!refs.length) return `${routeLabel(ref)}: rules[${index}] has no backendRef to the ${w.role} Service "${w.service}"`;
      const wrong = refs.find((b) => weightOf(b) !== w.weight);
      if (wrong) return `${routeLabel(ref)}: rules[${index}] gives the ${w.role} Service "${w.service}" weight ${weightOf(wrong)}, want ${w.weight}`;
    }
  }
  return undefined;
}

function parentsNotReady(route: RouteObject, ref: RouteRef): string | undefined {
  const parents = route.status?.parents ?? [];
  if (!parents.length) return `${routeLabel(ref)}: no parent Gateway has reported status yet`;
  const generation = route.metadata.generation;
  for (const p of parents) {
    const parent = `${p.parentRef.namespace ?? ref.namespace}/${p.parentRef.name}${p.parentRef.sectionName ? `#${p.parentRef.sectionName}` : ''}`;
    const accepted = p.conditions?.find((c) => c.type === 'Accepted');
    if (!accepted) return `${routeLabel(ref)}: parent ${parent} has no Accepted condition`;
    if (accepted.status !== 'True') {
      const why = [accepted.reason, accepted.message].filter(Boolean).join(': ');
      return `${routeLabel(ref)}: parent ${parent} has Accepted=${accepted.status}${why ? ` (${why})` : ''}`;
    }
    if (accepted.observedGeneration !== generation) {
      return `${routeLabel(ref)}: parent ${parent} accepted generation ${String(accepted.observedGeneration)}, route is at generation ${String(generation)}`;
    }
  }
  return undefined;
}

/** Why the route does not yet carry the desired weights, or undefined when it does. Throws on a route that cannot be split. */
export function verifyRoute(route: RouteObject, ref: RouteRef, services: ServicePair, want: DesiredWeights): string | undefined {
  assertWeightedRule(route, ref, services);
  return weightMismatch(route, ref, services, want) ?? parentsNotReady(route, ref);
}

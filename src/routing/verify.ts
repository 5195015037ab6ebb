import type { RouteObject, RouteRef } from './route-store.js';
import * as msg from './errors.js';
import { backendScope, refersTo, routeNamespace, rulesOf, weightOf, type ServicePair } from './rules.js';
import { assertWeightedRule, isDrivenRule, type DesiredWeights } from './weights.js';

// VerifyWeight for one route: the split is in place AND every parent that reports status has
// accepted the current generation (so the data plane was told) with every backendRef resolved. A route without any parent
// status (an implementation that writes none, or dev mode's --no-gateway) is judged by its
// weights alone, unless the config requires Accepted.

export interface Unverified {
  /** "Kind namespace/name" */
  route: string;
  /** "namespace/name#section" of the parent at fault, when one is. */
  parent?: string;
  reason: string;
}

export interface VerifyOutcome {
  /** Why not verified; undefined when verified. */
  unverified?: Unverified;
  /** Verified on weights alone: no parent reported status. */
  noParentStatus: boolean;
}

function weightMismatch(route: RouteObject, ref: RouteRef, services: ServicePair, want: DesiredWeights, ruleName?: string): string | undefined {
  const wanted = [
    { service: services.stable, role: 'stable', weight: want.stable },
    { service: services.canary, role: 'canary', weight: want.canary },
    ...want.additional.map((d) => ({ service: d.service, role: 'experiment', weight: d.weight })),
  ];
  const scope = backendScope(ref.namespace, services);
  for (const [index, rule] of rulesOf(route).entries()) {
    if (!isDrivenRule(rule, services, ref.namespace, ruleName)) continue;
    for (const w of wanted) {
      const refs = (rule.backendRefs ?? []).filter((b) => refersTo(b, w.service, scope));
      if (!refs.length) return msg.verifyNoBackend(ref, index, w.role, w.service);
      const wrong = refs.find((b) => weightOf(b) !== w.weight);
      if (wrong) return msg.verifyWrongWeight(ref, index, w.role, w.service, weightOf(wrong), w.weight);
    }
  }
  return undefined;
}

function parentsNotReady(route: RouteObject, ref: RouteRef): Unverified | undefined {
  const generation = route.metadata.generation;
  for (const p of route.status?.parents ?? []) {
    const parent = `${p.parentRef.namespace ?? routeNamespace(route, ref.namespace)}/${p.parentRef.name}${p.parentRef.sectionName ? `#${p.parentRef.sectionName}` : ''}`;
    const accepted = p.conditions?.find((c) => c.type === 'Accepted');
    if (accepted?.status !== 'True') {
      const why = [accepted?.reason, accepted?.message].filter(Boolean).join(': ');
      return { route: msg.routeLabel(ref), parent, reason: msg.verifyNotAccepted(ref, parent, accepted?.status, why) };
    }
    // observedGeneration is optional in a condition: without it, Accepted is taken as current.
    if (accepted.observedGeneration !== undefined && accepted.observedGeneration !== generation) {
      return { route: msg.routeLabel(ref), parent, reason: msg.verifyStaleGeneration(ref, parent, accepted.observedGeneration, generation) };
    }
    // Accepted with a backendRef that does not resolve (a missing Service, a cross-namespace
    // reference without a ReferenceGrant): Gateway API answers that backend's share with 500s.
    const resolved = p.conditions?.find((c) => c.type === 'ResolvedRefs');
    if (resolved && resolved.status !== 'True' && (resolved.observedGeneration === undefined || resolved.observedGeneration === generation)) {
      const why = [resolved.reason, resolved.message].filter(Boolean).join(': ');
      return { route: msg.routeLabel(ref), parent, reason: msg.verifyRefsUnresolved(ref, parent, resolved.status, why) };
    }
  }
  return undefined;
}

/** Whether the route carries the desired weights and its parents accepted them. Throws on a route that cannot be split. */
export function verifyRoute(
  route: RouteObject,
  ref: RouteRef,
  services: ServicePair,
  want: DesiredWeights,
  requireAccepted = false,
  ruleName?: string,
): VerifyOutcome {
  assertWeightedRule(route, ref, services, ruleName);
  const mismatch = weightMismatch(route, ref, services, want, ruleName);
  if (mismatch) return { unverified: { route: msg.routeLabel(ref), reason: mismatch }, noParentStatus: false };
  if (!route.status?.parents?.length) {
    if (requireAccepted) return { unverified: { route: msg.routeLabel(ref), reason: msg.verifyNoParents(ref) }, noParentStatus: true };
    return { noParentStatus: true };
  }
  const notReady = parentsNotReady(route, ref);
  return { ...(notReady && { unverified: notReady }), noParentStatus: false };
}

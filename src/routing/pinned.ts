import * as msg from './errors.js';
import type { RouteObject, RouteRef } from './route-store.js';
import { backendScope, refersTo, rulesOf, type ServicePair } from './rules.js';

// Pinned routes send their clients to one version only (e.g. old.example.com → stable,
// new.example.com → canary). The companion checks they still do that; it writes them only
// with ping-pong, to follow a role flip (planPinnedRole).

export type PinnedRole = 'stable' | 'canary';

/** What is wrong with a pinned route, one message per offending backendRef; empty when fine. */
export function pinnedViolations(route: RouteObject, ref: RouteRef, role: PinnedRole, services: ServicePair): string[] {
  const service = services[role];
  const out: string[] = [];
  let backends = 0;
  rulesOf(route).forEach((rule, i) => {
    (rule.backendRefs ?? []).forEach((b, j) => {
      backends++;
      if (refersTo(b, service, backendScope(ref.namespace, services))) return;
      const kind = b.kind ?? 'Service';
      const target = `${kind} "${b.namespace ? `${b.namespace}/` : ''}${b.name}"`;
      out.push(msg.pinnedReferencesOther(ref, role, service, `spec.rules[${i}].backendRefs[${j}]`, target));
    });
  });
  if (!backends) out.push(msg.pinnedWithoutBackends(ref, role, service));
  return out;
}

/**
 * With ping-pong the stable and canary Services swap at every promotion, so "always the new
 * version" must move from one Service to the other. The route's backendRefs that name the
 * opposite role's ping-pong Service get renamed (their name only; port, weight and filters
 * stay). Null when nothing changes: always so in ordinary canaries, and with ping-pong until
 * the next role flip. A route that references both Services is left to pinnedViolations.
 */
export function planPinnedRole(route: RouteObject, ref: RouteRef, role: PinnedRole, services: ServicePair, pingPong: boolean): RouteObject | null {
  if (!pingPong) return null;
  const want = services[role];
  const other = role === 'stable' ? services.canary : services.stable;
  const scope = backendScope(ref.namespace, services);
  const refs = rulesOf(route).flatMap((rule) => rule.backendRefs ?? []);
  if (refs.some((b) => refersTo(b, want, scope)) || !refs.some((b) => refersTo(b, other, scope))) return null;
  const next = structuredClone(route);
  for (const rule of rulesOf(next)) {
    for (const b of rule.backendRefs ?? []) if (refersTo(b, other, scope)) b.name = want;
  }
  return next;
}

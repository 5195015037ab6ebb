import * as msg from './errors.js';
import type { RouteObject, RouteRef } from './route-store.js';
import { backendScope, refersTo, rulesOf, type ServicePair } from './rules.js';

// Pinned routes send their clients to one version only (e.g. old.example.com → stable,
// new.example.com → canary). The companion never writes them; it checks they still do that.

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

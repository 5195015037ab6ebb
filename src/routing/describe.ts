import type { RouterConfig } from './config.js';
import { identifyManagedRules } from './managed-rules.js';
import type { PinnedRole } from './pinned.js';
import type { RouteKind, RouteObject, RouteRef } from './route-store.js';
import { rulesOf, weightOf } from './rules.js';
import { matchesSelector } from './selector.js';

// The rows of `rollouts-companion status`: one per backendRef of every rule of the routes a
// rollout's config names (managed and pinned). Pure: the caller fetches the routes.

export interface StatusRow {
  /** "namespace/name" */
  route: string;
  kind: RouteKind;
  hosts: string[];
  ruleIndex: number;
  ruleName: string | undefined;
  backend: string;
  weight: number;
  /** The backend's share of the rule's traffic, in percent (rounded to 0.1). */
  percent: number;
  pinned: PinnedRole | undefined;
  /** Whether the companion writes this route (weights, header and mirror rules). */
  managed: boolean;
  /** The managed route (header or mirror step) this rule was created for, if any. */
  managedRoute: string | undefined;
  /** The route carries the in-progress label. */
  inProgress: boolean;
}

const sameRef = (a: RouteRef, b: RouteRef): boolean => a.kind === b.kind && a.namespace === b.namespace && a.name === b.name;

function pinnedRole(ref: RouteRef, config: RouterConfig): PinnedRole | undefined {
  return (['stable', 'canary'] as const).find((role) => config.pinned[role].some((p) => sameRef(p, ref)));
}

function isManaged(ref: RouteRef, route: RouteObject, config: RouterConfig): boolean {
  if (pinnedRole(ref, config)) return false;
  return (
    config.routes.some((e) => sameRef(e.ref, ref)) ||
    config.selectors.some((s) => s.kind === ref.kind && s.namespace === ref.namespace && matchesSelector(route.metadata.labels, s.selector))
  );
}

/** A status view must not fail on a hand-edited annotation: such a route shows no managed rules. */
function ruleOwners(route: RouteObject, ref: RouteRef, config: RouterConfig): (string | undefined)[] {
  try {
    return identifyManagedRules(route, ref, { services: config.services, managedRoutes: config.managedRouteNames }).owners;
  } catch {
    return [];
  }
}

export function describeRoutes(routes: readonly RouteObject[], config: RouterConfig): StatusRow[] {
  return routes.flatMap((route) => {
    const ref: RouteRef = { kind: route.kind as RouteKind, namespace: route.metadata.namespace ?? config.namespace, name: route.metadata.name };
    const owners = ruleOwners(route, ref, config);
    const label = config.inProgressLabel;
    const common = {
      route: `${ref.namespace}/${ref.name}`,
      kind: ref.kind,
      hosts: route.spec.hostnames ?? [],
      pinned: pinnedRole(ref, config),
      managed: isManaged(ref, route, config),
      inProgress: label !== undefined && route.metadata.labels?.[label.key] === label.value,
    };
    return rulesOf(route).flatMap((rule, ruleIndex) => {
      const refs = rule.backendRefs ?? [];
      const total = refs.reduce((s, b) => s + weightOf(b), 0);
      return refs.map((b) => ({
        ...common,
        ruleIndex,
        ruleName: rule.name,
        backend: b.namespace ? `${b.namespace}/${b.name}` : b.name,
        weight: weightOf(b),
        percent: total ? Math.round((weightOf(b) / total) * 1000) / 10 : 0,
        managedRoute: owners[ruleIndex],
      }));
    });
  });
}

import type { RouteObject } from '../../src/routing/route-store.js';

// Reading weights off a route the way a reviewer would: per rule, backend name → weight.

export type RuleWeights = Record<string, number | undefined>;

export function ruleWeights(route: RouteObject): RuleWeights[] {
  return (route.spec.rules ?? []).map((rule) =>
    Object.fromEntries(
      ((rule.backendRefs as { name: string; weight?: number }[] | undefined) ?? []).map((b) => [b.name, b.weight]),
    ),
  );
}

export function ruleNames(route: RouteObject): (string | undefined)[] {
  return (route.spec.rules ?? []).map((r) => r.name as string | undefined);
}

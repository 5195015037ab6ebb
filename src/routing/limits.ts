import * as msg from './errors.js';
import type { RouteRef } from './route-store.js';
import type { RequestMatch, Rule } from './rules.js';

// Gateway API's size limits (CRD validation, apis/v1): checked before a write so that a step that
// would exceed them fails with the field named instead of a 422 from the API server. Checking
// first also bounds the work done on a request's matches.

export const GATEWAY_LIMITS = {
  /** HTTPRouteSpec.rules / GRPCRouteSpec.rules MaxItems. */
  rulesPerRoute: 16,
  /** HTTPRouteRule.matches / GRPCRouteRule.matches MaxItems. */
  matchesPerRule: 64,
  /** CEL rule on HTTPRouteSpec.rules: the matches of all rules together. */
  matchesPerRoute: 128,
  /** HTTPRouteMatch.headers / queryParams, GRPCRouteMatch.headers MaxItems. */
  headersPerMatch: 16,
} as const;

/** A step's own match list, before it is combined with any rule. */
export function checkStepMatches(step: string, field: string, count: number): void {
  if (count > GATEWAY_LIMITS.matchesPerRule) throw new Error(msg.stepTooManyMatches(step, field, count, GATEWAY_LIMITS.matchesPerRule));
}

function checkMatch(ref: RouteRef, at: string, m: RequestMatch): void {
  for (const field of ['headers', 'queryParams'] as const) {
    const n = Array.isArray(m[field]) ? (m[field] as unknown[]).length : 0;
    if (n > GATEWAY_LIMITS.headersPerMatch) throw new Error(msg.routeOverLimit(ref, `${at}.${field}`, n, GATEWAY_LIMITS.headersPerMatch));
  }
}

/** The rules a route would be written with, against every limit. */
export function checkRouteLimits(ref: RouteRef, rules: readonly Rule[]): void {
  if (rules.length > GATEWAY_LIMITS.rulesPerRoute) throw new Error(msg.routeOverLimit(ref, 'spec.rules', rules.length, GATEWAY_LIMITS.rulesPerRoute));
  let total = 0;
  rules.forEach((rule, i) => {
    const matches = rule.matches ?? [];
    total += matches.length;
    if (matches.length > GATEWAY_LIMITS.matchesPerRule) {
      throw new Error(msg.routeOverLimit(ref, `spec.rules[${i}].matches`, matches.length, GATEWAY_LIMITS.matchesPerRule));
    }
    matches.forEach((m, j) => checkMatch(ref, `spec.rules[${i}].matches[${j}]`, m));
  });
  if (total > GATEWAY_LIMITS.matchesPerRoute) throw new Error(msg.routeOverLimit(ref, 'spec.rules[*].matches (all rules together)', total, GATEWAY_LIMITS.matchesPerRoute));
}

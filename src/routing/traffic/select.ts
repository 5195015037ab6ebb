import type { RouteKind, RouteObject } from '../route-store.js';
import { backendShares, mirrors } from './backends.js';
import { rankGrpcMatch, type GrpcMatch } from './grpc-match.js';
import { hostRank, normalizeHost } from './hostnames.js';
import { lowerKeys, rankHttpMatch, type HttpMatch } from './http-match.js';
import type { Decision, Listener, TrafficRequest } from './types.js';

// Chooses the route and rule a request reaches among the routes attached to one listener, in the
// spec's order: the rank of the best satisfied match (hostname specificity first, then the
// kind's match criteria), then the oldest route, then "namespace/name" alphabetically, then the
// first rule in list order. No candidate: the gateway answers 404.

interface Candidate {
  rank: readonly number[];
  created: number;
  key: string;
  ruleIndex: number;
  route: RouteObject;
}

interface RuleShape {
  name?: string;
  matches?: unknown[];
  filters?: unknown[];
  backendRefs?: unknown[];
}

function compareRanks(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Negative when `a` takes precedence over `b`. */
function compareCandidates(a: Candidate, b: Candidate): number {
  return compareRanks(b.rank, a.rank) || a.created - b.created || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) || a.ruleIndex - b.ruleIndex;
}

function createdAt(route: RouteObject): number {
  const t = Date.parse(String(route.metadata.creationTimestamp ?? ''));
  // A route without a timestamp (not yet stored) counts as the newest.
  return Number.isNaN(t) ? Number.MAX_SAFE_INTEGER : t;
}

function bestMatchRank(rule: RuleShape, request: TrafficRequest, headers: Record<string, string>): readonly number[] | undefined {
  const matches = rule.matches?.length ? rule.matches : [{}];
  let best: readonly number[] | undefined;
  for (const m of matches) {
    const rank = request.grpc ? rankGrpcMatch(m as GrpcMatch, request.grpc, headers) : rankHttpMatch(m as HttpMatch, request, headers);
    if (rank && (!best || compareRanks(rank, best) > 0)) best = rank;
  }
  return best;
}

/** The rule `request` reaches among `routes` (all attached to `listener`), or undefined (404). */
export function selectRule(routes: readonly RouteObject[], request: TrafficRequest, listener: Listener = {}): Decision | undefined {
  const kind = request.grpc ? 'GRPCRoute' : 'HTTPRoute';
  const host = normalizeHost(request.host);
  const headers = lowerKeys(request.headers);
  let best: Candidate | undefined;
  for (const route of routes) {
    if (route.kind !== kind) continue;
    const h = hostRank(route.spec.hostnames, listener.hostname, host);
    if (!h) continue;
    const ns = route.metadata.namespace ?? 'default';
    ((route.spec.rules ?? []) as RuleShape[]).forEach((rule, ruleIndex) => {
      const m = bestMatchRank(rule, request, headers);
      if (!m) return;
      const candidate = { rank: [h.precise, h.length, ...m], created: createdAt(route), key: `${ns}/${route.metadata.name}`, ruleIndex, route };
      if (!best || compareCandidates(candidate, best) < 0) best = candidate;
    });
  }
  if (!best) return undefined;
  const ns = best.route.metadata.namespace ?? 'default';
  const rule = (best.route.spec.rules ?? [])[best.ruleIndex] as RuleShape;
  return {
    route: { kind: kind as RouteKind, namespace: ns, name: best.route.metadata.name },
    ruleIndex: best.ruleIndex,
    ruleName: rule.name,
    backends: backendShares(rule.backendRefs as never, ns),
    mirrors: mirrors(rule.filters as never, ns),
  };
}

import { mirrorMethodNotExact } from './errors.js';
import { mirrorHeaderMatches, mirrorPathMatch } from './matches.js';
import type { RouteMatch } from './rollout.js';
import { RouteKind } from './route-store.js';
import type { RouteKindSpec } from './route-kinds.js';
import type { RequestMatch } from './rules.js';

// HTTPRoute: path, method and header matches; filters (RequestMirror among them).

function mirrorMatch(step: string, index: number, m: RouteMatch): RequestMatch {
  const out: RequestMatch = {};
  if (m.path) out.path = mirrorPathMatch(step, index, m.path);
  if (m.method) {
    const used = (['prefix', 'regex'] as const).find((k) => m.method?.[k] !== undefined);
    if (used || typeof m.method.exact !== 'string') throw new Error(mirrorMethodNotExact(step, index, used ?? 'no exact value'));
    out.method = m.method.exact;
  }
  if (m.headers) out.headers = mirrorHeaderMatches(step, index, m.headers);
  return out;
}

export const httpRoute: RouteKindSpec = {
  kind: RouteKind.HTTPRoute,
  apiVersion: 'gateway.networking.k8s.io/v1',
  requests: { mirrorMatch },
};

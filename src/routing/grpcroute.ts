import { mirrorFieldUnsupported } from './errors.js';
import { mirrorHeaderMatches } from './matches.js';
import type { RouteMatch } from './rollout.js';
import { RouteKind } from './route-store.js';
import type { RouteKindSpec } from './route-kinds.js';
import type { RequestMatch } from './rules.js';

// GRPCRoute: matches test the gRPC `method` (service/method) and headers; an HTTP path or
// method from a mirror step has no GRPCRoute equivalent, so only its headers carry over.

function mirrorMatch(step: string, index: number, m: RouteMatch): RequestMatch {
  for (const field of ['path', 'method'] as const) {
    if (m[field]) throw new Error(mirrorFieldUnsupported(step, index, field, RouteKind.GRPCRoute));
  }
  return m.headers ? { headers: mirrorHeaderMatches(step, index, m.headers) } : {};
}

export const grpcRoute: RouteKindSpec = {
  kind: RouteKind.GRPCRoute,
  apiVersion: 'gateway.networking.k8s.io/v1',
  requests: { mirrorMatch },
};

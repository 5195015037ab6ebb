import type { RouteKind } from '../route-store.js';

// The inputs and answer of the request-matching model: which rule of which route a request
// reaches on a Gateway listener, and where that rule sends (and mirrors) it.

/** A request as the gateway sees it. Header names are matched case-insensitively. */
export interface TrafficRequest {
  /** Host header (a port is ignored, as the spec requires). */
  host: string;
  /** HTTP method; gRPC requests are POSTs. Default GET. */
  method?: string;
  /** Path without the query string. Default "/". */
  path?: string;
  headers?: Readonly<Record<string, string>>;
  query?: Readonly<Record<string, string>>;
  /** Set for a gRPC request: only GRPCRoutes are considered (the spec forbids merging with HTTPRoutes). */
  grpc?: { service: string; method: string };
}

/** The listener the request arrives on; no hostname accepts every host. */
export interface Listener {
  hostname?: string;
}

/** A backend as Gateway API identifies it; namespace defaulted to the route's. */
export interface BackendId {
  group: string;
  kind: string;
  namespace: string;
  name: string;
  port?: number;
}

export interface BackendShare {
  backend: BackendId;
  /** Percent of the rule's requests this backend receives (0–100). */
  percent: number;
}

export interface Mirror {
  backend: BackendId;
  /** Percent of the rule's requests copied to the backend (0–100). */
  percent: number;
}

export interface Decision {
  route: { kind: RouteKind; namespace: string; name: string };
  ruleIndex: number;
  ruleName: string | undefined;
  /** Backends with a non-zero share, in backendRefs order. Empty: the gateway answers 500. */
  backends: BackendShare[];
  mirrors: Mirror[];
}

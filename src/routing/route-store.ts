// How the routing core reaches Kubernetes. The core is pure logic over plain objects; this
// interface is its only I/O, implemented with @kubernetes/client-node in src/kube/.

/** Gateway API route kinds the companion drives. */
export const RouteKind = {
  HTTPRoute: 'HTTPRoute',
  GRPCRoute: 'GRPCRoute',
  TCPRoute: 'TCPRoute',
  TLSRoute: 'TLSRoute',
} as const;
export type RouteKind = (typeof RouteKind)[keyof typeof RouteKind];

export interface RouteRef {
  kind: RouteKind;
  namespace: string;
  name: string;
}

/** A route as Kubernetes JSON (HTTPRoute, GRPCRoute, TCPRoute or TLSRoute). */
export interface RouteObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  spec: { rules?: Record<string, unknown>[]; hostnames?: string[]; parentRefs?: unknown[]; [key: string]: unknown };
  status?: { parents?: RouteParentStatus[] };
}

export interface RouteParentStatus {
  parentRef: { name: string; namespace?: string; sectionName?: string; [key: string]: unknown };
  controllerName?: string;
  conditions?: { type: string; status: string; observedGeneration?: number; reason?: string; message?: string }[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

/** A route that is not there: the message names kind, namespace and name. */
export class RouteNotFoundError extends Error {
  constructor(readonly ref: RouteRef, options?: ErrorOptions) {
    super(`${ref.kind} ${ref.namespace}/${ref.name} not found`, options);
    this.name = 'RouteNotFoundError';
  }
}

/**
 * What `update` does with a route: return the new object to write it, or `null` when
 * nothing changes (no write happens).
 */
export type RouteMutation = (current: RouteObject) => RouteObject | null;

export interface RouteStore {
  /** Throws RouteNotFoundError when absent; other errors carry the API server's reason. */
  get(ref: RouteRef): Promise<RouteObject>;
  list(kind: RouteKind, namespace: string, selector: LabelSelector): Promise<RouteObject[]>;
  /**
   * Read-modify-write of one route: reads it, applies `mutate`, writes it with the
   * resourceVersion it read (a full-object replace, so a route is never half-written);
   * on 409 Conflict re-reads and re-applies, a bounded number of times. Writes to the
   * same route are serialized. Resolves to the object as stored and whether it wrote.
   * `read` is the route as the caller just read it: the first attempt starts from it instead
   * of reading again (a stale copy only costs a 409 and a re-read).
   */
  update(ref: RouteRef, mutate: RouteMutation, read?: RouteObject): Promise<{ route: RouteObject; written: boolean }>;
  /** Whether a core/v1 Service exists. */
  serviceExists(namespace: string, name: string): Promise<boolean>;
}

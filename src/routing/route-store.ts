import { OverloadedError, type CallContext } from './api.js';

// How the routing core reaches Kubernetes. The core is pure logic over plain objects; this
// interface is its only I/O, implemented on KubeClient in src/kube/route-store.ts.

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

/**
 * A failed store operation whose message is complete on its own: one line naming the object,
 * the verb and the API server's reason. Its cause (the client's error) is for logs only, so
 * error text shown to users stops here instead of appending the cause's dump.
 */
export class RouteStoreError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RouteStoreError';
  }
}

/** A route that is not there: the message names kind, namespace and name. */
export class RouteNotFoundError extends RouteStoreError {
  constructor(readonly ref: RouteRef, options?: ErrorOptions) {
    super(`${ref.kind} ${ref.namespace}/${ref.name} not found`, options);
    this.name = 'RouteNotFoundError';
  }
}

/**
 * An `update` whose writes failed for some routes after others were written: `cause` is the
 * failure (as `update` would have thrown it), `written` what did change, so that it is still
 * reported. Routes are written together, not atomically.
 */
export class PartlyWrittenError extends Error {
  constructor(
    override readonly cause: Error,
    readonly written: readonly RouteUpdate[],
  ) {
    super(cause.message, { cause });
    this.name = 'PartlyWrittenError';
  }
}

/**
 * What `update` does with each route: return the new object to write it, `null` when nothing
 * changes (no write happens), or throw when the route cannot be planned (nothing is written).
 */
export type RoutePlan = (current: RouteObject, ref: RouteRef) => RouteObject | null;

/**
 * Run on the API server's dry-run answer for each planned write of an `update` (the route as the
 * installed CRDs would store it: unknown fields pruned, defaults applied), before anything is
 * written. Throwing leaves every route as it was.
 */
export type StoredCheck = (stored: RouteObject, planned: RouteObject, ref: RouteRef) => void;

export interface RouteUpdate {
  ref: RouteRef;
  /** The route as stored after the call. */
  route: RouteObject;
  /** The plan's change was written (a write fence alone, src/kube/route-store.ts, is not a change). */
  written: boolean;
}

/** Reads a store started ahead of an `update` (RouteStore.prefetch); only that store reads them. */
export type PrefetchedReads = ReadonlyMap<string, { readonly read: Promise<RouteObject>; readonly since: number }>;

export interface RouteStore {
  /** Throws RouteNotFoundError when absent; other errors carry the API server's reason. */
  get(ref: RouteRef, ctx?: CallContext): Promise<RouteObject>;
  list(kind: RouteKind, namespace: string, selector: LabelSelector, ctx?: CallContext): Promise<RouteObject[]>;
  /**
   * Read-plan-write of a set of routes as one step. Holds the write queue of every route in
   * `refs` (taken in sorted order, so two calls never wait on each other in a cycle), reads each
   * route there, plans all of them, and writes only if every plan succeeded: a plan that throws
   * leaves every route as it was. Writes are full-object replaces carrying the resourceVersion
   * read, so a concurrent writer yields 409: that route is re-read and re-planned (with back-off,
   * within the caller's deadline). Nothing is written once the caller has gone. When writes fail
   * after others landed, it throws PartlyWrittenError naming those. A route in
   * `prefetched` is not read again unless a write of ours to it went out since that read began.
   * With `check`, every planned write is first sent as a dry run and checked (one more request
   * per route that changes).
   */
  update(refs: readonly RouteRef[], plan: RoutePlan, ctx?: CallContext, prefetched?: PrefetchedReads, check?: StoredCheck): Promise<RouteUpdate[]>;
  /**
   * Starts reading `refs` for an update to come, so that a call that first reads other routes
   * (the pinned ones) waits for one round trip, not two. A route a call of ours holds now is
   * left out: the update reads it in its queue.
   */
  prefetch?(refs: readonly RouteRef[], ctx?: CallContext): PrefetchedReads;
  /** Whether a core/v1 Service exists. */
  serviceExists(namespace: string, name: string, ctx?: CallContext): Promise<boolean>;
  /** A ConfigMap's data and resourceVersion, or undefined when it does not exist (argoproj-labs/gatewayAPI ≤ 0.12 state). */
  readConfigMap(namespace: string, name: string, ctx?: CallContext): Promise<{ resourceVersion: string; data: Record<string, string> } | undefined>;
}

/**
 * An error's message followed by its causes' ("message: cause: cause"), stopping at a
 * RouteStoreError: its message is already complete and its cause is a client's dump.
 */
export function errorText(e: unknown): string {
  const parts: string[] = [];
  for (let cur: unknown = e, depth = 0; cur !== undefined && cur !== null && depth < 8; depth++) {
    parts.push(cur instanceof Error ? cur.message : String(cur));
    cur = cur instanceof Error && !(cur instanceof RouteStoreError) ? cur.cause : undefined;
  }
  return parts.join(': ');
}

/** Several failures as one error ("a; b"); an overload wins, so that it still reaches the gRPC layer. */
export function combineErrors(errors: readonly unknown[]): Error {
  const overloaded = errors.find((e) => e instanceof OverloadedError);
  if (overloaded) return overloaded as Error;
  return errors.length === 1 && errors[0] instanceof Error ? errors[0] : new Error(errors.map(errorText).join('; '));
}

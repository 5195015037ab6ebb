import type { RouteObject } from './route-store.js';

// The shapes of Gateway API rules the engine reads and writes, shared by all route kinds
// (TCPRoute and TLSRoute rules simply have no matches or filters).

export interface BackendRef {
  name: string;
  namespace?: string;
  kind?: string;
  group?: string;
  port?: number;
  weight?: number;
  [key: string]: unknown;
}

export interface HeaderMatch {
  type?: string;
  name: string;
  value: string;
}

export interface PathMatch {
  type?: string;
  value?: string;
}

export interface RequestMatch {
  path?: PathMatch;
  method?: unknown;
  headers?: HeaderMatch[];
  [key: string]: unknown;
}

export interface Rule {
  name?: string;
  matches?: RequestMatch[];
  filters?: Record<string, unknown>[];
  backendRefs?: BackendRef[];
  [key: string]: unknown;
}

/** The Services traffic is split between. */
export interface ServicePair {
  stable: string;
  canary: string;
  /** Where the Services live (the Rollout's namespace); default: the route's. */
  namespace?: string;
}

/**
 * Where backendRefs resolve: a backendRef without `namespace` means the route's namespace; the
 * Rollout's Services live in theirs (routes in a gateway namespace reach them through a ReferenceGrant).
 */
export type BackendScope = string | { route: string; services: string };

export const backendScope = (routeNs: string, services: ServicePair): BackendScope =>
  services.namespace === undefined || services.namespace === routeNs ? routeNs : { route: routeNs, services: services.namespace };

export const rulesOf = (route: RouteObject): Rule[] => (route.spec.rules ?? []) as Rule[];

export const routeNamespace = (route: RouteObject, fallback: string): string => route.metadata.namespace ?? fallback;

/**
 * A backendRef to the core/v1 Service of that name (kind Service, group ""), in the Services'
 * namespace. Other kinds (ServiceImport, implementation-specific backends) never match: they are
 * left as they are.
 */
export function refersTo(ref: BackendRef, service: string, scope: BackendScope): boolean {
  const { route, services } = typeof scope === 'string' ? { route: scope, services: scope } : scope;
  return (
    ref.name === service &&
    (ref.kind === undefined || ref.kind === 'Service') &&
    (ref.group === undefined || ref.group === '') &&
    (ref.namespace ?? route) === services
  );
}

export const ruleRefersTo = (rule: Rule, service: string, scope: BackendScope): boolean =>
  (rule.backendRefs ?? []).some((ref) => refersTo(ref, service, scope));

/** A rule the weight engine drives: it sends traffic to both the stable and the canary Service. */
export const isWeightedRule = (rule: Rule, services: ServicePair, routeNs: BackendScope): boolean => {
  const scope = typeof routeNs === 'string' ? backendScope(routeNs, services) : routeNs;
  return ruleRefersTo(rule, services.stable, scope) && ruleRefersTo(rule, services.canary, scope);
};

/** Gateway API's default weight for a backendRef without one. */
export const weightOf = (ref: BackendRef): number => ref.weight ?? 1;

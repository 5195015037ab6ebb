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
}

export const rulesOf = (route: RouteObject): Rule[] => (route.spec.rules ?? []) as Rule[];

export const routeNamespace = (route: RouteObject, fallback: string): string => route.metadata.namespace ?? fallback;

/** A backendRef to a core/v1 Service of that name in the route's own namespace. */
export function refersTo(ref: BackendRef, service: string, routeNs: string): boolean {
  return (
    ref.name === service &&
    (ref.kind === undefined || ref.kind === 'Service') &&
    (ref.group === undefined || ref.group === '') &&
    (ref.namespace === undefined || ref.namespace === routeNs)
  );
}

export const ruleRefersTo = (rule: Rule, service: string, routeNs: string): boolean =>
  (rule.backendRefs ?? []).some((ref) => refersTo(ref, service, routeNs));

/** A rule the weight engine drives: it sends traffic to both the stable and the canary Service. */
export const isWeightedRule = (rule: Rule, services: ServicePair, routeNs: string): boolean =>
  ruleRefersTo(rule, services.stable, routeNs) && ruleRefersTo(rule, services.canary, routeNs);

/** Gateway API's default weight for a backendRef without one. */
export const weightOf = (ref: BackendRef): number => ref.weight ?? 1;

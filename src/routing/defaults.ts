import { isDeepStrictEqual } from 'node:util';
import type { RouteObject } from './route-store.js';
import type { BackendRef, RequestMatch, Rule } from './rules.js';

// The API server fills in the Gateway API CRDs' defaults on every write (backendRef group,
// kind and weight, HTTPRoute path matches, match types, …). A route the companion computes
// without them must still count as unchanged, or every reconcile would write again.

const ROOT_PATH = { type: 'PathPrefix', value: '/' };

function backendRef(ref: unknown): unknown {
  if (!ref || typeof ref !== 'object') return ref;
  return { group: '', kind: 'Service', ...(ref as BackendRef) };
}

function match(m: RequestMatch, http: boolean): RequestMatch {
  const out: RequestMatch = { ...m };
  if (http) out.path = { ...ROOT_PATH, ...m.path };
  if (m.method && typeof m.method === 'object') out.method = { type: 'Exact', ...m.method };
  if (m.headers) out.headers = m.headers.map((h) => ({ type: 'Exact', ...h }));
  if (Array.isArray(m.queryParams)) out.queryParams = m.queryParams.map((q: object) => ({ type: 'Exact', ...q }));
  return out;
}

function filter(f: Record<string, unknown>): Record<string, unknown> {
  const mirror = f.requestMirror as { backendRef?: unknown } | undefined;
  return mirror ? { ...f, requestMirror: { ...mirror, backendRef: backendRef(mirror.backendRef) } } : f;
}

/** A rule as the API server stores it after filling in the CRD defaults. */
export function normalizedRule(r: Rule, http: boolean): Rule {
  const out: Rule = { ...r };
  if (r.backendRefs) out.backendRefs = r.backendRefs.map((b) => ({ ...(backendRef(b) as BackendRef), weight: b.weight ?? 1 }));
  if (http || r.matches) out.matches = (r.matches?.length ? r.matches : [{}]).map((m) => match(m, http));
  if (r.filters) out.filters = r.filters.map(filter);
  return out;
}

function normalized(route: RouteObject): unknown {
  const http = route.kind === 'HTTPRoute';
  const rules = (route.spec.rules ?? (http ? [{}] : [])) as Rule[];
  const { labels, annotations, ...meta } = route.metadata;
  return {
    ...route,
    metadata: { ...meta, labels: labels ?? {}, annotations: annotations ?? {} },
    spec: { ...route.spec, rules: rules.map((r) => normalizedRule(r, http)) },
  };
}

/** Whether writing `next` over `current` would store the same route. */
export const sameRoute = (next: RouteObject, current: RouteObject): boolean =>
  isDeepStrictEqual(next, current) || isDeepStrictEqual(normalized(next), normalized(current));

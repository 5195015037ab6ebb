import { badAnnotation } from './errors.js';
import type { RouteObject, RouteRef } from './route-store.js';

// What the companion records on a route so that it only ever removes what it added.
// The routes themselves are the only state: a restarted plugin picks up from here.

/**
 * JSON object: managed route name (trafficRouting.managedRoutes) → the rules created for it, each
 * `{"name": …, "sha": …}` (older companions wrote bare names). The sha is the rule's content
 * fingerprint (managed-rules.ts): it finds the rule where the CRD pruned `rules[].name`.
 */
export const MANAGED_RULES_ANNOTATION = 'rollouts-companion.argoproj.io/managed-rules';
/**
 * The resourceVersion of argoproj-labs/gatewayAPI's (≤ 0.12) ConfigMap whose rule indexes were taken
 * over: from then on the managed-rules annotation records those rules, and the stale indexes are ignored.
 */
export const ADOPTED_GW_CONFIGMAP_ANNOTATION = 'rollouts-companion.argoproj.io/adopted-gw-configmap';
/** JSON array of the Service names of experiment backendRefs (additionalDestinations) the companion added. */
export const EXPERIMENT_BACKENDS_ANNOTATION = 'rollouts-companion.argoproj.io/experiment-backends';

/** One rule the companion wrote: its name (absent for rules adopted by index) and content fingerprint. */
export interface RecordedRule {
  name?: string;
  sha?: string;
}

export type ManagedRules = Record<string, RecordedRule[]>;

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

function readJson(route: RouteObject, ref: RouteRef, key: string, expected: string): unknown {
  const raw = route.metadata.annotations?.[key];
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch (cause) {
    throw new Error(badAnnotation(ref, key, expected), { cause });
  }
}

export function readManagedRules(route: RouteObject, ref: RouteRef): ManagedRules {
  const expected = 'a JSON object of managed route name to a list of rules ({"name", "sha"} or a name)';
  const value = readJson(route, ref, MANAGED_RULES_ANNOTATION, expected);
  if (value === undefined) return {};
  const fail = (): never => {
    throw new Error(badAnnotation(ref, MANAGED_RULES_ANNOTATION, expected));
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail();
  const out: ManagedRules = {};
  for (const [managedRoute, entries] of Object.entries(value as Record<string, unknown>)) {
    if (!Array.isArray(entries)) fail();
    out[managedRoute] = (entries as unknown[]).map((e): RecordedRule => {
      if (typeof e === 'string') return { name: e };
      if (typeof e !== 'object' || e === null) return fail();
      const { name, sha } = e as Record<string, unknown>;
      if ((name !== undefined && typeof name !== 'string') || (sha !== undefined && typeof sha !== 'string') || (name ?? sha) === undefined) fail();
      return { ...(name !== undefined && { name: name as string }), ...(sha !== undefined && { sha: sha as string }) };
    });
  }
  return out;
}

export const managedRuleNames = (rules: ManagedRules): Set<string> =>
  new Set(Object.values(rules).flatMap((entries) => entries.flatMap((e) => (e.name === undefined ? [] : [e.name]))));

export function readExperimentBackends(route: RouteObject, ref: RouteRef): string[] {
  const expected = 'a JSON array of Service names';
  const value = readJson(route, ref, EXPERIMENT_BACKENDS_ANNOTATION, expected);
  if (value === undefined) return [];
  if (!isStringArray(value)) throw new Error(badAnnotation(ref, EXPERIMENT_BACKENDS_ANNOTATION, expected));
  return value;
}

/** Sets (or with `undefined` deletes) one annotation on a route the caller owns (a copy). */
export function setAnnotation(route: RouteObject, key: string, value: string | undefined): void {
  if (value === undefined) {
    if (route.metadata.annotations) delete route.metadata.annotations[key];
    return;
  }
  route.metadata.annotations = { ...route.metadata.annotations, [key]: value };
}

export function writeManagedRules(route: RouteObject, rules: ManagedRules): void {
  setAnnotation(route, MANAGED_RULES_ANNOTATION, Object.keys(rules).length ? JSON.stringify(rules) : undefined);
}

export function writeExperimentBackends(route: RouteObject, names: readonly string[]): void {
  setAnnotation(route, EXPERIMENT_BACKENDS_ANNOTATION, names.length ? JSON.stringify([...names].sort()) : undefined);
}

/** Sets (or with `undefined` deletes) one label on a route the caller owns (a copy). */
export function setLabel(route: RouteObject, key: string, value: string | undefined): void {
  if (value === undefined) {
    if (route.metadata.labels) delete route.metadata.labels[key];
    return;
  }
  route.metadata.labels = { ...route.metadata.labels, [key]: value };
}

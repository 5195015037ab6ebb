import { badAnnotation } from './errors.js';
import type { RouteObject, RouteRef } from './route-store.js';

// What the companion records on a route so that it only ever removes what it added.
// The routes themselves are the only state: a restarted plugin picks up from here.

/** JSON object: managed route name (trafficRouting.managedRoutes) → names of the rules created for it. */
export const MANAGED_RULES_ANNOTATION = 'rollouts-companion.argoproj.io/managed-rules';
/** JSON array of the Service names of experiment backendRefs (additionalDestinations) the companion added. */
export const EXPERIMENT_BACKENDS_ANNOTATION = 'rollouts-companion.argoproj.io/experiment-backends';

export type ManagedRules = Record<string, string[]>;

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
  const expected = 'a JSON object of managed route name to rule names';
  const value = readJson(route, ref, MANAGED_RULES_ANNOTATION, expected);
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.values(value).every(isStringArray)) {
    throw new Error(badAnnotation(ref, MANAGED_RULES_ANNOTATION, expected));
  }
  return value as ManagedRules;
}

export const managedRuleNames = (rules: ManagedRules): Set<string> => new Set(Object.values(rules).flat());

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

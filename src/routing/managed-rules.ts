import { isDeepStrictEqual } from 'node:util';
import { sameRoute } from './defaults.js';
import { managedRuleNames, readManagedRules, writeManagedRules } from './annotations.js';
import * as msg from './errors.js';
import { InexpressiblePath, intersectMatch, pathText, withHeaders } from './matches.js';
import type { RouteObject, RouteRef } from './route-store.js';
import { refersTo, ruleRefersTo, rulesOf, type HeaderMatch, type RequestMatch, type Rule, type ServicePair } from './rules.js';

// Header and mirror rules ("managed routes" in Argo Rollouts' terms). Each managed route becomes
// one rule per source rule (a rule the user wrote that sends traffic to the canary), named after
// the managed route and recorded in the managed-rules annotation: only those are ever removed.

/** Gateway API SectionName, the format of a rule's `name`. */
const RULE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The rule names for a managed route with `count` rules: the route's name, or name-1, name-2, … */
export function managedRuleNamesFor(managedRoute: string, count: number): string[] {
  const names = count === 1 ? [managedRoute] : Array.from({ length: count }, (_, i) => `${managedRoute}-${i + 1}`);
  for (const n of names) if (n.length > 253 || !RULE_NAME.test(n)) throw new Error(msg.invalidRuleName(managedRoute));
  return names;
}

interface SourceRule {
  index: number;
  rule: Rule;
}

/** Rules the user wrote that send traffic to the canary: what managed rules are derived from. */
function sourceRules(route: RouteObject, ref: RouteRef, services: ServicePair): SourceRule[] {
  const managed = managedRuleNames(readManagedRules(route, ref));
  return rulesOf(route)
    .map((rule, index) => ({ rule, index }))
    .filter(({ rule }) => (rule.name === undefined || !managed.has(rule.name)) && ruleRefersTo(rule, services.canary, ref.namespace));
}

/** A copy of a source rule as the base of a managed rule: everything but its name. */
function baseOf(rule: Rule): Rule {
  const { name: _name, ...rest } = structuredClone(rule);
  return rest;
}

/**
 * Replaces the rules of one managed route (none removes it), keeping its position so that
 * setting the same managed route again changes nothing. Pure: the new route, or null.
 */
export function replaceManagedRules(current: RouteObject, ref: RouteRef, managedRoute: string, rules: Rule[]): RouteObject | null {
  const recorded = readManagedRules(current, ref);
  const mine = new Set(recorded[managedRoute] ?? []);
  const existing = rulesOf(current);
  const names = rules.map((r) => r.name!);
  existing.forEach((r, i) => {
    if (r.name !== undefined && names.includes(r.name) && !mine.has(r.name)) {
      throw new Error(msg.ruleNameTaken(ref, i, r.name, managedRoute));
    }
  });
  const isMine = (r: Rule): boolean => r.name !== undefined && mine.has(r.name);
  const first = existing.findIndex(isMine);
  const kept = existing.filter((r) => !isMine(r));
  const at = first === -1 ? kept.length : first;
  const next = structuredClone(current);
  next.spec.rules = [...kept.slice(0, at), ...rules, ...kept.slice(at)];
  // Assigning an existing key keeps its place: the annotation text stays the same.
  const updated = { ...recorded, [managedRoute]: names };
  if (!rules.length) delete updated[managedRoute];
  writeManagedRules(next, updated);
  return sameRoute(next, current) ? null : next;
}

function named(managedRoute: string, rules: Rule[]): Rule[] {
  const names = managedRuleNamesFor(managedRoute, rules.length);
  return rules.map((r, i) => ({ name: names[i], ...r }));
}

/** SetHeaderRoute for one route; `headers` empty removes the managed route. Pure. */
export function planHeaderRoute(
  current: RouteObject,
  ref: RouteRef,
  services: ServicePair,
  managedRoute: string,
  headers: readonly HeaderMatch[],
): RouteObject | null {
  if (!headers.length) return replaceManagedRules(current, ref, managedRoute, []);
  const sources = sourceRules(current, ref, services);
  if (!sources.length) throw new Error(msg.noCanaryRule(ref, services.canary, managedRoute));
  const rules = sources.map(({ rule }) => {
    const matches: RequestMatch[] = rule.matches?.length ? rule.matches : [{}];
    const canary = rule.backendRefs!.filter((b) => refersTo(b, services.canary, ref.namespace));
    // A lone backendRef takes all traffic; its weight (possibly 0 in the source) must not stay.
    const backendRefs = canary.map(({ weight: _w, ...b }) => structuredClone(b));
    return { ...baseOf(rule), matches: matches.map((m) => withHeaders(m, headers)), backendRefs };
  });
  return replaceManagedRules(current, ref, managedRoute, named(managedRoute, rules));
}

export interface MirrorSpec {
  /** Mirror conditions in this route kind's match shape (any may hold). */
  matches: RequestMatch[];
  /** Percent of matching requests mirrored; undefined mirrors all. */
  percent?: number;
}

function mirrorFilter(rule: Rule, ref: RouteRef, services: ServicePair, percent: number | undefined): Record<string, unknown> {
  const canary = rule.backendRefs!.find((b) => refersTo(b, services.canary, ref.namespace))!;
  const backendRef = {
    name: services.canary,
    ...(canary.namespace !== undefined && { namespace: canary.namespace }),
    ...(canary.port !== undefined && { port: canary.port }),
  };
  return { type: 'RequestMirror', requestMirror: { backendRef, ...(percent !== undefined && { percent }) } };
}

/** SetMirrorRoute for one route; no matches removes the managed route. Pure. */
export function planMirrorRoute(current: RouteObject, ref: RouteRef, services: ServicePair, managedRoute: string, mirror: MirrorSpec): RouteObject | null {
  if (!mirror.matches.length) return replaceManagedRules(current, ref, managedRoute, []);
  const sources = sourceRules(current, ref, services);
  if (!sources.length) throw new Error(msg.noCanaryRule(ref, services.canary, managedRoute));
  const rules: Rule[] = [];
  for (const { rule, index } of sources) {
    const matches: RequestMatch[] = [];
    for (const own of rule.matches?.length ? rule.matches : [{}]) {
      for (const extra of mirror.matches) {
        try {
          const m = intersectMatch(own, extra);
          if (m && !matches.some((x) => isDeepStrictEqual(x, m))) matches.push(m);
        } catch (e) {
          if (!(e instanceof InexpressiblePath)) throw e;
          throw new Error(msg.mirrorPathInexpressible(ref, index, pathText(e.rulePath), pathText(e.extraPath)));
        }
      }
    }
    // No request can match both this rule and the mirror conditions: nothing to mirror here.
    if (!matches.length) continue;
    const base = baseOf(rule);
    rules.push({ ...base, matches, filters: [...(base.filters ?? []), mirrorFilter(rule, ref, services, mirror.percent)] });
  }
  return replaceManagedRules(current, ref, managedRoute, rules.length ? named(managedRoute, rules) : []);
}

/** RemoveManagedRoutes for one route: drops every rule the companion created. Pure. */
export function planRemoveManaged(current: RouteObject, ref: RouteRef): RouteObject | null {
  const recorded = readManagedRules(current, ref);
  let next: RouteObject | null = null;
  for (const managedRoute of Object.keys(recorded)) {
    next = replaceManagedRules(next ?? current, ref, managedRoute, []) ?? next;
  }
  return next;
}

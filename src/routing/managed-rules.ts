import { createHash } from 'node:crypto';
import { normalizedRule, sameRoute } from './defaults.js';
import {
  ADOPTED_GW_CONFIGMAP_ANNOTATION,
  readManagedRules,
  setAnnotation,
  writeManagedRules,
  type ManagedRules,
  type RecordedRule,
} from './annotations.js';
import * as msg from './errors.js';
import { checkRouteLimits, checkStepMatches } from './limits.js';
import { escapeRegex, headerText, InexpressibleHeader, InexpressiblePath, intersectMatch, pathText, withHeaders } from './matches.js';
import type { RouteObject, RouteRef, StoredCheck } from './route-store.js';
import { backendScope, refersTo, ruleRefersTo, rulesOf, type BackendRef, type HeaderMatch, type RequestMatch, type Rule, type ServicePair } from './rules.js';

// Header and mirror rules ("managed routes" in Argo Rollouts' terms). Each managed route becomes
// one rule per source rule (a rule the user wrote that sends traffic to the canary), named as
// argoproj-labs/gatewayAPI names them (the managed route's name, then name-1, name-2, …) and
// placed right before its source rule: Gateway API gives a tie between equally specific matches
// to the first rule, so a copy placed after its source would never see a request.
//
// Which rules are ours (the one place that decides it):
//   1. rules recorded in the managed-rules annotation, by name, or by content fingerprint where
//      an older CRD (Standard channel before Gateway API v1.4) pruned `rules[].name`;
//   2. rules argoproj-labs/gatewayAPI ≥ 0.13 created: named after a declared managed route;
//   3. rules argoproj-labs/gatewayAPI ≤ 0.12 created: by index, from its ConfigMap.
// GW's rules (2, 3) are adopted only when shaped like GW's (canary-only or mirroring), so a user
// rule that happens to share a name is never touched.

/** Gateway API SectionName, the format of a rule's `name`. */
const RULE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** What identifies the managed rules of one route besides its own annotation. */
export interface ManagedRuleContext {
  services: ServicePair;
  /** trafficRouting.managedRoutes: argoproj-labs/gatewayAPI names its rules after them. */
  managedRoutes: readonly string[];
  /** argoproj-labs/gatewayAPI ≤ 0.12's ConfigMap entries for this route, when the ConfigMap exists. */
  gwConfigMap?: GwConfigMapEntries;
  /**
   * Set while GW's ConfigMap has not been read: called when it would decide (a rule GW ≤ 0.12 may
   * have added is on the route), so that the caller reads it and plans again. Must throw.
   */
  needGwConfigMap?: () => never;
}

export interface GwConfigMapEntries {
  resourceVersion: string;
  /** managed route name → index of its rule in this route. */
  indexes: Readonly<Record<string, number>>;
}

/** The rule names for a managed route with `count` rules, as argoproj-labs/gatewayAPI: name, name-1, name-2, … */
export function managedRuleNamesFor(managedRoute: string, count: number): string[] {
  const names = Array.from({ length: count }, (_, i) => (i === 0 ? managedRoute : `${managedRoute}-${i}`));
  for (const n of names) if (n.length > 253 || !RULE_NAME.test(n)) throw new Error(msg.invalidRuleName(managedRoute));
  return names;
}

const canonical = (v: unknown): string =>
  Array.isArray(v)
    ? `[${v.map(canonical).join(',')}]`
    : v && typeof v === 'object'
      ? `{${Object.keys(v)
          .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
          .join(',')}}`
      : JSON.stringify(v);

/**
 * A rule's content fingerprint: its matches and filters as stored (CRD defaults applied), without
 * what changes under it after the write (its name, which old CRDs prune; its backendRefs, which
 * SetWeight and experiments rewrite; a mirror's percent/fraction, which old CRDs prune).
 */
export function ruleFingerprint(rule: Rule, kind: string): string {
  const { name: _n, backendRefs: _b, ...rest } = normalizedRule(rule, kind === 'HTTPRoute');
  const filters = rest.filters?.map((f) => {
    const mirror = f.requestMirror as Record<string, unknown> | undefined;
    if (!mirror) return f;
    const { percent: _p, fraction: _f, ...keep } = mirror;
    return { ...f, requestMirror: keep };
  });
  return createHash('sha256').update(canonical({ ...rest, ...(filters && { filters }) })).digest('hex').slice(0, 16);
}

const isMirroring = (rule: Rule): boolean => (rule.filters ?? []).some((f) => f.type === 'RequestMirror');

/**
 * Whether a rule sends or mirrors traffic to this Rollout's Services (either: with ping-pong the
 * roles swap). Rollouts may share a route, and the annotation is keyed by managed route name
 * only: a recorded rule that serves neither Service is another Rollout's.
 */
function servesRollout(rule: Rule, ref: RouteRef, services: ServicePair): boolean {
  const scope = backendScope(ref.namespace, services);
  const mirrored = (rule.filters ?? []).flatMap((f) => {
    const backendRef = (f.requestMirror as { backendRef?: BackendRef } | undefined)?.backendRef;
    return f.type === 'RequestMirror' && backendRef ? [backendRef] : [];
  });
  return [services.stable, services.canary].some((s) => ruleRefersTo(rule, s, scope) || mirrored.some((b) => refersTo(b, s, scope)));
}

/** Shaped like a rule argoproj-labs/gatewayAPI adds: canary-only (header route) or mirroring. */
function gwShaped(rule: Rule, ref: RouteRef, services: ServicePair): boolean {
  const refs = rule.backendRefs ?? [];
  const canaryOnly = refs.length > 0 && refs.every((b) => refersTo(b, services.canary, backendScope(ref.namespace, services)));
  return canaryOnly || (isMirroring(rule) && servesRollout(rule, ref, services));
}

export interface ManagedRuleOwners {
  /** Per rule index: the managed route that owns it, or undefined for the user's rules. */
  owners: (string | undefined)[];
  /** Per rule index: the managed route of another Rollout sharing the route that owns it. */
  others: (string | undefined)[];
  /** Some recorded rule was found only by its fingerprint: this API server drops `rules[].name`. */
  namesPruned: boolean;
  /** GW's ConfigMap indexes were used (its resourceVersion), to be marked as taken over on write. */
  adoptedGwConfigMap?: string;
}

/** Which rules of `route` are managed, and by which managed route. Pure. */
export function identifyManagedRules(route: RouteObject, ref: RouteRef, ctx: ManagedRuleContext): ManagedRuleOwners {
  const rules = rulesOf(route);
  const owners: (string | undefined)[] = rules.map(() => undefined);
  let namesPruned = false;
  let adoptedGwConfigMap: string | undefined;
  const recorded = readManagedRules(route, ref);
  const byName = new Map<string, number>();
  rules.forEach((r, i) => r.name !== undefined && byName.set(r.name, i));
  let prints: (string | undefined)[] | undefined;
  for (const [managedRoute, entries] of Object.entries(recorded)) {
    for (const e of entries) {
      const named = e.name === undefined ? undefined : byName.get(e.name);
      if (named !== undefined && owners[named] === undefined) {
        owners[named] = managedRoute;
        continue;
      }
      if (e.sha === undefined) continue;
      prints ??= rules.map((r) => (r.name === undefined ? ruleFingerprint(r, route.kind) : undefined));
      const found = prints.findIndex((p, i) => p === e.sha && owners[i] === undefined);
      if (found === -1) continue;
      owners[found] = managedRoute;
      if (e.name !== undefined) namesPruned = true;
    }
  }
  const others = owners.map((o, i) => (o !== undefined && !servesRollout(rules[i]!, ref, ctx.services) ? o : undefined));
  others.forEach((o, i) => o !== undefined && (owners[i] = undefined));
  for (const managedRoute of ctx.managedRoutes) {
    if (Object.hasOwn(recorded, managedRoute)) continue;
    const gwName = new RegExp(`^${escapeRegex(managedRoute)}(-[0-9]+)?$`);
    rules.forEach((r, i) => {
      if (owners[i] === undefined && r.name !== undefined && gwName.test(r.name) && gwShaped(r, ref, ctx.services)) owners[i] = managedRoute;
    });
  }
  const gw = ctx.gwConfigMap;
  if (ctx.needGwConfigMap && route.metadata.annotations?.[ADOPTED_GW_CONFIGMAP_ANNOTATION] === undefined) {
    const unclaimed = ctx.managedRoutes.some((m) => !Object.hasOwn(recorded, m) && !owners.includes(m));
    if (unclaimed && rules.some((r, i) => owners[i] === undefined && r.name === undefined && gwShaped(r, ref, ctx.services))) ctx.needGwConfigMap();
  }
  if (gw && route.metadata.annotations?.[ADOPTED_GW_CONFIGMAP_ANNOTATION] !== gw.resourceVersion) {
    for (const [managedRoute, index] of Object.entries(gw.indexes)) {
      if (Object.hasOwn(recorded, managedRoute) || owners.includes(managedRoute)) continue;
      const r = rules[index];
      if (!r || owners[index] !== undefined || r.name !== undefined || !gwShaped(r, ref, ctx.services)) continue;
      owners[index] = managedRoute;
      adoptedGwConfigMap = gw.resourceVersion;
    }
  }
  return { owners, others, namesPruned, ...(adoptedGwConfigMap !== undefined && { adoptedGwConfigMap }) };
}

/** Per rule index: whether it is a managed rule (this Rollout's or another's sharing the route). Pure. */
export function managedRuleIndexes(route: RouteObject, ref: RouteRef, ctx: ManagedRuleContext): boolean[] {
  const { owners, others } = identifyManagedRules(route, ref, ctx);
  return owners.map((o, i) => o !== undefined || others[i] !== undefined);
}

interface NewRule {
  rule: Rule;
  /** Index (in the current route) of the user's rule it was derived from. */
  source: number;
}

/** Rules the user wrote that send traffic to the canary: what managed rules are derived from. */
function sourceRules(route: RouteObject, ref: RouteRef, services: ServicePair, owners: readonly (string | undefined)[]): { index: number; rule: Rule }[] {
  return rulesOf(route)
    .map((rule, index) => ({ rule, index }))
    .filter(({ rule, index }) => owners[index] === undefined && ruleRefersTo(rule, services.canary, backendScope(ref.namespace, services)));
}

/** A copy of a source rule as the base of a managed rule: everything but its name. */
function baseOf(rule: Rule): Rule {
  const { name: _name, ...rest } = structuredClone(rule);
  return rest;
}

/**
 * Replaces the rules of one managed route (none removes it). A new rule goes right before its
 * source rule; one that already stood before its source keeps its place, so setting the same
 * managed route again changes nothing. The annotation is rewritten from what the route then
 * holds, so adopted rules become recorded ones. Pure: the new route, or null.
 */
export function replaceManagedRules(current: RouteObject, ref: RouteRef, ctx: ManagedRuleContext, managedRoute: string, wanted: NewRule[]): RouteObject | null {
  const { owners, others, namesPruned, adoptedGwConfigMap } = identifyManagedRules(current, ref, ctx);
  const existing = rulesOf(current);
  const names = managedRuleNamesFor(managedRoute, wanted.length);
  existing.forEach((r, i) => {
    if (r.name === undefined || !names.includes(r.name) || owners[i] === managedRoute) return;
    if (others[i] !== undefined) throw new Error(msg.ruleOfOtherRollout(ref, i, r.name, others[i], managedRoute));
    if (owners[i] === undefined) throw new Error(msg.ruleNameTaken(ref, i, r.name, managedRoute));
    throw new Error(msg.ruleOwnedElsewhere(ref, i, r.name, owners[i]!, managedRoute));
  });
  // Kept rules, each with the old rules of this managed route that stood right before it.
  const kept: number[] = [];
  const oldAnchor: number[] = [];
  existing.forEach((_, i) => {
    if (owners[i] === managedRoute) oldAnchor.push(kept.length);
    else kept.push(i);
  });
  const placed = wanted.map(({ rule, source }, j) => {
    const sourceAt = kept.indexOf(source);
    const before = oldAnchor[j];
    const named = namesPruned ? rule : { name: names[j], ...rule };
    return { rule: named, anchor: before !== undefined && before <= sourceAt ? before : sourceAt };
  });
  const rules: Rule[] = [];
  const ruleOwners: RuleOwner[] = [];
  for (let at = 0; at <= kept.length; at++) {
    for (const p of placed) {
      if (p.anchor !== at) continue;
      rules.push(p.rule);
      ruleOwners.push({ owner: managedRoute, mine: true });
    }
    if (at < kept.length) {
      const i = kept[at]!;
      rules.push(existing[i]!);
      ruleOwners.push({ owner: owners[i] ?? others[i], mine: false });
    }
  }
  checkRouteLimits(ref, rules);
  const next = structuredClone(current);
  next.spec.rules = rules;
  writeManagedRules(next, record(current, ref, ruleOwners, rules, names));
  if (adoptedGwConfigMap !== undefined) setAnnotation(next, ADOPTED_GW_CONFIGMAP_ANNOTATION, adoptedGwConfigMap);
  return sameRoute(next, current) ? null : next;
}

/** A rule's managed route (this Rollout's or another's; none for the user's), and whether it is being written now. */
interface RuleOwner {
  owner: string | undefined;
  mine: boolean;
}

/** The annotation for `rules`: every managed rule by owner, in route order, named and fingerprinted. */
function record(current: RouteObject, ref: RouteRef, owners: readonly RuleOwner[], rules: readonly Rule[], names: readonly string[]): ManagedRules {
  const prior = readManagedRules(current, ref);
  const out: ManagedRules = {};
  // Keep the recorded order of managed routes so that the annotation text does not churn.
  for (const m of Object.keys(prior)) if (owners.some((o) => o.owner === m)) out[m] = [];
  let mine = 0;
  rules.forEach((rule, i) => {
    const { owner, mine: written } = owners[i]!;
    if (owner === undefined) return;
    // A pruned name is still recorded: it says what the rule is called where names are kept.
    const sha = ruleFingerprint(rule, current.kind);
    const recordedName = written ? names[mine++] : (rule.name ?? prior[owner]?.find((e) => e.sha === sha)?.name);
    const entry: RecordedRule = { ...(recordedName !== undefined && { name: recordedName }), sha };
    (out[owner] ??= []).push(entry);
  });
  return out;
}

/** SetHeaderRoute for one route; `headers` empty removes the managed route. Pure. */
export function planHeaderRoute(
  current: RouteObject,
  ref: RouteRef,
  ctx: ManagedRuleContext,
  managedRoute: string,
  headers: readonly HeaderMatch[],
): RouteObject | null {
  if (!headers.length) return replaceManagedRules(current, ref, ctx, managedRoute, []);
  const { services } = ctx;
  const sources = sourceRules(current, ref, services, identifyManagedRules(current, ref, ctx).owners);
  if (!sources.length) throw new Error(msg.noCanaryRule(ref, services.canary, managedRoute));
  const rules = sources.flatMap(({ rule, index }) => {
    const matches = (rule.matches?.length ? rule.matches : [{}]).flatMap((m): RequestMatch[] => {
      try {
        const both = withHeaders(m, headers);
        return both ? [both] : [];
      } catch (e) {
        if (!(e instanceof InexpressibleHeader)) throw e;
        throw new Error(msg.headerInexpressible(ref, index, headerText(e.ruleHeader), `setHeaderRoute "${managedRoute}"`, headerText(e.extraHeader)));
      }
    });
    // The rule already requires another value of that header: no request is both.
    if (!matches.length) return [];
    const canary = rule.backendRefs!.filter((b) => refersTo(b, services.canary, backendScope(ref.namespace, services)));
    // A lone backendRef takes all traffic; its weight (possibly 0 in the source) must not stay.
    const backendRefs = canary.map(({ weight: _w, ...b }) => structuredClone(b));
    return [{ rule: { ...baseOf(rule), matches, backendRefs }, source: index }];
  });
  return replaceManagedRules(current, ref, ctx, managedRoute, rules);
}

export interface MirrorSpec {
  /** Mirror conditions in this route kind's match shape (any may hold). */
  matches: RequestMatch[];
  /** Percent of matching requests mirrored; undefined mirrors all. */
  percent?: number;
}

function mirrorFilter(rule: Rule, ref: RouteRef, services: ServicePair, percent: number | undefined): Record<string, unknown> {
  const canary = rule.backendRefs!.find((b) => refersTo(b, services.canary, backendScope(ref.namespace, services)))!;
  const backendRef = {
    name: services.canary,
    ...(canary.namespace !== undefined && { namespace: canary.namespace }),
    ...(canary.port !== undefined && { port: canary.port }),
  };
  return { type: 'RequestMirror', requestMirror: { backendRef, ...(percent !== undefined && { percent }) } };
}

/** How many of a route's RequestMirror filters carry a percent. */
const mirrorPercents = (route: RouteObject): number =>
  rulesOf(route).reduce((n, rule) => n + (rule.filters ?? []).filter((f) => f.type === 'RequestMirror' && (f.requestMirror as { percent?: unknown } | undefined)?.percent !== undefined).length, 0);

/**
 * SetMirrorRoute with a percentage, checked on the API server's dry run: CRDs without
 * requestMirror.percent prune it, and the rule would then mirror every request.
 */
export function keepsMirrorPercent(managedRoute: string, percent: number): StoredCheck {
  return (stored, planned, ref) => {
    if (mirrorPercents(stored) < mirrorPercents(planned)) throw new Error(msg.mirrorPercentPruned(ref, managedRoute, percent));
  };
}

/** SetMirrorRoute for one route; no matches removes the managed route. Pure. */
export function planMirrorRoute(current: RouteObject, ref: RouteRef, ctx: ManagedRuleContext, managedRoute: string, mirror: MirrorSpec): RouteObject | null {
  if (!mirror.matches.length) return replaceManagedRules(current, ref, ctx, managedRoute, []);
  checkStepMatches(`setMirrorRoute "${managedRoute}"`, 'match', mirror.matches.length);
  const { services } = ctx;
  const sources = sourceRules(current, ref, services, identifyManagedRules(current, ref, ctx).owners);
  if (!sources.length) throw new Error(msg.noCanaryRule(ref, services.canary, managedRoute));
  const rules: NewRule[] = [];
  for (const { rule, index } of sources) {
    const matches: RequestMatch[] = [];
    // Deduplicated by canonical text: linear in the number of combinations (a deep comparison
    // against every kept match was quadratic and stalled the event loop on large inputs).
    const seen = new Set<string>();
    for (const own of rule.matches?.length ? rule.matches : [{}]) {
      for (const extra of mirror.matches) {
        try {
          const m = intersectMatch(own, extra);
          if (!m) continue;
          const key = canonical(m);
          if (seen.has(key)) continue;
          seen.add(key);
          matches.push(m);
        } catch (e) {
          if (e instanceof InexpressibleHeader) {
            throw new Error(msg.headerInexpressible(ref, index, headerText(e.ruleHeader), `setMirrorRoute "${managedRoute}"`, headerText(e.extraHeader)));
          }
          if (!(e instanceof InexpressiblePath)) throw e;
          throw new Error(msg.mirrorPathInexpressible(ref, index, pathText(e.rulePath), pathText(e.extraPath)));
        }
      }
    }
    // No request can match both this rule and the mirror conditions: nothing to mirror here.
    if (!matches.length) continue;
    const base = baseOf(rule);
    rules.push({ rule: { ...base, matches, filters: [...(base.filters ?? []), mirrorFilter(rule, ref, services, mirror.percent)] }, source: index });
  }
  return replaceManagedRules(current, ref, ctx, managedRoute, rules);
}

/** RemoveManagedRoutes for one route: drops every managed rule (recorded or adopted). Pure. */
export function planRemoveManaged(current: RouteObject, ref: RouteRef, ctx: ManagedRuleContext): RouteObject | null {
  const { owners } = identifyManagedRules(current, ref, ctx);
  let next: RouteObject | null = null;
  for (const managedRoute of new Set(owners.filter((o) => o !== undefined))) {
    next = replaceManagedRules(next ?? current, ref, ctx, managedRoute, []) ?? next;
  }
  return next;
}

/** Thrown through a plan by `needGwConfigMap`: the plan needs GW's ConfigMap. */
export class GwConfigMapNeeded extends Error {
  constructor() {
    super("argoproj-labs/gatewayAPI's ConfigMap is needed to tell its rules from the user's");
    this.name = 'GwConfigMapNeeded';
  }
}

/** argoproj-labs/gatewayAPI ≤ 0.12's ConfigMap keys: managed route → route name → rule index. */
const GW_CONFIGMAP_KEYS: Partial<Record<string, string>> = { HTTPRoute: 'httpManagedRoutes', GRPCRoute: 'grpcManagedRoutes' };

/** This route's entries in GW's ConfigMap; undefined when it has none or they cannot be read. */
export function gwConfigMapEntries(configMap: { resourceVersion: string; data: Record<string, string> } | undefined, ref: RouteRef): GwConfigMapEntries | undefined {
  const key = GW_CONFIGMAP_KEYS[ref.kind];
  const raw = key === undefined ? undefined : configMap?.data[key];
  if (raw === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // GW's own state, not ours to judge: unreadable entries simply adopt nothing.
    return undefined;
  }
  if (!parsed || typeof parsed !== 'object') return undefined;
  const indexes: Record<string, number> = {};
  for (const [managedRoute, routes] of Object.entries(parsed as Record<string, unknown>)) {
    const index = routes && typeof routes === 'object' ? (routes as Record<string, unknown>)[ref.name] : undefined;
    if (Number.isInteger(index)) indexes[managedRoute] = index as number;
  }
  return Object.keys(indexes).length ? { resourceVersion: configMap!.resourceVersion, indexes } : undefined;
}

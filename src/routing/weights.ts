import { sameRoute } from './defaults.js';
import {
  managedRuleNames,
  readExperimentBackends,
  readManagedRules,
  setLabel,
  writeExperimentBackends,
} from './annotations.js';
import * as msg from './errors.js';
import { isServiceName } from './names.js';
import type { WeightDestination } from './rollout.js';
import type { RouteObject, RouteRef } from './route-store.js';
import { backendScope, isWeightedRule, refersTo, ruleRefersTo, rulesOf, type BackendRef, type BackendScope, type Rule, type ServicePair } from './rules.js';

// The shared weight engine: every rule that sends traffic to both the stable and the canary
// Service gets the desired split; experiment backends come and go with additionalDestinations.

export interface DesiredWeights {
  canary: number;
  stable: number;
  additional: { service: string; weight: number }[];
}

const isWeight = (w: unknown, total: number): w is number => Number.isInteger(w) && (w as number) >= 0 && (w as number) <= total;

/** Validates a SetWeight / VerifyWeight request and computes the stable Service's share. */
export function desiredWeights(weight: number, destinations: readonly WeightDestination[], services: ServicePair, total: number): DesiredWeights {
  if (!isWeight(weight, total)) throw new Error(msg.weightOutOfRange(weight, total));
  const seen = new Set([services.stable, services.canary]);
  const additional = destinations.map((d, i) => {
    const service = d.serviceName;
    if (typeof service !== 'string' || service === '') throw new Error(msg.additionalServiceMissing(i));
    // The name becomes a backendRef: a path, a control character or an overlong string must not.
    if (!isServiceName(service)) throw new Error(msg.additionalServiceInvalid(i, service));
    if (seen.has(service)) throw new Error(msg.additionalServiceClash(i, service));
    seen.add(service);
    // Zero values arrive absent over gob: a missing weight is 0.
    const w = d.weight ?? 0;
    if (!isWeight(w, total)) throw new Error(msg.additionalWeightInvalid(i, d.weight, total));
    return { service, weight: w };
  });
  const sum = additional.reduce((s, d) => s + d.weight, 0);
  if (weight + sum > total) throw new Error(msg.weightsExceedTotal(weight, sum, total));
  return { canary: weight, stable: total - weight - sum, additional };
}

/** A rule SetWeight drives: it references both Services and, with a ruleName, carries that name. */
export const isDrivenRule = (rule: Rule, services: ServicePair, routeNs: string, ruleName?: string): boolean =>
  isWeightedRule(rule, services, routeNs) && (ruleName === undefined || rule.name === ruleName);

/**
 * Throws unless some rule the user wrote (not a companion-managed rule) references both
 * Services (and has the configured ruleName): a managed route that cannot be split is a
 * configuration error.
 */
export function assertWeightedRule(route: RouteObject, ref: RouteRef, services: ServicePair, ruleName?: string): void {
  const managed = managedRuleNames(readManagedRules(route, ref));
  const own = rulesOf(route).filter((r) => r.name === undefined || !managed.has(r.name));
  if (own.some((r) => isDrivenRule(r, services, ref.namespace, ruleName))) return;
  if (ruleName !== undefined) throw new Error(msg.noNamedWeightedRule(ref, ruleName, services.stable, services.canary));
  const missing = (['stable', 'canary'] as const)
    .filter((role) => !own.some((r) => ruleRefersTo(r, services[role], backendScope(ref.namespace, services))))
    .map((role) => `${role} Service "${services[role]}"`);
  throw new Error(msg.noWeightedRule(ref, services.stable, services.canary, missing));
}

function weighRule(rule: Rule, services: ServicePair, ns: BackendScope, want: DesiredWeights, dropped: Set<string>, added: Set<string>): Rule {
  const weightFor = (ref: BackendRef): number | undefined => {
    if (refersTo(ref, services.stable, ns)) return want.stable;
    if (refersTo(ref, services.canary, ns)) return want.canary;
    return want.additional.find((d) => refersTo(ref, d.service, ns))?.weight;
  };
  const refs = (rule.backendRefs ?? [])
    .filter((ref) => ![...dropped].some((service) => refersTo(ref, service, ns)))
    .map((ref) => {
      const weight = weightFor(ref);
      return weight === undefined ? ref : { ...ref, weight };
    });
  const canaryRef = refs.find((ref) => refersTo(ref, services.canary, ns));
  for (const d of want.additional) {
    if (refs.some((ref) => refersTo(ref, d.service, ns))) continue;
    added.add(d.service);
    refs.push({ name: d.service, ...(canaryRef?.namespace !== undefined && { namespace: canaryRef.namespace }), ...(canaryRef?.port !== undefined && { port: canaryRef.port }), weight: d.weight });
  }
  return { ...rule, backendRefs: refs };
}

export interface WeightOptions {
  services: ServicePair;
  want: DesiredWeights;
  /** The in-progress label, put on while the canary weight is above 0; undefined when disabled. */
  inProgressLabel?: { key: string; value: string };
  /** Only the rule of this name is driven (gatewayAPI's ruleName), with the managed rules derived from it. */
  ruleName?: string;
  /** With a ruleName: per rule index, whether it is a managed rule (managed-rules.ts). */
  managed?: readonly boolean[];
}

/**
 * Which rules SetWeight drives. With a ruleName, a mirror rule copied from the named rule (it
 * stands right before its source, managed rules only in between) carries the same split, or a
 * mirrored request would keep the weight of the step it was set at.
 */
function drivenRules(rules: readonly Rule[], ref: RouteRef, opts: WeightOptions): boolean[] {
  const { services, ruleName, managed } = opts;
  const driven = rules.map((rule) => isDrivenRule(rule, services, ref.namespace, ruleName));
  if (ruleName === undefined || !managed) return driven;
  for (let i = rules.length - 1, follows = false; i >= 0; i--) {
    if (!managed[i]) follows = driven[i]!;
    else if (follows && isWeightedRule(rules[i]!, services, ref.namespace)) driven[i] = true;
  }
  return driven;
}

/** SetWeight for one route: the new route, or null when nothing changes. Pure. */
export function applyWeights(current: RouteObject, ref: RouteRef, opts: WeightOptions): RouteObject | null {
  const { services, want } = opts;
  assertWeightedRule(current, ref, services, opts.ruleName);
  const owned = readExperimentBackends(current, ref);
  const listed = new Set(want.additional.map((d) => d.service));
  const dropped = new Set(owned.filter((s) => !listed.has(s)));
  const added = new Set<string>();
  const next = structuredClone(current);
  const rules = rulesOf(current);
  const driven = drivenRules(rules, ref, opts);
  next.spec.rules = rules.map((rule, i) => (driven[i] ? weighRule(rule, services, backendScope(ref.namespace, services), want, dropped, added) : rule));
  writeExperimentBackends(next, [...new Set([...owned.filter((s) => listed.has(s)), ...added])]);
  if (opts.inProgressLabel) setLabel(next, opts.inProgressLabel.key, want.canary > 0 ? opts.inProgressLabel.value : undefined);
  return sameRoute(next, current) ? null : next;
}

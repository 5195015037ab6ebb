import { isDeepStrictEqual } from 'node:util';
import { headerNameMissing, headerValueMissing, mirrorStringMatchInvalid } from './errors.js';
import type { HeaderRoutingMatch, StringMatch } from './rollout.js';
import type { HeaderMatch, PathMatch, RequestMatch } from './rules.js';

// Argo Rollouts' match vocabulary (StringMatch: exact | prefix | regex) turned into Gateway API
// matches, and the combination of a route rule's matches with a header or mirror condition.

export const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

type MatchType = 'Exact' | 'RegularExpression';

/** The one StringMatch variant that is set, or undefined when none or several are. */
function onlyVariant(m: StringMatch | undefined): { variant: keyof StringMatch; value: string } | undefined {
  if (!m || typeof m !== 'object') return undefined;
  const set = (['exact', 'prefix', 'regex'] as const).filter((k) => typeof m[k] === 'string');
  if (set.length !== 1) return undefined;
  const variant = set[0]!;
  return { variant, value: m[variant]! };
}

/** Gateway API header matches have no prefix type; a prefix becomes an anchored regex. */
function headerValue(m: StringMatch | undefined): { type: MatchType; value: string } | undefined {
  const v = onlyVariant(m);
  if (!v) return undefined;
  switch (v.variant) {
    case 'exact':
      return { type: 'Exact', value: v.value };
    case 'regex':
      return { type: 'RegularExpression', value: v.value };
    case 'prefix':
      return { type: 'RegularExpression', value: `^${escapeRegex(v.value)}.*` };
  }
}

/** A setHeaderRoute step's matches (all must hold) as Gateway API header matches. */
export function headerRouteMatches(step: string, match: readonly HeaderRoutingMatch[]): HeaderMatch[] {
  return match.map((m, i) => {
    if (typeof m.headerName !== 'string' || m.headerName === '') throw new Error(headerNameMissing(step, i));
    const value = headerValue(m.headerValue);
    if (!value) throw new Error(headerValueMissing(step, i));
    return { type: value.type, name: m.headerName, value: value.value };
  });
}

/** A setMirrorRoute match's `headers` map as Gateway API header matches. */
export function mirrorHeaderMatches(step: string, index: number, headers: Record<string, StringMatch>): HeaderMatch[] {
  return Object.entries(headers).map(([name, m]) => {
    const value = headerValue(m);
    if (!value) throw new Error(mirrorStringMatchInvalid(step, `match[${index}].headers["${name}"]`));
    return { type: value.type, name, value: value.value };
  });
}

/** A setMirrorRoute match's `path` as an HTTPRoute path match. */
export function mirrorPathMatch(step: string, index: number, path: StringMatch): PathMatch {
  const v = onlyVariant(path);
  if (!v) throw new Error(mirrorStringMatchInvalid(step, `match[${index}].path`));
  const type = { exact: 'Exact', prefix: 'PathPrefix', regex: 'RegularExpression' }[v.variant];
  return { type, value: v.value };
}

/** Thrown when a rule and a step test the same header in a way one Gateway API match cannot express. */
export class InexpressibleHeader extends Error {
  constructor(readonly ruleHeader: HeaderMatch, readonly extraHeader: HeaderMatch) {
    super('inexpressible header intersection');
  }
}

export const headerText = (h: HeaderMatch): string => `${h.name} ${h.type ?? 'Exact'} "${h.value}"`;

/**
 * Adds header conditions to a match: the requests matching both, or `null` when none can.
 * Gateway API reads only the first condition on a header name, so a header both test is tested
 * once: the same condition is kept, two different exact values are disjoint, anything else
 * throws InexpressibleHeader.
 */
export function withHeaders(match: RequestMatch, headers: readonly HeaderMatch[]): RequestMatch | null {
  if (!headers.length) return structuredClone(match);
  const own = new Map((match.headers ?? []).map((h) => [h.name.toLowerCase(), h]));
  const added: HeaderMatch[] = [];
  for (const h of headers) {
    const o = own.get(h.name.toLowerCase());
    if (!o) {
      added.push(h);
      continue;
    }
    const [ownType, type] = [o.type ?? 'Exact', h.type ?? 'Exact'];
    if (ownType === type && o.value === h.value) continue;
    if (ownType === 'Exact' && type === 'Exact') return null;
    throw new InexpressibleHeader(o, h);
  }
  return { ...structuredClone(match), headers: [...structuredClone(match.headers ?? []), ...structuredClone(added)] };
}

/** Thrown when two path conditions overlap in a way one Gateway API match cannot express. */
export class InexpressiblePath extends Error {
  constructor(readonly rulePath: PathMatch, readonly extraPath: PathMatch) {
    super('inexpressible path intersection');
  }
}

export const pathText = (p: PathMatch): string => `${p.type ?? 'PathPrefix'} "${p.value ?? '/'}"`;

/** Whether every path matching `inner` also matches the prefix `prefix` (Gateway API prefixes match whole segments). */
function withinPrefix(inner: string, prefix: string): boolean {
  const p = prefix.endsWith('/') ? prefix : `${prefix}/`;
  return inner === prefix || inner.startsWith(p);
}

/** The intersection of two path conditions: the narrower one, `null` when disjoint. */
function intersectPath(rule: PathMatch | undefined, extra: PathMatch): PathMatch | null {
  const ruleType = rule?.type ?? 'PathPrefix';
  const ruleValue = rule?.value ?? '/';
  if (ruleType === 'PathPrefix' && ruleValue === '/') return extra;
  if (isDeepStrictEqual({ t: ruleType, v: ruleValue }, { t: extra.type, v: extra.value })) return rule!;
  if (ruleType === 'RegularExpression' || extra.type === 'RegularExpression') {
    throw new InexpressiblePath(rule ?? {}, extra);
  }
  const extraValue = extra.value ?? '/';
  if (ruleType === 'PathPrefix' && withinPrefix(extraValue, ruleValue)) return extra;
  if (extra.type === 'PathPrefix' && withinPrefix(ruleValue, extraValue)) return rule!;
  return null;
}

/** Requests matching both `rule` and `extra`, or `null` when none can. */
export function intersectMatch(rule: RequestMatch, extra: RequestMatch): RequestMatch | null {
  const out: RequestMatch = structuredClone(rule);
  if (extra.path) {
    const path = intersectPath(rule.path, extra.path);
    if (path === null) return null;
    out.path = structuredClone(path);
  }
  if (extra.method !== undefined) {
    if (rule.method !== undefined && !isDeepStrictEqual(rule.method, extra.method)) return null;
    out.method = structuredClone(extra.method);
  }
  return extra.headers?.length ? withHeaders(out, extra.headers) : out;
}

import { fullMatch } from './regex.js';
import type { TrafficRequest } from './types.js';

// One HTTPRouteMatch against a request, and the match's precedence (HTTPRouteRule.matches):
// "Exact" path, then "Prefix" path with the most characters, then method match, then the most
// header matches, then the most query param matches.

interface NameValue {
  type?: string;
  name?: string;
  value?: string;
}

export interface HttpMatch {
  path?: { type?: string; value?: string };
  method?: unknown;
  headers?: NameValue[];
  queryParams?: NameValue[];
}

/** Precedence of a satisfied match, compared element by element (larger wins). */
export type HttpMatchRank = readonly [pathKind: number, pathLength: number, method: number, headers: number, query: number];

// The precedence of RegularExpression paths is implementation-specific; here they rank below
// every Exact and PathPrefix match, as a prefix of length 0 would.
const PATH_KIND: Record<string, number> = { Exact: 2, PathPrefix: 1, RegularExpression: 0 };

/** Gateway API prefixes match whole path elements, ignoring a trailing "/". */
export function pathHasPrefix(path: string, prefix: string): boolean {
  const p = prefix.length > 1 && prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  if (p === '/') return path.startsWith('/');
  return path === p || path.startsWith(`${p}/`);
}

function pathMatches(path: HttpMatch['path'], requestPath: string): boolean {
  const type = path?.type ?? 'PathPrefix';
  const value = path?.value ?? '/';
  if (type === 'Exact') return requestPath === value;
  if (type === 'PathPrefix') return pathHasPrefix(requestPath, value);
  if (type === 'RegularExpression') return fullMatch(value, requestPath);
  return false;
}

/** The spec considers only the first entry of each name; later duplicates are ignored. */
function firstByName(entries: readonly NameValue[] | undefined, caseInsensitive: boolean): NameValue[] {
  const seen = new Set<string>();
  const out: NameValue[] = [];
  for (const e of entries ?? []) {
    const key = caseInsensitive ? (e.name ?? '').toLowerCase() : (e.name ?? '');
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(e);
  }
  return out;
}

function valueMatches(m: NameValue, actual: string | undefined): boolean {
  if (actual === undefined) return false;
  const type = m.type ?? 'Exact';
  if (type === 'Exact') return actual === m.value;
  if (type === 'RegularExpression') return fullMatch(m.value ?? '', actual);
  return false;
}

export function lowerKeys(record: Readonly<Record<string, string>> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(record ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
}

const methodOf = (m: unknown): string | undefined => (typeof m === 'string' ? m : undefined);

/** The rank of `match` when `request` satisfies it, else undefined. `headers` keys are lower-case. */
export function rankHttpMatch(match: HttpMatch, request: TrafficRequest, headers: Record<string, string>): HttpMatchRank | undefined {
  const path = request.path ?? '/';
  if (!pathMatches(match.path, path)) return undefined;
  const method = methodOf(match.method);
  if (method !== undefined && method !== (request.method ?? 'GET')) return undefined;
  const headerMatches = firstByName(match.headers, true);
  if (!headerMatches.every((h) => valueMatches(h, headers[(h.name ?? '').toLowerCase()]))) return undefined;
  const queryMatches = firstByName(match.queryParams, false);
  if (!queryMatches.every((q) => valueMatches(q, request.query?.[q.name ?? '']))) return undefined;
  const type = match.path?.type ?? 'PathPrefix';
  return [PATH_KIND[type] ?? -1, (match.path?.value ?? '/').length, method === undefined ? 0 : 1, headerMatches.length, queryMatches.length];
}

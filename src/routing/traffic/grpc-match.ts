import { fullMatch } from './regex.js';

// One GRPCRouteMatch against a gRPC call, and its precedence (GRPCRouteRule.matches): the most
// characters in a matching service, then in a matching method, then the most header matches.

interface HeaderMatch {
  type?: string;
  name?: string;
  value?: string;
}

export interface GrpcMatch {
  method?: { type?: string; service?: string; method?: string };
  headers?: HeaderMatch[];
}

export type GrpcMatchRank = readonly [service: number, method: number, headers: number];

function part(type: string, expected: string | undefined, actual: string): boolean {
  if (expected === undefined || expected === '') return true;
  return type === 'RegularExpression' ? fullMatch(expected, actual) : expected === actual;
}

/** The rank of `match` for the call, else undefined. `headers` keys are lower-case. */
export function rankGrpcMatch(match: GrpcMatch, call: { service: string; method: string }, headers: Record<string, string>): GrpcMatchRank | undefined {
  const type = match.method?.type ?? 'Exact';
  if (!part(type, match.method?.service, call.service) || !part(type, match.method?.method, call.method)) return undefined;
  const seen = new Set<string>();
  const hs = (match.headers ?? []).filter((h) => {
    const k = (h.name ?? '').toLowerCase();
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  for (const h of hs) {
    const actual = headers[(h.name ?? '').toLowerCase()];
    if (actual === undefined) return undefined;
    if ((h.type ?? 'Exact') === 'RegularExpression' ? !fullMatch(h.value ?? '', actual) : actual !== h.value) return undefined;
  }
  return [(match.method?.service ?? '').length, (match.method?.method ?? '').length, hs.length];
}

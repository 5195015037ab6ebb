import type { BackendId, BackendShare, Mirror } from './types.js';

// Where a rule sends requests: each backendRef gets weight / sum of weights (a missing weight is 1,
// weight 0 gets nothing; all weights 0 leaves no backend: the gateway answers 500). RequestMirror
// filters copy a share of the requests (`percent`, or `fraction` numerator/denominator, default all).

interface Ref {
  name?: string;
  namespace?: string;
  kind?: string;
  group?: string;
  port?: number;
  weight?: number;
}

export function backendId(ref: Ref, routeNamespace: string): BackendId {
  return {
    group: ref.group ?? '',
    kind: ref.kind ?? 'Service',
    namespace: ref.namespace ?? routeNamespace,
    name: ref.name ?? '',
    ...(ref.port !== undefined && { port: ref.port }),
  };
}

const round = (n: number): number => Math.round(n * 1000) / 1000;

export function backendShares(refs: readonly Ref[] | undefined, routeNamespace: string): BackendShare[] {
  const list = refs ?? [];
  const total = list.reduce((s, r) => s + Math.max(0, r.weight ?? 1), 0);
  if (total === 0) return [];
  return list
    .filter((r) => (r.weight ?? 1) > 0)
    .map((r) => ({ backend: backendId(r, routeNamespace), percent: round(((r.weight ?? 1) * 100) / total) }));
}

interface MirrorFilter {
  type?: string;
  requestMirror?: { backendRef?: Ref; percent?: number; fraction?: { numerator?: number; denominator?: number } };
}

function mirrorPercent(m: NonNullable<MirrorFilter['requestMirror']>): number {
  if (m.percent !== undefined) return m.percent;
  if (m.fraction) {
    const denominator = m.fraction.denominator ?? 100;
    return denominator > 0 ? round(((m.fraction.numerator ?? 0) * 100) / denominator) : 0;
  }
  return 100;
}

export function mirrors(filters: readonly MirrorFilter[] | undefined, routeNamespace: string): Mirror[] {
  return (filters ?? [])
    .filter((f) => f.type === 'RequestMirror' && f.requestMirror?.backendRef)
    .map((f) => ({ backend: backendId(f.requestMirror!.backendRef!, routeNamespace), percent: mirrorPercent(f.requestMirror!) }))
    .filter((m) => m.percent > 0);
}

import { gatewayApiVersionInvalid } from './gateway-errors.js';
import type { ResourceDef } from './resources.js';
import type { KubeObject } from './types.js';

// Structural pruning as a cluster with older Gateway API CRDs does it: a field the installed CRD
// schema does not know is dropped silently on every write. Tests run the routing walkthroughs
// against such a server, so the companion is proven where `rules[].name` or a mirror's
// `percent` does not survive.

export const GatewayApiChannel = { Standard: 'standard', Experimental: 'experimental' } as const;
export type GatewayApiChannel = (typeof GatewayApiChannel)[keyof typeof GatewayApiChannel];

/** The installed Gateway API CRDs: release (e.g. "v1.3.0") and channel. */
export interface GatewayApiCrds {
  version: string;
  channel: GatewayApiChannel;
}

interface PrunedField {
  kinds: readonly string[];
  /** Removes the field from an object of one of `kinds`. */
  prune(obj: KubeObject): void;
  /** First minor release (v1.N) whose CRDs of each channel carry the field. */
  since: Record<GatewayApiChannel, number>;
}

type Json = Record<string, unknown>;
const rulesOf = (obj: KubeObject): Json[] => {
  const rules = (obj['spec'] as Json | undefined)?.['rules'];
  return Array.isArray(rules) ? (rules as Json[]) : [];
};

const FIELDS: readonly PrunedField[] = [
  {
    // GEP-995 named route rules: Experimental from v1.2, Standard from v1.4.
    kinds: ['HTTPRoute', 'GRPCRoute', 'TCPRoute', 'TLSRoute'],
    prune: (obj) => {
      for (const rule of rulesOf(obj)) delete rule['name'];
    },
    since: { standard: 4, experimental: 2 },
  },
  {
    // GEP-3171 percentage-based mirroring (requestMirror.percent, .fraction): Experimental from
    // v1.2, Standard from v1.3. Rule filters and backendRef filters alike.
    kinds: ['HTTPRoute', 'GRPCRoute'],
    prune: (obj) => {
      for (const rule of rulesOf(obj)) {
        const backendRefs = Array.isArray(rule['backendRefs']) ? (rule['backendRefs'] as Json[]) : [];
        for (const filters of [rule['filters'], ...backendRefs.map((b) => b['filters'])]) {
          if (!Array.isArray(filters)) continue;
          for (const filter of filters as Json[]) {
            const mirror = filter['requestMirror'] as Json | undefined;
            if (mirror) {
              delete mirror['percent'];
              delete mirror['fraction'];
            }
          }
        }
      }
    },
    since: { standard: 3, experimental: 2 },
  },
];

function minorOf(version: string): number {
  const m = /^v?1\.(\d+)(\.\d+)?$/.exec(version);
  if (!m) throw new Error(gatewayApiVersionInvalid(version));
  return Number(m[1]);
}

/** What the API server does to a written object under the given CRDs (in place). */
export function gatewayApiPruner(crds: GatewayApiCrds): (def: ResourceDef, obj: KubeObject) => void {
  const minor = minorOf(crds.version);
  const pruned = FIELDS.filter((f) => minor < f.since[crds.channel]);
  return (def, obj) => {
    for (const f of pruned) if (f.kinds.includes(def.kind)) f.prune(obj);
  };
}

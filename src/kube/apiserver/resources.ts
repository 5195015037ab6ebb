/**
 * The resources the in-process API server serves. Add a row to serve another resource; the store,
 * discovery and request handler are driven entirely by this table.
 */
export interface ResourceDef {
  /** '' for the core group. */
  readonly group: string;
  /** Served versions; they all share one storage (objects are re-labelled with the requested version). */
  readonly versions: readonly string[];
  readonly plural: string;
  readonly singular: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly shortNames?: readonly string[];
  readonly categories?: readonly string[];
  /** Serves `<item>/status`; the main resource then ignores `status` and `/status` changes only `status`. */
  readonly statusSubresource: boolean;
  /**
   * A custom resource (CRD): tracks `metadata.generation`, refuses strategic-merge patches (415) and
   * unconditional updates (PUT without resourceVersion → 422), lists carry kind/apiVersion per item.
   */
  readonly custom: boolean;
  /** Tracks `metadata.generation` (always true for custom resources). */
  readonly generation: boolean;
  /** Field selector paths beyond metadata.name / metadata.namespace. */
  readonly fieldSelectors?: readonly string[];
}

const GATEWAY_GROUP = 'gateway.networking.k8s.io';

function custom(group: string, versions: string[], plural: string, kind: string, namespaced: boolean, shortNames?: string[]): ResourceDef {
  return {
    group,
    versions,
    plural,
    singular: kind.toLowerCase(),
    kind,
    namespaced,
    ...(shortNames ? { shortNames } : {}),
    categories: group === GATEWAY_GROUP ? ['gateway-api'] : ['all'],
    statusSubresource: true,
    custom: true,
    generation: true,
  };
}

export const RESOURCES: readonly ResourceDef[] = [
  { group: '', versions: ['v1'], plural: 'namespaces', singular: 'namespace', kind: 'Namespace', namespaced: false, shortNames: ['ns'], statusSubresource: false, custom: false, generation: false },
  {
    group: '', versions: ['v1'], plural: 'pods', singular: 'pod', kind: 'Pod', namespaced: true, shortNames: ['po'], categories: ['all'],
    statusSubresource: true, custom: false, generation: true, fieldSelectors: ['spec.nodeName', 'status.phase', 'status.podIP'],
  },
  { group: '', versions: ['v1'], plural: 'services', singular: 'service', kind: 'Service', namespaced: true, shortNames: ['svc'], categories: ['all'], statusSubresource: true, custom: false, generation: false },
  { group: '', versions: ['v1'], plural: 'configmaps', singular: 'configmap', kind: 'ConfigMap', namespaced: true, shortNames: ['cm'], statusSubresource: false, custom: false, generation: false },
  {
    group: '', versions: ['v1'], plural: 'events', singular: 'event', kind: 'Event', namespaced: true, shortNames: ['ev'], statusSubresource: false, custom: false, generation: false,
    fieldSelectors: ['involvedObject.kind', 'involvedObject.name', 'involvedObject.namespace', 'involvedObject.uid', 'reason', 'type'],
  },
  { group: 'coordination.k8s.io', versions: ['v1'], plural: 'leases', singular: 'lease', kind: 'Lease', namespaced: true, statusSubresource: false, custom: false, generation: false },
  // v1 is the storage version; v1beta1 is served from the same storage (the seed YAML uses it).
  custom(GATEWAY_GROUP, ['v1', 'v1beta1'], 'httproutes', 'HTTPRoute', true, ['httproute']),
  custom(GATEWAY_GROUP, ['v1'], 'grpcroutes', 'GRPCRoute', true, ['grpcroute']),
  custom(GATEWAY_GROUP, ['v1'], 'gateways', 'Gateway', true, ['gtw']),
  custom(GATEWAY_GROUP, ['v1'], 'gatewayclasses', 'GatewayClass', false, ['gc']),
  custom(GATEWAY_GROUP, ['v1alpha2'], 'tcproutes', 'TCPRoute', true, ['tcproute']),
  custom(GATEWAY_GROUP, ['v1alpha2'], 'tlsroutes', 'TLSRoute', true, ['tlsroute']),
  custom('argoproj.io', ['v1alpha1'], 'rollouts', 'Rollout', true, ['ro']),
  custom('argoproj.io', ['v1alpha1'], 'experiments', 'Experiment', true, ['exp']),
];

export const ROUTE_PLURALS: ReadonlySet<string> = new Set(['httproutes', 'grpcroutes', 'tcproutes', 'tlsroutes']);

export function apiVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.lastIndexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

/** The storage key shared by every served version of a resource. */
export function storageKey(def: ResourceDef): string {
  return def.group ? `${def.plural}.${def.group}` : def.plural;
}

export function findByPath(group: string, version: string, plural: string): ResourceDef | undefined {
  return RESOURCES.find((r) => r.group === group && r.plural === plural && r.versions.includes(version));
}

export function findByKind(apiVersion: string, kind: string): ResourceDef | undefined {
  const { group, version } = splitApiVersion(apiVersion);
  return RESOURCES.find((r) => r.group === group && r.kind === kind && r.versions.includes(version));
}

/** Groups in table order, each with its versions in preference order. */
export function servedGroups(): { name: string; versions: string[] }[] {
  const groups = new Map<string, string[]>();
  for (const r of RESOURCES) {
    if (!r.group) continue;
    const versions = groups.get(r.group) ?? [];
    for (const v of r.versions) if (!versions.includes(v)) versions.push(v);
    groups.set(r.group, versions);
  }
  return [...groups].map(([name, versions]) => ({ name, versions }));
}

// The long-lived canary rule, over plain Kubernetes JSON: an attached pod must carry the
// `rollouts-pod-template-hash` that its Rollout's traffic Service selects, so the Service keeps
// sending it traffic across every promotion. No I/O here; the controller feeds it cached views.

export const POD_TEMPLATE_HASH_LABEL = 'rollouts-pod-template-hash';
export const DEFAULT_ATTACH_LABEL = 'rollouts-companion.argoproj.io/attach-to';
/** The label of argo-canary, the operator this replaces (usable through the attach-label option). */
export const LEGACY_ATTACH_LABEL = 'ian.delahorne.com/argo-canary';
export const MANAGED_BY_ROLLOUTS_ANNOTATION = 'argo-rollouts.argoproj.io/managed-by-rollouts';

export interface LabelSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

/** What the controller keeps of an attached pod (everything else is dropped on arrival). */
export interface PodView {
  namespace: string;
  name: string;
  resourceVersion?: string;
  labels: Record<string, string>;
  /** The Rollout named by the attach label (same namespace). */
  rollout: string;
  /** The pod's current `rollouts-pod-template-hash` label, if any. */
  hash?: string;
  /** `kind/name` of the owner reference with `controller: true`, if any. */
  controller?: string;
}

/** What the controller keeps of a Rollout. */
export interface RolloutView {
  namespace: string;
  name: string;
  /** For the Events recorded about the Rollout. */
  uid?: string;
  /** `activeService` for blueGreen, `stableService` for canary. */
  trafficService?: string;
  stableRS?: string;
  /** `spec.selector`; absent with a `workloadRef` (the referenced workload's selector applies). */
  selector?: LabelSelector;
}

/** What the controller keeps of a Service managed by Argo Rollouts. */
export interface ServiceView {
  namespace: string;
  name: string;
  /** The Rollout named by the `managed-by-rollouts` annotation. */
  managedBy?: string;
  /** `spec.selector["rollouts-pod-template-hash"]`, if set. */
  hash?: string;
}

interface Meta {
  name?: string;
  uid?: string;
  namespace?: string;
  resourceVersion?: string;
  labels?: Record<string, string> | null;
  annotations?: Record<string, string> | null;
  ownerReferences?: { kind?: string; name?: string; controller?: boolean | null }[] | null;
}

interface KubeObject {
  metadata?: Meta | null;
  spec?: unknown;
  status?: unknown;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The view of a pod attached through `labelKey`, or undefined when it is not attached. */
export function podView(pod: KubeObject, labelKey: string): PodView | undefined {
  const meta = pod.metadata;
  const rollout = nonEmptyString(meta?.labels?.[labelKey]);
  if (!meta?.name || !rollout) return undefined;
  const owner = meta.ownerReferences?.find((ref) => ref.controller === true);
  return {
    namespace: meta.namespace ?? '',
    name: meta.name,
    resourceVersion: meta.resourceVersion,
    labels: { ...meta.labels },
    rollout,
    hash: nonEmptyString(meta.labels?.[POD_TEMPLATE_HASH_LABEL]),
    ...(owner ? { controller: `${owner.kind ?? ''}/${owner.name ?? ''}` } : {}),
  };
}

/** The Service an Argo Rollout points its production traffic at. */
export function trafficServiceName(spec: unknown): string | undefined {
  const strategy = record(record(spec)?.strategy);
  const blueGreen = record(strategy?.blueGreen);
  if (blueGreen) return nonEmptyString(blueGreen.activeService);
  return nonEmptyString(record(strategy?.canary)?.stableService);
}

function labelSelector(value: unknown): LabelSelector | undefined {
  const selector = record(value);
  if (!selector) return undefined;
  const matchLabels = record(selector.matchLabels) as Record<string, string> | undefined;
  const matchExpressions = Array.isArray(selector.matchExpressions)
    ? (selector.matchExpressions as LabelSelectorRequirement[])
    : undefined;
  return { ...(matchLabels ? { matchLabels } : {}), ...(matchExpressions ? { matchExpressions } : {}) };
}

export function rolloutView(rollout: KubeObject): RolloutView | undefined {
  const meta = rollout.metadata;
  if (!meta?.name) return undefined;
  const selector = labelSelector(record(rollout.spec)?.selector);
  return {
    namespace: meta.namespace ?? '',
    name: meta.name,
    ...(meta.uid ? { uid: meta.uid } : {}),
    trafficService: trafficServiceName(rollout.spec),
    stableRS: nonEmptyString(record(rollout.status)?.stableRS),
    ...(selector ? { selector } : {}),
  };
}

/** Kubernetes label-selector semantics (an empty selector matches everything). */
export function selectorMatches(selector: LabelSelector, labels: Record<string, string>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, key);
    switch (operator) {
      case 'In':
        if (!has || !values.includes(labels[key])) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/**
 * The view of a Service Argo Rollouts manages, or undefined for any other Service (those never
 * carry a pod-template hash, so the rule treats them like a missing Service).
 */
export function serviceView(service: KubeObject): ServiceView | undefined {
  const meta = service.metadata;
  const managedBy = nonEmptyString(meta?.annotations?.[MANAGED_BY_ROLLOUTS_ANNOTATION]);
  if (!meta?.name || !managedBy) return undefined;
  const selector = record(record(service.spec)?.selector);
  return {
    namespace: meta.namespace ?? '',
    name: meta.name,
    managedBy,
    hash: nonEmptyString(selector?.[POD_TEMPLATE_HASH_LABEL]),
  };
}

export const HashSource = { Service: 'service', StableRS: 'stableRS' } as const;
export type HashSource = (typeof HashSource)[keyof typeof HashSource];

/**
 * The hash an attached pod must carry. The Service's selector wins: it is what actually routes
 * traffic, and for blueGreen Argo switches it before recording `status.stableRS`.
 */
export function desiredHash(
  rollout: RolloutView,
  service: ServiceView | undefined,
): { hash: string; source: HashSource } | undefined {
  if (service?.hash && service.name === rollout.trafficService) {
    return { hash: service.hash, source: HashSource.Service };
  }
  if (rollout.stableRS) return { hash: rollout.stableRS, source: HashSource.StableRS };
  return undefined;
}

export const Decision = {
  Patch: 'patch',
  InSync: 'in-sync',
  RolloutMissing: 'rollout-missing',
  NoHash: 'no-hash',
  WouldBeAdopted: 'would-be-adopted',
  RolloutReplicaSetPod: 'rollout-replicaset-pod',
} as const;
export type DecisionKind = (typeof Decision)[keyof typeof Decision];

export type RelabelDecision =
  | { kind: typeof Decision.Patch; hash: string; source: HashSource }
  | { kind: typeof Decision.InSync; hash: string }
  | { kind: typeof Decision.RolloutMissing }
  | { kind: typeof Decision.NoHash }
  | { kind: typeof Decision.WouldBeAdopted; hash: string }
  | { kind: typeof Decision.RolloutReplicaSetPod; hash: string };

/**
 * Whether the pod belongs to one of a Rollout's own ReplicaSets (named `<rollout>-<hash>`), which
 * select on the hash label: relabelled, it would leave its ReplicaSet, which would start a
 * replacement carrying the attach label, relabelled in turn, without end. A Deployment's
 * ReplicaSet selects on `pod-template-hash` instead and keeps its pod.
 */
export function inRolloutReplicaSet(pod: PodView): boolean {
  return pod.hash !== undefined && pod.controller?.startsWith('ReplicaSet/') === true && pod.controller.endsWith(`-${pod.hash}`);
}

/**
 * Whether the Rollout's ReplicaSet for `hash` would take the pod over once it carries `hash`.
 * A ReplicaSet selects the Rollout's selector plus the hash and acquires any matching pod that
 * has no controller, then deletes pods above its replica count (Kubernetes "non-template pod
 * acquisitions"). Unknown selector (workloadRef): assume it would.
 */
export function wouldBeAdopted(pod: PodView, rollout: RolloutView, hash: string): boolean {
  if (pod.controller !== undefined) return false;
  if (rollout.selector === undefined) return true;
  return selectorMatches(rollout.selector, { ...pod.labels, [POD_TEMPLATE_HASH_LABEL]: hash });
}

/**
 * What to do for one attached pod. `rollout` is the Rollout its attach label names (same
 * namespace), `service` that Rollout's traffic Service, each undefined when absent. A pod the
 * Rollout's ReplicaSet would adopt (and then likely delete) is left alone instead.
 */
export function decide(
  pod: PodView,
  rollout: RolloutView | undefined,
  service: ServiceView | undefined,
): RelabelDecision {
  if (!rollout) return { kind: Decision.RolloutMissing };
  const desired = desiredHash(rollout, service);
  if (!desired) return { kind: Decision.NoHash };
  if (pod.hash === desired.hash) return { kind: Decision.InSync, hash: desired.hash };
  if (inRolloutReplicaSet(pod)) return { kind: Decision.RolloutReplicaSetPod, hash: desired.hash };
  if (wouldBeAdopted(pod, rollout, desired.hash)) return { kind: Decision.WouldBeAdopted, hash: desired.hash };
  return { kind: Decision.Patch, hash: desired.hash, source: desired.source };
}

/**
 * A merge patch that sets only the hash label. With `resourceVersion`, the API server rejects it
 * (409) when the pod changed since it was read.
 */
export function relabelPatch(hash: string, resourceVersion?: string): Record<string, unknown> {
  return {
    metadata: {
      labels: { [POD_TEMPLATE_HASH_LABEL]: hash },
      ...(resourceVersion ? { resourceVersion } : {}),
    },
  };
}

const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Whether `key` is a valid Kubernetes label key (`[prefix/]name`). */
export function isValidLabelKey(key: string): boolean {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return false;
  return LABEL_NAME.test(name);
}

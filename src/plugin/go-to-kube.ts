import type { Rollout, SetHeaderRoute, SetMirrorRoute, WeightDestination } from '../routing/rollout.js';
import { GO_FIELD_TYPES, GO_TYPE, GobInterface } from './gob/types.js';
import { KUBE_JSON_KEYS } from './kube-json-keys.js';

// Go values as the gob decoder yields them (structs keyed by Go field names) → the
// Kubernetes JSON the routing core reads. Keys are the json tags of the controller's real
// types (Argo Rollouts v1.9.1 and k8s.io/api, generated into kube-json-keys.ts from
// ../shared/realhost/rollout-fields.tsv and checked row by row in
// test/unit/plugin/go-to-kube-fields.test.ts); a field the table does not list is the Go
// name with a lower-case first letter, as most tags are. What gob did to the value stays done:
// - zero values are absent: `status.currentStepIndex: 0`, `setWeight: 0`, `replicas: 0`,
//   empty strings, false, empty slices and maps never arrive, so they stay absent here;
//   a struct always arrives, also an empty one (`pause: {}`);
// - resource.Quantity is omitted: gob sends only its Format, never the amount;
// - times arrive in the sender's zone and leave as UTC RFC 3339 (metav1.Time's JSON);
// - json.RawMessage (plugin configs) and FieldsV1 arrive as bytes and leave as the JSON
//   they hold; IntOrString arrives as {Type, IntVal, StrVal} and leaves as number or string.

/** Inline: the embedded struct's fields are the parent's (json:",inline"). */
const INLINE = '';
/** Not in JSON (json:"-"), though gob sends it. */
const SKIP = '-';

/** The Kubernetes JSON key of Go field `goField` of the struct gob names `goType`. */
export function jsonKey(goType: string, goField: string): string {
  const listed = Object.hasOwn(KUBE_JSON_KEYS, goType) ? KUBE_JSON_KEYS[goType]! : undefined;
  return listed && Object.hasOwn(listed, goField) ? listed[goField]! : goField.charAt(0).toLowerCase() + goField.slice(1);
}

// The decoder shares one field-types object per wire type, so it keys the per-type cache of
// what to do with each field: its JSON key, and whether it holds a metav1.Time.
const plansByFieldTypes = new WeakMap<object, Map<string, { key: string; time: boolean }>>();
const NO_FIELD_TYPES: Readonly<Record<string, string>> = Object.freeze({});

export const goToKubeErrors = {
  notARollout: (what: string) => `expected a Go Rollout struct, got ${what}`,
  invalidArgs: (method: string, got: string, want: string) =>
    `invalid args for Plugin.${method}: got ${got || 'nil'}, want ${want}`,
} as const;

/** Converts a decoded Go v1alpha1.Rollout to its Kubernetes JSON. */
export function goRolloutToKube(goValue: unknown): Rollout {
  const kube = toKube(goValue instanceof GobInterface ? goValue.value : goValue);
  if (typeof kube !== 'object' || kube === null || Array.isArray(kube)) {
    throw new Error(goToKubeErrors.notARollout(describe(goValue)));
  }
  const rollout = kube as Rollout;
  rollout.metadata ??= {};
  return rollout;
}

/** The Kubernetes JSON of any decoded Go value (see the mapping above); undefined = omit. */
export function toKube(v: unknown): unknown {
  if (typeof v !== 'object') return typeof v === 'bigint' ? Number(v) : v;
  if (v === null) return undefined;
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = toKube(v[i]) ?? null;
    return out;
  }
  if (v instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, e] of v) {
      const kv = toKube(e);
      if (kv !== undefined) set(out, String(k), kv);
    }
    return out;
  }
  if (v instanceof Uint8Array) return rawJson(v);
  if (v instanceof GobInterface) return toKube(v.value);
  const fields = v as Record<string, unknown>;
  const type = (v as { [GO_TYPE]?: string })[GO_TYPE] ?? '';
  switch (type) {
    case 'Quantity':
      return undefined;
    case 'IntOrString':
      return fields['Type'] === 1 ? (fields['StrVal'] ?? '') : (fields['IntVal'] ?? 0);
    case 'FieldsV1':
      return fields['Raw'] instanceof Uint8Array ? rawJson(fields['Raw']) : undefined;
  }
  const fieldTypes = (v as { [GO_FIELD_TYPES]?: Readonly<Record<string, string>> })[GO_FIELD_TYPES] ?? NO_FIELD_TYPES;
  let plans = plansByFieldTypes.get(fieldTypes);
  if (!plans) {
    plans = new Map();
    if (fieldTypes !== NO_FIELD_TYPES) plansByFieldTypes.set(fieldTypes, plans);
  }
  const out: Record<string, unknown> = {};
  for (const name in fields) {
    let plan = plans.get(name);
    if (plan === undefined) plans.set(name, (plan = { key: jsonKey(type, name), time: fieldTypes[name] === 'Time' }));
    if (plan.key === SKIP) continue;
    const value = fields[name];
    const kv = plan.time && typeof value === 'string' ? toKubeTime(value) : toKube(value);
    if (kv === undefined) continue;
    if (plan.key === INLINE) {
      if (typeof kv === 'object' && !Array.isArray(kv)) for (const k of Object.keys(kv as object)) set(out, k, (kv as Record<string, unknown>)[k]);
      continue;
    }
    set(out, plan.key, kv);
  }
  return out;
}

/** A time from the gob decoder (RFC 3339 in the sender's zone) as metav1.Time writes it: UTC, whole seconds. */
export function toKubeTime(rfc3339: string): string {
  const ms = Date.parse(rfc3339.replace(/\.\d+/, ''));
  return Number.isNaN(ms) ? rfc3339 : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const utf8 = new TextDecoder();

// json.RawMessage: the JSON itself; anything else encoding/json would write as base64.
function rawJson(b: Uint8Array): unknown {
  if (b.length === 0) return undefined;
  try {
    return JSON.parse(utf8.decode(b));
  } catch {
    return Buffer.from(b).toString('base64');
  }
}

// Keys come off the wire: "__proto__" is defined, so it stays a key (assigning it would
// set the prototype); every other key is assigned, which is much cheaper.
function set(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

function describe(v: unknown): string {
  if (v instanceof GobInterface) return v.typeName || v.name;
  return (typeof v === 'object' && v !== null && (v as { [GO_TYPE]?: string })[GO_TYPE]) || typeof v;
}

export interface TrafficRouterArgs {
  rollout: Rollout;
  desiredWeight: number;
  additionalDestinations: WeightDestination[];
  canaryHash: string;
  stableHash: string;
  headerRoute?: SetHeaderRoute;
  mirrorRoute?: SetMirrorRoute;
}

/** The gob name each method's argument struct is registered under (and its Go type name). */
export const ARGS_TYPE_BY_METHOD: Readonly<Record<string, string>> = {
  UpdateHash: 'UpdateHashArgs',
  SetWeight: 'SetWeightAndVerifyWeightArgs',
  VerifyWeight: 'SetWeightAndVerifyWeightArgs',
  SetHeaderRoute: 'SetHeaderArgs',
  SetMirrorRoute: 'SetMirrorArgs',
  RemoveManagedRoutes: 'RemoveManagedRoutesArgs',
};

/**
 * The arguments of a Plugin.* call that carries a rollout (method with or without the
 * "Plugin." prefix); absent fields take their zero value (desiredWeight 0 arrives absent).
 * Throws, like Argo Rollouts' server side, when the value is not the method's args struct.
 */
export function decodeTrafficRouterArgs(method: string, value: unknown): TrafficRouterArgs {
  const name = method.startsWith('Plugin.') ? method.slice('Plugin.'.length) : method;
  const want = Object.hasOwn(ARGS_TYPE_BY_METHOD, name) ? ARGS_TYPE_BY_METHOD[name]! : '';
  const got = value instanceof GobInterface ? value.name : describe(value);
  const args = value instanceof GobInterface ? value.value : value;
  if (!want || got !== want || typeof args !== 'object' || args === null) {
    throw new Error(goToKubeErrors.invalidArgs(name, value === null ? '' : got, want || 'no arguments'));
  }
  const a = args as Record<string, unknown>;
  const out: TrafficRouterArgs = {
    rollout: goRolloutToKube(a['Rollout']),
    desiredWeight: Number(a['DesiredWeight'] ?? 0),
    additionalDestinations: ((toKube(a['AdditionalDestinations']) as WeightDestination[] | undefined) ?? []).map((d) => ({
      ...d,
      weight: d.weight ?? 0,
    })),
    canaryHash: typeof a['CanaryHash'] === 'string' ? a['CanaryHash'] : '',
    stableHash: typeof a['StableHash'] === 'string' ? a['StableHash'] : '',
  };
  if (name === 'SetHeaderRoute') out.headerRoute = (toKube(a['SetHeaderRoute']) as SetHeaderRoute | undefined) ?? {};
  if (name === 'SetMirrorRoute') out.mirrorRoute = (toKube(a['SetMirrorRoute']) as SetMirrorRoute | undefined) ?? { name: '' };
  return out;
}

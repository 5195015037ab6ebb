import * as msg from './errors.js';
import { isRouteKind, ROUTE_KINDS } from './route-kinds.js';
import type { Rollout } from './rollout.js';
import { RouteKind, type LabelSelector, type RouteRef } from './route-store.js';
import type { ServicePair } from './rules.js';

// The plugin configuration under spec.strategy.canary.trafficRouting.plugins[<plugin name>].
// Keys follow argoproj-labs/gatewayAPI so existing Rollouts work unchanged; `skipManagedRoutesOnSetWeight`
// is accepted but has no effect, and `configMap` is only read (to take over GW ≤ 0.12's header
// rules): the companion keeps no state outside the routes (managed rules are recorded in route annotations).

export const DEFAULT_IN_PROGRESS_LABEL_KEY = 'rollouts.argoproj.io/gatewayapi-canary';
export const DEFAULT_IN_PROGRESS_LABEL_VALUE = 'in-progress';
/** argoproj-labs/gatewayAPI's default `configMap`. */
export const GW_DEFAULT_CONFIGMAP = 'argo-gatewayapi-configmap';

export interface ManagedRouteEntry {
  ref: RouteRef;
  /** Whether setHeaderRoute adds its rules to this route (mirror rules go to every HTTP/gRPC route). */
  useHeaderRoutes: boolean;
}

export interface RouteSelectorEntry {
  kind: RouteKind;
  namespace: string;
  selector: LabelSelector;
}

export interface RouterConfig {
  pluginName: string;
  /** "namespace/name" of the rollout, for messages. */
  rollout: string;
  rolloutNamespace: string;
  /** Where the routes live (and where their backendRefs resolve). */
  namespace: string;
  services: ServicePair;
  /** Routes named in the config; selectors may add more at call time. */
  routes: ManagedRouteEntry[];
  selectors: RouteSelectorEntry[];
  pinned: { stable: RouteRef[]; canary: RouteRef[] };
  /** Undefined when disableInProgressLabel is set. */
  inProgressLabel?: { key: string; value: string };
  /** trafficRouting.managedRoutes: the names setHeaderRoute / setMirrorRoute may use. */
  managedRouteNames: string[];
  /** trafficRouting.maxTrafficWeight (default 100): the sum all weights of a rule add up to. */
  totalWeight: number;
  /** `requireAcceptedStatus`: VerifyWeight waits for Accepted even when no parent reports status. */
  requireAcceptedStatus: boolean;
  /** `configMap`: where argoproj-labs/gatewayAPI ≤ 0.12 recorded its header rules (read to adopt them). */
  gwConfigMap: string;
}

const SINGLE_KEYS = { httpRoute: RouteKind.HTTPRoute, grpcRoute: RouteKind.GRPCRoute, tcpRoute: RouteKind.TCPRoute, tlsRoute: RouteKind.TLSRoute } as const;
const LIST_KEYS = { httpRoutes: RouteKind.HTTPRoute, grpcRoutes: RouteKind.GRPCRoute, tcpRoutes: RouteKind.TCPRoute, tlsRoutes: RouteKind.TLSRoute } as const;
const SELECTOR_KEYS = {
  httpRouteSelector: RouteKind.HTTPRoute,
  grpcRouteSelector: RouteKind.GRPCRoute,
  tcpRouteSelector: RouteKind.TCPRoute,
  tlsRouteSelector: RouteKind.TLSRoute,
} as const;
const ROUTE_KEYS = [...Object.keys(SINGLE_KEYS), ...Object.keys(LIST_KEYS), ...Object.keys(SELECTOR_KEYS)];
const OTHER_KEYS = [
  'namespace',
  'disableInProgressLabel',
  'inProgressLabelKey',
  'inProgressLabelValue',
  'configMap',
  'skipManagedRoutesOnSetWeight',
  'pinnedRoutes',
  'requireAcceptedStatus',
];
export const ACCEPTED_CONFIG_KEYS: readonly string[] = [...ROUTE_KEYS, ...OTHER_KEYS].sort();

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isName = (v: unknown): v is string => typeof v === 'string' && v !== '';
const typeName = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v);

/** Reads one plugin entry; every problem is an Error whose message names the field. */
class Reader {
  constructor(readonly fail: (detail: string) => never) {}

  keys(path: string, obj: Json, accepted: readonly string[]): void {
    for (const key of Object.keys(obj)) if (!accepted.includes(key)) this.fail(msg.unknownKey(path, key, accepted));
  }

  object(path: string, v: unknown): Json {
    if (!isObject(v)) this.fail(msg.mustBe(path, `an object (got ${typeName(v)})`));
    return v;
  }

  list(path: string, v: unknown): unknown[] {
    if (!Array.isArray(v)) this.fail(msg.mustBe(path, `a list (got ${typeName(v)})`));
    return v;
  }

  name(path: string, v: unknown): string {
    if (!isName(v)) this.fail(msg.mustBe(path, 'a non-empty string'));
    return v;
  }

  bool(path: string, v: unknown): boolean | undefined {
    if (v !== undefined && typeof v !== 'boolean') this.fail(msg.mustBe(path, 'true or false'));
    return v;
  }

  selector(path: string, v: unknown): LabelSelector {
    const obj = this.object(path, v);
    this.keys(path, obj, ['matchExpressions', 'matchLabels']);
    const out: LabelSelector = {};
    if (obj.matchLabels !== undefined) {
      const labels = this.object(`${path}.matchLabels`, obj.matchLabels);
      for (const [k, val] of Object.entries(labels)) {
        if (typeof val !== 'string') this.fail(msg.mustBe(`${path}.matchLabels["${k}"]`, 'a string'));
      }
      out.matchLabels = labels as Record<string, string>;
    }
    if (obj.matchExpressions !== undefined) {
      out.matchExpressions = this.list(`${path}.matchExpressions`, obj.matchExpressions).map((e, i) => {
        const at = `${path}.matchExpressions[${i}]`;
        const expr = this.object(at, e);
        this.keys(at, expr, ['key', 'operator', 'values']);
        const key = this.name(`${at}.key`, expr.key);
        if (typeof expr.operator !== 'string' || !OPERATORS.includes(expr.operator)) {
          this.fail(msg.mustBe(`${at}.operator`, `one of ${OPERATORS.join(', ')}`));
        }
        const operator = expr.operator as 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
        const values = expr.values === undefined ? [] : this.list(`${at}.values`, expr.values);
        if (!values.every((s) => typeof s === 'string')) this.fail(msg.mustBe(`${at}.values`, 'a list of strings'));
        const needsValues = operator === 'In' || operator === 'NotIn';
        if (needsValues !== values.length > 0) {
          this.fail(msg.mustBe(`${at}.values`, needsValues ? `non-empty for operator ${operator}` : `empty for operator ${operator}`));
        }
        return needsValues ? { key, operator, values: values as string[] } : { key, operator };
      });
    }
    return out;
  }
}

const refKey = (r: { kind: string; name: string }): string => `${r.kind}/${r.name}`;

function rolloutServices(rollout: Rollout, rolloutName: string): { services: ServicePair; plugins: Json } {
  const canary = rollout.spec?.strategy?.canary;
  if (!canary) throw new Error(msg.noCanaryStrategy(rolloutName));
  if (!isName(canary.canaryService)) throw new Error(msg.rolloutServiceMissing(rolloutName, 'canaryService'));
  if (!isName(canary.stableService)) throw new Error(msg.rolloutServiceMissing(rolloutName, 'stableService'));
  const plugins = isObject(canary.trafficRouting?.plugins) ? canary.trafficRouting.plugins : {};
  return { services: { stable: canary.stableService, canary: canary.canaryService }, plugins };
}

/** Parses and validates a rollout's plugin entry; throws an Error naming the field at fault. */
export function parseRouterConfig(rollout: Rollout, pluginName: string): RouterConfig {
  const rolloutNamespace = rollout.metadata.namespace || 'default';
  const rolloutName = `${rolloutNamespace}/${rollout.metadata.name ?? ''}`;
  const { services, plugins } = rolloutServices(rollout, rolloutName);
  if (!Object.hasOwn(plugins, pluginName)) throw new Error(msg.pluginEntryMissing(pluginName, rolloutName, Object.keys(plugins)));
  const r = new Reader((detail) => {
    throw new Error(msg.invalidPluginConfig(pluginName, rolloutName, detail));
  });
  const cfg = r.object('the entry', plugins[pluginName]);
  r.keys('', cfg, ACCEPTED_CONFIG_KEYS);

  const namespace = cfg.namespace === undefined ? rolloutNamespace : r.name('namespace', cfg.namespace);
  const routes: ManagedRouteEntry[] = [];
  const listedAt = new Map<string, string>();
  const addRoute = (path: string, kind: RouteKind, name: string, useHeaderRoutes: boolean): void => {
    if (listedAt.has(refKey({ kind, name }))) r.fail(msg.routeListedTwice(path, kind, name));
    listedAt.set(refKey({ kind, name }), path);
    // Header and mirror rules need request matches; TCP and TLS rules have none.
    routes.push({ ref: { kind, namespace, name }, useHeaderRoutes: useHeaderRoutes && ROUTE_KINDS[kind].requests !== undefined });
  };
  for (const [key, kind] of Object.entries(SINGLE_KEYS)) {
    if (cfg[key] !== undefined) addRoute(key, kind, r.name(key, cfg[key]), true);
  }
  for (const [key, kind] of Object.entries(LIST_KEYS)) {
    if (cfg[key] === undefined) continue;
    r.list(key, cfg[key]).forEach((e, i) => {
      const at = `${key}[${i}]`;
      const entry = r.object(at, e);
      r.keys(at, entry, ['name', 'useHeaderRoutes']);
      addRoute(at, kind, r.name(`${at}.name`, entry.name), r.bool(`${at}.useHeaderRoutes`, entry.useHeaderRoutes) ?? false);
    });
  }
  const selectors: RouteSelectorEntry[] = [];
  for (const [key, kind] of Object.entries(SELECTOR_KEYS)) {
    if (cfg[key] !== undefined) selectors.push({ kind, namespace, selector: r.selector(key, cfg[key]) });
  }
  if (!routes.length && !selectors.length) r.fail(msg.noRouteConfigured(ROUTE_KEYS));

  const disabled = r.bool('disableInProgressLabel', cfg.disableInProgressLabel) ?? false;
  const labelKey = cfg.inProgressLabelKey === undefined ? DEFAULT_IN_PROGRESS_LABEL_KEY : r.name('inProgressLabelKey', cfg.inProgressLabelKey);
  const labelValue =
    cfg.inProgressLabelValue === undefined ? DEFAULT_IN_PROGRESS_LABEL_VALUE : r.name('inProgressLabelValue', cfg.inProgressLabelValue);
  if (cfg.configMap !== undefined) r.name('configMap', cfg.configMap);
  r.bool('skipManagedRoutesOnSetWeight', cfg.skipManagedRoutesOnSetWeight);

  const pinned = parsePinned(r, cfg.pinnedRoutes, namespace, listedAt);
  const trafficRouting = rollout.spec?.strategy?.canary?.trafficRouting;
  return {
    pluginName,
    rollout: rolloutName,
    rolloutNamespace,
    namespace,
    services: { ...services, namespace: rolloutNamespace },
    routes,
    selectors,
    pinned,
    inProgressLabel: disabled ? undefined : { key: labelKey, value: labelValue },
    managedRouteNames: (trafficRouting?.managedRoutes ?? []).map((m) => m?.name).filter(isName),
    totalWeight: trafficRouting?.maxTrafficWeight ?? 100,
    gwConfigMap: typeof cfg.configMap === 'string' ? cfg.configMap : GW_DEFAULT_CONFIGMAP,
    requireAcceptedStatus: r.bool('requireAcceptedStatus', cfg.requireAcceptedStatus) ?? false,
  };
}

function parsePinned(r: Reader, raw: unknown, namespace: string, managed: Map<string, string>): RouterConfig['pinned'] {
  const pinned: RouterConfig['pinned'] = { stable: [], canary: [] };
  if (raw === undefined) return pinned;
  const obj = r.object('pinnedRoutes', raw);
  r.keys('pinnedRoutes', obj, ['canary', 'stable']);
  const seen = new Set<string>();
  for (const role of ['stable', 'canary'] as const) {
    if (obj[role] === undefined) continue;
    r.list(`pinnedRoutes.${role}`, obj[role]).forEach((e, i) => {
      const at = `pinnedRoutes.${role}[${i}]`;
      let kind: RouteKind = RouteKind.HTTPRoute;
      let name: string;
      if (typeof e === 'string') {
        name = r.name(at, e);
      } else {
        const entry = r.object(at, e);
        r.keys(at, entry, ['kind', 'name']);
        name = r.name(`${at}.name`, entry.name);
        if (entry.kind !== undefined) {
          if (!isRouteKind(entry.kind)) r.fail(msg.mustBe(`${at}.kind`, `one of ${Object.keys(ROUTE_KINDS).join(', ')}`));
          kind = entry.kind;
        }
      }
      const key = refKey({ kind, name });
      if (managed.has(key)) r.fail(msg.pinnedAndManaged(at, kind, name));
      if (seen.has(key)) r.fail(msg.pinnedTwice(at, kind, name));
      seen.add(key);
      pinned[role].push({ kind, namespace, name });
    });
  }
  return pinned;
}

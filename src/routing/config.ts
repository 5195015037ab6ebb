import * as msg from './errors.js';
import { isServiceName } from './names.js';
import { isRouteKind, ROUTE_KINDS } from './route-kinds.js';
import type { Rollout } from './rollout.js';
import { RouteKind, type LabelSelector, type RouteRef } from './route-store.js';
import type { ServicePair } from './rules.js';

// The plugin configuration under spec.strategy.canary.trafficRouting.plugins[<plugin name>].
// Keys follow argoproj-labs/gatewayAPI (every key any of its releases documents) so existing
// Rollouts work unchanged. `configMap` is only read (to take over GW ≤ 0.12's header rules): the
// companion keeps no state outside the routes (managed rules are recorded in route annotations).
// The keys it does not act on are listed in IGNORED_KEYS with the reason, which the router logs once.

export const DEFAULT_IN_PROGRESS_LABEL_KEY = 'rollouts.argoproj.io/gatewayapi-canary';
export const DEFAULT_IN_PROGRESS_LABEL_VALUE = 'in-progress';
/** argoproj-labs/gatewayAPI's default `configMap`. */
export const GW_DEFAULT_CONFIGMAP = 'argo-gatewayapi-configmap';

export interface ManagedRouteEntry {
  ref: RouteRef;
  /** Whether setHeaderRoute adds its rules to this route (mirror rules go to every HTTP/gRPC route). */
  useHeaderRoutes: boolean;
  /** gatewayAPI's rule-scoped weighting: only the rule of this name gets the weights. */
  ruleName?: string;
}

/** `canary.pingPong`: the two Services and which one the controller says is stable now. */
export interface PingPongServices {
  ping: string;
  pong: string;
  stable: 'ping' | 'pong';
}

/** gatewayAPI keys the companion accepts without acting on them, and why (logged once). */
export const IGNORED_KEYS = {
  skipManagedRoutesOnSetWeight:
    'SetWeight never changes header or mirror rules: they always send all their traffic to the canary (what gatewayAPI does with true)',
  activeRolloutsAnnotationKey:
    'the companion keeps no list of the rollouts sharing a route; the in-progress label follows each SetWeight of the rollout being reconciled',
} as const satisfies Record<string, string>;
type IgnoredKey = keyof typeof IGNORED_KEYS;

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
  /** Set when the Rollout uses ping-pong: `services` then follows status.canary.stablePingPong. */
  pingPong?: PingPongServices;
  /** Keys present in the entry that have no effect (see IGNORED_KEYS). */
  ignoredKeys?: { key: string; why: string }[];
}

const SINGLE_KEYS = { httpRoute: RouteKind.HTTPRoute, grpcRoute: RouteKind.GRPCRoute, tcpRoute: RouteKind.TCPRoute, tlsRoute: RouteKind.TLSRoute } as const;
const LIST_KEYS = { httpRoutes: RouteKind.HTTPRoute, grpcRoutes: RouteKind.GRPCRoute, tcpRoutes: RouteKind.TCPRoute, tlsRoutes: RouteKind.TLSRoute } as const;
const SELECTOR_KEYS = {
  httpRouteSelector: RouteKind.HTTPRoute,
  grpcRouteSelector: RouteKind.GRPCRoute,
  tcpRouteSelector: RouteKind.TCPRoute,
  tlsRouteSelector: RouteKind.TLSRoute,
} as const;
/** gatewayAPI's rule-scoped weighting: `httpRoute` + `httpRouteRuleName` drive only the rule of that name. */
const RULE_NAME_KEYS = {
  httpRouteRuleName: 'httpRoute',
  grpcRouteRuleName: 'grpcRoute',
  tcpRouteRuleName: 'tcpRoute',
  tlsRouteRuleName: 'tlsRoute',
} as const satisfies Record<string, keyof typeof SINGLE_KEYS>;
const ROUTE_KEYS = [...Object.keys(SINGLE_KEYS), ...Object.keys(LIST_KEYS), ...Object.keys(SELECTOR_KEYS)];
const OTHER_KEYS = [
  'namespace',
  'disableInProgressLabel',
  'inProgressLabelKey',
  'inProgressLabelValue',
  'configMap',
  'pinnedRoutes',
  'requireAcceptedStatus',
  ...Object.keys(RULE_NAME_KEYS),
];
export const ACCEPTED_CONFIG_KEYS: readonly string[] = [...ROUTE_KEYS, ...OTHER_KEYS, ...Object.keys(IGNORED_KEYS)].sort();
const LIST_ENTRY_KEYS = ['name', 'ruleName', 'useHeaderRoutes'];
/** Largest maxTrafficWeight: the field is an int32 in Argo Rollouts' CRD. */
const MAX_INT32 = 2 ** 31 - 1;

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

function serviceName(rolloutName: string, field: string, v: unknown): string {
  if (!isName(v)) throw new Error(msg.rolloutServiceMissing(rolloutName, field));
  if (!isServiceName(v)) throw new Error(msg.serviceNameInvalid(rolloutName, `spec.strategy.canary.${field}`, v));
  return v;
}

/**
 * The Services traffic moves between. With `pingPong` (which wins over stable/canaryService,
 * as gatewayAPI asks Argo's GetStableAndCanaryServices) the stable one is whichever
 * status.canary.stablePingPong names; Argo reads anything but "ping" as "pong" (IsStablePing).
 */
function rolloutServices(rollout: Rollout, rolloutName: string): { services: ServicePair; pingPong?: PingPongServices; plugins: Json } {
  const canary = rollout.spec?.strategy?.canary;
  if (!canary) throw new Error(msg.noCanaryStrategy(rolloutName));
  const plugins = isObject(canary.trafficRouting?.plugins) ? canary.trafficRouting.plugins : {};
  if (canary.pingPong !== undefined && canary.pingPong !== null) {
    const ping = serviceName(rolloutName, 'pingPong.pingService', canary.pingPong.pingService);
    const pong = serviceName(rolloutName, 'pingPong.pongService', canary.pingPong.pongService);
    if (ping === pong) throw new Error(msg.servicesIdentical(rolloutName, 'pingPong.pingService', 'pongService', ping));
    const stable = rollout.status?.canary?.stablePingPong === 'ping' ? 'ping' : 'pong';
    const services = stable === 'ping' ? { stable: ping, canary: pong } : { stable: pong, canary: ping };
    return { services, pingPong: { ping, pong, stable }, plugins };
  }
  const canaryService = serviceName(rolloutName, 'canaryService', canary.canaryService);
  const stableService = serviceName(rolloutName, 'stableService', canary.stableService);
  if (canaryService === stableService) throw new Error(msg.servicesIdentical(rolloutName, 'stableService', 'canaryService', stableService));
  return { services: { stable: stableService, canary: canaryService }, plugins };
}

function maxTrafficWeight(rolloutName: string, v: unknown): number {
  if (v === undefined || v === null) return 100;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_INT32) throw new Error(msg.maxTrafficWeightInvalid(rolloutName, v));
  return v;
}

/** Parses and validates a rollout's plugin entry; throws an Error naming the field at fault. */
export function parseRouterConfig(rollout: Rollout, pluginName: string): RouterConfig {
  const rolloutNamespace = rollout.metadata.namespace || 'default';
  const rolloutName = `${rolloutNamespace}/${rollout.metadata.name ?? ''}`;
  const { services, pingPong, plugins } = rolloutServices(rollout, rolloutName);
  if (!Object.hasOwn(plugins, pluginName)) throw new Error(msg.pluginEntryMissing(pluginName, rolloutName, Object.keys(plugins)));
  const r = new Reader((detail) => {
    throw new Error(msg.invalidPluginConfig(pluginName, rolloutName, detail));
  });
  const cfg = r.object('the entry', plugins[pluginName]);
  r.keys('', cfg, ACCEPTED_CONFIG_KEYS);

  const namespace = cfg.namespace === undefined ? rolloutNamespace : r.name('namespace', cfg.namespace);
  const routes: ManagedRouteEntry[] = [];
  const listedAt = new Map<string, string>();
  const addRoute = (path: string, kind: RouteKind, name: string, useHeaderRoutes: boolean, ruleName: string | undefined): void => {
    if (listedAt.has(refKey({ kind, name }))) r.fail(msg.routeListedTwice(path, kind, name));
    listedAt.set(refKey({ kind, name }), path);
    // Header and mirror rules need request matches; TCP and TLS rules have none.
    const entry: ManagedRouteEntry = { ref: { kind, namespace, name }, useHeaderRoutes: useHeaderRoutes && ROUTE_KINDS[kind].requests !== undefined };
    if (ruleName !== undefined) entry.ruleName = ruleName;
    routes.push(entry);
  };
  for (const [key, routeKey] of Object.entries(RULE_NAME_KEYS)) {
    if (cfg[key] !== undefined && cfg[routeKey] === undefined) r.fail(msg.ruleNameWithoutRoute(key, routeKey));
  }
  const ruleNameOf = (path: string, v: unknown): string | undefined => (v === undefined ? undefined : r.name(path, v));
  for (const [key, kind] of Object.entries(SINGLE_KEYS)) {
    const ruleKey = `${key}RuleName`;
    if (cfg[key] !== undefined) addRoute(key, kind, r.name(key, cfg[key]), true, ruleNameOf(ruleKey, cfg[ruleKey]));
  }
  for (const [key, kind] of Object.entries(LIST_KEYS)) {
    if (cfg[key] === undefined) continue;
    r.list(key, cfg[key]).forEach((e, i) => {
      const at = `${key}[${i}]`;
      const entry = r.object(at, e);
      r.keys(at, entry, LIST_ENTRY_KEYS);
      const useHeaderRoutes = r.bool(`${at}.useHeaderRoutes`, entry.useHeaderRoutes) ?? false;
      addRoute(at, kind, r.name(`${at}.name`, entry.name), useHeaderRoutes, ruleNameOf(`${at}.ruleName`, entry.ruleName));
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
  // Ignored keys still have to be well-formed: a typo'd value is a mistake worth reporting.
  r.bool('skipManagedRoutesOnSetWeight', cfg.skipManagedRoutesOnSetWeight);
  if (cfg.activeRolloutsAnnotationKey !== undefined) r.name('activeRolloutsAnnotationKey', cfg.activeRolloutsAnnotationKey);
  const ignoredKeys = (Object.keys(IGNORED_KEYS) as IgnoredKey[]).filter((k) => cfg[k] !== undefined).map((key) => ({ key, why: IGNORED_KEYS[key] }));

  const pinned = parsePinned(r, cfg.pinnedRoutes, namespace, listedAt);
  const trafficRouting = rollout.spec?.strategy?.canary?.trafficRouting;
  const totalWeight = maxTrafficWeight(rolloutName, trafficRouting?.maxTrafficWeight);
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
    totalWeight,
    gwConfigMap: typeof cfg.configMap === 'string' ? cfg.configMap : GW_DEFAULT_CONFIGMAP,
    requireAcceptedStatus: r.bool('requireAcceptedStatus', cfg.requireAcceptedStatus) ?? false,
    ...(pingPong && { pingPong }),
    ...(ignoredKeys.length && { ignoredKeys }),
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

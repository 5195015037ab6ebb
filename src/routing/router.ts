import {
  DEFAULT_PLUGIN_NAME,
  OverloadedError,
  PLUGIN_TYPE,
  Verified,
  type CallContext,
  type RpcResult,
  type TrafficRouterApi,
  type VerifyResult,
} from './api.js';
import { readExperimentBackends, readManagedRules } from './annotations.js';
import { parseRouterConfig, type ManagedRouteEntry, type RouterConfig } from './config.js';
import * as msg from './errors.js';
import { GwConfigMapNeeded, gwConfigMapEntries, keepsMirrorPercent, managedRuleIndexes, planHeaderRoute, planMirrorRoute, planRemoveManaged, type ManagedRuleContext } from './managed-rules.js';
import { headerRouteMatches } from './matches.js';
import { pinnedViolations, planPinnedRole, type PinnedRole } from './pinned.js';
import { assertHeaderRouteRegexes, assertMirrorRouteRegexes } from './regex.js';
import type { Rollout, SetHeaderRoute, SetMirrorRoute, WeightDestination } from './rollout.js';
import { ROUTE_KINDS } from './route-kinds.js';
import { combineErrors, errorText, PartlyWrittenError, RouteNotFoundError, type PrefetchedReads, type RouteObject, type RoutePlan, type RouteRef, type RouteStore, type RouteUpdate, type StoredCheck } from './route-store.js';
import { formatLabelSelector } from './selector.js';
import { verifyRoute } from './verify.js';
import { applyWeights, assertWeightedRule, desiredWeights } from './weights.js';

// TrafficRouter: the plugin RPCs over RouteStore. A call that writes hands the store every
// route it may touch and one plan: the store decides on the latest read, inside the routes'
// write queues, and writes nothing unless every route could be planned.

export type WarningHandler = (message: string, fields: Record<string, unknown>) => void;

/** What a call changed (or found broken), named as the Event reason recorded for it. */
export const RouteChangeKind = {
  Weight: 'TrafficWeightUpdated',
  HeaderRoute: 'HeaderRouteSet',
  MirrorRoute: 'MirrorRouteSet',
  ManagedRoutesRemoved: 'ManagedRoutesRemoved',
  PinnedRouteViolation: 'PinnedRouteViolation',
} as const;
export type RouteChangeKind = (typeof RouteChangeKind)[keyof typeof RouteChangeKind];

export interface RouteChange {
  kind: RouteChangeKind;
  rollout: Rollout;
  /** The routes written (none for a pinned-route violation). */
  routes: RouteRef[];
  /** SetWeight: the canary weight now on the routes. */
  weight?: number;
  /** SetHeaderRoute / SetMirrorRoute: the managed route name. */
  name?: string;
  /** PinnedRouteViolation: what is wrong. */
  violations?: string[];
}

export interface TrafficRouterOptions {
  store: RouteStore;
  /** The key under trafficRouting.plugins to read; default DEFAULT_PLUGIN_NAME. */
  pluginName?: string;
  /** Problems that must not block the call (a broken pinned route while returning to stable). */
  onWarning?: WarningHandler;
  /** Told after routes were written, and about broken pinned routes (Kubernetes Events). */
  onRouteChanged?: (change: RouteChange) => void;
}

interface LoadedRoute {
  entry: ManagedRouteEntry;
  route: RouteObject;
}

/** A pinned route as read now (undefined when missing) and the role it is pinned to. */
interface PinnedRoute {
  role: PinnedRole;
  ref: RouteRef;
  route?: RouteObject;
}

const OK: RpcResult = { error: '' };

const refKey = (r: RouteRef): string => `${r.kind}/${r.namespace}/${r.name}`;

export class TrafficRouter implements TrafficRouterApi {
  private readonly store: RouteStore;
  private readonly pluginName: string;
  private readonly onWarning: WarningHandler;
  private readonly onRouteChanged: (change: RouteChange) => void;

  constructor(options: TrafficRouterOptions) {
    this.store = options.store;
    this.pluginName = options.pluginName ?? DEFAULT_PLUGIN_NAME;
    this.onWarning = options.onWarning ?? (() => {});
    this.onRouteChanged = options.onRouteChanged ?? (() => {});
  }

  async initPlugin(rollout?: Rollout, ctx?: CallContext): Promise<RpcResult> {
    if (!rollout) return OK;
    return this.call(async () => this.validate(this.config(rollout), 'errors', ctx));
  }

  async updateHash(
    rollout: Rollout,
    _canaryHash: string,
    _stableHash: string,
    _additional: WeightDestination[],
    ctx?: CallContext,
  ): Promise<RpcResult> {
    // Routes select pods through the Services, so a new hash needs no write. A broken pinned
    // route is only a warning here: failing would also stop the SetWeight(0) of an abort.
    return this.call(async () => this.validate(this.config(rollout), 'warnings', ctx));
  }

  async setWeight(rollout: Rollout, desiredWeight: number, additionalDestinations: WeightDestination[], ctx?: CallContext): Promise<RpcResult> {
    return this.call(async () => {
      const cfg = this.config(rollout);
      const want = desiredWeights(desiredWeight, additionalDestinations ?? [], cfg.services, cfg.totalWeight);
      // The managed routes are read alongside the pinned ones, for the write that may follow.
      const prefetched = this.store.prefetch?.(cfg.routes.map((e) => e.ref), ctx);
      const [entries, pinned] = await Promise.all([this.managedEntries(cfg, ctx), this.loadPinned(cfg, ctx)]);
      // Only selectors that match nothing leave no route: promoting with no traffic moved would
      // run the canary's analysis on 0 %. Going back to stable has nothing to undo.
      if (!entries.length && want.canary > 0) throw new Error(this.noRouteSelected(cfg));
      const violations = this.pinnedViolations(cfg, pinned);
      if (violations.length) {
        this.onRouteChanged({ kind: RouteChangeKind.PinnedRouteViolation, rollout, routes: [], violations });
        // Moving traffic onto the canary past a broken pin could expose pinned clients; going
        // back to stable (weight 0) is always safe and must never be blocked.
        if (want.canary > 0) throw new Error(msg.refusingWeight(want.canary, violations));
        this.warn(cfg, violations);
      }
      // Ping-pong: a pinned route read with a pending role flip is planned and written with the
      // managed routes (on its latest read: the flip may have been written meanwhile).
      const pingPong = cfg.pingPong !== undefined;
      const roles = new Map(pinned.map((p) => [refKey(p.ref), p.role]));
      const flipping = pinned.filter(({ role, ref, route }) => route && planPinnedRole(route, ref, role, cfg.services, pingPong));
      const ruleNames = new Map(entries.map((e) => [refKey(e.ref), e.ruleName]));
      const flipEntries: ManagedRouteEntry[] = flipping.map(({ ref }) => ({ ref, useHeaderRoutes: false }));
      const change = { kind: RouteChangeKind.Weight, rollout, weight: want.canary };
      await this.apply(
        [...entries, ...flipEntries],
        (route, ref) => {
          const role = roles.get(refKey(ref));
          if (role) return planPinnedRole(route, ref, role, cfg.services, pingPong);
          const ruleName = ruleNames.get(refKey(ref));
          const managed = ruleName === undefined ? undefined : managedRuleIndexes(route, ref, { services: cfg.services, managedRoutes: cfg.managedRouteNames });
          return applyWeights(route, ref, { services: cfg.services, want, inProgressLabel: cfg.inProgressLabel, ruleName, managed });
        },
        ctx,
        change,
        prefetched,
      );
    });
  }

  async setHeaderRoute(rollout: Rollout, headerRoute: SetHeaderRoute, ctx?: CallContext): Promise<RpcResult> {
    return this.call(async () => {
      const cfg = this.config(rollout);
      const name = this.managedRouteName(cfg, headerRoute.name, 'setHeaderRoute');
      await assertHeaderRouteRegexes(name, headerRoute.match ?? []);
      const headers = headerRouteMatches(name, headerRoute.match ?? []);
      const entries = (await this.managedEntries(cfg, ctx)).filter((e) => e.useHeaderRoutes);
      await this.applyManaged(cfg, entries, (rulesCtx) => (route, ref) => planHeaderRoute(route, ref, rulesCtx(ref), name, headers), ctx, { kind: RouteChangeKind.HeaderRoute, rollout, name });
    });
  }

  async setMirrorRoute(rollout: Rollout, mirrorRoute: SetMirrorRoute, ctx?: CallContext): Promise<RpcResult> {
    return this.call(async () => {
      const cfg = this.config(rollout);
      const name = this.managedRouteName(cfg, mirrorRoute.name, 'setMirrorRoute');
      const p = mirrorRoute.percentage;
      if (p !== undefined && !(Number.isInteger(p) && p >= 0 && p <= 100)) throw new Error(msg.mirrorPercentageInvalid(name, p));
      const percent = p === 100 ? undefined : p;
      const match = mirrorRoute.match ?? [];
      await assertMirrorRouteRegexes(name, match);
      // Every managed route whose rules have request matches; TCP and TLS routes cannot mirror.
      const entries = (await this.managedEntries(cfg, ctx)).filter((e) => ROUTE_KINDS[e.ref.kind].requests !== undefined);
      await this.applyManaged(
        cfg,
        entries,
        (rulesCtx) => (route, ref) => {
          const requests = ROUTE_KINDS[ref.kind].requests!;
          const matches = match.map((m, i) => requests.mirrorMatch(name, i, m));
          return planMirrorRoute(route, ref, rulesCtx(ref), name, { matches, percent });
        },
        ctx,
        { kind: RouteChangeKind.MirrorRoute, rollout, name },
        percent === undefined ? undefined : keepsMirrorPercent(name, percent),
      );
    });
  }

  async verifyWeight(rollout: Rollout, desiredWeight: number, additionalDestinations: WeightDestination[], ctx?: CallContext): Promise<VerifyResult> {
    try {
      const cfg = this.config(rollout);
      const want = desiredWeights(desiredWeight, additionalDestinations ?? [], cfg.services, cfg.totalWeight);
      const routes = await this.loadManaged(cfg, ctx);
      if (!routes.length && want.canary > 0) throw new Error(this.noRouteSelected(cfg));
      const reasons: string[] = [];
      for (const { entry, route } of routes) {
        const outcome = verifyRoute(route, entry.ref, cfg.services, want, cfg.requireAcceptedStatus, entry.ruleName);
        if (outcome.noParentStatus && !outcome.unverified) this.warnOnce(refKey(entry.ref), msg.verifiedWithoutParentStatus(entry.ref), cfg);
        if (!outcome.unverified) continue;
        const { route: name, parent, reason } = outcome.unverified;
        this.onWarning(msg.notVerified(reason), { rollout: cfg.rollout, plugin: cfg.pluginName, route: name, ...(parent !== undefined && { parent }), reason });
        reasons.push(reason);
      }
      if (reasons.length) return { verified: Verified.NotVerified, error: '', reason: reasons.join('; ') };
      return { verified: Verified.Verified, error: '' };
    } catch (e) {
      if (e instanceof OverloadedError) throw e;
      return { verified: Verified.NotVerified, error: errorText(e) };
    }
  }

  async removeManagedRoutes(rollout: Rollout, ctx?: CallContext): Promise<RpcResult> {
    return this.call(async () => {
      const cfg = this.config(rollout);
      await this.applyManaged(cfg, await this.managedEntries(cfg, ctx), (rulesCtx) => (route, ref) => planRemoveManaged(route, ref, rulesCtx(ref)), ctx, {
        kind: RouteChangeKind.ManagedRoutesRemoved,
        rollout,
      });
    });
  }

  async type(): Promise<string> {
    return PLUGIN_TYPE;
  }

  private config(rollout: Rollout): RouterConfig {
    const cfg = parseRouterConfig(rollout, this.pluginName);
    for (const { key, why } of cfg.ignoredKeys ?? []) this.warnOnce(`ignored-key/${key}`, msg.ignoredKey(key, why), cfg);
    return cfg;
  }

  private async call(body: () => Promise<void>): Promise<RpcResult> {
    try {
      await body();
      return OK;
    } catch (e) {
      if (e instanceof OverloadedError) throw e;
      return { error: errorText(e) };
    }
  }

  private warn(cfg: RouterConfig, messages: readonly string[]): void {
    for (const m of messages) this.onWarning(m, { rollout: cfg.rollout, plugin: cfg.pluginName });
  }

  /** Warnings already given (bounded: a long-lived server meets many routes). */
  private readonly warned = new Set<string>();

  private warnOnce(key: string, message: string, cfg: RouterConfig): void {
    if (this.warned.has(key)) return;
    if (this.warned.size >= 1024) this.warned.clear();
    this.warned.add(key);
    this.onWarning(message, { rollout: cfg.rollout, plugin: cfg.pluginName });
  }

  /**
   * A header, mirror or remove call. GW's (≤ 0.12) ConfigMap is read only when a route holds a
   * rule it could have added: then the plans run again with it (no extra request otherwise).
   */
  private async applyManaged(
    cfg: RouterConfig,
    entries: readonly ManagedRouteEntry[],
    planWith: (rulesCtx: (ref: RouteRef) => ManagedRuleContext) => RoutePlan,
    ctx: CallContext | undefined,
    change: Omit<RouteChange, 'routes'>,
    check?: StoredCheck,
  ): Promise<void> {
    let needed = false;
    const unread = (): ManagedRuleContext => ({
      services: cfg.services,
      managedRoutes: cfg.managedRouteNames,
      needGwConfigMap: () => {
        needed = true;
        throw new GwConfigMapNeeded();
      },
    });
    try {
      await this.apply(entries, planWith(unread), ctx, change, undefined, check);
      return;
    } catch (e) {
      if (!needed) throw e;
    }
    await this.apply(entries, planWith(await this.managedRuleContext(cfg, ctx)), ctx, change, undefined, check);
  }

  /** How managed rules are recognised on each route (src/routing/managed-rules.ts), with GW's ConfigMap read now. */
  private async managedRuleContext(cfg: RouterConfig, ctx: CallContext | undefined): Promise<(ref: RouteRef) => ManagedRuleContext> {
    // GW's ConfigMap only matters when taking over from GW ≤ 0.12; without RBAC to read it the
    // calls go on (the companion's own and GW ≥ 0.13's rules are still found).
    const configMap = await this.store.readConfigMap(cfg.namespace, cfg.gwConfigMap, ctx).catch((e: unknown) => {
      if (e instanceof OverloadedError) throw e;
      this.warnOnce(`configmap/${cfg.namespace}/${cfg.gwConfigMap}`, msg.gwConfigMapUnreadable(cfg.namespace, cfg.gwConfigMap, errorText(e)), cfg);
      return undefined;
    });
    return (ref) => ({ services: cfg.services, managedRoutes: cfg.managedRouteNames, gwConfigMap: gwConfigMapEntries(configMap, ref) });
  }

  private noRouteSelected(cfg: RouterConfig): string {
    return msg.noRouteSelected(cfg.selectors.map((s) => ({ kind: s.kind, namespace: s.namespace, selector: formatLabelSelector(s.selector) })));
  }

  private managedRouteName(cfg: RouterConfig, name: string | undefined, step: 'setHeaderRoute' | 'setMirrorRoute'): string {
    if (typeof name !== 'string' || name === '') throw new Error(msg.managedRouteNameMissing(step));
    if (!cfg.managedRouteNames.includes(name)) throw new Error(msg.managedRouteUndeclared(cfg.rollout, name, cfg.managedRouteNames));
    return name;
  }

  private async getIfExists(ref: RouteRef, ctx: CallContext | undefined): Promise<RouteObject | undefined> {
    try {
      return await this.store.get(ref, ctx);
    } catch (e) {
      if (e instanceof RouteNotFoundError) return undefined;
      throw e;
    }
  }

  /**
   * The routes the config names plus those its selectors find now (pinned routes never). A
   * selector's list only says which routes there are: writes re-read them in their queues.
   */
  private async managedEntries(cfg: RouterConfig, ctx: CallContext | undefined): Promise<ManagedRouteEntry[]> {
    return (await this.discover(cfg, ctx)).map((d) => d.entry);
  }

  /** The managed routes as read now: each named route read once, selector routes from their list. */
  private async loadManaged(cfg: RouterConfig, ctx: CallContext | undefined): Promise<LoadedRoute[]> {
    const [named, found] = await Promise.all([
      Promise.allSettled(cfg.routes.map(async (entry) => ({ entry, route: await this.store.get(entry.ref, ctx) }))),
      this.discover(cfg, ctx),
    ]);
    const failed = named.filter((s) => s.status === 'rejected').map((s) => s.reason as unknown);
    if (failed.length) throw combineErrors(failed);
    const listed = found.filter((f): f is LoadedRoute => f.route !== undefined);
    return [...named.map((s) => (s as PromiseFulfilledResult<LoadedRoute>).value), ...listed];
  }

  /** Named entries (without their route) followed by the routes the selectors list. */
  private async discover(cfg: RouterConfig, ctx: CallContext | undefined): Promise<{ entry: ManagedRouteEntry; route?: RouteObject }[]> {
    const found: { entry: ManagedRouteEntry; route?: RouteObject }[] = cfg.routes.map((entry) => ({ entry }));
    if (!cfg.selectors.length) return found;
    const taken = new Set([...cfg.routes.map((e) => e.ref), ...cfg.pinned.stable, ...cfg.pinned.canary].map(refKey));
    const lists = await Promise.all(cfg.selectors.map(async (s) => ({ s, routes: await this.store.list(s.kind, s.namespace, s.selector, ctx) })));
    for (const { s, routes } of lists) {
      for (const route of routes) {
        const ref: RouteRef = { kind: s.kind, namespace: route.metadata.namespace ?? s.namespace, name: route.metadata.name };
        if (taken.has(refKey(ref))) continue;
        taken.add(refKey(ref));
        found.push({ entry: { ref, useHeaderRoutes: ROUTE_KINDS[s.kind].requests !== undefined }, route });
      }
    }
    return found;
  }

  private async loadPinned(cfg: RouterConfig, ctx: CallContext | undefined): Promise<PinnedRoute[]> {
    const roles = (['stable', 'canary'] as const).flatMap((role) => cfg.pinned[role].map((ref) => ({ role, ref })));
    return Promise.all(roles.map(async ({ role, ref }) => ({ role, ref, route: await this.getIfExists(ref, ctx) })));
  }

  /** Judged on the route as it will be once a pending ping-pong role flip is written. */
  private pinnedViolations(cfg: RouterConfig, pinned: readonly PinnedRoute[]): string[] {
    return pinned.flatMap(({ role, ref, route }) => {
      if (!route) return [msg.pinnedMissing(ref, role)];
      const planned = planPinnedRole(route, ref, role, cfg.services, cfg.pingPong !== undefined) ?? route;
      return pinnedViolations(planned, ref, role, cfg.services);
    });
  }

  /** Plans every route on its latest read; writes only when all plans succeed, and only routes that change. */
  private async apply(
    entries: readonly ManagedRouteEntry[],
    plan: RoutePlan,
    ctx: CallContext | undefined,
    change: Omit<RouteChange, 'routes'>,
    prefetched?: PrefetchedReads,
    check?: StoredCheck,
  ): Promise<void> {
    if (!entries.length) return;
    const reportWritten = (updates: readonly RouteUpdate[]) => {
      const written = updates.filter((u) => u.written).map((u) => u.ref);
      if (written.length) this.onRouteChanged({ ...change, routes: written });
    };
    try {
      reportWritten(await this.store.update(entries.map((e) => e.ref), plan, ctx, prefetched, check));
    } catch (e) {
      if (!(e instanceof PartlyWrittenError)) throw e;
      reportWritten(e.written);
      throw e.cause;
    }
  }

  /**
   * UpdateHash and InitPlugin: config, routes, Services and pins are sound; writes nothing. `soft`:
   * how broken pins and selectors that match no route are reported (UpdateHash must not stop an abort).
   */
  private async validate(cfg: RouterConfig, soft: 'errors' | 'warnings', ctx: CallContext | undefined): Promise<void> {
    const errors: unknown[] = [];
    const [loaded, services, problems] = await Promise.all([
      this.loadManaged(cfg, ctx),
      Promise.all((['stable', 'canary'] as const).map(async (role) => ({ role, exists: await this.store.serviceExists(cfg.rolloutNamespace, cfg.services[role], ctx) }))),
      this.loadPinned(cfg, ctx).then((pinnedRoutes) => this.pinnedViolations(cfg, pinnedRoutes)),
    ]);
    for (const { entry, route } of loaded) {
      try {
        assertWeightedRule(route, entry.ref, cfg.services, entry.ruleName);
        readExperimentBackends(route, entry.ref);
        readManagedRules(route, entry.ref);
      } catch (e) {
        errors.push(e);
      }
    }
    if (!loaded.length) problems.push(this.noRouteSelected(cfg));
    for (const { role, exists } of services) {
      if (!exists) errors.push(new Error(msg.serviceNotFound(role, cfg.rolloutNamespace, cfg.services[role])));
    }
    if (soft === 'errors') errors.push(...problems.map((v) => new Error(v)));
    else this.warn(cfg, problems);
    if (errors.length) throw combineErrors(errors);
  }
}

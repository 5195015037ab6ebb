import { DEFAULT_PLUGIN_NAME, PLUGIN_TYPE, Verified, type RpcResult, type TrafficRouterApi, type VerifyResult } from './api.js';
import { readExperimentBackends, readManagedRules } from './annotations.js';
import { parseRouterConfig, type ManagedRouteEntry, type RouterConfig } from './config.js';
import * as msg from './errors.js';
import { planHeaderRoute, planMirrorRoute, planRemoveManaged } from './managed-rules.js';
import { headerRouteMatches } from './matches.js';
import { pinnedViolations } from './pinned.js';
import type { Rollout, SetHeaderRoute, SetMirrorRoute, WeightDestination } from './rollout.js';
import { ROUTE_KINDS } from './route-kinds.js';
import { RouteNotFoundError, type RouteObject, type RouteRef, type RouteStore } from './route-store.js';
import { verifyRoute } from './verify.js';
import { applyWeights, assertWeightedRule, desiredWeights } from './weights.js';

// TrafficRouter: the plugin RPCs over RouteStore. Every call reads and plans all routes it
// would touch before writing any, so a validation failure leaves every route as it was.

export type WarningHandler = (message: string, fields: Record<string, unknown>) => void;

export interface TrafficRouterOptions {
  store: RouteStore;
  /** The key under trafficRouting.plugins to read; default DEFAULT_PLUGIN_NAME. */
  pluginName?: string;
  /** Problems that must not block the call (a broken pinned route while returning to stable). */
  onWarning?: WarningHandler;
}

interface LoadedRoute {
  entry: ManagedRouteEntry;
  route: RouteObject;
}

type Plan = (route: RouteObject, ref: RouteRef) => RouteObject | null;

const OK: RpcResult = { error: '' };

/** An error's message followed by its causes' ("message: cause: cause"). */
export function errorText(e: unknown): string {
  const parts: string[] = [];
  for (let cur: unknown = e, depth = 0; cur !== undefined && cur !== null && depth < 8; depth++) {
    parts.push(cur instanceof Error ? cur.message : String(cur));
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return parts.join(': ');
}

function combined(errors: readonly unknown[]): Error {
  return errors.length === 1 && errors[0] instanceof Error ? errors[0] : new Error(errors.map(errorText).join('; '));
}

const refKey = (r: RouteRef): string => `${r.kind}/${r.namespace}/${r.name}`;

export class TrafficRouter implements TrafficRouterApi {
  private readonly store: RouteStore;
  private readonly pluginName: string;
  private readonly onWarning: WarningHandler;

  constructor(options: TrafficRouterOptions) {
    this.store = options.store;
    this.pluginName = options.pluginName ?? DEFAULT_PLUGIN_NAME;
    this.onWarning = options.onWarning ?? (() => {});
  }

  async initPlugin(rollout?: Rollout): Promise<RpcResult> {
    if (!rollout) return OK;
    return this.call(async () => this.validate(this.config(rollout), 'errors'));
  }

  async updateHash(rollout: Rollout, _canaryHash: string, _stableHash: string, _additional: WeightDestination[]): Promise<RpcResult> {
    // Routes select pods through the Services, so a new hash needs no write. A broken pinned
    // route is only a warning here: failing would also stop the SetWeight(0) of an abort.
    return this.call(async () => this.validate(this.config(rollout), 'warnings'));
  }

  async setWeight(rollout: Rollout, desiredWeight: number, additionalDestinations: WeightDestination[]): Promise<RpcResult> {
    return this.call(async () => {
      const cfg = this.config(rollout);
      const want = desiredWeights(desiredWeight, additionalDestinations ?? [], cfg.services, cfg.totalWeight);
      const [routes, violations] = await Promise.all([this.loadManaged(cfg), this.pinnedViolations(cfg)]);
      if (violations.length) {
        // Moving traffic onto the canary past a broken pin could expose pinned clients; going
        // back to stable (weight 0) is always safe and must never be blocked.
        if (want.canary > 0) throw new Error(msg.refusingWeight(want.canary, violations));
        this.warn(cfg, violations);
      }
      await this.apply(routes, (route, ref) => applyWeights(route, ref, { services: cfg.services, want, inProgressLabel: cfg.inProgressLabel }));
    });
  }

  async setHeaderRoute(rollout: Rollout, headerRoute: SetHeaderRoute): Promise<RpcResult> {
    return this.call(async () => {
      const cfg = this.config(rollout);
      const name = this.managedRouteName(cfg, headerRoute.name, 'setHeaderRoute');
      const headers = headerRouteMatches(name, headerRoute.match ?? []);
      const routes = (await this.loadManaged(cfg)).filter((r) => r.entry.useHeaderRoutes);
      await this.apply(routes, (route, ref) => planHeaderRoute(route, ref, cfg.services, name, headers));
    });
  }

  async setMirrorRoute(rollout: Rollout, mirrorRoute: SetMirrorRoute): Promise<RpcResult> {
    return this.call(async () => {
      const cfg = this.config(rollout);
      const name = this.managedRouteName(cfg, mirrorRoute.name, 'setMirrorRoute');
      const p = mirrorRoute.percentage;
      if (p !== undefined && !(Number.isInteger(p) && p >= 0 && p <= 100)) throw new Error(msg.mirrorPercentageInvalid(name, p));
      const percent = p === 100 ? undefined : p;
      const match = mirrorRoute.match ?? [];
      // Every managed route whose rules have request matches; TCP and TLS routes cannot mirror.
      const routes = (await this.loadManaged(cfg)).filter((r) => ROUTE_KINDS[r.entry.ref.kind].requests !== undefined);
      await this.apply(routes, (route, ref) => {
        const requests = ROUTE_KINDS[ref.kind].requests!;
        const matches = match.map((m, i) => requests.mirrorMatch(name, i, m));
        return planMirrorRoute(route, ref, cfg.services, name, { matches, percent });
      });
    });
  }

  async verifyWeight(rollout: Rollout, desiredWeight: number, additionalDestinations: WeightDestination[]): Promise<VerifyResult> {
    try {
      const cfg = this.config(rollout);
      const want = desiredWeights(desiredWeight, additionalDestinations ?? [], cfg.services, cfg.totalWeight);
      const routes = await this.loadManaged(cfg);
      const reasons = routes.map(({ entry, route }) => verifyRoute(route, entry.ref, cfg.services, want)).filter((r) => r !== undefined);
      if (reasons.length) return { verified: Verified.NotVerified, error: '', reason: reasons.join('; ') };
      return { verified: Verified.Verified, error: '' };
    } catch (e) {
      return { verified: Verified.NotVerified, error: errorText(e) };
    }
  }

  async removeManagedRoutes(rollout: Rollout): Promise<RpcResult> {
    return this.call(async () => {
      const cfg = this.config(rollout);
      await this.apply(await this.loadManaged(cfg), planRemoveManaged);
    });
  }

  async type(): Promise<string> {
    return PLUGIN_TYPE;
  }

  private config(rollout: Rollout): RouterConfig {
    return parseRouterConfig(rollout, this.pluginName);
  }

  private async call(body: () => Promise<void>): Promise<RpcResult> {
    try {
      await body();
      return OK;
    } catch (e) {
      return { error: errorText(e) };
    }
  }

  private warn(cfg: RouterConfig, messages: readonly string[]): void {
    for (const m of messages) this.onWarning(m, { rollout: cfg.rollout, plugin: cfg.pluginName });
  }

  private managedRouteName(cfg: RouterConfig, name: string | undefined, step: 'setHeaderRoute' | 'setMirrorRoute'): string {
    if (typeof name !== 'string' || name === '') throw new Error(msg.managedRouteNameMissing(step));
    if (!cfg.managedRouteNames.includes(name)) throw new Error(msg.managedRouteUndeclared(cfg.rollout, name, cfg.managedRouteNames));
    return name;
  }

  private async getIfExists(ref: RouteRef): Promise<RouteObject | undefined> {
    try {
      return await this.store.get(ref);
    } catch (e) {
      if (e instanceof RouteNotFoundError) return undefined;
      throw e;
    }
  }

  /** The routes the config names plus those its selectors find (pinned routes never), read now. */
  private async loadManaged(cfg: RouterConfig): Promise<LoadedRoute[]> {
    const settled = await Promise.allSettled(cfg.routes.map(async (entry) => ({ entry, route: await this.store.get(entry.ref) })));
    const failed = settled.filter((s) => s.status === 'rejected').map((s) => s.reason as unknown);
    if (failed.length) throw combined(failed);
    const loaded = settled.map((s) => (s as PromiseFulfilledResult<LoadedRoute>).value);
    const taken = new Set([...cfg.routes.map((e) => e.ref), ...cfg.pinned.stable, ...cfg.pinned.canary].map(refKey));
    for (const s of cfg.selectors) {
      for (const route of await this.store.list(s.kind, s.namespace, s.selector)) {
        const ref: RouteRef = { kind: s.kind, namespace: route.metadata.namespace ?? s.namespace, name: route.metadata.name };
        if (taken.has(refKey(ref))) continue;
        taken.add(refKey(ref));
        loaded.push({ entry: { ref, useHeaderRoutes: ROUTE_KINDS[s.kind].requests !== undefined }, route });
      }
    }
    return loaded;
  }

  private async pinnedViolations(cfg: RouterConfig): Promise<string[]> {
    const roles = (['stable', 'canary'] as const).flatMap((role) => cfg.pinned[role].map((ref) => ({ role, ref })));
    const found = await Promise.all(
      roles.map(async ({ role, ref }) => {
        const route = await this.getIfExists(ref);
        return route ? pinnedViolations(route, ref, role, cfg.services) : [msg.pinnedMissing(ref, role)];
      }),
    );
    return found.flat();
  }

  /** Plans every route first; writes only when all plans succeed, and only routes that change. */
  private async apply(routes: readonly LoadedRoute[], plan: Plan): Promise<void> {
    const errors: unknown[] = [];
    const changed: LoadedRoute[] = [];
    for (const loaded of routes) {
      try {
        if (plan(loaded.route, loaded.entry.ref)) changed.push(loaded);
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length) throw combined(errors);
    for (const { entry: { ref }, route } of changed) {
      try {
        await this.store.update(ref, (current) => plan(current, ref), route);
      } catch (cause) {
        throw new Error(msg.updateFailed(ref), { cause });
      }
    }
  }

  /** UpdateHash and InitPlugin: config, routes, Services and pins are sound; writes nothing. */
  private async validate(cfg: RouterConfig, pinned: 'errors' | 'warnings'): Promise<void> {
    const errors: unknown[] = [];
    for (const { entry, route } of await this.loadManaged(cfg)) {
      try {
        assertWeightedRule(route, entry.ref, cfg.services);
        readExperimentBackends(route, entry.ref);
        readManagedRules(route, entry.ref);
      } catch (e) {
        errors.push(e);
      }
    }
    for (const role of ['stable', 'canary'] as const) {
      if (!(await this.store.serviceExists(cfg.rolloutNamespace, cfg.services[role]))) {
        errors.push(new Error(msg.serviceNotFound(role, cfg.rolloutNamespace, cfg.services[role])));
      }
    }
    const violations = await this.pinnedViolations(cfg);
    if (pinned === 'errors') errors.push(...violations.map((v) => new Error(v)));
    else this.warn(cfg, violations);
    if (errors.length) throw combined(errors);
  }
}

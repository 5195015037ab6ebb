import { parseRouterConfig } from '../routing/config.js';
import type { TrafficRouterApi } from '../routing/api.js';
import { RouteNotFoundError, type RouteRef, type RouteStore } from '../routing/route-store.js';
import { checkedRouter } from './checked-router.js';
import * as msg from './errors.js';

// Cross-namespace routes need the route owner's consent, as Gateway API's ReferenceGrant asks for
// cross-namespace references: a Rollout in namespace A drives a route in namespace B only when
// that route is annotated `rollouts-companion.argoproj.io/allow-rollouts-from: A` (a
// comma-separated list), or when the operator allows every cross-namespace use. A missing route
// and a route without consent get the same answer, so a Rollout learns nothing about namespaces it
// may not use. Route annotations, not Namespace ones: reading Namespaces would need a cluster-wide
// permission the companion otherwise does without.

export interface ConsentOptions {
  store: RouteStore;
  pluginName: string;
  /** The operator's blanket permission (serve/plugin --allow-cross-namespace-routes). */
  allowCrossNamespace?: boolean;
}

const consents = (annotations: Record<string, string> | undefined, namespace: string): boolean =>
  (annotations?.[msg.ALLOW_FROM_ANNOTATION] ?? '')
    .split(',')
    .map((s) => s.trim())
    .includes(namespace);

export function requireNamespaceConsent(inner: TrafficRouterApi, options: ConsentOptions): TrafficRouterApi {
  if (options.allowCrossNamespace) return inner;
  const { store } = options;
  return checkedRouter(inner, async (rollout, _destinations, ctx) => {
    let cfg;
    try {
      cfg = parseRouterConfig(rollout, options.pluginName);
    } catch {
      // The router reports configuration mistakes, with the field at fault.
      return rollout;
    }
    if (cfg.namespace === cfg.rolloutNamespace) return rollout;
    const refused = new Error(msg.crossNamespaceRefused(cfg.rollout, cfg.namespace, cfg.rolloutNamespace));
    const refs: RouteRef[] = [...cfg.routes.map((r) => r.ref), ...cfg.pinned.stable, ...cfg.pinned.canary];
    const annotations: (Record<string, string> | undefined)[] = [];
    for (const s of cfg.selectors) {
      const found = await store.list(s.kind, s.namespace, s.selector, ctx);
      if (found.length === 0) throw refused;
      annotations.push(...found.map((r) => r.metadata.annotations));
    }
    for (const ref of refs) {
      try {
        annotations.push((await store.get(ref, ctx)).metadata.annotations);
      } catch (err) {
        if (err instanceof RouteNotFoundError) throw refused;
        throw err;
      }
    }
    if (!annotations.every((a) => consents(a, cfg.rolloutNamespace))) throw refused;
    return rollout;
  });
}

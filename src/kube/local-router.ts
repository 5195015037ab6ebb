import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { DEFAULT_PLUGIN_NAME, type TrafficRouterApi } from '../routing/api.js';
import { TrafficRouter } from '../routing/router.js';
import { KubeClient, type KubeClientOptions } from './client.js';
import { KubeRouteStore, type RouteStoreEvents } from './route-store.js';
import { recordRouteChanges, type EventRecorder } from './events.js';
import type { RouteStore } from '../routing/route-store.js';
import { requireNamespaceConsent } from '../security/consent.js';

// The routing core wired to Kubernetes: what `serve` runs, and what the plugin runs in
// in-process mode (with the controller's own service account).

export interface LocalRouterOptions extends KubeClientOptions {
  pluginName?: string;
  logger: Logger;
  events?: RouteStoreEvents;
  /** Reuse a client (and its rate limit) across routers. */
  client?: KubeClient;
  /** Reuse a store (and its per-route write queues) across routers. */
  store?: RouteStore;
  /** Kubernetes Events on the Rollout for each route change. */
  recorder?: EventRecorder;
  /** Let Rollouts use routes of other namespaces without the routes' consent (see src/security/consent.ts). */
  allowCrossNamespaceRoutes?: boolean;
}

export function createLocalRouter(options: LocalRouterOptions): TrafficRouterApi {
  const store = options.store ?? new KubeRouteStore(options.client ?? new KubeClient(options), options.events);
  const logger = options.logger;
  const pluginName = options.pluginName ?? DEFAULT_PLUGIN_NAME;
  const router = new TrafficRouter({
    store,
    pluginName,
    onWarning: (message: string, fields?: Record<string, unknown>) => logger.warn(fields ?? {}, message),
    ...(options.recorder ? { onRouteChanged: recordRouteChanges(options.recorder) } : {}),
  });
  return requireNamespaceConsent(router, { store, pluginName, allowCrossNamespace: options.allowCrossNamespaceRoutes });
}

/** Routers kept for plugin names seen recently; the name comes from requests, so the cache must not grow with them. */
export const ROUTER_CACHE_LIMIT = 64;

/**
 * One router per `trafficRouting.plugins` key: the gRPC server's RouterFor. All share one
 * client and one store, so writes to a route are ordered whichever plugin name asked for them.
 */
export function localRouters(options: Omit<LocalRouterOptions, 'pluginName'> & { defaultPluginName?: string }) {
  const client = options.client ?? new KubeClient(options);
  const store = options.store ?? new KubeRouteStore(client, options.events);
  const byName = new Map<string, TrafficRouterApi>();
  const fallback = options.defaultPluginName ?? DEFAULT_PLUGIN_NAME;
  return (pluginName: string): TrafficRouterApi => {
    const name = pluginName || fallback;
    let router = byName.get(name);
    if (router) {
      // Most recently used last: the first entry is the one to evict.
      byName.delete(name);
    } else {
      router = createLocalRouter({ ...options, client, store, pluginName: name });
      if (byName.size >= ROUTER_CACHE_LIMIT) byName.delete(byName.keys().next().value!);
    }
    byName.set(name, router);
    return router;
  };
}

export type { KubeConfig };

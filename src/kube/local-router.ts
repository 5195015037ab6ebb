import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { DEFAULT_PLUGIN_NAME, type TrafficRouterApi } from '../routing/api.js';
import { TrafficRouter } from '../routing/router.js';
import { KubeClient, type KubeClientOptions } from './client.js';
import { KubeRouteStore, type RouteStoreEvents } from './route-store.js';

// The routing core wired to Kubernetes: what `serve` runs, and what the plugin runs in
// in-process mode (with the controller's own service account).

export interface LocalRouterOptions extends KubeClientOptions {
  pluginName?: string;
  logger: Logger;
  events?: RouteStoreEvents;
  /** Reuse a client (and its rate limit) across routers. */
  client?: KubeClient;
}

export function createLocalRouter(options: LocalRouterOptions): TrafficRouterApi {
  const client = options.client ?? new KubeClient(options);
  const store = new KubeRouteStore(client, options.events);
  const logger = options.logger;
  return new TrafficRouter({
    store,
    pluginName: options.pluginName ?? DEFAULT_PLUGIN_NAME,
    onWarning: (message: string, fields?: Record<string, unknown>) => logger.warn(fields ?? {}, message),
  });
}

/** One router per `trafficRouting.plugins` key, sharing one client: the gRPC server's RouterFor. */
export function localRouters(options: Omit<LocalRouterOptions, 'pluginName'> & { defaultPluginName?: string }) {
  const client = options.client ?? new KubeClient(options);
  const byName = new Map<string, TrafficRouterApi>();
  const fallback = options.defaultPluginName ?? DEFAULT_PLUGIN_NAME;
  return (pluginName: string): TrafficRouterApi => {
    const name = pluginName || fallback;
    let router = byName.get(name);
    if (!router) {
      router = createLocalRouter({ ...options, client, pluginName: name });
      byName.set(name, router);
    }
    return router;
  };
}

export type { KubeConfig };

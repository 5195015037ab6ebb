import type { Logger } from 'pino';
import type { KubeClient } from '../kube/client.js';
import type { EventRecorder } from '../kube/events.js';
import type { RouteStoreEvents } from '../kube/route-store.js';
import type { TrafficRouterApi } from '../routing/api.js';
import type { RouteStore } from '../routing/route-store.js';
import { countConnections, kubeRequestMetrics, observeRouter, rpcMetrics } from './instrument.js';
import type { Metrics } from './metrics.js';

// What the plugin process reports about itself: Kubernetes Events on the Rollout for every route
// change (always), and with --metrics-listen Prometheus metrics on an extra port of the
// controller pod (per-method calls, errors and latency; route writes; API requests by verb and
// code; connections).

export interface PluginObservability {
  metrics?: Metrics;
  /** The metrics endpoint, when listening. */
  metricsUrl?: string;
  /** Options for the in-process router built on `client`. */
  localRouter(client: KubeClient): Promise<{ recorder: EventRecorder; events?: RouteStoreEvents; store?: RouteStore }>;
  /** Options for the remote router (trace context to the companion). */
  remote(): { metadata?: () => Record<string, string> };
  instrument(router: TrafficRouterApi): TrafficRouterApi;
  /** Flushes traces (before exit). */
  shutdown(): Promise<void>;
}

export async function startPluginObservability(options: { metricsListen?: string; logger: Logger }): Promise<PluginObservability> {
  const { logger } = options;
  // prom-client and the HTTP server load only with --metrics-listen (the plugin's memory budget).
  const metrics = options.metricsListen ? (await import('./metrics.js')).createMetrics() : undefined;
  const { tracingWanted } = await import('./tracing-env.js');
  const tracing = tracingWanted(process.env) ? (await import('./tracing.js')).startTracing('rollouts-companion-plugin') : undefined;
  let metricsUrl: string | undefined;
  if (metrics && options.metricsListen) {
    countConnections(metrics);
    const { startHealthServer } = await import('./health.js');
    const server = await startHealthServer({ address: options.metricsListen, registry: metrics.registry, live: () => true, ready: () => true });
    metricsUrl = `${server.url}/metrics`;
    logger.info({ address: server.address }, 'plugin metrics listening');
  }
  return {
    metrics,
    metricsUrl,
    // In-process mode only: remote mode loads no Kubernetes client at all.
    localRouter: async (client) => {
      const { EVENT_COMPONENT, EventRecorder } = await import('../kube/events.js');
      const { KubeRouteStore } = await import('../kube/route-store.js');
      if (metrics) client.onRequest(kubeRequestMetrics(metrics));
      const recorder = new EventRecorder({
        kube: client,
        component: EVENT_COMPONENT,
        onOutcome: (outcome, event, error) => {
          metrics?.events.inc({ reason: event.reason, outcome });
          if (error !== undefined) logger.debug({ err: error instanceof Error ? error.message : String(error), reason: event.reason }, 'could not record event');
        },
      });
      const events: RouteStoreEvents | undefined = metrics
        ? { onWrite: (kind) => metrics.routeWrites.inc({ kind }), onConflict: (kind) => metrics.routeConflicts.inc({ kind }) }
        : undefined;
      return { recorder, events, ...(tracing ? { store: tracing.traceStore(new KubeRouteStore(client, events)) } : {}) };
    },
    remote: () => (tracing ? { metadata: tracing.outgoing } : {}),
    instrument: (router) => {
      const measured = metrics ? observeRouter(router, rpcMetrics(metrics)) : router;
      return tracing ? tracing.traceRouter(measured) : measured;
    },
    shutdown: async () => tracing?.shutdown(),
  };
}

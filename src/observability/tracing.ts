import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { context, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { aroundRouter, type CallContext, type TrafficRouterApi } from '../routing/api.js';
import type { RouteRef, RouteStore } from '../routing/route-store.js';
import type { Rollout } from '../routing/rollout.js';

// OpenTelemetry traces, loaded only when the standard OTEL_* variables ask for them (see
// tracing-env.ts; callers import this module dynamically, so without them not one byte of the
// SDK is loaded). Spans: one per RPC (plugin and companion), one per route write, one per
// relabel; W3C trace context goes from the plugin to the companion in gRPC metadata. The
// exporter is OTLP over HTTP and reads its own OTEL_EXPORTER_OTLP_* settings.

export const Attr = {
  RolloutNamespace: 'rollouts.rollout.namespace',
  RolloutName: 'rollouts.rollout.name',
  Routes: 'rollouts.routes',
  Pod: 'k8s.pod.name',
  Namespace: 'k8s.namespace.name',
  Hash: 'rollouts.pod_template_hash',
} as const;

export interface Tracing {
  tracer: Tracer;
  /** The router with a span per call (children of the caller's active span). */
  traceRouter(router: TrafficRouterApi): TrafficRouterApi;
  /** The store with a span per route write. */
  traceStore(store: RouteStore): RouteStore;
  /** gRPC metadata carrying the active span (remote mode: the plugin's call reaches the companion). */
  outgoing(): Record<string, string>;
  /** Runs a gRPC server call in a SERVER span that continues the caller's trace. */
  serverCall<T>(method: string, metadata: Record<string, string | undefined>, run: () => Promise<T>): Promise<T>;
  /** A relabel span, ended by the returned function. */
  relabel(attributes: Attributes): (error?: unknown) => void;
  /** Sends what is buffered (before the process exits). */
  shutdown(): Promise<void>;
}

const rolloutAttributes = (rollout: unknown): Attributes => {
  const meta = (rollout as Rollout | undefined)?.metadata;
  return meta?.name ? { [Attr.RolloutNamespace]: meta.namespace ?? '', [Attr.RolloutName]: meta.name } : {};
};

const fail = (span: Span, error: unknown): void => {
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
};

export function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): Tracing {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  const tracer = trace.getTracer('rollouts-companion');

  const inSpan = async <T>(name: string, attributes: Attributes, kind: SpanKind, run: () => Promise<T>, parent = context.active()): Promise<T> => {
    const span = tracer.startSpan(name, { kind, attributes }, parent);
    try {
      const result = await context.with(trace.setSpan(parent, span), run);
      const error = (result as { error?: unknown } | undefined)?.error;
      if (typeof error === 'string' && error !== '') fail(span, error);
      return result;
    } catch (error) {
      fail(span, error);
      throw error;
    } finally {
      span.end();
    }
  };

  // Type names the plugin; it is not work worth a span.
  const traceRouter = (router: TrafficRouterApi): TrafficRouterApi =>
    aroundRouter(router, (method, args, call) => (method === 'Type' ? call() : inSpan(method, rolloutAttributes(args[0]), SpanKind.CLIENT, call)));

  const traceStore = (store: RouteStore): RouteStore => ({
    get: (ref, ctx) => store.get(ref, ctx),
    list: (kind, namespace, selector, ctx) => store.list(kind, namespace, selector, ctx),
    serviceExists: (namespace, name, ctx) => store.serviceExists(namespace, name, ctx),
    readConfigMap: (namespace, name, ctx) => store.readConfigMap(namespace, name, ctx),
    ...(store.prefetch && { prefetch: store.prefetch.bind(store) }),
    update: (refs: readonly RouteRef[], plan, ctx?: CallContext, prefetched?, check?) =>
      inSpan('route write', { [Attr.Routes]: refs.map((r) => `${r.kind}/${r.namespace}/${r.name}`) }, SpanKind.INTERNAL, async () => {
        const updates = await store.update(refs, plan, ctx, prefetched, check);
        trace.getActiveSpan()?.setAttribute('rollouts.routes_written', updates.filter((u) => u.written).map((u) => `${u.ref.kind}/${u.ref.namespace}/${u.ref.name}`));
        return updates;
      }),
  });

  return {
    tracer,
    traceRouter,
    traceStore,
    outgoing: () => {
      const carrier: Record<string, string> = {};
      propagation.inject(context.active(), carrier);
      return carrier;
    },
    serverCall: (method, metadata, run) =>
      inSpan(`TrafficRouter/${method}`, {}, SpanKind.SERVER, run, propagation.extract(context.active(), metadata)),
    relabel: (attributes) => {
      const span = tracer.startSpan('relabel', { attributes });
      return (error) => {
        if (error !== undefined) fail(span, error);
        span.end();
      };
    },
    shutdown: () => provider.shutdown(),
  };
}

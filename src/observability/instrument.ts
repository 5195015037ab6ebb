import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { aroundRouter, Verified, type RpcResult, type TrafficRouterApi, type VerifyResult } from '../routing/api.js';
import type { Metrics } from './metrics.js';

// Metrics around what a process does, attached from outside: a TrafficRouterApi decorator (calls,
// errors, latency per method), a Kubernetes request observer, and a connection counter fed by
// node's own diagnostics channels (so no socket-owning module needs to know about metrics).

export const RpcOutcome = { Ok: 'ok', Error: 'error', NotVerified: 'not_verified' } as const;
export type RpcOutcome = (typeof RpcOutcome)[keyof typeof RpcOutcome];

/** Called around every router call; returns what to do when it ends (tracing hooks in here). */
export type CallObserver = (method: string, args: readonly unknown[]) => (outcome: RpcOutcome, error?: unknown) => void;

const outcomeOf = (result: RpcResult | VerifyResult): RpcOutcome =>
  result.error ? RpcOutcome.Error : 'verified' in result && result.verified === Verified.NotVerified ? RpcOutcome.NotVerified : RpcOutcome.Ok;

/** The router with `observe` told about every call (the caller's arguments, its context included, pass through). */
export function observeRouter(router: TrafficRouterApi, observe: CallObserver): TrafficRouterApi {
  return aroundRouter(router, async (method, args, call) => {
    const done = observe(method, args);
    try {
      const result = await call();
      done(typeof result === 'object' && result !== null ? outcomeOf(result as RpcResult) : RpcOutcome.Ok);
      return result;
    } catch (error) {
      done(RpcOutcome.Error, error);
      throw error;
    }
  });
}

/** Calls, errors and latency per method on the RPC metrics. */
export function rpcMetrics(metrics: Metrics): CallObserver {
  return (method) => {
    const started = process.hrtime.bigint();
    return (outcome) => {
      metrics.rpcRequests.inc({ method, result: outcome });
      metrics.rpcDuration.observe({ method }, Number(process.hrtime.bigint() - started) / 1e9);
    };
  };
}

/** A KubeClient request observer feeding the API request metrics. */
export function kubeRequestMetrics(metrics: Metrics): (request: { verb: string; code: number; seconds: number }) => void {
  return ({ verb, code, seconds }) => {
    metrics.kubeRequests.inc({ verb, code: String(code) });
    metrics.kubeRequestDuration.observe({ verb }, seconds);
  };
}

const CONNECTION_CHANNELS = { outbound: 'net.client.socket', inbound: 'net.server.socket' } as const;

/** Counts the process's connections on the metrics until the returned function is called. */
export function countConnections(metrics: Metrics): () => void {
  const handlers = Object.entries(CONNECTION_CHANNELS).map(([direction, channel]) => {
    const handler = (message: unknown) => {
      const socket = (message as { socket?: Socket }).socket;
      if (!socket) return;
      metrics.connectionsOpened.inc({ direction });
      metrics.openConnections.inc({ direction });
      socket.once('close', () => metrics.openConnections.dec({ direction }));
    };
    subscribe(channel, handler);
    return () => unsubscribe(channel, handler);
  });
  for (const direction of Object.keys(CONNECTION_CHANNELS)) metrics.openConnections.set({ direction }, 0);
  return () => handlers.forEach((stop) => stop());
}

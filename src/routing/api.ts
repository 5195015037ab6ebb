import { setMaxListeners } from 'node:events';
import type { Rollout, SetHeaderRoute, SetMirrorRoute, WeightDestination } from './rollout.js';

// The traffic-router contract, shaped like Argo Rollouts' plugin RPC. One implementation
// drives Gateway API routes (TrafficRouter); the gRPC client and the go-plugin entry
// forward to it. Errors travel as strings, as in the plugin RPC: '' means success.

/** The plugin RPC's methods, in the controller's order. */
export const TRAFFIC_ROUTER_METHODS = [
  'InitPlugin',
  'UpdateHash',
  'SetWeight',
  'SetHeaderRoute',
  'SetMirrorRoute',
  'VerifyWeight',
  'RemoveManagedRoutes',
  'Type',
] as const;
export type TrafficRouterMethod = (typeof TRAFFIC_ROUTER_METHODS)[number];

export const Verified = {
  NotVerified: 0,
  Verified: 1,
  NotImplemented: 2,
} as const;
export type Verified = (typeof Verified)[keyof typeof Verified];

/**
 * What every call carries besides its arguments: the caller's cancellation and deadline.
 * Work for a caller that has gone (gRPC cancelled, plugin session closed, deadline passed)
 * is not written. Optional so that tests and the CLI can call without one.
 */
export interface CallContext {
  signal?: AbortSignal;
  /** Epoch milliseconds after which the caller no longer waits. */
  deadline?: number;
}

export interface RpcResult {
  /** Empty on success, a human-readable reason otherwise (the plugin's RpcError.ErrorString). */
  error: string;
}

export interface VerifyResult extends RpcResult {
  verified: Verified;
  /** Why the weights are not verified (yet): for logs and the CLI; not part of the plugin RPC. */
  reason?: string;
}

/**
 * Every method takes the caller's CallContext last (optional): decorators and forwarders must
 * pass it through, so that cancellation and deadlines reach the API requests.
 */
export interface TrafficRouterApi {
  /** Called once when the plugin starts. With a rollout (gRPC only) it also validates that rollout's config. */
  initPlugin(rollout?: Rollout, ctx?: CallContext): Promise<RpcResult>;
  updateHash(
    rollout: Rollout,
    canaryHash: string,
    stableHash: string,
    additionalDestinations: WeightDestination[],
    ctx?: CallContext,
  ): Promise<RpcResult>;
  setWeight(rollout: Rollout, desiredWeight: number, additionalDestinations: WeightDestination[], ctx?: CallContext): Promise<RpcResult>;
  setHeaderRoute(rollout: Rollout, headerRoute: SetHeaderRoute, ctx?: CallContext): Promise<RpcResult>;
  setMirrorRoute(rollout: Rollout, mirrorRoute: SetMirrorRoute, ctx?: CallContext): Promise<RpcResult>;
  verifyWeight(rollout: Rollout, desiredWeight: number, additionalDestinations: WeightDestination[], ctx?: CallContext): Promise<VerifyResult>;
  removeManagedRoutes(rollout: Rollout, ctx?: CallContext): Promise<RpcResult>;
  type(ctx?: CallContext): Promise<string>;
}

/**
 * Too much work is already queued in this process (the API rate-limit queue is full). Thrown,
 * not returned as an RpcResult, so that the gRPC layer can answer RESOURCE_EXHAUSTED and the
 * caller backs off instead of piling up more work.
 */
export class OverloadedError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'OverloadedError';
  }
}

/** The caller's signal and deadline as one AbortSignal (undefined when the call has neither). */
export function callSignal(ctx: CallContext | undefined): AbortSignal | undefined {
  const signals: AbortSignal[] = [];
  if (ctx?.signal) signals.push(ctx.signal);
  if (ctx?.deadline !== undefined && Number.isFinite(ctx.deadline)) signals.push(AbortSignal.timeout(Math.max(0, ctx.deadline - Date.now())));
  if (signals.length <= 1) return signals[0];
  const combined = AbortSignal.any(signals);
  // Each of the call's route queues and requests listens to it.
  setMaxListeners(0, combined);
  return combined;
}

/** Whether the caller has gone: cancelled, or its deadline has passed. */
export function callerGone(ctx: CallContext | undefined): boolean {
  return Boolean(ctx?.signal?.aborted) || (ctx?.deadline !== undefined && Date.now() >= ctx.deadline);
}

/** The name `Type` answers; stable across versions. */
export const PLUGIN_TYPE = 'rollouts-companion/gatewayAPI';
/** The key under `trafficRouting.plugins` the companion reads unless told otherwise. */
export const DEFAULT_PLUGIN_NAME = 'rollouts-companion/gatewayAPI';

/** lowerCamel TrafficRouterApi member of each RPC method name. */
const MEMBER_OF = Object.fromEntries(
  TRAFFIC_ROUTER_METHODS.map((m) => [m, (m.charAt(0).toLowerCase() + m.slice(1)) as keyof TrafficRouterApi]),
) as Record<TrafficRouterMethod, keyof TrafficRouterApi>;

/**
 * A TrafficRouterApi whose every call goes through `around` (metrics, tracing): one place that
 * knows the method list, so a decorator cannot forget a method. Arguments pass unchanged.
 */
export function aroundRouter(
  router: TrafficRouterApi,
  around: (method: TrafficRouterMethod, args: unknown[], call: () => Promise<unknown>) => Promise<unknown>,
): TrafficRouterApi {
  const out: Record<string, unknown> = {};
  for (const method of TRAFFIC_ROUTER_METHODS) {
    const member = MEMBER_OF[method];
    out[member] = (...args: unknown[]) => around(method, args, () => (router[member] as (...a: unknown[]) => Promise<unknown>)(...args));
  }
  return out as unknown as TrafficRouterApi;
}

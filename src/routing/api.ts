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

export interface TrafficRouterApi {
  /** Called once when the plugin starts. With a rollout (gRPC only) it also validates that rollout's config. */
  initPlugin(rollout?: Rollout): Promise<RpcResult>;
  updateHash(rollout: Rollout, canaryHash: string, stableHash: string, additionalDestinations: WeightDestination[]): Promise<RpcResult>;
  setWeight(rollout: Rollout, desiredWeight: number, additionalDestinations: WeightDestination[]): Promise<RpcResult>;
  setHeaderRoute(rollout: Rollout, headerRoute: SetHeaderRoute): Promise<RpcResult>;
  setMirrorRoute(rollout: Rollout, mirrorRoute: SetMirrorRoute): Promise<RpcResult>;
  verifyWeight(rollout: Rollout, desiredWeight: number, additionalDestinations: WeightDestination[]): Promise<VerifyResult>;
  removeManagedRoutes(rollout: Rollout): Promise<RpcResult>;
  type(): Promise<string>;
}

/** The name `Type` answers; stable across versions. */
export const PLUGIN_TYPE = 'rollouts-companion/gatewayAPI';
/** The key under `trafficRouting.plugins` the companion reads unless told otherwise. */
export const DEFAULT_PLUGIN_NAME = 'rollouts-companion/gatewayAPI';

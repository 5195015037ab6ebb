import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { PLUGIN_TYPE, Verified, type RpcResult, type TrafficRouterApi, type VerifyResult } from '../routing/api.js';
import type { Rollout, SetHeaderRoute, SetMirrorRoute, WeightDestination } from '../routing/rollout.js';
import { toDestinations, toHeaderRoute, toMirrorRoute, toTarget, trafficRouterClientConstructor } from './contract.js';

// TrafficRouterApi over gRPC: the `call` verb and the plugin's remote mode use it. A
// companion that is down or slow becomes an error string after the deadline, never a hang.

export interface RemoteRouterOptions {
  address: string;
  /** The `trafficRouting.plugins` key the companion should read ('' = its default). */
  pluginName?: string;
  tls?: { caFile?: string } | boolean;
  /** Per-call deadline; default 10 s. */
  deadlineMs?: number;
}

export const DEFAULT_DEADLINE_MS = 10_000;

export interface RemoteRouter extends TrafficRouterApi {
  close(): void;
}

export function createRemoteRouter(options: RemoteRouterOptions): RemoteRouter {
  const credentials = options.tls
    ? grpc.credentials.createSsl(typeof options.tls === 'object' && options.tls.caFile ? readFileSync(options.tls.caFile) : undefined)
    : grpc.credentials.createInsecure();
  const Client = trafficRouterClientConstructor();
  const client = new Client(options.address, credentials) as grpc.Client & Record<string, grpc.requestCallback<unknown>>;
  const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const pluginName = options.pluginName ?? '';

  const unary = <T>(method: string, request: object): Promise<T> =>
    new Promise((resolve, reject) => {
      const fn = (client as unknown as Record<string, Function>)[method]!;
      fn.call(client, request, { deadline: Date.now() + deadlineMs }, (err: grpc.ServiceError | null, reply: T) =>
        err ? reject(err) : resolve(reply),
      );
    });

  const describe = (method: string, err: unknown): string => {
    const e = err as grpc.ServiceError;
    if (e.code === grpc.status.DEADLINE_EXCEEDED) return `companion ${options.address} did not answer ${method} within ${deadlineMs} ms`;
    // grpc-js appends an empty "Resolution note:" to connection failures.
    if (e.code === grpc.status.UNAVAILABLE) return `companion ${options.address} is unavailable: ${e.details.replace(/\s*Resolution note:\s*$/, '')}`;
    return `companion ${options.address} rejected ${method}: ${e.details ?? String(err)}`;
  };

  const rpc = async (method: string, request: object): Promise<RpcResult> => {
    try {
      return { error: (await unary<{ error: string }>(method, request)).error };
    } catch (err) {
      return { error: describe(method, err) };
    }
  };

  const target = (rollout: Rollout) => toTarget(rollout, pluginName);

  return {
    initPlugin: (rollout?: Rollout) => rpc('InitPlugin', rollout ? { target: target(rollout) } : { target: { rolloutJson: '', pluginName } }),
    updateHash: (rollout: Rollout, canaryHash: string, stableHash: string, ds: WeightDestination[]) =>
      rpc('UpdateHash', { target: target(rollout), canaryHash, stableHash, additionalDestinations: toDestinations(ds) }),
    setWeight: (rollout: Rollout, desiredWeight: number, ds: WeightDestination[]) =>
      rpc('SetWeight', { target: target(rollout), desiredWeight, additionalDestinations: toDestinations(ds) }),
    setHeaderRoute: (rollout: Rollout, headerRoute: SetHeaderRoute) =>
      rpc('SetHeaderRoute', { target: target(rollout), headerRoute: toHeaderRoute(headerRoute) }),
    setMirrorRoute: (rollout: Rollout, mirrorRoute: SetMirrorRoute) =>
      rpc('SetMirrorRoute', { target: target(rollout), mirrorRoute: toMirrorRoute(mirrorRoute) }),
    removeManagedRoutes: (rollout: Rollout) => rpc('RemoveManagedRoutes', { target: target(rollout) }),
    verifyWeight: async (rollout: Rollout, desiredWeight: number, ds: WeightDestination[]): Promise<VerifyResult> => {
      try {
        const r = await unary<{ verified: number; error: string; reason: string }>('VerifyWeight', {
          target: target(rollout),
          desiredWeight,
          additionalDestinations: toDestinations(ds),
        });
        return { verified: r.verified as Verified, error: r.error, ...(r.reason ? { reason: r.reason } : {}) };
      } catch (err) {
        return { verified: Verified.NotVerified, error: describe('VerifyWeight', err) };
      }
    },
    // Type must answer even when the companion is down: the controller only logs it.
    type: async () => {
      try {
        return (await unary<{ type: string }>('Type', {})).type;
      } catch {
        return PLUGIN_TYPE;
      }
    },
    close: () => client.close(),
  };
}

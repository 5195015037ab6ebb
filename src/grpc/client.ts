import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { PLUGIN_TYPE, Verified, type CallContext, type RpcResult, type TrafficRouterApi, type VerifyResult } from '../routing/api.js';
import type { Rollout, SetHeaderRoute, SetMirrorRoute, WeightDestination } from '../routing/rollout.js';
import { toDestinations, toHeaderRoute, toMirrorRoute, toTarget, trafficRouterClientConstructor } from './contract.js';
import { companionContractGate } from './version.js';

// TrafficRouterApi over gRPC: the `call` verb and the plugin's remote mode use it. A
// companion that is down or slow becomes an error string after the deadline, never a hang.

export interface RemoteRouterOptions {
  address: string;
  /** The `trafficRouting.plugins` key the companion should read ('' = its default). */
  pluginName?: string;
  tls?: { caFile?: string } | boolean;
  /** Per-call deadline; default 10 s. */
  deadlineMs?: number;
  /** Extra metadata for each call, read when the call starts (W3C trace context). */
  metadata?: () => Record<string, string>;
  /** A ServiceAccount token file (projected, rotated by the kubelet) sent with every call. */
  tokenFile?: string;
}

// The kubelet rotates a projected token at 80 % of its lifetime (at least 10 minutes): re-reading
// it every minute always sends a valid one.
const TOKEN_REREAD_MS = 60_000;

export const DEFAULT_DEADLINE_MS = 10_000;

export interface RemoteRouter extends TrafficRouterApi {
  close(): void;
}

/** The metadata every call to the companion carries: the caller's token, re-read as the kubelet rotates it. */
export function callMetadata(tokenFile: string | undefined): () => grpc.Metadata {
  let token: { value: string; readAt: number } | undefined;
  return () => {
    const md = new grpc.Metadata();
    if (!tokenFile) return md;
    if (!token || Date.now() - token.readAt > TOKEN_REREAD_MS) {
      try {
        token = { value: readFileSync(tokenFile, 'utf8').trim(), readAt: Date.now() };
      } catch (err) {
        throw new Error(`cannot read the token file ${tokenFile}: ${(err as Error).message}`, { cause: err });
      }
    }
    md.set('authorization', `Bearer ${token.value}`);
    return md;
  };
}

export function createRemoteRouter(options: RemoteRouterOptions): RemoteRouter {
  const credentials = options.tls
    ? grpc.credentials.createSsl(typeof options.tls === 'object' && options.tls.caFile ? readFileSync(options.tls.caFile) : undefined)
    : grpc.credentials.createInsecure();
  const Client = trafficRouterClientConstructor();
  const client = new Client(options.address, credentials) as grpc.Client & Record<string, grpc.requestCallback<unknown>>;
  const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const pluginName = options.pluginName ?? '';
  // Nothing is forwarded to a companion whose contract version this build cannot use.
  const contract = companionContractGate({ address: options.address, credentials, deadlineMs });

  const metadata = callMetadata(options.tokenFile);

  // The caller's own deadline and cancellation travel on to the companion.
  const unary = <T>(method: string, request: object, ctx?: CallContext): Promise<T> =>
    new Promise((resolve, reject) => {
      const fn = (client as unknown as Record<string, Function>)[method]!;
      const deadline = Math.min(Date.now() + deadlineMs, ctx?.deadline ?? Infinity);
      const onAbort = () => call.cancel();
      const md = metadata();
      for (const [key, value] of Object.entries(options.metadata?.() ?? {})) md.set(key, value);
      const call = fn.call(client, request, md, { deadline }, (err: grpc.ServiceError | null, reply: T) => {
        ctx?.signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(reply);
      }) as grpc.ClientUnaryCall;
      if (ctx?.signal?.aborted) call.cancel();
      else ctx?.signal?.addEventListener('abort', onAbort, { once: true });
    });

  const describe = (method: string, err: unknown): string => {
    const e = err as grpc.ServiceError;
    if (e.code === undefined) return (err as Error).message;
    if (e.code === grpc.status.DEADLINE_EXCEEDED) return `companion ${options.address} did not answer ${method} within ${deadlineMs} ms`;
    // grpc-js appends an empty "Resolution note:" to connection failures.
    if (e.code === grpc.status.UNAVAILABLE) return `companion ${options.address} is unavailable: ${e.details.replace(/\s*Resolution note:\s*$/, '')}`;
    if (e.code === grpc.status.RESOURCE_EXHAUSTED) return `companion ${options.address} is overloaded (${method}): ${e.details}`;
    return `companion ${options.address} rejected ${method}: ${e.details ?? String(err)}`;
  };

  const rpc = async (method: string, request: object, ctx?: CallContext): Promise<RpcResult> => {
    try {
      const refused = await contract.check();
      if (refused) return { error: refused };
      return { error: (await unary<{ error: string }>(method, request, ctx)).error };
    } catch (err) {
      return { error: describe(method, err) };
    }
  };

  const target = (rollout: Rollout) => toTarget(rollout, pluginName);

  return {
    initPlugin: (rollout?: Rollout, ctx?: CallContext) =>
      rpc('InitPlugin', rollout ? { target: target(rollout) } : { target: { rolloutJson: '', pluginName } }, ctx),
    updateHash: (rollout: Rollout, canaryHash: string, stableHash: string, ds: WeightDestination[], ctx?: CallContext) =>
      rpc('UpdateHash', { target: target(rollout), canaryHash, stableHash, additionalDestinations: toDestinations(ds) }, ctx),
    setWeight: (rollout: Rollout, desiredWeight: number, ds: WeightDestination[], ctx?: CallContext) =>
      rpc('SetWeight', { target: target(rollout), desiredWeight, additionalDestinations: toDestinations(ds) }, ctx),
    setHeaderRoute: (rollout: Rollout, headerRoute: SetHeaderRoute, ctx?: CallContext) =>
      rpc('SetHeaderRoute', { target: target(rollout), headerRoute: toHeaderRoute(headerRoute) }, ctx),
    setMirrorRoute: (rollout: Rollout, mirrorRoute: SetMirrorRoute, ctx?: CallContext) =>
      rpc('SetMirrorRoute', { target: target(rollout), mirrorRoute: toMirrorRoute(mirrorRoute) }, ctx),
    removeManagedRoutes: (rollout: Rollout, ctx?: CallContext) => rpc('RemoveManagedRoutes', { target: target(rollout) }, ctx),
    verifyWeight: async (rollout: Rollout, desiredWeight: number, ds: WeightDestination[], ctx?: CallContext): Promise<VerifyResult> => {
      try {
        const refused = await contract.check();
        if (refused) return { verified: Verified.NotVerified, error: refused };
        const r = await unary<{ verified: number; error: string; reason: string }>(
          'VerifyWeight',
          { target: target(rollout), desiredWeight, additionalDestinations: toDestinations(ds) },
          ctx,
        );
        return { verified: r.verified as Verified, error: r.error, ...(r.reason ? { reason: r.reason } : {}) };
      } catch (err) {
        return { verified: Verified.NotVerified, error: describe('VerifyWeight', err) };
      }
    },
    // Type must answer even when the companion is down: the controller only logs it.
    type: async (ctx?: CallContext) => {
      try {
        return (await unary<{ type: string }>('Type', {}, ctx)).type;
      } catch {
        return PLUGIN_TYPE;
      }
    },
    close: () => {
      contract.close();
      client.close();
    },
  };
}

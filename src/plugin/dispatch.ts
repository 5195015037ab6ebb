import type { Logger } from 'pino';
import { TRAFFIC_ROUTER_METHODS, Verified, type CallContext, type TrafficRouterApi, type TrafficRouterMethod } from '../routing/api.js';
import { routerFailed, unknownMethod } from './errors.js';
import { decodeTrafficRouterArgs } from './go-to-kube.js';
import { RpcErrorType, StringType, VerifyWeightResponseType, type RpcReply } from './netrpc.js';

// net/rpc `Plugin.*` calls of Argo Rollouts' RpcTrafficRouterPlugin, forwarded to a
// TrafficRouterApi. A failure of ours is an RpcError reply (the controller logs it and
// retries the reconcile), never a net/rpc error: that would look like a broken plugin.

const rpcError = (message: string): RpcReply => ({ type: RpcErrorType, value: { ErrorString: message } });

/**
 * How long one plugin call may take. The controller's net/rpc call has no deadline of its own
 * and blocks its reconcile while it waits; past this the call answers with an error and the
 * controller retries on its next reconcile, instead of a stuck API server stalling it forever.
 */
export const PLUGIN_CALL_DEADLINE_MS = 10_000;

/**
 * What every `Plugin.*` call of either plugin kind starts with: the method name (an unknown
 * one is a net/rpc error, as in Go's server), its CallContext (the plugin deadline, aborted
 * with the session) and a debug log of how long it took.
 */
export function beginPluginCall<M extends string>(
  serviceMethod: string,
  methods: readonly M[],
  logger: Logger,
  session: AbortSignal | undefined,
): { method: M; ctx: CallContext; log: (fields: Record<string, unknown>) => void } {
  const method = serviceMethod.startsWith('Plugin.') ? serviceMethod.slice('Plugin.'.length) : '';
  if (!(methods as readonly string[]).includes(method)) throw new Error(unknownMethod(serviceMethod));
  const ctx: CallContext = { deadline: Date.now() + PLUGIN_CALL_DEADLINE_MS, ...(session ? { signal: session } : {}) };
  const started = process.hrtime.bigint();
  const log = (fields: Record<string, unknown>) =>
    logger.debug({ method, ms: Number(process.hrtime.bigint() - started) / 1e6, ...fields }, 'plugin call');
  return { method: method as M, ctx, log };
}

export async function dispatchTrafficRouterCall(
  router: TrafficRouterApi,
  logger: Logger,
  serviceMethod: string,
  args: unknown,
  /** Aborts when the plugin session closes: nobody is left to hear the answer. */
  session?: AbortSignal,
): Promise<RpcReply> {
  const { method, ctx, log } = beginPluginCall(serviceMethod, TRAFFIC_ROUTER_METHODS, logger, session);
  try {
    switch (method) {
      case 'Type': {
        const type = await router.type(ctx);
        log({});
        return { type: StringType, value: type };
      }
      case 'InitPlugin': {
        const result = await router.initPlugin(undefined, ctx);
        log({ error: result.error || undefined });
        return rpcError(result.error);
      }
      default:
        break;
    }
    const a = decodeTrafficRouterArgs(method, args);
    const fields = { rollout: `${a.rollout.metadata.namespace ?? ''}/${a.rollout.metadata.name ?? ''}` };
    switch (method as Exclude<TrafficRouterMethod, 'Type' | 'InitPlugin'>) {
      case 'VerifyWeight': {
        const result = await router.verifyWeight(a.rollout, a.desiredWeight, a.additionalDestinations, ctx);
        log({ ...fields, desiredWeight: a.desiredWeight, verified: result.verified, error: result.error || undefined });
        return { type: VerifyWeightResponseType, value: { Verified: result.verified, Err: { ErrorString: result.error } } };
      }
      case 'UpdateHash': {
        const result = await router.updateHash(a.rollout, a.canaryHash, a.stableHash, a.additionalDestinations, ctx);
        log({ ...fields, error: result.error || undefined });
        return rpcError(result.error);
      }
      case 'SetWeight': {
        const result = await router.setWeight(a.rollout, a.desiredWeight, a.additionalDestinations, ctx);
        log({ ...fields, desiredWeight: a.desiredWeight, error: result.error || undefined });
        return rpcError(result.error);
      }
      case 'SetHeaderRoute': {
        const result = await router.setHeaderRoute(a.rollout, a.headerRoute ?? {}, ctx);
        log({ ...fields, error: result.error || undefined });
        return rpcError(result.error);
      }
      case 'SetMirrorRoute': {
        const result = await router.setMirrorRoute(a.rollout, a.mirrorRoute ?? { name: '' }, ctx);
        log({ ...fields, error: result.error || undefined });
        return rpcError(result.error);
      }
      case 'RemoveManagedRoutes': {
        const result = await router.removeManagedRoutes(a.rollout, ctx);
        log({ ...fields, error: result.error || undefined });
        return rpcError(result.error);
      }
    }
  } catch (error) {
    const message = routerFailed(method, error);
    logger.warn({ method, err: error }, 'plugin call failed');
    if (method === 'VerifyWeight') {
      return { type: VerifyWeightResponseType, value: { Verified: Verified.NotVerified, Err: { ErrorString: message } } };
    }
    if (method === 'Type') throw new Error(message, { cause: error });
    return rpcError(message);
  }
}

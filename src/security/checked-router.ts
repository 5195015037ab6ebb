import { OverloadedError, Verified, type CallContext, type RpcResult, type TrafficRouterApi } from '../routing/api.js';
import type { Rollout, WeightDestination } from '../routing/rollout.js';
import { errorText } from '../routing/route-store.js';

// A TrafficRouterApi that runs a check before every call carrying a Rollout and hands the inner
// router the Rollout the check returns. A failed check is the call's error string (nothing is
// written); every other argument, the call context included, passes through untouched.

/** Returns the Rollout to act on, or throws an Error whose message is the call's error. */
export type RolloutCheck = (rollout: Rollout, additionalDestinations: readonly WeightDestination[], ctx?: CallContext) => Promise<Rollout>;

export function checkedRouter(inner: TrafficRouterApi, check: RolloutCheck): TrafficRouterApi {
  /** The Rollout to act on, or the error to answer with. A full request queue stays an exception (RESOURCE_EXHAUSTED). */
  const checked = async (sent: Rollout, destinations: readonly WeightDestination[], ctx: CallContext | undefined): Promise<Rollout | { error: string }> => {
    try {
      return await check(sent, destinations, ctx);
    } catch (err) {
      if (err instanceof OverloadedError) throw err;
      return { error: errorText(err) };
    }
  };
  const run = async (sent: Rollout, destinations: readonly WeightDestination[], ctx: CallContext | undefined, call: (r: Rollout) => Promise<RpcResult>) => {
    const r = await checked(sent, destinations, ctx);
    return 'error' in r ? r : call(r);
  };
  return {
    initPlugin: (rollout, ctx) => (rollout ? run(rollout, [], ctx, (r) => inner.initPlugin(r, ctx)) : inner.initPlugin(rollout, ctx)),
    updateHash: (rollout, canaryHash, stableHash, ds, ctx) => run(rollout, ds, ctx, (r) => inner.updateHash(r, canaryHash, stableHash, ds, ctx)),
    setWeight: (rollout, weight, ds, ctx) => run(rollout, ds, ctx, (r) => inner.setWeight(r, weight, ds, ctx)),
    setHeaderRoute: (rollout, headerRoute, ctx) => run(rollout, [], ctx, (r) => inner.setHeaderRoute(r, headerRoute, ctx)),
    setMirrorRoute: (rollout, mirrorRoute, ctx) => run(rollout, [], ctx, (r) => inner.setMirrorRoute(r, mirrorRoute, ctx)),
    removeManagedRoutes: (rollout, ctx) => run(rollout, [], ctx, (r) => inner.removeManagedRoutes(r, ctx)),
    verifyWeight: async (rollout, weight, ds, ctx) => {
      const r = await checked(rollout, ds, ctx);
      return 'error' in r ? { verified: Verified.NotVerified, error: r.error } : inner.verifyWeight(r, weight, ds, ctx);
    },
    type: (ctx) => inner.type(ctx),
  };
}

import { Verified, type TrafficRouterApi, type RpcResult } from '../routing/api.js';
import type { Rollout, WeightDestination } from '../routing/rollout.js';
import { errorText } from '../routing/router.js';

// A TrafficRouterApi that runs a check before every call carrying a Rollout and hands the inner
// router the Rollout the check returns. A failed check is the call's error string (nothing is
// written); every other argument, the call context included, passes through untouched.

/** Returns the Rollout to act on, or throws an Error whose message is the call's error. */
export type RolloutCheck = (rollout: Rollout, additionalDestinations: readonly WeightDestination[]) => Promise<Rollout>;

/** The arguments of a TrafficRouterApi method after its first `N` (the call context, whatever it holds). */
type Drop<T extends unknown[], N extends number, Seen extends unknown[] = []> = Seen['length'] extends N
  ? T
  : T extends [unknown?, ...infer R]
    ? Drop<R, N, [...Seen, unknown]>
    : T;
type Rest<M extends keyof TrafficRouterApi, N extends number> = Drop<Parameters<TrafficRouterApi[M]>, N>;

export function checkedRouter(inner: TrafficRouterApi, check: RolloutCheck): TrafficRouterApi {
  const checked = async (sent: Rollout, destinations: readonly WeightDestination[], run: (rollout: Rollout) => Promise<RpcResult>): Promise<RpcResult> => {
    let rollout: Rollout;
    try {
      rollout = await check(sent, destinations);
    } catch (err) {
      return { error: errorText(err) };
    }
    return run(rollout);
  };
  return {
    initPlugin: (rollout?: Rollout, ...rest: Rest<'initPlugin', 1>) =>
      rollout ? checked(rollout, [], (r) => inner.initPlugin(r, ...rest)) : inner.initPlugin(rollout, ...rest),
    updateHash: (rollout, canaryHash, stableHash, ds, ...rest: Rest<'updateHash', 4>) =>
      checked(rollout, ds, (r) => inner.updateHash(r, canaryHash, stableHash, ds, ...rest)),
    setWeight: (rollout, weight, ds, ...rest: Rest<'setWeight', 3>) => checked(rollout, ds, (r) => inner.setWeight(r, weight, ds, ...rest)),
    setHeaderRoute: (rollout, headerRoute, ...rest: Rest<'setHeaderRoute', 2>) => checked(rollout, [], (r) => inner.setHeaderRoute(r, headerRoute, ...rest)),
    setMirrorRoute: (rollout, mirrorRoute, ...rest: Rest<'setMirrorRoute', 2>) => checked(rollout, [], (r) => inner.setMirrorRoute(r, mirrorRoute, ...rest)),
    removeManagedRoutes: (rollout, ...rest: Rest<'removeManagedRoutes', 1>) => checked(rollout, [], (r) => inner.removeManagedRoutes(r, ...rest)),
    verifyWeight: async (rollout, weight, ds, ...rest: Rest<'verifyWeight', 3>) => {
      let stored: Rollout;
      try {
        stored = await check(rollout, ds);
      } catch (err) {
        return { verified: Verified.NotVerified, error: errorText(err) };
      }
      return inner.verifyWeight(stored, weight, ds, ...rest);
    },
    type: (...args) => inner.type(...args),
  };
}

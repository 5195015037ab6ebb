import { CoreV1Api } from '@kubernetes/client-node';
import { apiError, apiErrorInfo } from '../kube/api-error.js';
import type { KubeClient } from '../kube/client.js';
import { readExperimentMeta, readRollout } from '../kube/rollouts.js';
import type { RpcResult, TrafficRouterApi, VerifyResult } from '../routing/api.js';
import { Verified } from '../routing/api.js';
import type { ObjectMeta, Rollout, WeightDestination } from '../routing/rollout.js';
import { errorText } from '../routing/router.js';
import * as msg from './errors.js';

// The companion never acts on the Rollout a request carries: a caller could write any routes,
// backends or managed routes into it. It re-reads the Rollout the request names and hands the
// stored one to the router, so routes, namespace, managed routes and pinned routes are what the
// Rollout's owner wrote. Extra backends (experiment steps) must be Services of an Experiment this
// Rollout owns, as Argo Rollouts creates them.

export interface RolloutGuardOptions {
  kube: KubeClient;
  /** The plugin name this companion serves: stored Rollouts must have its entry. */
  pluginName: string;
}

/** Returns the router for a `trafficRouting.plugins` key ('' = the default one), as the gRPC server asks. */
export type RouterFor = (pluginName: string) => TrafficRouterApi;

/** The arguments of a TrafficRouterApi method after its first `N` (the call context, whatever it holds). */
type Drop<T extends unknown[], N extends number, Seen extends unknown[] = []> = Seen['length'] extends N
  ? T
  : T extends [unknown?, ...infer R]
    ? Drop<R, N, [...Seen, unknown]>
    : T;
type Rest<M extends keyof TrafficRouterApi, N extends number> = Drop<Parameters<TrafficRouterApi[M]>, N>;

const ownedBy = (meta: ObjectMeta | undefined, kind: string, match: (ref: { kind?: string; name?: string; uid?: string }) => boolean) =>
  ((meta?.ownerReferences as { kind?: string; name?: string; uid?: string; apiVersion?: string }[] | undefined) ?? []).find(
    (ref) => ref.kind === kind && (ref.apiVersion ?? '').startsWith('argoproj.io/') && match(ref),
  );

/** Wraps `routerFor` so that every call acts on the stored Rollout of the served plugin name only. */
export function guardedRouters(routerFor: RouterFor, options: RolloutGuardOptions): RouterFor {
  const served = guardRollouts(routerFor(options.pluginName), options, options.pluginName);
  return (requested) => (!requested || requested === options.pluginName ? served : guardRollouts(routerFor(options.pluginName), options, requested));
}

export function guardRollouts(inner: TrafficRouterApi, options: RolloutGuardOptions, requested = options.pluginName): TrafficRouterApi {
  const { kube, pluginName } = options;
  const core = kube.api(CoreV1Api);

  const isExperimentService = async (namespace: string, service: string, rolloutUid: string): Promise<boolean> => {
    let meta: ObjectMeta;
    try {
      meta = (await kube.call(() => core.readNamespacedService({ namespace, name: service }))).metadata as ObjectMeta;
    } catch (err) {
      if (apiErrorInfo(err).status === 404) return false;
      throw apiError(`reading Service ${namespace}/${service}`, err);
    }
    const experiment = ownedBy(meta, 'Experiment', () => true);
    if (!experiment?.name) return false;
    return Boolean(ownedBy(await readExperimentMeta(kube, namespace, experiment.name), 'Rollout', (ref) => ref.uid === rolloutUid));
  };

  const stored = async (sent: Rollout, destinations: readonly WeightDestination[]): Promise<Rollout> => {
    if (requested !== pluginName) throw new Error(msg.pluginNotServed(requested, pluginName));
    const namespace = sent.metadata?.namespace || 'default';
    const name = sent.metadata?.name;
    if (!name) throw new Error(msg.rolloutNameMissing);
    const ref = `${namespace}/${name}`;
    const rollout = await readRollout(kube, namespace, name);
    if (!rollout) throw new Error(msg.rolloutNotFound(ref));
    const uid = rollout.metadata.uid ?? '';
    // The controller always sends the uid; `call` with a hand-written manifest may not.
    if (sent.metadata.uid && sent.metadata.uid !== uid) throw new Error(msg.rolloutUidMismatch(ref, sent.metadata.uid, uid));
    const plugins = rollout.spec?.strategy?.canary?.trafficRouting?.plugins;
    if (!plugins || !Object.hasOwn(plugins, pluginName)) throw new Error(msg.pluginNotUsed(ref, pluginName));
    for (const d of destinations) {
      if (d.serviceName && !(await isExperimentService(namespace, d.serviceName, uid))) throw new Error(msg.foreignDestination(ref, d.serviceName));
    }
    return rollout;
  };

  const guarded = async (sent: Rollout, destinations: readonly WeightDestination[], run: (rollout: Rollout) => Promise<RpcResult>): Promise<RpcResult> => {
    let rollout: Rollout;
    try {
      rollout = await stored(sent, destinations);
    } catch (err) {
      return { error: errorText(err) };
    }
    return run(rollout);
  };

  return {
    initPlugin: (rollout?: Rollout, ...rest: Rest<'initPlugin', 1>) =>
      rollout ? guarded(rollout, [], (r) => inner.initPlugin(r, ...rest)) : inner.initPlugin(rollout, ...rest),
    updateHash: (rollout, canaryHash, stableHash, ds, ...rest: Rest<'updateHash', 4>) =>
      guarded(rollout, ds, (r) => inner.updateHash(r, canaryHash, stableHash, ds, ...rest)),
    setWeight: (rollout, weight, ds, ...rest: Rest<'setWeight', 3>) =>
      guarded(rollout, ds, (r) => inner.setWeight(r, weight, ds, ...rest)),
    setHeaderRoute: (rollout, headerRoute, ...rest: Rest<'setHeaderRoute', 2>) =>
      guarded(rollout, [], (r) => inner.setHeaderRoute(r, headerRoute, ...rest)),
    setMirrorRoute: (rollout, mirrorRoute, ...rest: Rest<'setMirrorRoute', 2>) =>
      guarded(rollout, [], (r) => inner.setMirrorRoute(r, mirrorRoute, ...rest)),
    removeManagedRoutes: (rollout, ...rest: Rest<'removeManagedRoutes', 1>) =>
      guarded(rollout, [], (r) => inner.removeManagedRoutes(r, ...rest)),
    verifyWeight: async (rollout, weight, ds, ...rest: Rest<'verifyWeight', 3>): Promise<VerifyResult> => {
      let stored_: Rollout;
      try {
        stored_ = await stored(rollout, ds);
      } catch (err) {
        return { verified: Verified.NotVerified, error: errorText(err) };
      }
      return inner.verifyWeight(stored_, weight, ds, ...rest);
    },
    type: (...args) => inner.type(...args),
  };
}

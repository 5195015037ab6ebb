import { apiError, apiErrorInfo } from '../kube/api-error.js';
import type { KubeClient } from '../kube/client.js';
import { SERVICES, resourcePath } from '../kube/paths.js';
import { readExperimentMeta, readRollout } from '../kube/rollouts.js';
import type { RouterFor } from '../grpc/server.js';
import type { CallContext, TrafficRouterApi } from '../routing/api.js';
import type { ObjectMeta, Rollout, WeightDestination } from '../routing/rollout.js';
import { checkedRouter } from './checked-router.js';
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

  const isExperimentService = async (namespace: string, service: string, rolloutUid: string, ctx?: CallContext): Promise<boolean> => {
    let meta: ObjectMeta;
    try {
      meta = (await kube.request<{ metadata: ObjectMeta }>({ method: 'GET', path: resourcePath(SERVICES, namespace, service) }, ctx)).metadata;
    } catch (err) {
      if (apiErrorInfo(err).status === 404) return false;
      throw apiError({ verb: 'get', kind: 'Service', resource: 'services', group: '', namespace, name: service }, err, { server: kube.server });
    }
    const experiment = ownedBy(meta, 'Experiment', () => true);
    if (!experiment?.name) return false;
    const owner = await readExperimentMeta(kube, namespace, experiment.name, ctx);
    // The very Experiment the Service names (not a namesake made since), owned by this very Rollout.
    return owner?.uid === experiment.uid && Boolean(ownedBy(owner, 'Rollout', (ref) => ref.uid === rolloutUid));
  };

  const stored = async (sent: Rollout, destinations: readonly WeightDestination[], ctx?: CallContext): Promise<Rollout> => {
    if (requested !== pluginName) throw new Error(msg.pluginNotServed(requested, pluginName));
    const namespace = sent.metadata?.namespace || 'default';
    const name = sent.metadata?.name;
    if (!name) throw new Error(msg.rolloutNameMissing);
    const ref = `${namespace}/${name}`;
    const rollout = await readRollout(kube, namespace, name, ctx);
    if (!rollout) throw new Error(msg.rolloutNotFound(ref));
    const uid = rollout.metadata.uid ?? '';
    // The controller always sends the uid; `call` with a hand-written manifest may not.
    if (sent.metadata.uid && sent.metadata.uid !== uid) throw new Error(msg.rolloutUidMismatch(ref, sent.metadata.uid, uid));
    const plugins = rollout.spec?.strategy?.canary?.trafficRouting?.plugins;
    if (!plugins || !Object.hasOwn(plugins, pluginName)) throw new Error(msg.pluginNotUsed(ref, pluginName));
    for (const d of destinations) {
      if (d.serviceName && !(await isExperimentService(namespace, d.serviceName, uid, ctx))) throw new Error(msg.foreignDestination(ref, d.serviceName));
    }
    return rollout;
  };

  return checkedRouter(inner, stored);
}

import type { CallContext } from '../routing/api.js';
import type { Rollout } from '../routing/rollout.js';
import { apiError, apiErrorInfo, type ApiTarget } from './api-error.js';
import type { KubeClient } from './client.js';
import { resourcePath } from './paths.js';

// Reading Rollouts (argoproj.io/v1alpha1) as the cluster stores them: the step plugin reads
// its sibling members, the companion re-reads the Rollout a request names.

export const ROLLOUT_RESOURCE = { group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts' } as const;

export const rolloutTarget = (namespace: string, name: string, verb = 'get'): ApiTarget => ({
  verb,
  kind: 'Rollout',
  resource: ROLLOUT_RESOURCE.plural,
  group: ROLLOUT_RESOURCE.group,
  namespace,
  name,
});

/** The stored Rollout, or undefined when there is none of that name. */
export async function readRollout(kube: KubeClient, namespace: string, name: string, ctx?: CallContext): Promise<Rollout | undefined> {
  try {
    return await kube.request<Rollout>({ method: 'GET', path: resourcePath(ROLLOUT_RESOURCE, namespace, name) }, ctx);
  } catch (err) {
    if (apiErrorInfo(err).status === 404) return undefined;
    throw apiError(rolloutTarget(namespace, name), err, { server: kube.server });
  }
}

export const EXPERIMENT_RESOURCE = { group: 'argoproj.io', version: 'v1alpha1', plural: 'experiments' } as const;

/** Metadata of the stored Experiment (whose ownerReferences say which Rollout created it), or undefined when there is none. */
export async function readExperimentMeta(kube: KubeClient, namespace: string, name: string, ctx?: CallContext): Promise<Rollout['metadata'] | undefined> {
  try {
    const experiment = await kube.request<{ metadata: Rollout['metadata'] }>({ method: 'GET', path: resourcePath(EXPERIMENT_RESOURCE, namespace, name) }, ctx);
    return experiment.metadata;
  } catch (err) {
    if (apiErrorInfo(err).status === 404) return undefined;
    throw apiError({ verb: 'get', kind: 'Experiment', resource: EXPERIMENT_RESOURCE.plural, group: EXPERIMENT_RESOURCE.group, namespace, name }, err, { server: kube.server });
  }
}

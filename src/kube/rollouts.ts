import { CustomObjectsApi } from '@kubernetes/client-node';
import type { Rollout } from '../routing/rollout.js';
import { apiError, apiErrorInfo } from './api-error.js';
import type { KubeClient } from './client.js';

// Reading Rollouts (argoproj.io/v1alpha1) as the cluster stores them: the step plugin reads
// its sibling members, the companion re-reads the Rollout a request names.

export const ROLLOUT_RESOURCE = { group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts' } as const;

/** The stored Rollout, or undefined when there is none of that name. */
export async function readRollout(kube: KubeClient, namespace: string, name: string): Promise<Rollout | undefined> {
  const custom = kube.api(CustomObjectsApi);
  try {
    return (await kube.call(() => custom.getNamespacedCustomObject({ ...ROLLOUT_RESOURCE, namespace, name }))) as Rollout;
  } catch (err) {
    if (apiErrorInfo(err).status === 404) return undefined;
    throw apiError(`reading Rollout ${namespace}/${name}`, err);
  }
}

// User-facing messages of the long-lived canary controller.

export const invalidAttachLabel = (key: string): string =>
  `attach label "${key}" is not a valid Kubernetes label key ([prefix/]name, name at most 63 characters)`;

export const invalidNamespace = (namespace: string): string =>
  `namespace "${namespace}" in the namespaces option is not a valid namespace name`;

export const invalidLeaderElection = (field: string, detail: string): string =>
  `leaderElection.${field}: ${detail}`;

export const invalidOption = (field: string, detail: string): string => `${field}: ${detail}`;

export const relabelFailed = (namespace: string, pod: string): string =>
  `could not set the rollouts-pod-template-hash label of pod ${namespace}/${pod}`;

/** The message of the Relabeled Event on the Rollout (identical for each of its pods, so they aggregate). */
export const relabeledMessage = (hash: string, source: 'service' | 'stableRS', service: string | undefined): string =>
  `attached pods set to rollouts-pod-template-hash=${hash} (from ${source === 'service' ? `the selector of Service ${service}` : 'status.stableRS'})`;

export const silentWatch = (resource: string, seconds: number): string =>
  `the ${resource} watch went silent: still open after ${seconds} s without ending at its server-side timeout`;

export const watchFailed = (resource: string): string => `the watch on ${resource} failed`;

export const adoptionWarning = (rollout: string, hash: string): string =>
  `not labelled rollouts-pod-template-hash=${hash}: this pod has no controller and matches the selector of Rollout ${rollout}, ` +
  `so its ReplicaSet would take it over and delete it. Run the canary from its own Deployment (replicas: 1), ` +
  `or give the Rollout's selector a label this pod does not carry`;

export const rolloutReplicaSetWarning = (controller: string, hash: string): string =>
  `not labelled rollouts-pod-template-hash=${hash}: this pod belongs to ${controller}, one of a Rollout's ReplicaSets, which would ` +
  `let it go and start another pod with the attach label. Remove the attach label from the Rollout's pod template, or run the canary from its own Deployment`;

import { KubeConfig } from '@kubernetes/client-node';
import { NO_KUBECONFIG } from './errors.js';

// client-node's KubeConfig from a file or the default places, for what only it reads and for its
// Watch. Its own module, imported statically by the companion and dynamically by
// kubeconfig-access.ts: a dynamic import of the package itself would bundle all of it.

export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster()) throw new Error(path ? `kubeconfig ${path} has no current cluster` : NO_KUBECONFIG);
  return kc;
}

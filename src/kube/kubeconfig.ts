import { chmod, writeFile } from 'node:fs/promises';

import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';

const NAME = 'rollouts-companion-local';

/**
 * A KubeConfig for an unauthenticated server URL (the in-process API server). Plain http needs
 * skipTLSVerify: client-node refuses http:// clusters without it.
 */
export function kubeConfigForServer(server: string, namespace = 'default'): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: NAME, server, skipTLSVerify: server.startsWith('http:') }],
    users: [{ name: NAME }],
    contexts: [{ name: NAME, cluster: NAME, user: NAME, namespace }],
    currentContext: NAME,
  });
  return kc;
}

/** Writes a kubeconfig file for `server` (YAML, as kubectl writes them), mode 0600. */
export async function writeKubeconfigFile(path: string, server: string, namespace = 'default'): Promise<void> {
  const config: unknown = JSON.parse(kubeConfigForServer(server, namespace).exportConfig());
  await writeFile(path, stringify(config), { mode: 0o600 });
  // `mode` only applies when the file is created.
  await chmod(path, 0o600);
}

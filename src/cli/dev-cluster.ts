import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startApiServer, type ApiServer } from '../kube/apiserver/index.js';
import { readManifests } from './manifests.js';

// Dev mode without a cluster: the in-process API server, seeded from examples/, with a
// simulated gateway that accepts routes (so VerifyWeight can succeed), and a kubeconfig on
// disk so kubectl and the plugin entry work against it like against a cluster.

export interface DevCluster {
  api: ApiServer;
  kubeconfigPath: string;
  seeded: string[];
  /** Writes the kubeconfig; serve calls it once it is listening, so a failed start leaves a working one alone. */
  writeKubeconfig(): Promise<void>;
}

export const DEFAULT_DEV_DIR = join(tmpdir(), 'rollouts-companion-dev');

export async function startDevCluster(seedDir: string, stateDir = DEFAULT_DEV_DIR): Promise<DevCluster> {
  const api = await startApiServer({ simulateGateway: true });
  const seeded: string[] = [];
  for (const file of (await readdir(seedDir)).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    const docs = await readManifests(join(seedDir, file));
    api.apply(docs.map((d) => ({ ...d, metadata: { namespace: 'default', ...d.metadata } })));
    seeded.push(...docs.map((d) => `${d.kind}/${d.metadata.name}`));
  }
  const kubeconfigPath = join(stateDir, 'kubeconfig');
  return {
    api,
    kubeconfigPath,
    seeded,
    writeKubeconfig: async () => {
      await mkdir(stateDir, { recursive: true, mode: 0o700 });
      await api.writeKubeconfig(kubeconfigPath);
    },
  };
}

import { readdir } from 'node:fs/promises';
import { stringify } from 'yaml';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startApiServer, type ApiServer } from '../kube/apiserver/index.js';
import { startTrafficGateway, type TrafficGateway } from '../kube/apiserver/traffic-gateway.js';
import { kubeConfigForServer } from '../kube/kubeconfig.js';
import { ensurePrivateDir, writePrivateFile } from './dev-dir.js';
import { readManifests } from './manifests.js';

// Dev mode without a cluster: the in-process API server, seeded from examples/, with a
// simulated gateway that accepts routes (so VerifyWeight can succeed) and carries real HTTP
// traffic to built-in stable/canary backends, and a kubeconfig on disk so kubectl and the
// plugin entry work against it like against a cluster.

export interface DevCluster {
  api: ApiServer;
  kubeconfigPath: string;
  seeded: string[];
  /** The simulated gateway's HTTP port; undefined with --no-gateway. */
  gateway?: TrafficGateway;
  /** Stops the gateway and the API server. */
  close(): Promise<void>;
  /** Writes the kubeconfig; serve calls it once it is listening, so a failed start leaves a working one alone. */
  writeKubeconfig(): Promise<void>;
}

export const DEFAULT_DEV_DIR = join(tmpdir(), 'rollouts-companion-dev');

export interface DevGatewayOptions {
  host: string;
  port: number;
}

/** `gateway: false` (--no-gateway): no simulated gateway at all, so routes get no status and no traffic flows. */
export async function startDevCluster(seedDir: string, stateDir = DEFAULT_DEV_DIR, gateway: DevGatewayOptions | false = { host: '127.0.0.1', port: 0 }): Promise<DevCluster> {
  const api = await startApiServer({ simulateGateway: gateway !== false });
  const seeded: string[] = [];
  for (const file of (await readdir(seedDir)).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    const docs = await readManifests(join(seedDir, file));
    api.apply(docs.map((d) => ({ ...d, metadata: { namespace: 'default', ...d.metadata } })));
    seeded.push(...docs.map((d) => `${d.kind}/${d.metadata.name}`));
  }
  const kubeconfigPath = join(stateDir, 'kubeconfig');
  let traffic: TrafficGateway | undefined;
  try {
    traffic = gateway === false ? undefined : await startTrafficGateway({ source: api, host: gateway.host, port: gateway.port });
  } catch (err) {
    await api.close();
    throw err;
  }
  return {
    api,
    kubeconfigPath,
    seeded,
    ...(traffic && { gateway: traffic }),
    close: async () => {
      await traffic?.close();
      await api.close();
    },
    writeKubeconfig: async () => {
      await ensurePrivateDir(stateDir);
      await writePrivateFile(stateDir, 'kubeconfig', stringify(JSON.parse(kubeConfigForServer(api.url).exportConfig())));
    },
  };
}

import type * as http from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import { loadClusterAccess, NeedsClientNode, type ClusterAccess, type Credentials } from './cluster-access.js';

// Cluster access for every configuration. The common ones (in-cluster, kubeconfig files with
// tokens, token files, certificates) are read by cluster-access.ts without
// @kubernetes/client-node: loading that library is 1.3 MB of JavaScript and ~20 MB of memory, most of the
// plugin's start-up. What only client-node does (exec and auth-provider credentials, proxies,
// merged KUBECONFIG lists) loads it here, on demand, and uses its KubeConfig.

export interface AccessOptions {
  kubeconfig?: string;
  /** An already loaded client-node config: it is used as it is, with its own methods. */
  kubeConfig?: KubeConfig;
  context?: string;
}

export async function loadAccess(options: AccessOptions): Promise<ClusterAccess> {
  if (options.kubeConfig) return accessFromKubeConfig(options.kubeConfig, options.context);
  try {
    return await loadClusterAccess({ kubeconfig: options.kubeconfig, context: options.context });
  } catch (err) {
    if (!(err instanceof NeedsClientNode)) throw err;
    const { loadKubeConfig } = await import('./load-kubeconfig.js');
    return accessFromKubeConfig(loadKubeConfig(options.kubeconfig), options.context);
  }
}

/** The methods of KubeConfig this uses; client-node does not type them all as public. */
interface KubeConfigInternals {
  applyHTTPSOptions(options: object): void;
  applyAuthorizationHeader(options: object): Promise<void>;
  createAgent(cluster: unknown, options: object): http.Agent;
}

/** Access through a loaded KubeConfig (tokens from exec plugins and files are refreshed by client-node). */
export function accessFromKubeConfig(kc: KubeConfig, context?: string): ClusterAccess {
  if (context) kc.setCurrentContext(context);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const internals = kc as unknown as KubeConfigInternals;
  const opts: Record<string, unknown> = {};
  // Fills ca/cert/key/rejectUnauthorized/servername from the kubeconfig (files read once here).
  internals.applyHTTPSOptions(opts);
  return {
    server: cluster.server.replace(/\/$/, ''),
    tls: {
      ca: opts.ca as Buffer | undefined,
      cert: opts.cert as Buffer | undefined,
      key: opts.key as Buffer | undefined,
      ...(opts.rejectUnauthorized !== undefined ? { rejectUnauthorized: Boolean(opts.rejectUnauthorized) } : {}),
      ...(opts.servername ? { servername: String(opts.servername) } : {}),
    },
    async credentials(): Promise<Credentials> {
      const user = kc.getCurrentUser();
      const applied: { headers: Record<string, string>; cert?: string | Buffer; key?: string | Buffer } = { headers: {} };
      await internals.applyAuthorizationHeader(applied);
      if (user?.impersonateUser) applied.headers['Impersonate-User'] = user.impersonateUser;
      // A token wins over basic auth, as in client-node.
      if (user?.username && !applied.headers.Authorization) applied.headers.Authorization = `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`;
      return { headers: applied.headers, ...(applied.cert || applied.key ? { cert: applied.cert, key: applied.key } : {}) };
    },
    // client-node's own factory knows http, https and proxies.
    createAgent: (agentOptions) => internals.createAgent(cluster, agentOptions),
  };
}

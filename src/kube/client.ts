import { CoreV1Api, CustomObjectsApi, KubeConfig, type Configuration } from '@kubernetes/client-node';
import { RateLimiter } from './rate-limit.js';

// Kubernetes access for the companion: kubeconfig (KUBECONFIG, ~/.kube/config) or in-cluster
// credentials, through @kubernetes/client-node only, behind a client-side rate limit.

export interface KubeClientOptions {
  /** A kubeconfig file; defaults to KUBECONFIG, ~/.kube/config, then in-cluster. */
  kubeconfig?: string;
  /** An already loaded config (tests, dev mode). Wins over `kubeconfig`. */
  kubeConfig?: KubeConfig;
  context?: string;
  qps?: number;
  burst?: number;
}

export const DEFAULT_QPS = 20;
export const DEFAULT_BURST = 40;

export class KubeClient {
  readonly kubeConfig: KubeConfig;
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
  private readonly limiter: RateLimiter;
  private readonly apis = new Map<unknown, unknown>();

  constructor(options: KubeClientOptions = {}) {
    this.kubeConfig = options.kubeConfig ?? loadKubeConfig(options.kubeconfig);
    if (options.context) this.kubeConfig.setCurrentContext(options.context);
    this.core = this.kubeConfig.makeApiClient(CoreV1Api);
    this.custom = this.kubeConfig.makeApiClient(CustomObjectsApi);
    this.limiter = new RateLimiter(options.qps ?? DEFAULT_QPS, options.burst ?? DEFAULT_BURST);
  }

  /**
   * An API class of @kubernetes/client-node bound to this client's configuration. Every API
   * request of the process goes through a KubeClient (one connection pool, one rate limit):
   * use this instead of kubeConfig.makeApiClient.
   */
  api<T>(apiClass: new (config: Configuration) => T): T {
    let api = this.apis.get(apiClass);
    if (!api) {
      api = this.kubeConfig.makeApiClient(apiClass as never);
      this.apis.set(apiClass, api);
    }
    return api as T;
  }

  /** Runs one API call once the rate limit allows it. */
  async call<T>(request: () => Promise<T>): Promise<T> {
    await this.limiter.acquire();
    return request();
  }

  /** The API server URL of the current context (for logs; never credentials). */
  get server(): string {
    return this.kubeConfig.getCurrentCluster()?.server ?? '(unknown)';
  }
}

export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster()) {
    throw new Error(
      path
        ? `kubeconfig ${path} has no current cluster`
        : 'no Kubernetes configuration found: set KUBECONFIG, create ~/.kube/config, or run in a cluster',
    );
  }
  return kc;
}

import {
  ResponseContext,
  ServerConfiguration,
  createConfiguration,
  wrapHttpLibrary,
  type Configuration,
  type KubeConfig,
} from '@kubernetes/client-node';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { CallContext } from '../routing/api.js';
import type { KubeClient } from './client.js';
import { loadKubeConfig } from './load-kubeconfig.js';

// @kubernetes/client-node's typed API classes (CoreV1Api, CoordinationV1Api, ...) on a
// KubeClient: their requests go through the client's pool, credentials, deadlines and
// observers. For the companion's controllers; the plugin's requests are plain REST
// (KubeClient.request) and never load this module.

// The generated code builds URLs from this base; `exchange` sends the path to the real server.
const PLACEHOLDER_SERVER = 'http://kube-api';

/** The signal of the `kube.call` attempt a generated API method runs in, for its request. */
const attemptSignal = new AsyncLocalStorage<AbortSignal>();

/** Runs client-node API calls through `kube.call` (rate limit, deadlines, retries); each attempt's request aborts with it. */
export function callApi<T>(kube: KubeClient, fn: () => Promise<T>, ctx?: CallContext): Promise<T> {
  return kube.call((signal) => attemptSignal.run(signal, fn), ctx);
}

const configurations = new WeakMap<KubeClient, { configuration: Configuration; apis: Map<unknown, unknown> }>();

/** An API class bound to `kube`; run its methods inside `callApi(kube, () => api.method(...), ctx)`. */
export function clientNodeApi<T>(kube: KubeClient, apiClass: new (config: Configuration) => T): T {
  let bound = configurations.get(kube);
  if (!bound) {
    const configuration = createConfiguration({
      baseServer: new ServerConfiguration(PLACEHOLDER_SERVER, {}),
      authMethods: {},
      httpApi: wrapHttpLibrary({
        send: async (request) => {
          const url = new URL(request.getUrl());
          const body = request.getBody() as unknown;
          if (body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body)) {
            throw new Error(`unsupported request body type for ${request.getHttpMethod()} ${url.pathname}`);
          }
          const response = await kube.exchange(request.getHttpMethod().toString(), url.pathname + url.search, request.getHeaders(), body, attemptSignal.getStore());
          return new ResponseContext(response.status, response.headers, {
            text: async () => response.body.toString('utf8'),
            binary: async () => response.body,
          });
        },
      }),
    });
    bound = { configuration, apis: new Map() };
    configurations.set(kube, bound);
  }
  let api = bound.apis.get(apiClass);
  if (!api) {
    api = new apiClass(bound.configuration);
    bound.apis.set(apiClass, api);
  }
  return api as T;
}

/** The client's KubeConfig (given, or loaded from the same place): client-node's Watch needs one. */
export function kubeConfigOf(kube: KubeClient): KubeConfig {
  const kc = kube.kubeConfig ?? loadKubeConfig(kube.kubeconfigPath);
  if (kube.context) kc.setCurrentContext(kube.context);
  return kc;
}

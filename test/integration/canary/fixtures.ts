// Objects and helpers shared by the long-lived canary integration tests and the benchmark.
import { startApiServer, type ApiServer, type KubeObject } from '../../../src/kube/apiserver/index.js';
import { startCanaryController, type CanaryController, type CanaryControllerOptions } from '../../../src/canary/index.js';
import { createMetrics, type Metrics } from '../../../src/observability/metrics.js';
import { KubeClient } from '../../../src/kube/client.js';

export const HASH_LABEL = 'rollouts-pod-template-hash';
export const ATTACH = 'rollouts-companion.argoproj.io/attach-to';
export const MANAGED_BY = 'argo-rollouts.argoproj.io/managed-by-rollouts';
export const NS = 'rollouts-demo';

export function blueGreenRollout(name: string, stableRS?: string, namespace = NS): KubeObject {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name, namespace },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: 'argoproj/rollouts-demo:blue' }] } },
      strategy: { blueGreen: { activeService: name, autoPromotionEnabled: false } },
    },
    status: stableRS ? { stableRS, blueGreen: { activeSelector: stableRS } } : {},
  };
}

export function canaryRollout(name: string, stableRS?: string, namespace = NS): KubeObject {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name, namespace },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: 'argoproj/rollouts-demo:blue' }] } },
      strategy: { canary: { stableService: `${name}-stable`, canaryService: `${name}-canary`, steps: [{ setWeight: 20 }] } },
    },
    status: stableRS ? { stableRS } : {},
  };
}

export function managedService(name: string, rollout: string, hash?: string, namespace = NS): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels: { app: rollout }, annotations: { [MANAGED_BY]: rollout } },
    spec: {
      ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'http' }],
      selector: { app: rollout, ...(hash ? { [HASH_LABEL]: hash } : {}) },
    },
  };
}

/** A pod without a controller (the Rollout's ReplicaSet could adopt it). */
export function barePod(name: string, labels: Record<string, string>, namespace = NS): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels },
    spec: { containers: [{ name: 'app', image: 'argoproj/rollouts-demo:blue', env: [{ name: 'GOGC', value: '50' }] }] },
  };
}

/** A pod run by its own ReplicaSet, as a long-lived canary should be (no adoption by the Rollout's). */
export function pod(name: string, labels: Record<string, string>, namespace = NS): KubeObject {
  const bare = barePod(name, labels, namespace);
  const owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${name}-rs`, uid: `uid-${name}-rs`, controller: true };
  return { ...bare, metadata: { ...bare.metadata, ownerReferences: [owner] } };
}

export function attachedPod(name: string, rollout: string, extra: Record<string, string> = {}, namespace = NS): KubeObject {
  return pod(name, { app: rollout, [ATTACH]: rollout, ...extra }, namespace);
}

/** Changes an object in the store the way another writer would (new resourceVersion, watch event). */
export function mutate(api: ApiServer, apiVersion: string, kind: string, name: string, change: (obj: KubeObject) => void, namespace = NS): KubeObject {
  const current = api.get(apiVersion, kind, namespace, name);
  if (!current) throw new Error(`${kind} ${namespace}/${name} not found`);
  const copy = structuredClone(current);
  change(copy);
  return api.update(copy);
}

export function setServiceHash(api: ApiServer, name: string, hash: string, namespace = NS): KubeObject {
  return mutate(api, 'v1', 'Service', name, (svc) => {
    (svc.spec as { selector: Record<string, string> }).selector[HASH_LABEL] = hash;
  }, namespace);
}

export function setStableRS(api: ApiServer, name: string, hash: string, namespace = NS): KubeObject {
  return mutate(api, 'argoproj.io/v1alpha1', 'Rollout', name, (ro) => {
    const status = (ro.status ?? {}) as Record<string, unknown>;
    ro.status = { ...status, stableRS: hash };
  }, namespace);
}

export function podLabels(api: ApiServer, name: string, namespace = NS): Record<string, string> | undefined {
  return api.get('v1', 'Pod', namespace, name)?.metadata.labels as Record<string, string> | undefined;
}

export function podHash(api: ApiServer, name: string, namespace = NS): string | undefined {
  return podLabels(api, name, namespace)?.[HASH_LABEL];
}

/** Polls until `check` returns a value other than undefined/false; fails with `what` after the timeout. */
export async function eventually<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function metricValue(metrics: Metrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const value = metric?.values.find((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want));
  return value?.value ?? 0;
}

export interface Harness {
  api: ApiServer;
  start(options?: Partial<CanaryControllerOptions>): Promise<{ controller: CanaryController; metrics: Metrics }>;
  close(): Promise<void>;
}

/** An in-process API server plus the controllers started on it (all stopped by close). */
export async function harness(): Promise<Harness> {
  const api = await startApiServer({ bookmarkIntervalMs: 500 });
  const controllers: CanaryController[] = [];
  return {
    api,
    async start(options = {}) {
      const metrics = options.metrics ?? createMetrics({ defaultMetrics: false });
      const controller = await startCanaryController({
        kube: new KubeClient({ kubeConfig: api.kubeConfig() }),
        metrics,
        resyncMs: 60_000,
        concurrency: 8,
        retry: { baseDelayMs: 20, maxDelayMs: 200 },
        watchBackoff: { baseMs: 20, maxMs: 200 },
        ...options,
      });
      controllers.push(controller);
      await eventually('the controller caches to sync', () => controller.ready());
      return { controller, metrics };
    },
    async close() {
      await Promise.all(controllers.map((c) => c.stop({ releaseLease: false })));
      await api.close();
    },
  };
}

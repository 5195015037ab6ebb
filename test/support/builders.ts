import type { Rollout } from '../../src/routing/rollout.js';

// Small builders for Rollouts and routes, so a test shows only what it is about.

export const STABLE_SVC = 'web-stable';
export const CANARY_SVC = 'web-canary';

export function rolloutWith(config: Record<string, unknown>, extra: { managedRoutes?: string[]; name?: string } = {}): Rollout {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: extra.name ?? 'web', namespace: 'default' },
    spec: {
      strategy: {
        canary: {
          stableService: STABLE_SVC,
          canaryService: CANARY_SVC,
          trafficRouting: {
            ...(extra.managedRoutes ? { managedRoutes: extra.managedRoutes.map((name) => ({ name })) } : {}),
            plugins: { 'rollouts-companion/gatewayAPI': config },
          },
        },
      },
    },
  };
}

const KIND_VERSIONS: Record<string, string> = {
  HTTPRoute: 'gateway.networking.k8s.io/v1',
  GRPCRoute: 'gateway.networking.k8s.io/v1',
  TCPRoute: 'gateway.networking.k8s.io/v1alpha2',
  TLSRoute: 'gateway.networking.k8s.io/v1alpha2',
};

export function route(kind: keyof typeof KIND_VERSIONS, name: string, rules: Record<string, unknown>[], labels?: Record<string, string>) {
  return {
    apiVersion: KIND_VERSIONS[kind]!,
    kind,
    metadata: { name, namespace: 'default', ...(labels ? { labels } : {}) },
    spec: { parentRefs: [{ name: 'eg' }], rules },
  };
}

export const backend = (name: string, port = 80) => ({ name, kind: 'Service', port });

export function service(name: string) {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { ports: [{ port: 80 }] } };
}

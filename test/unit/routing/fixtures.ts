import type { Rollout } from '../../../src/routing/rollout.js';
import type { RouteObject } from '../../../src/routing/route-store.js';
import { FakeRouteStore } from './fake-store.js';

// The seeds' three HTTPRoutes ("Pinning clients to a specific version") and a Rollout factory.

export const STABLE = 'argo-rollouts-stable-service';
export const CANARY = 'argo-rollouts-canary-service';
export const PLUGIN = 'rollouts-companion/gatewayAPI';
export const IN_PROGRESS = 'rollouts.argoproj.io/gatewayapi-canary';
export const MANAGED_RULES = 'rollouts-companion.argoproj.io/managed-rules';
export const EXPERIMENTS = 'rollouts-companion.argoproj.io/experiment-backends';

export const svc = (name: string, extra: Record<string, unknown> = {}) => ({ name, kind: 'Service', port: 80, ...extra });
export const prefix = (value: string) => ({ path: { type: 'PathPrefix', value } });

export function route(kind: string, name: string, spec: RouteObject['spec'], host?: string): RouteObject {
  const apiVersion = kind === 'TCPRoute' || kind === 'TLSRoute' ? 'gateway.networking.k8s.io/v1alpha2' : 'gateway.networking.k8s.io/v1';
  return { apiVersion, kind, metadata: { name, namespace: 'default' }, spec: { parentRefs: [{ name: 'eg' }], ...(host && { hostnames: [host] }), ...spec } };
}

export const httpRoute = (name: string, host: string, backendRefs: Record<string, unknown>[]): RouteObject =>
  route('HTTPRoute', name, { rules: [{ matches: [prefix('/')], backendRefs }] }, host);

export const seedRoutes = (): RouteObject[] => [
  httpRoute('canary-route', 'app.example.com', [svc(STABLE), svc(CANARY)]),
  httpRoute('always-old-version', 'old.example.com', [svc(STABLE)]),
  httpRoute('always-new-version', 'new.example.com', [svc(CANARY)]),
];

export const seedConfig = () => ({
  httpRoute: 'canary-route',
  pinnedRoutes: { stable: ['always-old-version'], canary: ['always-new-version'] },
});

export function rollout(plugin: unknown, managedRoutes: string[] = ['canary-header', 'canary-mirror'], name = 'demo'): Rollout {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name, namespace: 'default' },
    spec: {
      strategy: {
        canary: {
          canaryService: CANARY,
          stableService: STABLE,
          trafficRouting: { managedRoutes: managedRoutes.map((n) => ({ name: n })), plugins: { [PLUGIN]: plugin } },
        },
      },
    },
  };
}

/** managed route → recorded rule names, from the managed-rules annotation. */
export function recordedNames(r: RouteObject): Record<string, (string | undefined)[]> | undefined {
  const raw = r.metadata.annotations?.[MANAGED_RULES];
  if (raw === undefined) return undefined;
  const parsed = JSON.parse(raw) as Record<string, { name?: string }[]>;
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, v.map((e) => e.name)]));
}

/** The seeds' roles for test/support/traffic.ts. */
export const ROLES = { stable: STABLE, canary: CANARY };

export const seedStore = (routes: RouteObject[] = seedRoutes(), options: { crdDefaults?: boolean; pruneRuleNames?: boolean } = {}): FakeRouteStore =>
  new FakeRouteStore(routes, [`default/${STABLE}`, `default/${CANARY}`], options);

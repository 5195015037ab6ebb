import type { KubeClient } from './client.js';
import { apiError, apiErrorInfo } from './api-error.js';
import { KeyedQueue } from './keyed-queue.js';
import {
  RouteKind,
  RouteNotFoundError,
  type LabelSelector,
  type RouteMutation,
  type RouteObject,
  type RouteRef,
  type RouteStore,
} from '../routing/route-store.js';

// RouteStore on a real (or in-process) API server. Writes are full-object replaces carrying
// the resourceVersion that was read, so a concurrent writer yields 409 and we recompute on
// the fresh object: a route is never written half-updated or from stale data.

const GROUP = 'gateway.networking.k8s.io';

/** Where each route kind lives in the API. */
export const ROUTE_RESOURCES: Record<RouteKind, { group: string; version: string; plural: string }> = {
  [RouteKind.HTTPRoute]: { group: GROUP, version: 'v1', plural: 'httproutes' },
  [RouteKind.GRPCRoute]: { group: GROUP, version: 'v1', plural: 'grpcroutes' },
  [RouteKind.TCPRoute]: { group: GROUP, version: 'v1alpha2', plural: 'tcproutes' },
  [RouteKind.TLSRoute]: { group: GROUP, version: 'v1alpha2', plural: 'tlsroutes' },
};

export const MAX_CONFLICT_RETRIES = 5;

export interface RouteStoreEvents {
  onWrite?: (kind: RouteKind) => void;
  onConflict?: (kind: RouteKind) => void;
}

export class KubeRouteStore implements RouteStore {
  private readonly queue = new KeyedQueue();

  constructor(private readonly kube: KubeClient, private readonly events: RouteStoreEvents = {}) {}

  async get(ref: RouteRef): Promise<RouteObject> {
    const r = ROUTE_RESOURCES[ref.kind];
    try {
      return (await this.kube.call(() =>
        this.kube.custom.getNamespacedCustomObject({ ...r, namespace: ref.namespace, name: ref.name }),
      )) as RouteObject;
    } catch (err) {
      if (apiErrorInfo(err).status === 404) throw new RouteNotFoundError(ref, { cause: err });
      throw apiError(`reading ${describe(ref)}`, err);
    }
  }

  async list(kind: RouteKind, namespace: string, selector: LabelSelector): Promise<RouteObject[]> {
    const r = ROUTE_RESOURCES[kind];
    try {
      const list = (await this.kube.call(() =>
        this.kube.custom.listNamespacedCustomObject({ ...r, namespace, labelSelector: formatLabelSelector(selector) }),
      )) as { items?: RouteObject[] };
      return list.items ?? [];
    } catch (err) {
      throw apiError(`listing ${kind}s in ${namespace}`, err);
    }
  }

  update(ref: RouteRef, mutate: RouteMutation, read?: RouteObject): Promise<{ route: RouteObject; written: boolean }> {
    return this.queue.run(`${ref.kind}/${ref.namespace}/${ref.name}`, async () => {
      const r = ROUTE_RESOURCES[ref.kind];
      for (let attempt = 0; ; attempt++) {
        const current = attempt === 0 && read ? read : await this.get(ref);
        const next = mutate(structuredClone(current));
        if (next === null) return { route: current, written: false };
        next.metadata.resourceVersion = current.metadata.resourceVersion;
        try {
          const stored = (await this.kube.call(() =>
            this.kube.custom.replaceNamespacedCustomObject({ ...r, namespace: ref.namespace, name: ref.name, body: next }),
          )) as RouteObject;
          this.events.onWrite?.(ref.kind);
          return { route: stored, written: true };
        } catch (err) {
          const status = apiErrorInfo(err).status;
          if (status === 409 && attempt < MAX_CONFLICT_RETRIES) {
            this.events.onConflict?.(ref.kind);
            continue;
          }
          if (status === 409) {
            this.events.onConflict?.(ref.kind);
            throw apiError(`updating ${describe(ref)}: still conflicting after ${MAX_CONFLICT_RETRIES + 1} attempts`, err);
          }
          if (status === 404) throw new RouteNotFoundError(ref, { cause: err });
          throw apiError(`updating ${describe(ref)}`, err);
        }
      }
    });
  }

  async serviceExists(namespace: string, name: string): Promise<boolean> {
    try {
      await this.kube.call(() => this.kube.core.readNamespacedService({ namespace, name }));
      return true;
    } catch (err) {
      if (apiErrorInfo(err).status === 404) return false;
      throw apiError(`reading Service ${namespace}/${name}`, err);
    }
  }
}

function describe(ref: RouteRef): string {
  return `${ref.kind} ${ref.namespace}/${ref.name}`;
}

/** metav1.LabelSelector → the query-string form the API server takes. */
export function formatLabelSelector(selector: LabelSelector): string {
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',');
    switch (e.operator) {
      case 'In':
        parts.push(`${e.key} in (${values})`);
        break;
      case 'NotIn':
        parts.push(`${e.key} notin (${values})`);
        break;
      case 'Exists':
        parts.push(e.key);
        break;
      case 'DoesNotExist':
        parts.push(`!${e.key}`);
        break;
    }
  }
  return parts.join(',');
}

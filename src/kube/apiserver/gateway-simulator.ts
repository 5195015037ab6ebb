import { ROUTE_PLURALS, type ResourceDef } from './resources.js';
import type { Store, StoreEvent } from './store.js';
import { isPlainObject, type KubeObject } from './types.js';

/** The controllerName the simulated gateway writes into route status. */
export const SIMULATED_GATEWAY_CONTROLLER = 'rollouts-companion.dev/simulated-gateway';

const GATEWAY_GROUP = 'gateway.networking.k8s.io';

interface RouteParentStatus {
  parentRef: unknown;
  controllerName: string;
  conditions: Record<string, unknown>[];
}

function parentsOf(route: KubeObject): RouteParentStatus[] {
  const status = route['status'];
  const parents = isPlainObject(status) ? status['parents'] : undefined;
  return Array.isArray(parents) ? (parents as RouteParentStatus[]) : [];
}

function parentRefsOf(route: KubeObject): unknown[] {
  const spec = route['spec'];
  const refs = isPlainObject(spec) ? spec['parentRefs'] : undefined;
  return Array.isArray(refs) ? refs : [];
}

function upToDate(route: KubeObject): boolean {
  const ours = parentsOf(route).filter((p) => p.controllerName === SIMULATED_GATEWAY_CONTROLLER);
  return (
    ours.length === parentRefsOf(route).length &&
    ours.every((p) => p.conditions.every((c) => c['observedGeneration'] === route.metadata.generation))
  );
}

/**
 * Stands in for a Gateway API implementation in dev mode: after a route's spec changes (a new
 * generation) it reports every parentRef as Accepted and ResolvedRefs for that generation,
 * optionally after a delay. It never rejects anything — it only lets weight verification succeed.
 */
export class GatewaySimulator {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly store: Store,
    private readonly delayMs = 0,
  ) {
    this.unsubscribe = store.subscribe((e) => this.onEvent(e));
  }

  close(): void {
    this.unsubscribe();
    this.timers.forEach(clearTimeout);
    this.timers.clear();
  }

  private onEvent(e: StoreEvent): void {
    if (e.type === 'DELETED' || e.def.group !== GATEWAY_GROUP || !ROUTE_PLURALS.has(e.def.plural)) return;
    const generation = e.object.metadata.generation;
    if (e.prevObject?.metadata.generation === generation || parentRefsOf(e.object).length === 0 || upToDate(e.object)) return;
    // Always deferred: writing from inside a store event would reorder events for other listeners.
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.reconcile(e.def, e.object.metadata.namespace, e.object.metadata.name!, generation);
    }, this.delayMs);
    this.timers.add(timer);
  }

  private reconcile(def: ResourceDef, namespace: string | undefined, name: string, generation: number | undefined): void {
    const route = this.store.get(def, namespace, name);
    // A newer generation has its own reconcile scheduled.
    if (!route || route.metadata.generation !== generation) return;
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const condition = (type: string, message: string) => ({ type, status: 'True', reason: type, message, observedGeneration: generation, lastTransitionTime: now });
    const ours: RouteParentStatus[] = parentRefsOf(route).map((parentRef) => ({
      parentRef,
      controllerName: SIMULATED_GATEWAY_CONTROLLER,
      conditions: [condition('Accepted', 'Accepted by the simulated gateway'), condition('ResolvedRefs', 'All references resolved (simulated)')],
    }));
    const others = parentsOf(route).filter((p) => p.controllerName !== SIMULATED_GATEWAY_CONTROLLER);
    const status = isPlainObject(route['status']) ? route['status'] : {};
    this.store.update(def, { ...route, status: { ...status, parents: [...others, ...ours] } }, { mode: 'status', allowUnconditional: true });
  }
}

import { hostnamesIntersect } from '../../routing/traffic/index.js';
import { RESOURCES, ROUTE_PLURALS, type ResourceDef } from './resources.js';
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

const GATEWAY_DEF = RESOURCES.find((r) => r.group === GATEWAY_GROUP && r.kind === 'Gateway')!;

/**
 * Why a Gateway in the store would not accept the route on this parentRef, or undefined. As the
 * request-matching model (src/routing/traffic) does: a route with hostnames attaches only to a
 * listener whose hostname intersects one of them. An unknown Gateway accepts (dev seeds may omit it).
 */
function hostnameMismatch(store: Store, route: KubeObject, parentRef: unknown): string | undefined {
  if (!isPlainObject(parentRef) || typeof parentRef['name'] !== 'string') return undefined;
  const spec = isPlainObject(route['spec']) ? route['spec'] : {};
  const hostnames = Array.isArray(spec['hostnames']) ? (spec['hostnames'] as string[]) : [];
  if (!hostnames.length) return undefined;
  const ns = typeof parentRef['namespace'] === 'string' ? parentRef['namespace'] : route.metadata.namespace;
  const gateway = store.get(GATEWAY_DEF, ns, parentRef['name']);
  const gwSpec = gateway && isPlainObject(gateway['spec']) ? gateway['spec'] : undefined;
  const listeners = (Array.isArray(gwSpec?.['listeners']) ? (gwSpec['listeners'] as Record<string, unknown>[]) : []).filter(
    (l) => parentRef['sectionName'] === undefined || l['name'] === parentRef['sectionName'],
  );
  if (!listeners.length) return undefined;
  const fits = listeners.some((l) => hostnames.some((h) => hostnamesIntersect(typeof l['hostname'] === 'string' ? l['hostname'] : undefined, h)));
  return fits ? undefined : `no listener of Gateway ${ns}/${parentRef['name']} has a hostname matching ${hostnames.join(', ')}`;
}

/**
 * Stands in for a Gateway API implementation in dev mode: after a route's spec changes (a new
 * generation) it reports every parentRef as Accepted and ResolvedRefs for that generation,
 * optionally after a delay, unless the parent Gateway's listeners cannot take the route's
 * hostnames (Accepted=False, NoMatchingListenerHostname, as real implementations report).
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
    const ours: RouteParentStatus[] = parentRefsOf(route).map((parentRef) => {
      const mismatch = hostnameMismatch(this.store, route, parentRef);
      const accepted = mismatch
        ? { ...condition('Accepted', mismatch), status: 'False', reason: 'NoMatchingListenerHostname' }
        : condition('Accepted', 'Accepted by the simulated gateway');
      return { parentRef, controllerName: SIMULATED_GATEWAY_CONTROLLER, conditions: [accepted, condition('ResolvedRefs', 'All references resolved (simulated)')] };
    });
    const others = parentsOf(route).filter((p) => p.controllerName !== SIMULATED_GATEWAY_CONTROLLER);
    const status = isPlainObject(route['status']) ? route['status'] : {};
    this.store.update(def, { ...route, status: { ...status, parents: [...others, ...ours] } }, { mode: 'status', allowUnconditional: true });
  }
}

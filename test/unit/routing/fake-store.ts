import { isDeepStrictEqual } from 'node:util';
import { matchesSelector } from '../../../src/routing/selector.js';
import {
  RouteNotFoundError,
  combineErrors,
  type LabelSelector,
  type RouteKind,
  type RouteObject,
  type RoutePlan,
  type RouteRef,
  type RouteStore,
  type RouteUpdate,
} from '../../../src/routing/route-store.js';

// An in-memory RouteStore that behaves like the API server where the routing core can tell:
// resourceVersion on every write, generation on spec changes, 409 Conflict on a stale write
// (update re-reads and re-runs the mutation), and it counts writes per route.

const key = (kind: string, namespace: string, name: string): string => `${kind} ${namespace}/${name}`;

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

type Obj = Record<string, unknown>;
const objects = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);

/** What the Gateway API CRDs' structural defaults do to a route on write. */
function applyCrdDefaults(route: RouteObject): void {
  const http = route.kind === 'HTTPRoute';
  const ref = (b: Obj): void => {
    b.group ??= '';
    b.kind ??= 'Service';
  };
  for (const rule of objects(route.spec.rules)) {
    for (const b of objects(rule.backendRefs)) {
      ref(b);
      b.weight ??= 1;
    }
    if (http && !objects(rule.matches).length) rule.matches = [{}];
    for (const m of objects(rule.matches)) {
      if (http) m.path = { type: 'PathPrefix', value: '/', ...(m.path as Obj | undefined) };
      for (const h of objects(m.headers)) h.type ??= 'Exact';
    }
    for (const f of objects(rule.filters)) {
      const mirror = f.requestMirror as Obj | undefined;
      if (mirror?.backendRef) ref(mirror.backendRef as Obj);
    }
  }
}

export class FakeRouteStore implements RouteStore {
  private readonly routes = new Map<string, RouteObject>();
  private readonly services = new Set<string>();
  private readonly interference = new Map<string, ((route: RouteObject) => void)[]>();
  private version = 100;
  /** Route keys ("Kind ns/name"), one entry per write. */
  readonly writes: string[] = [];
  /** How many times an update hit a 409 and re-ran its mutation. */
  conflicts = 0;

  /**
   * With crdDefaults, every write stores the route as the API server would: Gateway API defaults filled in.
   * With pruneRuleNames, `rules[].name` is dropped as a Standard-channel CRD before Gateway API v1.4 does.
   */
  constructor(
    routes: RouteObject[] = [],
    services: string[] = [],
    private readonly options: { crdDefaults?: boolean; pruneRuleNames?: boolean } = {},
  ) {
    for (const r of routes) this.put(r);
    for (const s of services) this.services.add(s);
  }

  /** Adds or replaces a route as a user would (kubectl apply): not counted as a write by the companion. */
  put(route: RouteObject): void {
    const r = structuredClone(route);
    r.metadata.namespace ??= 'default';
    if (this.options.crdDefaults) applyCrdDefaults(r);
    const k = key(r.kind, r.metadata.namespace, r.metadata.name);
    const before = this.routes.get(k);
    r.metadata.resourceVersion = String(++this.version);
    r.metadata.generation = before && isDeepStrictEqual(before.spec, r.spec) ? before.metadata.generation : (before?.metadata.generation ?? 0) + 1;
    this.routes.set(k, r);
  }

  /** The route as stored (a copy). */
  route(kind: RouteKind, name: string, namespace = 'default'): RouteObject {
    const r = this.routes.get(key(kind, namespace, name));
    if (!r) throw new Error(`test: no ${key(kind, namespace, name)}`);
    return structuredClone(r);
  }

  addService(namespace: string, name: string): void {
    this.services.add(`${namespace}/${name}`);
  }

  /** The next update of this route finds it changed by someone else between its read and its write. */
  interfere(kind: RouteKind, name: string, change: (route: RouteObject) => void, namespace = 'default'): void {
    const k = key(kind, namespace, name);
    this.interference.set(k, [...(this.interference.get(k) ?? []), change]);
  }

  /** Every parent reports Accepted for the route's current generation (or as given). */
  setStatus(kind: RouteKind, name: string, parents: NonNullable<RouteObject['status']>['parents']): void {
    const r = this.routes.get(key(kind, 'default', name))!;
    r.status = { parents: structuredClone(parents) };
  }

  accept(kind: RouteKind, name: string): void {
    const r = this.routes.get(key(kind, 'default', name))!;
    this.setStatus(kind, name, [
      { parentRef: { name: 'eg' }, conditions: [{ type: 'Accepted', status: 'True', observedGeneration: r.metadata.generation }] },
    ]);
  }

  writesTo(kind: RouteKind, name: string): number {
    return this.writes.filter((w) => w === key(kind, 'default', name)).length;
  }

  async get(ref: RouteRef): Promise<RouteObject> {
    const r = this.routes.get(key(ref.kind, ref.namespace, ref.name));
    if (!r) throw new RouteNotFoundError(ref);
    return structuredClone(r);
  }

  async list(kind: RouteKind, namespace: string, selector: LabelSelector): Promise<RouteObject[]> {
    return [...this.routes.values()]
      .filter((r) => r.kind === kind && r.metadata.namespace === namespace && matchesSelector(r.metadata.labels, selector))
      .map((r) => structuredClone(r));
  }

  /** Like the real store: every route planned on its latest read first; nothing written unless all plans succeed. */
  async update(refs: readonly RouteRef[], plan: RoutePlan): Promise<RouteUpdate[]> {
    const errors: unknown[] = [];
    for (const ref of refs) {
      try {
        plan(deepFreeze(await this.get(ref)), ref);
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length) throw combineErrors(errors);
    const results: RouteUpdate[] = [];
    for (const ref of refs) results.push({ ref, ...(await this.updateOne(ref, (route) => plan(route, ref))) });
    return results;
  }

  private async updateOne(ref: RouteRef, mutate: (route: RouteObject) => RouteObject | null): Promise<{ route: RouteObject; written: boolean }> {
    const k = key(ref.kind, ref.namespace, ref.name);
    for (let attempt = 0; attempt < 5; attempt++) {
      const read = this.routes.get(k);
      if (!read) throw new RouteNotFoundError(ref);
      // Frozen: a mutation that edits its input instead of returning a new object fails loudly.
      const next = mutate(deepFreeze(structuredClone(read)));
      if (next === null) return { route: structuredClone(read), written: false };
      const pending = this.interference.get(k)?.shift();
      if (pending) {
        const changed = structuredClone(read);
        pending(changed);
        this.put(changed);
      }
      const stored = this.routes.get(k)!;
      if (next.metadata.resourceVersion !== stored.metadata.resourceVersion) {
        this.conflicts++;
        continue;
      }
      const written = structuredClone(next);
      if (this.options.crdDefaults) applyCrdDefaults(written);
      if (this.options.pruneRuleNames) for (const rule of objects(written.spec.rules)) delete rule.name;
      written.status = stored.status;
      written.metadata.resourceVersion = String(++this.version);
      written.metadata.generation = (stored.metadata.generation ?? 0) + (isDeepStrictEqual(stored.spec, written.spec) ? 0 : 1);
      this.routes.set(k, written);
      this.writes.push(k);
      return { route: structuredClone(written), written: true };
    }
    throw new Error(`${k}: 409 Conflict, gave up`);
  }

  async serviceExists(namespace: string, name: string): Promise<boolean> {
    return this.services.has(`${namespace}/${name}`);
  }

  /** ConfigMaps by "namespace/name" (argoproj-labs/gatewayAPI ≤ 0.12 state). */
  readonly configMaps = new Map<string, { resourceVersion: string; data: Record<string, string> }>();

  async readConfigMap(namespace: string, name: string): Promise<{ resourceVersion: string; data: Record<string, string> } | undefined> {
    return structuredClone(this.configMaps.get(`${namespace}/${name}`));
  }
}

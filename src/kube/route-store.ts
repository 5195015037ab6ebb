import { callerGone, callSignal, type CallContext } from '../routing/api.js';
import { formatLabelSelector } from '../routing/selector.js';
import {
  RouteKind,
  RouteNotFoundError,
  RouteStoreError,
  combineErrors,
  PartlyWrittenError,
  type LabelSelector,
  type PrefetchedReads,
  type RouteObject,
  type RoutePlan,
  type RouteRef,
  type RouteStore,
  type RouteUpdate,
  type StoredCheck,
} from '../routing/route-store.js';
import { apiError, apiErrorInfo, type ApiTarget } from './api-error.js';
import type { KubeClient } from './client.js';
import * as msg from './errors.js';
import { KeyedQueue } from './keyed-queue.js';
import { CONFIGMAPS, SERVICES, resourcePath } from './paths.js';
import { KindNotServedError, routeVersionsOf, type RouteVersions } from './route-versions.js';

// RouteStore on a real (or in-process) API server. Writes are full-object replaces carrying
// the resourceVersion that was read, so a concurrent writer yields 409 and we re-plan on the
// fresh object: a route is never written half-updated or from stale data.
//
// Ordering: every write to a route happens in that route's queue, decided on a read taken
// there. A write whose outcome we never learnt (timed out, connection lost, caller gone after
// it was sent) might still land later. Its resourceVersion is remembered; the next call on
// that route that finds the route still at that version and would write nothing writes a
// fence instead (a companion annotation with a fresh value): the version moves on, so the late
// write can only meet 409. Once SetWeight(0) is acknowledged no earlier call can land.
// A read prefetched outside the queue (while no call of ours held the route) counts as taken
// there as long as no write of ours to that route went out since it began.

const GROUP = 'gateway.networking.k8s.io';

/** Where each route kind lives in the API; the version comes from discovery (route-versions.ts). */
export const ROUTE_RESOURCES: Record<RouteKind, { group: string; plural: string }> = {
  [RouteKind.HTTPRoute]: { group: GROUP, plural: 'httproutes' },
  [RouteKind.GRPCRoute]: { group: GROUP, plural: 'grpcroutes' },
  [RouteKind.TCPRoute]: { group: GROUP, plural: 'tcproutes' },
  [RouteKind.TLSRoute]: { group: GROUP, plural: 'tlsroutes' },
};

/** Writes of one route per call, conflicts included; the caller's deadline usually ends it first. */
export const MAX_WRITE_ATTEMPTS = 10;

/** Set only to make a route's resourceVersion move on (see above); its value means nothing. */
export const WRITE_FENCE_ANNOTATION = 'rollouts-companion.argoproj.io/write-fence';

/** Existing Services are remembered this long: UpdateHash on every reconcile must not re-read them. */
export const SERVICE_CACHE_MS = 60_000;
const SERVICE_CACHE_LIMIT = 1000;
/** Routes whose latest write of ours is remembered (for prefetched reads); older ones are assumed just written. */
const WRITES_REMEMBERED = 1000;

export interface RouteStoreEvents {
  onWrite?: (kind: RouteKind) => void;
  onConflict?: (kind: RouteKind) => void;
}

const keyOf = (ref: RouteRef): string => `${ref.kind}/${ref.namespace}/${ref.name}`;

const routeTarget = (verb: string, ref: RouteRef): ApiTarget => ({
  verb,
  kind: ref.kind,
  resource: ROUTE_RESOURCES[ref.kind].plural,
  group: ROUTE_RESOURCES[ref.kind].group,
  namespace: ref.namespace,
  name: ref.name,
});

export class KubeRouteStore implements RouteStore {
  private readonly queue = new KeyedQueue();
  /** Route key → resourceVersion carried by a write whose outcome is unknown. */
  private readonly unsettled = new Map<string, string>();
  /** "namespace/name" → when an existing Service was last seen. */
  private readonly services = new Map<string, number>();
  private fences = 0;
  /** Writes sent so far, numbering them; route key → the number of our latest write to it. */
  private writeCount = 0;
  private readonly lastWrites = new Map<string, number>();
  /** The latest write number dropped from lastWrites: a route not there may have been written up to then. */
  private forgottenWrites = 0;
  /** Route API versions as the cluster serves them (discovery, once). */
  private readonly versions: RouteVersions;

  constructor(
    private readonly kube: KubeClient,
    private readonly events: RouteStoreEvents = {},
  ) {
    this.versions = routeVersionsOf(kube);
  }

  async get(ref: RouteRef, ctx?: CallContext): Promise<RouteObject> {
    const r = await this.resource(ref.kind, routeTarget('get', ref), ctx);
    try {
      return await this.kube.request<RouteObject>({ method: 'GET', path: resourcePath(r, ref.namespace, ref.name) }, ctx);
    } catch (err) {
      if (apiErrorInfo(err).status === 404) throw new RouteNotFoundError(ref, { cause: err });
      throw this.failed(routeTarget('get', ref), err);
    }
  }

  async list(kind: RouteKind, namespace: string, selector: LabelSelector, ctx?: CallContext): Promise<RouteObject[]> {
    const r = await this.resource(kind, { verb: 'list', kind, resource: ROUTE_RESOURCES[kind].plural, group: ROUTE_RESOURCES[kind].group, namespace }, ctx);
    try {
      const list = await this.kube.request<{ items?: RouteObject[] }>(
        { method: 'GET', path: resourcePath(r, namespace), query: { labelSelector: formatLabelSelector(selector) } },
        ctx,
      );
      return list.items ?? [];
    } catch (err) {
      throw this.failed({ verb: 'list', kind, resource: r.plural, group: r.group, namespace }, err);
    }
  }

  prefetch(refs: readonly RouteRef[], ctx?: CallContext): PrefetchedReads {
    const reads = new Map<string, { read: Promise<RouteObject>; since: number }>();
    for (const ref of refs) {
      const key = keyOf(ref);
      if (reads.has(key) || this.queue.held(key)) continue;
      const read = this.get(ref, ctx);
      read.catch(() => undefined); // the update that uses it reports it
      reads.set(key, { read, since: this.writeCount });
    }
    return reads;
  }

  async update(refs: readonly RouteRef[], plan: RoutePlan, ctx?: CallContext, prefetched?: PrefetchedReads, check?: StoredCheck): Promise<RouteUpdate[]> {
    if (!refs.length) return [];
    let release: () => void;
    try {
      release = await this.queue.acquire(refs.map(keyOf), callSignal(ctx));
    } catch (cause) {
      throw new RouteStoreError(msg.abandoned(routeTarget('update', refs[0]!)), { cause });
    }
    try {
      // Decided here, on reads taken while holding every route's queue (or prefetched with no
      // write of ours since): no earlier call of ours can write in between, and a concurrent
      // writer only costs a 409 and a re-plan.
      const reads = await Promise.allSettled(refs.map((ref) => this.readInQueue(ref, prefetched, ctx)));
      const failed = reads.filter((r) => r.status === 'rejected').map((r) => r.reason as unknown);
      if (failed.length) throw combineErrors(failed);
      const current = reads.map((r) => (r as PromiseFulfilledResult<RouteObject>).value);
      const errors: unknown[] = [];
      const next = refs.map((ref, i) => {
        try {
          return plan(structuredClone(current[i]!), ref);
        } catch (e) {
          errors.push(e);
          return null;
        }
      });
      if (errors.length) throw combineErrors(errors);
      if (check) await this.checkDryRuns(refs, current, next, plan, check, ctx);
      const writes = await Promise.allSettled(refs.map((ref, i) => this.write(ref, current[i]!, next[i]!, plan, ctx)));
      const writeErrors = writes.filter((w) => w.status === 'rejected').map((w) => w.reason as unknown);
      const updates = writes.flatMap((w) => (w.status === 'fulfilled' ? [w.value] : []));
      if (!writeErrors.length) return updates;
      const written = updates.filter((u) => u.written);
      throw written.length ? new PartlyWrittenError(combineErrors(writeErrors), written) : combineErrors(writeErrors);
    } finally {
      release();
    }
  }

  async serviceExists(namespace: string, name: string, ctx?: CallContext): Promise<boolean> {
    const key = `${namespace}/${name}`;
    const seen = this.services.get(key);
    if (seen !== undefined && Date.now() - seen < SERVICE_CACHE_MS) return true;
    try {
      await this.kube.request({ method: 'GET', path: resourcePath(SERVICES, namespace, name) }, ctx);
    } catch (err) {
      if (apiErrorInfo(err).status === 404) {
        this.services.delete(key);
        return false;
      }
      throw this.failed({ verb: 'get', kind: 'Service', resource: 'services', group: '', namespace, name }, err);
    }
    this.services.delete(key);
    this.services.set(key, Date.now());
    if (this.services.size > SERVICE_CACHE_LIMIT) this.services.delete(this.services.keys().next().value!);
    return true;
  }

  readConfigMap(namespace: string, name: string, ctx?: CallContext): Promise<{ resourceVersion: string; data: Record<string, string> } | undefined> {
    return readConfigMapData(this.kube, namespace, name, ctx);
  }

  /** The prefetched read of `ref` if no write of ours to it went out since it began, else a new one. */
  private readInQueue(ref: RouteRef, prefetched: PrefetchedReads | undefined, ctx?: CallContext): Promise<RouteObject> {
    const key = keyOf(ref);
    const early = prefetched?.get(key);
    const lastWrite = this.lastWrites.get(key) ?? this.forgottenWrites;
    return early && lastWrite <= early.since ? early.read : this.get(ref, ctx);
  }

  private noteWrite(key: string): void {
    this.lastWrites.delete(key);
    this.lastWrites.set(key, ++this.writeCount);
    if (this.lastWrites.size > WRITES_REMEMBERED) {
      const [oldest, count] = this.lastWrites.entries().next().value!;
      this.lastWrites.delete(oldest);
      this.forgottenWrites = count;
    }
  }

  /**
   * Sends every planned write as a dry run and checks what would be stored; all must pass before
   * anything is written. A route that changed since its read (409) is read and planned again
   * here, and `current` and `next` take the fresh read and plan.
   */
  private async checkDryRuns(
    refs: readonly RouteRef[],
    current: RouteObject[],
    next: (RouteObject | null)[],
    plan: RoutePlan,
    check: StoredCheck,
    ctx?: CallContext,
  ): Promise<void> {
    const checks = await Promise.allSettled(
      refs.map(async (ref, i) => {
        for (let attempt = 1; next[i]; attempt++) {
          const body = structuredClone(next[i]!);
          body.metadata.resourceVersion = current[i]!.metadata.resourceVersion ?? '';
          const r = await this.resource(ref.kind, routeTarget('update', ref), ctx);
          let stored: RouteObject;
          try {
            stored = await this.kube.request<RouteObject>({ method: 'PUT', path: `${resourcePath(r, ref.namespace, ref.name)}?dryRun=All`, body }, ctx);
          } catch (err) {
            const status = apiErrorInfo(err).status;
            if (status === 404) throw new RouteNotFoundError(ref, { cause: err });
            if (status !== 409) throw this.failed(routeTarget('update', ref), err);
            [current[i], next[i]] = await this.replan(ref, err, attempt, plan, ctx);
            continue;
          }
          check(stored, next[i]!, ref);
          return;
        }
      }),
    );
    const failed = checks.filter((c) => c.status === 'rejected').map((c) => c.reason as unknown);
    if (failed.length) throw combineErrors(failed);
  }

  /** Writes one planned route (or a fence), re-planning on 409 until it lands or time runs out. */
  private async write(ref: RouteRef, read: RouteObject, planned: RouteObject | null, plan: RoutePlan, ctx?: CallContext): Promise<RouteUpdate> {
    const key = keyOf(ref);
    let current = read;
    let next = planned;
    for (let attempt = 1; ; attempt++) {
      const version = current.metadata.resourceVersion ?? '';
      // The route moved past the unknown write's version: that write can no longer land.
      if (this.unsettled.has(key) && this.unsettled.get(key) !== version) this.unsettled.delete(key);
      if (next === null && !this.unsettled.has(key)) return { ref, route: current, written: false };
      if (callerGone(ctx)) throw new RouteStoreError(msg.abandoned(routeTarget('update', ref)));
      const body = next ?? this.fence(current);
      body.metadata.resourceVersion = version;
      // Discovery already answered for the read that got us here.
      const r = await this.resource(ref.kind, routeTarget('update', ref), ctx);
      this.unsettled.set(key, version);
      this.noteWrite(key);
      try {
        const stored = await this.kube.request<RouteObject>({ method: 'PUT', path: resourcePath(r, ref.namespace, ref.name), body }, ctx);
        this.unsettled.delete(key);
        this.events.onWrite?.(ref.kind);
        return { ref, route: stored, written: next !== null };
      } catch (err) {
        const status = apiErrorInfo(err).status;
        // Any answer but 409 ends the call; without an answer the write stays unsettled.
        if (status !== 0 && status !== 409) this.unsettled.delete(key);
        if (status === 404) throw new RouteNotFoundError(ref, { cause: err });
        if (status !== 409) throw this.failed(routeTarget('update', ref), err);
        this.events.onConflict?.(ref.kind);
        [current, next] = await this.replan(ref, err, attempt, plan, ctx);
      }
    }
  }

  /** After the `attempt`th 409 on `ref`: the route read again and planned on that, or the conflict as the call's error. */
  private async replan(ref: RouteRef, conflict: unknown, attempt: number, plan: RoutePlan, ctx?: CallContext): Promise<[RouteObject, RouteObject | null]> {
    // A first conflict is most often a read that just missed one write (a Gateway controller
    // writing the route's status): re-read at once; later ones back off.
    if (attempt >= MAX_WRITE_ATTEMPTS || (attempt > 1 && !(await this.kube.backoff(attempt - 2, ctx)))) {
      throw this.failed(routeTarget('update', ref), conflict, attempt);
    }
    const current = await this.get(ref, ctx);
    return [current, plan(structuredClone(current), ref)];
  }

  private fence(route: RouteObject): RouteObject {
    const fenced = structuredClone(route);
    fenced.metadata.annotations = { ...fenced.metadata.annotations, [WRITE_FENCE_ANNOTATION]: `${Date.now().toString(36)}-${(++this.fences).toString(36)}` };
    return fenced;
  }

  /** The served version of a kind; a discovery request that fails is reported for the route it was for. */
  private async resource(kind: RouteKind, target: ApiTarget, ctx?: CallContext): Promise<{ group: string; version: string; plural: string }> {
    try {
      return await this.versions.resource(kind, ctx);
    } catch (err) {
      if (err instanceof KindNotServedError) throw err;
      throw this.failed(target, err);
    }
  }

  private failed(target: ApiTarget, err: unknown, attempts?: number): Error {
    return apiError(target, err, { server: this.kube.server, ...(attempts ? { attempts } : {}) });
  }
}

/** A ConfigMap's data, or undefined when it does not exist. */
export async function readConfigMapData(
  kube: KubeClient,
  namespace: string,
  name: string,
  ctx?: CallContext,
): Promise<{ resourceVersion: string; data: Record<string, string> } | undefined> {
  try {
    const cm = await kube.request<{ metadata?: { resourceVersion?: string }; data?: Record<string, string> }>(
      { method: 'GET', path: resourcePath(CONFIGMAPS, namespace, name) },
      ctx,
    );
    return { resourceVersion: cm.metadata?.resourceVersion ?? '', data: cm.data ?? {} };
  } catch (err) {
    if (apiErrorInfo(err).status === 404) return undefined;
    throw apiError({ verb: 'get', kind: 'ConfigMap', resource: 'configmaps', group: '', namespace, name }, err, { server: kube.server });
  }
}

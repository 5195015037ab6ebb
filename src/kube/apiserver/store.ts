import { randomBytes, randomUUID } from 'node:crypto';

import { apiVersionOf, findByKind, RESOURCES, storageKey, type ResourceDef } from './resources.js';
import { alreadyExists, badRequest, conflict, expired, invalid, notFound, StatusError, failure } from './status.js';
import { deepClone, deepEqual, type KubeObject } from './types.js';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One write, as remembered for watch replay. `object` is in storage version. */
export interface StoreEvent {
  readonly type: EventType;
  readonly rv: number;
  readonly def: ResourceDef;
  readonly object: KubeObject;
  /** The state before a MODIFIED, so that selector watches can turn it into ADDED/DELETED. */
  readonly prevObject?: KubeObject;
}

/**
 * Which parts of a stored object an update may change: `main` is PUT on the resource (status kept
 * when the resource has a status subresource), `status` is PUT on `/status` (only status changes),
 * `all` is the seeding API (everything changes).
 */
export type UpdateMode = 'main' | 'status' | 'all';

export interface CreateOptions {
  /** Keep `status` from the body (seeding); over HTTP a resource with a status subresource drops it. */
  keepStatus?: boolean;
  /** Create the object's namespace if missing (seeding); over HTTP a missing namespace is 404. */
  ensureNamespace?: boolean;
  /** `dryRun=All`: every check, nothing stored (the answer carries no new resourceVersion). */
  dryRun?: boolean;
}

export interface UpdateOptions {
  mode: UpdateMode;
  /** Accept a body without metadata.resourceVersion (true for built-in resources and seeding). */
  allowUnconditional: boolean;
  dryRun?: boolean;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const NAME_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";

function nowTimestamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function objectKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

/** Byte order, as etcd lists keys. */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Everything that makes up the desired state: all top-level fields but metadata and status. */
function specOf(obj: KubeObject): Record<string, unknown> {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
  return rest;
}

/** The object re-labelled with a served version (all versions share one storage). */
export function asVersion(obj: KubeObject, def: ResourceDef, version: string): KubeObject {
  const copy = deepClone(obj);
  copy.apiVersion = apiVersionOf(def.group, version);
  return copy;
}

/**
 * In-memory object storage with one global, monotonically increasing resourceVersion, uid /
 * creationTimestamp / generation bookkeeping, optimistic concurrency and an event history for
 * watch replay. Every write goes through here, whether it came over HTTP or the seeding API.
 */
export class Store {
  private rv = 1;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private history: StoreEvent[] = [];
  /** Events with rv ≤ compactedRv are forgotten; watching from before it is 410 Expired. */
  private compactedRv = 0;
  private readonly listeners = new Set<(e: StoreEvent) => void>();

  /** `admit` changes every created or updated object as admission would (e.g. CRD pruning, pruning.ts). */
  constructor(
    private readonly historyLimit = 10_000,
    private readonly admit: (def: ResourceDef, obj: KubeObject) => void = () => {},
  ) {
    for (const def of RESOURCES) this.objects.set(storageKey(def), new Map());
    for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      this.create(this.namespaceDef(), { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    }
  }

  get resourceVersion(): string {
    return String(this.rv);
  }

  subscribe(listener: (e: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get(def: ResourceDef, namespace: string | undefined, name: string): KubeObject | undefined {
    const obj = this.bucket(def).get(objectKey(def.namespaced ? namespace : undefined, name));
    return obj && deepClone(obj);
  }

  /** Objects in namespace (all namespaces when undefined), ordered by namespace then name. */
  list(def: ResourceDef, namespace?: string): KubeObject[] {
    return [...this.bucket(def).values()]
      .filter((o) => namespace === undefined || !def.namespaced || o.metadata.namespace === namespace)
      .sort((a, b) => compareKeys(objectKey(a.metadata.namespace, a.metadata.name!), objectKey(b.metadata.namespace, b.metadata.name!)))
      .map((o) => deepClone(o));
  }

  create(def: ResourceDef, input: KubeObject, opts: CreateOptions = {}): KubeObject {
    const obj = deepClone(input);
    this.admit(def, obj);
    obj.apiVersion = apiVersionOf(def.group, def.versions[0]!);
    obj.kind = def.kind;
    const meta = (obj.metadata = { ...(obj.metadata ?? {}) });
    if (!meta.name && meta.generateName) meta.name = meta.generateName + randomBytes(3).toString('hex').slice(0, 5);
    if (!meta.name) throw invalid(def, '', 'metadata.name', 'FieldValueRequired', 'Required value: name or generateName is required');
    if (!DNS_SUBDOMAIN.test(meta.name)) {
      throw invalid(def, meta.name, 'metadata.name', 'FieldValueInvalid', `Invalid value: "${meta.name}": ${NAME_MESSAGE}`);
    }
    if (def.namespaced) {
      if (!meta.namespace) throw badRequest('the server could not find the requested resource: namespace is required');
      this.checkNamespace(meta.namespace, opts.ensureNamespace ?? false);
    } else {
      delete meta.namespace;
    }
    const key = objectKey(meta.namespace, meta.name);
    if (this.bucket(def).has(key)) throw alreadyExists(def, meta.name);
    if (def.statusSubresource && !opts.keepStatus) delete obj['status'];
    meta.uid = randomUUID();
    meta.creationTimestamp = nowTimestamp();
    if (def.generation) meta.generation = 1;
    else delete meta.generation;
    delete meta['deletionTimestamp'];
    if (opts.dryRun) {
      delete meta.resourceVersion;
      return obj;
    }
    this.commit('ADDED', def, key, obj);
    return deepClone(obj);
  }

  update(def: ResourceDef, input: KubeObject, opts: UpdateOptions): KubeObject {
    const name = input.metadata?.name ?? '';
    const key = objectKey(def.namespaced ? input.metadata?.namespace : undefined, name);
    const old = this.bucket(def).get(key);
    if (!old) throw notFound(def, name);
    const rv = input.metadata?.resourceVersion;
    if (rv === undefined || rv === '') {
      if (!opts.allowUnconditional) {
        throw invalid(def, name, 'metadata.resourceVersion', 'FieldValueInvalid', 'Invalid value: 0x0: must be specified for an update');
      }
    } else if (rv !== old.metadata.resourceVersion) {
      throw conflict(def, name);
    }
    let next: KubeObject;
    if (opts.mode === 'status' && def.statusSubresource) {
      next = deepClone(old);
      if (input['status'] === undefined) delete next['status'];
      else next['status'] = deepClone(input['status']);
    } else {
      next = deepClone(input);
      next.metadata = { ...next.metadata };
      if (opts.mode === 'main' && def.statusSubresource) {
        if (old['status'] === undefined) delete next['status'];
        else next['status'] = deepClone(old['status']);
      }
    }
    if (opts.mode !== 'status') this.admit(def, next);
    return this.write(def, key, old, next, { dryRun: opts.dryRun ?? false });
  }

  delete(
    def: ResourceDef,
    namespace: string | undefined,
    name: string,
    preconditions?: { resourceVersion?: string; uid?: string },
    dryRun = false,
  ): KubeObject {
    const key = objectKey(def.namespaced ? namespace : undefined, name);
    const old = this.bucket(def).get(key);
    if (!old) throw notFound(def, name);
    if (preconditions?.uid && preconditions.uid !== old.metadata.uid) {
      throw conflict(def, name, `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${old.metadata.uid}`);
    }
    if (preconditions?.resourceVersion && preconditions.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(def, name, `Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`);
    }
    if (dryRun) return deepClone(old);
    if (def.plural === 'namespaces' && !def.group) {
      for (const d of RESOURCES.filter((r) => r.namespaced)) {
        for (const o of this.list(d, name)) this.delete(d, name, o.metadata.name!);
      }
    }
    this.bucket(def).delete(key);
    const gone = deepClone(old);
    this.commit('DELETED', def, undefined, gone);
    return deepClone(gone);
  }

  /**
   * A concurrent writer: stores the object again (after `mutate`, if given) with a new
   * resourceVersion even when nothing changed, so a client holding the old version gets 409.
   */
  touch(def: ResourceDef, namespace: string | undefined, name: string, mutate?: (obj: KubeObject) => void): KubeObject {
    const key = objectKey(def.namespaced ? namespace : undefined, name);
    const old = this.bucket(def).get(key);
    if (!old) throw notFound(def, name);
    const next = deepClone(old);
    mutate?.(next);
    return this.write(def, key, old, next, { force: true });
  }

  /** Forget all history: watches from any earlier resourceVersion now get 410 Expired. */
  compact(): void {
    this.compactedRv = this.rv;
    this.history = [];
  }

  /** Events after `rv`, or a 410 Expired error when they have been compacted away. */
  eventsSince(rv: number): StoreEvent[] {
    if (rv < this.compactedRv) throw expired(`too old resource version: ${rv} (${this.compactedRv})`);
    this.checkNotAhead(rv);
    const first = this.history.findIndex((e) => e.rv > rv);
    return first < 0 ? [] : this.history.slice(first);
  }

  /**
   * A resourceVersion this store has not reached (e.g. from before a restart of the dev server) is
   * 504 "Too large resource version", as on a real server once its wait for the version times out.
   */
  checkNotAhead(rv: number): void {
    if (rv <= this.rv) return;
    throw new StatusError(
      failure(504, `Timeout: Too large resource version: ${rv}, current: ${this.rv}`, 'Timeout', {
        causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version', field: '' }],
        retryAfterSeconds: 1,
      }),
    );
  }

  /** The definition for an apiVersion/kind pair, or a 404 naming what is not served. */
  resolveKind(apiVersion: string, kind: string): ResourceDef {
    const def = findByKind(apiVersion, kind);
    if (!def) throw new StatusError(failure(404, `the server could not find the requested resource (kind ${kind} in ${apiVersion})`, 'NotFound'));
    return def;
  }

  private write(def: ResourceDef, key: string, old: KubeObject, next: KubeObject, how: { force?: boolean; dryRun?: boolean }): KubeObject {
    next.apiVersion = old.apiVersion;
    next.kind = old.kind;
    const meta = next.metadata;
    meta.name = old.metadata.name!;
    if (def.namespaced) meta.namespace = old.metadata.namespace!;
    else delete meta.namespace;
    meta.uid = old.metadata.uid!;
    meta.creationTimestamp = old.metadata.creationTimestamp!;
    meta.resourceVersion = old.metadata.resourceVersion!;
    if (def.generation) {
      meta.generation = (old.metadata.generation ?? 1) + (deepEqual(specOf(old), specOf(next)) ? 0 : 1);
    } else {
      delete meta.generation;
    }
    // Like etcd, an update that changes nothing is not a write: no new resourceVersion, no event.
    if (!how.force && deepEqual(old, next)) return deepClone(old);
    if (how.dryRun) return next;
    this.commit('MODIFIED', def, key, next, old);
    return deepClone(next);
  }

  private commit(type: EventType, def: ResourceDef, key: string | undefined, obj: KubeObject, prevObject?: KubeObject): void {
    this.rv++;
    obj.metadata.resourceVersion = String(this.rv);
    if (key !== undefined) this.bucket(def).set(key, obj);
    const event: StoreEvent = prevObject ? { type, rv: this.rv, def, object: obj, prevObject } : { type, rv: this.rv, def, object: obj };
    this.history.push(event);
    if (this.history.length > this.historyLimit) this.compactedRv = this.history.shift()!.rv;
    for (const listener of [...this.listeners]) listener(event);
  }

  private checkNamespace(namespace: string, ensure: boolean): void {
    const nsDef = this.namespaceDef();
    if (this.bucket(nsDef).has(objectKey(undefined, namespace))) return;
    if (!ensure) throw notFound(nsDef, namespace);
    this.create(nsDef, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  }

  private namespaceDef(): ResourceDef {
    return RESOURCES.find((r) => r.plural === 'namespaces' && !r.group)!;
  }

  private bucket(def: ResourceDef): Map<string, KubeObject> {
    return this.objects.get(storageKey(def))!;
  }
}

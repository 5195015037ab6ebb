import { apiErrorInfo } from './api-error.js';
import type { KubeClient } from './client.js';
import { EVENTS, MERGE_PATCH, resourcePath } from './paths.js';
import type { RouteRef } from '../routing/route-store.js';
import { RouteChangeKind, type RouteChange } from '../routing/router.js';

// Kubernetes Events the way client-go's recorder writes them, so a busy controller does not
// double its API requests with Events: the same reason, object and message seen again within
// `aggregateWindowMs` raises the `count` of the one Event already written (a PATCH; nothing at
// all when the first write is still pending), and each object has a token bucket (client-go's
// spam filter: burst 25, one token per 5 minutes). Recording never throws and never waits: the
// writes happen behind it, after `yieldTo` (work that matters more, such as relabels) is done.

/** `source.component` of every Event the companion and the plugin write. */
export const EVENT_COMPONENT = 'rollouts-companion';

export const EventType = { Normal: 'Normal', Warning: 'Warning' } as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

/** What became of one recorded occurrence (for metrics). */
export const EventOutcome = {
  /** A new Event object was created. */
  Created: 'created',
  /** An existing Event's count was raised (one PATCH). */
  Aggregated: 'aggregated',
  /** Folded into a write already pending: no request of its own. */
  Coalesced: 'coalesced',
  /** The object's token bucket was empty: counted, written with the next write that happens. */
  RateLimited: 'rate_limited',
  /** The API server refused or could not be reached; the occurrence is lost. */
  Failed: 'failed',
} as const;
export type EventOutcome = (typeof EventOutcome)[keyof typeof EventOutcome];

/** The object an Event is about (`involvedObject`). */
export interface EventObject {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
}

export interface EventRecorderOptions {
  kube: KubeClient;
  /** `source.component` / `reportingComponent`. */
  component: string;
  /** `source.host`, e.g. the pod name. */
  host?: string;
  /** Identical occurrences closer than this raise one Event's count (client-go: 10 minutes). */
  aggregateWindowMs?: number;
  /** Writes allowed at once per object. */
  burst?: number;
  /** One more write per object after this long. */
  refillMs?: number;
  /** Distinct events and objects remembered (least recently seen forgotten first). */
  cacheSize?: number;
  /** Event writes in flight at once. */
  concurrency?: number;
  /** Resolves when more important API work is done; each write waits for it first. */
  yieldTo?: () => Promise<void>;
  /** Told about every occurrence's outcome; `error` when one failed (the recorder never logs). */
  onOutcome?: (outcome: EventOutcome, event: { reason: string; object: EventObject }, error?: unknown) => void;
  now?: () => number;
}

export const EVENT_DEFAULTS = {
  aggregateWindowMs: 10 * 60_000,
  burst: 25,
  refillMs: 5 * 60_000,
  cacheSize: 4096,
  concurrency: 4,
} as const;

interface Entry {
  object: EventObject;
  type: EventType;
  reason: string;
  message: string;
  /** The Event object's name once created. */
  name?: string;
  /** Occurrences so far (what the Event's count should say). */
  count: number;
  /** What the API server holds. */
  writtenCount: number;
  first: number;
  last: number;
  /** Waiting in the write queue. */
  queued: boolean;
  writing: boolean;
}

interface Bucket {
  tokens: number;
  at: number;
}

const MAX_NAME = 253;

const objectKey = (o: EventObject): string => `${o.apiVersion}\0${o.kind}\0${o.namespace}\0${o.name}\0${o.uid ?? ''}`;

/** client-go's name: `<object>.<unix nanoseconds, hex>`, unique enough per object. */
function eventName(object: EventObject, at: number, sequence: number): string {
  const suffix = `.${(BigInt(at) * 1_000_000n + BigInt(sequence % 1_000_000)).toString(16)}`;
  return object.name.slice(0, MAX_NAME - suffix.length) + suffix;
}

export class EventRecorder {
  private readonly entries = new Map<string, Entry>();
  private readonly buckets = new Map<string, Bucket>();
  private readonly writeQueue: Entry[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private readonly window: number;
  private readonly burst: number;
  private readonly refillMs: number;
  private readonly cacheSize: number;
  private readonly concurrency: number;
  private readonly now: () => number;
  private workers = 0;
  private sequence = 0;

  constructor(private readonly options: EventRecorderOptions) {
    this.window = options.aggregateWindowMs ?? EVENT_DEFAULTS.aggregateWindowMs;
    this.burst = options.burst ?? EVENT_DEFAULTS.burst;
    this.refillMs = options.refillMs ?? EVENT_DEFAULTS.refillMs;
    this.cacheSize = options.cacheSize ?? EVENT_DEFAULTS.cacheSize;
    this.concurrency = Math.max(1, options.concurrency ?? EVENT_DEFAULTS.concurrency);
    this.now = options.now ?? Date.now;
  }

  /** Records one occurrence; returns at once. */
  record(object: EventObject, type: EventType, reason: string, message: string): void {
    const now = this.now();
    const key = `${objectKey(object)}\0${type}\0${reason}\0${message}`;
    let entry = this.entries.get(key);
    if (entry && !entry.writing && !entry.queued && now - entry.last > this.window) entry = undefined;
    if (entry) {
      this.entries.delete(key);
      entry.count += 1;
      entry.last = now;
    } else {
      entry = { object, type, reason, message, count: 1, writtenCount: 0, first: now, last: now, queued: false, writing: false };
    }
    this.remember(this.entries, key, entry);
    if (entry.queued) {
      this.report(EventOutcome.Coalesced, entry);
      return;
    }
    // A write in flight picks the new count up when it is done (see write()).
    if (entry.writing) {
      this.report(EventOutcome.Coalesced, entry);
      return;
    }
    if (!this.take(object, now)) {
      this.report(EventOutcome.RateLimited, entry);
      return;
    }
    this.enqueue(entry);
  }

  /** Resolves once every pending write has been attempted (tests, shutdown). */
  flush(): Promise<void> {
    if (this.workers === 0 && this.writeQueue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private remember<V>(map: Map<string, V>, key: string, value: V): void {
    map.set(key, value);
    if (map.size > this.cacheSize) {
      for (const [oldest, old] of map) {
        // An entry being written stays: its write still needs it.
        if ((old as Partial<Entry>).writing || (old as Partial<Entry>).queued) continue;
        map.delete(oldest);
        break;
      }
    }
  }

  private take(object: EventObject, now: number): boolean {
    const key = objectKey(object);
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    this.buckets.delete(key);
    bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.at) / this.refillMs);
    bucket.at = now;
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    this.remember(this.buckets, key, bucket);
    return allowed;
  }

  private enqueue(entry: Entry): void {
    entry.queued = true;
    this.writeQueue.push(entry);
    while (this.workers < this.concurrency && this.workers < this.writeQueue.length) {
      this.workers += 1;
      void this.work();
    }
  }

  private async work(): Promise<void> {
    try {
      for (let entry = this.writeQueue.shift(); entry; entry = this.writeQueue.shift()) {
        entry.queued = false;
        entry.writing = true;
        try {
          await this.options.yieldTo?.();
          await this.write(entry);
        } finally {
          entry.writing = false;
        }
      }
    } finally {
      this.workers -= 1;
      if (this.workers === 0 && this.writeQueue.length === 0) {
        for (const resolve of this.idleWaiters.splice(0)) resolve();
      }
    }
  }

  private async write(entry: Entry): Promise<void> {
    // Occurrences that arrive while this write is in flight are written by one more round.
    for (let round = 0; entry.count > entry.writtenCount; round += 1) {
      const count = entry.count;
      const outcome = entry.name ? EventOutcome.Aggregated : EventOutcome.Created;
      try {
        if (entry.name) await this.patch(entry, count);
        else await this.create(entry, count);
        entry.writtenCount = count;
        this.report(outcome, entry);
      } catch (error) {
        if (entry.name && apiErrorInfo(error).status === 404) {
          // The Event expired (the API server keeps them an hour): start a new one.
          entry.name = undefined;
          entry.writtenCount = 0;
          if (round < 2) continue;
        }
        // Occurrences not written are given up, as client-go does after its retries.
        entry.writtenCount = entry.count;
        this.report(EventOutcome.Failed, entry, error);
        return;
      }
    }
  }

  private async create(entry: Entry, count: number): Promise<void> {
    const { object } = entry;
    const name = eventName(object, entry.first, (this.sequence += 1));
    await this.options.kube.request({
      method: 'POST',
      path: resourcePath(EVENTS, object.namespace),
      body: {
        metadata: { name, namespace: object.namespace },
        involvedObject: {
          apiVersion: object.apiVersion,
          kind: object.kind,
          name: object.name,
          namespace: object.namespace,
          ...(object.uid ? { uid: object.uid } : {}),
        },
        type: entry.type,
        reason: entry.reason,
        message: entry.message,
        source: { component: this.options.component, ...(this.options.host ? { host: this.options.host } : {}) },
        reportingComponent: this.options.component,
        ...(this.options.host ? { reportingInstance: this.options.host } : {}),
        firstTimestamp: new Date(entry.first).toISOString(),
        lastTimestamp: new Date(entry.last).toISOString(),
        count,
      },
    });
    entry.name = name;
  }

  private async patch(entry: Entry, count: number): Promise<void> {
    await this.options.kube.request({
      method: 'PATCH',
      path: resourcePath(EVENTS, entry.object.namespace, entry.name!),
      contentType: MERGE_PATCH,
      body: { count, lastTimestamp: new Date(entry.last).toISOString(), message: entry.message },
    });
  }

  private report(outcome: EventOutcome, entry: Entry, error?: unknown): void {
    this.options.onOutcome?.(outcome, { reason: entry.reason, object: entry.object }, error);
  }
}

const describeRoutes = (routes: readonly RouteRef[]): string => routes.map((r) => `${r.kind} ${r.namespace}/${r.name}`).join(', ');

/** The Event message for each route change; identical changes aggregate. */
export const routeChangeMessage = (change: RouteChange): string => {
  switch (change.kind) {
    case RouteChangeKind.Weight:
      return `canary weight ${change.weight} on ${describeRoutes(change.routes)}`;
    case RouteChangeKind.HeaderRoute:
      return `header route ${change.name} updated on ${describeRoutes(change.routes)}`;
    case RouteChangeKind.MirrorRoute:
      return `mirror route ${change.name} updated on ${describeRoutes(change.routes)}`;
    case RouteChangeKind.ManagedRoutesRemoved:
      return `managed header and mirror routes removed from ${describeRoutes(change.routes)}`;
    case RouteChangeKind.PinnedRouteViolation:
      return (change.violations ?? []).join('; ');
  }
};

/** TrafficRouter's onRouteChanged: an Event on the Rollout for each change. */
export function recordRouteChanges(recorder: EventRecorder): (change: RouteChange) => void {
  return (change) => {
    const meta = change.rollout.metadata;
    if (!meta?.name) return;
    recorder.record(
      {
        apiVersion: change.rollout.apiVersion ?? 'argoproj.io/v1alpha1',
        kind: 'Rollout',
        namespace: meta.namespace || 'default',
        name: meta.name,
        ...(meta.uid ? { uid: meta.uid } : {}),
      },
      change.kind === RouteChangeKind.PinnedRouteViolation ? EventType.Warning : EventType.Normal,
      change.kind,
      routeChangeMessage(change),
    );
  };
}

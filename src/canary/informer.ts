import type { Watch } from '@kubernetes/client-node';
import { silentWatch } from './errors.js';
import { Sleeper } from './sleeper.js';

// A small list+watch cache. client-node's ListWatch does not ask for bookmarks, gives up on the
// first non-410 error (someone must restart it, with no back-off of its own) and keeps whole
// objects; this one requests bookmarks, relists on 410 Gone (and, after a back-off, on a
// resourceVersion the server has not reached), reconnects with capped back-off,
// and keeps only a projection of each object (a projection of undefined means "not ours": the
// object is not cached at all). A watch that stayed up for `healthyAfterMs` resets the back-off,
// so occasional drops are retried at once however many came before; a watch whose connection
// stays open past its server-side timeout without ending is taken for dead; and `wake()` cuts
// a back-off short (the controller calls it when the API server answers again after an outage).

export interface ListPage {
  items?: unknown[];
  metadata?: { resourceVersion?: string; _continue?: string; continue?: string };
}

export interface InformerHandlers<T> {
  add(view: T): void;
  update(previous: T, view: T): void;
  delete(view: T): void;
}

export interface InformerOptions<T> {
  /** For logs and the watch-restart metric ("pods", "services", "rollouts"). */
  resource: string;
  watch: Watch;
  /** The collection path, e.g. `/api/v1/namespaces/demo/pods`. */
  path: string;
  labelSelector?: string;
  list(options: { labelSelector?: string; limit?: number; continue?: string }): Promise<ListPage>;
  project(object: unknown): T | undefined;
  /** Views that compare equal produce no update. */
  equal(a: T, b: T): boolean;
  handlers: InformerHandlers<T>;
  /** A watch was set up again after the first one (clean end, error, or 410). */
  onRestart?(): void;
  /** The cache was filled (again) from a full list. */
  onSynced?(): void;
  onError?(error: unknown, phase: 'list' | 'watch', retryInMs: number): void;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Server-side watch timeout; up to half again is added at random so watches do not end together. */
  watchTimeoutSeconds?: number;
  /** A watch up this long was healthy: the next failure starts the back-off from the base again. */
  healthyAfterMs?: number;
  pageSize?: number;
}

interface WatchOutcome {
  gone: boolean;
  error?: unknown;
  /** The server has not reached our resourceVersion: list again, after the back-off. */
  ahead?: boolean;
  events: number;
}

const GONE = 410;
export const DEFAULT_WATCH_TIMEOUT_SECONDS = 300;
export const DEFAULT_HEALTHY_AFTER_MS = 10_000;

/**
 * How long past its server-side timeout an open watch may go without ending before it is taken
 * for dead (a quarter of the timeout, at least a second): with the timeout's random spread that
 * is at most 1.75× the configured timeout.
 */
export const silentWatchGraceMs = (timeoutSeconds: number): number => Math.max(1000, timeoutSeconds * 250);

function statusCode(error: unknown): number | undefined {
  const e = error as { statusCode?: unknown; code?: unknown } | undefined;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  if (typeof e?.code === 'number') return e.code;
  return undefined;
}

/**
 * A watch refused because the server has not reached its resourceVersion (504 "Too large
 * resource version": etcd restored from a backup, a lagging API server). Watching from it again
 * may fail until the server catches up, if ever; client-go's reflector lists again.
 */
function resourceVersionAhead(status: unknown): boolean {
  const s = status as { code?: unknown; details?: { causes?: { reason?: unknown }[] } } | undefined;
  return s?.code === 504 && (s.details?.causes ?? []).some((c) => c.reason === 'ResourceVersionTooLarge');
}

function metaOf(object: unknown): { namespace?: string; name?: string; resourceVersion?: string } {
  const meta = (object as { metadata?: unknown } | undefined)?.metadata;
  return typeof meta === 'object' && meta !== null ? (meta as ReturnType<typeof metaOf>) : {};
}

export function objectKey(object: unknown): string {
  const meta = metaOf(object);
  return `${meta.namespace ?? ''}/${meta.name ?? ''}`;
}

export class Informer<T> {
  private readonly cache = new Map<string, T>();
  private resourceVersion = '';
  private synced = false;
  private stopped = true;
  private loop: Promise<void> | undefined;
  private abortWatch: (() => void) | undefined;
  private readonly sleeper = new Sleeper();
  private backingOff = false;

  constructor(private readonly options: InformerOptions<T>) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abortWatch?.();
    this.sleeper.interrupt();
    await this.loop;
  }

  /** Retries now if waiting out a back-off (the API server is reachable again). */
  wake(): void {
    if (this.backingOff) this.sleeper.interrupt();
  }

  hasSynced(): boolean {
    return this.synced;
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  get size(): number {
    return this.cache.size;
  }

  private async run(): Promise<void> {
    const base = this.options.backoffBaseMs ?? 200;
    const max = this.options.backoffMaxMs ?? 30_000;
    let needList = true;
    let failures = 0;
    let first = true;
    const backoff = async (error: unknown, phase: 'list' | 'watch'): Promise<void> => {
      failures += 1;
      const delay = Math.min(max, base * 2 ** Math.min(failures - 1, 30));
      const jittered = Math.round(delay * (0.8 + Math.random() * 0.4));
      this.options.onError?.(error, phase, jittered);
      this.backingOff = true;
      await this.sleeper.sleep(jittered);
      this.backingOff = false;
    };
    const healthyAfter = this.options.healthyAfterMs ?? DEFAULT_HEALTHY_AFTER_MS;
    while (!this.stopped) {
      if (!first) this.options.onRestart?.();
      first = false;
      if (needList) {
        try {
          await this.relist();
          needList = false;
        } catch (error) {
          await backoff(error, 'list');
          continue;
        }
      }
      if (this.stopped) break;
      const started = Date.now();
      const outcome = await this.watchOnce();
      if (this.stopped) break;
      if (outcome.gone) {
        // The resourceVersion is too old: only a fresh list closes the gap without losing events.
        needList = true;
        failures = 0;
        continue;
      }
      if (outcome.error !== undefined) {
        if (Date.now() - started >= healthyAfter) failures = 0;
        if (outcome.ahead) needList = true;
        await backoff(outcome.error, 'watch');
        continue;
      }
      // A clean end (server timeout, dropped connection). Back off only when watches keep
      // ending at once with nothing delivered, so a misbehaving server is not hammered.
      if (outcome.events === 0 && Date.now() - started < 1000) {
        await backoff(new Error(`the ${this.options.resource} watch ended at once`), 'watch');
      } else {
        failures = 0;
      }
    }
  }

  private async relist(): Promise<void> {
    const pageSize = this.options.pageSize ?? 500;
    // Pages are projected as they arrive, so whole objects never pile up (Services, say).
    let fresh = new Map<string, T>();
    const take = (items: unknown[] | undefined): void => {
      for (const item of items ?? []) {
        const view = this.options.project(item);
        if (view !== undefined) fresh.set(objectKey(item), view);
      }
    };
    let resourceVersion = '';
    let next: string | undefined;
    try {
      do {
        const page = await this.options.list({
          labelSelector: this.options.labelSelector,
          limit: pageSize,
          continue: next,
        });
        take(page.items);
        resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
        next = page.metadata?._continue || page.metadata?.continue || undefined;
      } while (next && !this.stopped);
    } catch (error) {
      if (statusCode(error) !== GONE || next === undefined) throw error;
      // The continue token expired mid-way: take everything in one consistent read instead.
      const page = await this.options.list({ labelSelector: this.options.labelSelector });
      fresh = new Map();
      take(page.items);
      resourceVersion = page.metadata?.resourceVersion ?? '';
    }
    if (this.stopped) return;
    for (const [key, view] of fresh) this.upsert(key, view);
    for (const [key, view] of [...this.cache]) {
      if (fresh.has(key)) continue;
      this.cache.delete(key);
      this.options.handlers.delete(view);
    }
    this.resourceVersion = resourceVersion;
    this.synced = true;
    this.options.onSynced?.();
  }

  private upsert(key: string, view: T): void {
    const previous = this.cache.get(key);
    this.cache.set(key, view);
    if (previous === undefined) this.options.handlers.add(view);
    else if (!this.options.equal(previous, view)) this.options.handlers.update(previous, view);
  }

  private remove(key: string): void {
    const previous = this.cache.get(key);
    if (previous === undefined) return;
    this.cache.delete(key);
    this.options.handlers.delete(previous);
  }

  private onEvent(type: string, object: unknown, outcome: WatchOutcome, abort: () => void): void {
    if (type === 'ERROR') {
      const code = (object as { code?: unknown } | undefined)?.code;
      if (code === GONE) outcome.gone = true;
      else {
        outcome.error = new Error(`watch error event: ${JSON.stringify(object)}`);
        outcome.ahead = resourceVersionAhead(object);
      }
      abort();
      return;
    }
    outcome.events += 1;
    const rv = metaOf(object).resourceVersion;
    if (type === 'ADDED' || type === 'MODIFIED') {
      const key = objectKey(object);
      const view = this.options.project(object);
      if (view === undefined) this.remove(key);
      else this.upsert(key, view);
    } else if (type === 'DELETED') {
      this.remove(objectKey(object));
    }
    if (rv) this.resourceVersion = rv;
  }

  /** One watch from the current resourceVersion; resolves when it ends, never rejects. */
  private watchOnce(): Promise<WatchOutcome> {
    const outcome: WatchOutcome = { gone: false, events: 0 };
    const base = this.options.watchTimeoutSeconds ?? DEFAULT_WATCH_TIMEOUT_SECONDS;
    const timeout = base * (1 + Math.random() / 2);
    return new Promise<WatchOutcome>((resolve) => {
      let controller: AbortController | undefined;
      let ended = false;
      const end = (error: unknown): void => {
        if (ended) return;
        ended = true;
        this.abortWatch = undefined;
        clearTimeout(watchdog);
        if (error !== null && error !== undefined && !outcome.gone) {
          if (statusCode(error) === GONE) outcome.gone = true;
          else if (!this.stopped && (error as { name?: string }).name !== 'AbortError') {
            outcome.error = error;
            // Refused before the stream began, the status body is not read: any 504 lists again.
            if (statusCode(error) === 504) outcome.ahead = true;
          }
        }
        controller?.abort();
        resolve(outcome);
      };
      const abort = (): void => end(null);
      // A connection that hangs silently (no events, no bookmarks, no end) is only noticed by a
      // timer: the server ends every watch at its timeout, so one still open well past it is dead.
      const watchdog = setTimeout(
        () => end(new Error(silentWatch(this.options.resource, Math.round(timeout + silentWatchGraceMs(base) / 1000)))),
        timeout * 1000 + silentWatchGraceMs(base),
      );
      watchdog.unref();
      this.abortWatch = abort;
      this.options.watch
        .watch(
          this.options.path,
          {
            resourceVersion: this.resourceVersion,
            allowWatchBookmarks: true,
            timeoutSeconds: Math.floor(timeout),
            ...(this.options.labelSelector ? { labelSelector: this.options.labelSelector } : {}),
          },
          (type: string, object: unknown) => {
            if (!ended) this.onEvent(type, object, outcome, abort);
          },
          (error: unknown) => end(error),
        )
        .then(
          (c) => {
            controller = c;
            if (ended || this.stopped) c.abort();
          },
          (error: unknown) => end(error ?? new Error('watch failed')),
        );
    });
  }

}

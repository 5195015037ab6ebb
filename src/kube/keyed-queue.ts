// Serializes work on the same objects (routes): two calls touching one route run one after
// the other, calls on different routes run in parallel. A call that touches several routes
// holds all their queues at once, taken in sorted key order so that two such calls can never
// wait on each other in a cycle. A waiter whose caller has gone leaves the queue: no queue
// waits longer than its callers do.

interface Waiter {
  grant: () => void;
}

export class KeyedQueue {
  /** Per key: whether it is held, and who waits for it in arrival order. */
  private readonly keys = new Map<string, Waiter[]>();

  /** Runs `task` holding every key; released when it settles. */
  async run<T>(keys: string | readonly string[], task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(typeof keys === 'string' ? [keys] : keys, signal);
    try {
      return await task();
    } finally {
      release();
    }
  }

  /**
   * Holds every key (in sorted order); resolves to the function that releases them all.
   * Rejects with the signal's reason if it aborts first, releasing what was taken.
   */
  async acquire(keys: readonly string[], signal?: AbortSignal): Promise<() => void> {
    const sorted = [...new Set(keys)].sort();
    const held: string[] = [];
    const releaseAll = () => {
      for (const k of held.splice(0)) this.release(k);
    };
    try {
      for (const key of sorted) {
        await this.take(key, signal);
        held.push(key);
      }
    } catch (err) {
      releaseAll();
      throw err;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      releaseAll();
    };
  }

  /** Whether a call holds `key` (or waits for it). */
  held(key: string): boolean {
    return this.keys.has(key);
  }

  /** Keys held or waited for. */
  get size(): number {
    return this.keys.size;
  }

  private take(key: string, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const waiters = this.keys.get(key);
    if (!waiters) {
      this.keys.set(key, []);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const i = waiters.indexOf(waiter);
        if (i >= 0) waiters.splice(i, 1);
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      waiters.push(waiter);
    });
  }

  private release(key: string): void {
    const waiters = this.keys.get(key);
    if (!waiters) return;
    const next = waiters.shift();
    if (next) next.grant();
    else this.keys.delete(key);
  }
}

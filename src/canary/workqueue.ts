// A keyed work queue in the manner of client-go's: a key waits at most once (adds collapse),
// one key is never handled twice at the same time (an add during handling runs it again after),
// at most `concurrency` keys are handled at once, and a failed key comes back after an
// exponential back-off capped at `maxDelayMs`.

export interface WorkQueueOptions {
  concurrency: number;
  /** Delay before the first retry; doubles with every further failure of the same key. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Told about each failed attempt (the queue itself never logs). */
  onError?: (key: string, error: unknown, failures: number, retryInMs: number) => void;
}

export type KeyHandler = (key: string) => Promise<void>;

export class WorkQueue {
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  /** Keys added while being handled: they run again once the current run ends. */
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly concurrency: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private closed = false;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly handler: KeyHandler,
    private readonly options: WorkQueueOptions,
  ) {
    this.concurrency = Math.max(1, Math.floor(options.concurrency));
    this.baseDelayMs = options.baseDelayMs ?? 50;
    this.maxDelayMs = options.maxDelayMs ?? 60_000;
  }

  add(key: string): void {
    if (this.closed) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    this.queued.add(key);
    this.pump();
  }

  /** Adds `key` after `delayMs`; an earlier pending delayed add of the same key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.closed) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + delayMs;
    const pending = this.timers.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, { at, timer });
  }

  /** Keys waiting, being handled, or scheduled for a retry. */
  get size(): number {
    const keys = new Set([...this.queued, ...this.processing, ...this.dirty, ...this.timers.keys()]);
    return keys.size;
  }

  /**
   * Resolves once no key is waiting or being handled (retries scheduled for later do not count):
   * lower-priority work, such as Event writes, waits for it.
   */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Runs every key waiting out a retry back-off now (the API server is back). */
  retryNow(): void {
    const keys = [...this.timers.keys()];
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const key of keys) this.add(key);
  }

  /** How many times `key` failed in a row (0 after a success). */
  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Stops taking keys, drops waiting and scheduled ones, and waits for running handlers. */
  async shutdown(): Promise<void> {
    this.closed = true;
    this.queued.clear();
    this.dirty.clear();
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.inFlight]);
    this.wakeIdle();
  }

  private isIdle(): boolean {
    return this.queued.size === 0 && this.processing.size === 0;
  }

  private wakeIdle(): void {
    if (this.isIdle()) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private pump(): void {
    while (!this.closed && this.processing.size < this.concurrency && this.queued.size > 0) {
      const key = this.queued.values().next().value as string;
      this.queued.delete(key);
      this.processing.add(key);
      const run = this.run(key);
      this.inFlight.add(run);
      void run.finally(() => this.inFlight.delete(run));
    }
  }

  private async run(key: string): Promise<void> {
    try {
      await this.handler(key);
      this.failures.delete(key);
    } catch (error) {
      const failures = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, failures);
      const delay = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.min(failures - 1, 30));
      this.options.onError?.(key, error, failures, delay);
      this.addAfter(key, delay);
    } finally {
      this.processing.delete(key);
      if (this.dirty.delete(key) && !this.closed) this.queued.add(key);
      this.pump();
      this.wakeIdle();
    }
  }
}

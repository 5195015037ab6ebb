// A token bucket for API-server calls, like client-go's QPS/burst: a controller that
// re-reads routes on every reconcile must not flood the API server. The queue of waiting
// requests is bounded (a full queue refuses at once instead of growing), and a request whose
// caller has gone leaves the queue, so abandoned work never delays live calls.

/** The queue is full: too much work is already waiting. */
export class QueueFullError extends Error {
  constructor(readonly limit: number) {
    super(`rate-limit queue full (${limit} waiting)`);
    this.name = 'QueueFullError';
  }
}

interface Waiter {
  resolve: () => void;
  reject: (reason: unknown) => void;
  cleanup: () => void;
}

export const DEFAULT_MAX_QUEUED = 1000;

export class RateLimiter {
  private tokens: number;
  private last = Date.now();
  private readonly waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Requests that had to wait for a token (a client-side throttle the caller felt). */
  waited = 0;

  constructor(
    readonly qps: number,
    readonly burst: number,
    readonly maxQueued = DEFAULT_MAX_QUEUED,
  ) {
    if (!(qps > 0) || !(burst >= 1)) throw new Error(`rate limit needs qps > 0 and burst >= 1 (got qps=${qps}, burst=${burst})`);
    if (!(maxQueued >= 0)) throw new Error(`rate limit needs a queue limit >= 0 (got ${maxQueued})`);
    this.tokens = burst;
  }

  /** Requests waiting for a token. */
  get queued(): number {
    return this.waiters.length;
  }

  /**
   * Resolves when a call may proceed. Rejects with QueueFullError when `maxQueued` requests
   * already wait, and with the signal's reason when `signal` aborts first (the request leaves
   * the queue).
   */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.refill();
    if (this.waiters.length === 0 && this.tokens >= 1) {
      this.tokens -= 1;
      return Promise.resolve();
    }
    if (this.waiters.length >= this.maxQueued) return Promise.reject(new QueueFullError(this.maxQueued));
    this.waited++;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal!.reason);
      };
      const waiter: Waiter = { resolve, reject, cleanup: () => signal?.removeEventListener('abort', onAbort) };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
      this.schedule();
    });
  }

  private refill(): void {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
  }

  private schedule(): void {
    if (this.timer) return;
    const wait = Math.max(1, Math.ceil(((1 - this.tokens) / this.qps) * 1000));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refill();
      while (this.waiters.length > 0 && this.tokens >= 1) {
        this.tokens -= 1;
        const waiter = this.waiters.shift()!;
        waiter.cleanup();
        waiter.resolve();
      }
      if (this.waiters.length > 0) this.schedule();
    }, wait);
    this.timer.unref();
  }
}

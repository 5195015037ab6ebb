import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// V8 keeps the pages a busy spell of calls made it commit: ~6–8 MB live, ~20 MB committed
// after thousands of SetWeights. Its memory reducer gives them back only after 10–25 s of low
// allocation (bench/README.md), and node offers no call that asks for it sooner. So once the
// controller has not called for a second we collect ourselves, and only when the heap has
// grown since the last time: an idle plugin pays nothing. Two full collections: the first
// frees the garbage, the second releases the pages the first one's sweep emptied.

/** Idle time after a call before the heap is collected. */
const IDLE_RELEASE_MS = 1000;
/** Growth of the committed heap since the last release that makes the next one worth its ~5 ms. */
const RELEASE_GROWTH_BYTES = 2 * 1024 * 1024;
/** Wait between the two collections: the first one's concurrent sweep is done by then. */
const SECOND_COLLECTION_MS = 100;

export interface IdleHeapReleaseOptions {
  idleMs?: number;
  growthBytes?: number;
  /** A full, synchronous collection; V8's own (the gc extension) unless testing. */
  collect?: () => void;
  /** Bytes the V8 heap has committed. */
  heapSize?: () => number;
}

export class IdleHeapRelease {
  private readonly growthBytes: number;
  private readonly collect: () => void;
  private readonly heapSize: () => number;
  private releasedAt: number;
  private readonly idleMs: number;
  private idle: NodeJS.Timeout | undefined;
  private second: NodeJS.Timeout | undefined;

  constructor(options: IdleHeapReleaseOptions = {}) {
    this.growthBytes = options.growthBytes ?? RELEASE_GROWTH_BYTES;
    this.collect = options.collect ?? fullCollection;
    this.heapSize = options.heapSize ?? (() => getHeapStatistics().total_heap_size);
    this.releasedAt = this.heapSize();
    this.idleMs = options.idleMs ?? IDLE_RELEASE_MS;
  }

  /** A call starts or has just been answered: the idle time starts again. */
  readonly touch = (): void => {
    clearTimeout(this.second);
    this.second = undefined;
    // A timer that has fired runs again once refreshed. unref: a pending release never keeps
    // the plugin alive after the host has gone.
    if (this.idle) this.idle.refresh();
    else this.idle = setTimeout(this.release, this.idleMs).unref();
  };

  private readonly release = (): void => {
    if (this.heapSize() - this.releasedAt < this.growthBytes) return;
    this.collect();
    this.second = setTimeout(() => {
      this.second = undefined;
      this.collect();
      this.releasedAt = this.heapSize();
    }, SECOND_COLLECTION_MS).unref();
  };

  stop(): void {
    clearTimeout(this.idle);
    clearTimeout(this.second);
    this.idle = this.second = undefined;
  }
}

/** Made on the first release, not at start: a new context costs ~1 ms. */
let gc: (() => void) | undefined;

function fullCollection(): void {
  gc ??= exposedGc();
  gc();
}

/**
 * V8's gc extension, taken from a context made while --expose-gc was briefly on (as Jest's
 * leak detector does). The flag goes back off at once: V8 code caches carry a hash of the
 * flags in force, and the launcher records the plugin's with V8's defaults (src/plugin/heap.ts).
 */
function exposedGc(): () => void {
  setFlagsFromString('--expose-gc');
  try {
    return runInNewContext('gc') as () => void;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}

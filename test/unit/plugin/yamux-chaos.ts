import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

// Test-only transports for the yamux session: they keep the byte order but change when and
// in which pieces bytes arrive, which is where frame-ordering bugs show.

/** A small seeded PRNG (mulberry32), so a failing fast-check case replays the same schedule. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Random bytes from a seed (fast-check values stay small; the payloads do not). */
export function pattern(seed: number, size: number): Buffer {
  const rand = prng(seed);
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) out[i] = (rand() * 256) | 0;
  return out;
}

/** Waits nothing, a microtask or a turn of the event loop, as the PRNG decides. */
function jitter(rand: () => number): Promise<void> | undefined {
  const r = rand();
  if (r < 0.4) return undefined;
  if (r < 0.6) return Promise.resolve();
  return new Promise((resolve) => setImmediate(resolve));
}

class ChaosEnd extends Duplex {
  peer!: ChaosEnd;
  readonly #rand: () => number;
  readonly #maxPieces: number;

  constructor(rand: () => number, highWaterMark: number, maxPieces: number) {
    super({ writableHighWaterMark: highWaterMark });
    this.#rand = rand;
    this.#maxPieces = maxPieces;
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    void this.#deliver(chunk).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    void Promise.resolve(jitter(this.#rand)).then(() => {
      this.peer.push(null);
      callback();
    });
  }

  /** Pushes the chunk to the peer cut at random points, each piece after a random delay. */
  async #deliver(chunk: Buffer): Promise<void> {
    const pieces = 1 + Math.floor(this.#rand() * this.#maxPieces);
    const cuts = Array.from({ length: pieces - 1 }, () => Math.floor(this.#rand() * (chunk.length + 1)));
    cuts.sort((x, y) => x - y).push(chunk.length);
    let offset = 0;
    for (const cut of cuts) {
      await jitter(this.#rand);
      if (this.peer.destroyed) return;
      if (cut > offset) this.peer.push(chunk.subarray(offset, cut));
      offset = Math.max(offset, cut);
    }
  }
}

/**
 * Two connected in-memory transports. Every write is cut at random points into up to
 * maxPieces pieces that reach the other end late but in order (frames split anywhere, or
 * several frames in one read); the write completes once all its pieces arrived, and a small
 * high-water mark makes the writer wait for 'drain' often.
 */
export function chaosPair(seed: number, { highWaterMark = 4096, maxPieces = 4 } = {}): [Duplex, Duplex] {
  const rand = prng(seed);
  const a = new ChaosEnd(rand, highWaterMark, maxPieces);
  const b = new ChaosEnd(rand, highWaterMark, maxPieces);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

/**
 * Wraps a socket so that each write reaches it only after a timer, in order: separate
 * frames of one synchronous burst then arrive at the peer in separate reads, as on a busy host.
 */
export function lateWrites(socket: Socket, delayMs = 1): Duplex {
  const wrapper = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      setTimeout(() => socket.write(chunk, callback), delayMs);
    },
    final(callback) {
      setTimeout(() => socket.end(callback), delayMs);
    },
    destroy(error, callback) {
      socket.destroy();
      callback(error);
    },
  });
  socket.on('data', (d: Buffer) => wrapper.push(d));
  socket.on('end', () => wrapper.push(null));
  socket.on('error', (error) => wrapper.destroy(error));
  socket.on('close', () => wrapper.destroy());
  return wrapper;
}

/** Fails with the lengths and the first differing byte offset, not just two digests. */
export function sameBytes(actual: Buffer, expected: Buffer): string | null {
  const n = Math.min(actual.length, expected.length);
  let at = -1;
  for (let i = 0; i < n; i++) {
    if (actual[i] !== expected[i]) {
      at = i;
      break;
    }
  }
  if (at < 0 && actual.length === expected.length) return null;
  const where = at >= 0 ? `first difference at byte ${at}` : `identical for the first ${n} bytes`;
  return `got ${actual.length} bytes, want ${expected.length}: ${where}`;
}

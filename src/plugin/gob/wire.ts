import { gobErrors } from './errors.js';

// gob's integer encodings. An unsigned integer below 128 is one byte; anything larger is
// a byte holding -n (n = 1..8) followed by n big-endian bytes. A signed integer is
// folded into an unsigned one with the sign in bit 0. Floats are the IEEE bits with the
// bytes reversed (so small exponents make short encodings), sent as an unsigned integer.

/** An integer that fits in a JS number exactly, else a bigint. */
export type GoInt = number | bigint;

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export function toGoInt(v: bigint): GoInt {
  return v <= SAFE && v >= -SAFE ? Number(v) : v;
}

/** A bounded read cursor over one message. Every read checks the bytes are there. */
export class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    pos = 0,
    readonly end = buf.length,
  ) {
    this.pos = pos;
  }

  get left(): number {
    return this.end - this.pos;
  }

  byte(what: string): number {
    if (this.pos >= this.end) throw gobErrors.truncated(what);
    return this.buf[this.pos++]!;
  }

  bytes(n: number, what: string): Uint8Array {
    if (n > this.left) throw gobErrors.truncated(what);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Skips n bytes; returns where they start. */
  skip(n: number, what: string): number {
    if (n > this.left) throw gobErrors.truncated(what);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  /** An unsigned integer as a bigint (for 64-bit values). */
  uintBig(what = 'unsigned integer'): bigint {
    const b = this.byte(what);
    if (b < 0x80) return BigInt(b);
    const n = 256 - b;
    if (n > 8) throw gobErrors.badUint();
    if (n > this.left) throw gobErrors.truncated(what);
    let v = 0n;
    for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(this.buf[this.pos++]!);
    return v;
  }

  // uint and int read a one-byte value (most integers of a gob stream: field deltas, counts,
  // type ids) without further calls: a Rollout's first decode runs in V8's interpreter, where
  // each call costs.

  /** An unsigned integer that must fit in a JS number (counts, lengths, ids, deltas). */
  uint(what = 'unsigned integer'): number {
    const at = this.pos;
    if (at < this.end && this.buf[at]! < 0x80) {
      this.pos = at + 1;
      return this.buf[at]!;
    }
    const b = this.byte(what);
    if (b < 0x80) return b;
    const n = 256 - b;
    if (n > 8) throw gobErrors.badUint();
    if (n > this.left) throw gobErrors.truncated(what);
    if (n <= 6) {
      let v = 0;
      for (let i = 0; i < n; i++) v = v * 256 + this.buf[this.pos++]!;
      return v;
    }
    this.pos -= 1;
    const big = this.uintBig(what);
    // Beyond 2^53 no count or id can be valid; callers compare against small limits.
    return big > SAFE ? Number.MAX_SAFE_INTEGER : Number(big);
  }

  /** A uint64: a number when exact, else a bigint. Numbers up to 6 bytes skip BigInt, which is slow. */
  uintGo(what = 'unsigned integer'): GoInt {
    const n = this.pos < this.end ? this.buf[this.pos]! : 0;
    if (n < 0x80 || 256 - n <= 6) return this.uint(what);
    return toGoInt(this.uintBig(what));
  }

  int(what = 'integer'): GoInt {
    const at = this.pos;
    if (at < this.end && this.buf[at]! < 0x80) {
      this.pos = at + 1;
      const u = this.buf[at]!;
      return u % 2 === 1 ? -(u + 1) / 2 : u / 2;
    }
    const b = at < this.end ? this.buf[at]! : 0;
    if (256 - b <= 6) {
      // Below 2^48: sign in bit 0, magnitude above it, in exact float arithmetic.
      const u = this.uint(what);
      return u % 2 === 1 ? -(u + 1) / 2 : u / 2;
    }
    const u = this.uintBig(what);
    return toGoInt(u & 1n ? ~(u >> 1n) : u >> 1n);
  }

  /** A signed integer that must fit in a JS number (type ids, lengths). */
  intSmall(what = 'integer'): number {
    const v = this.int(what);
    return typeof v === 'bigint' ? (v < 0n ? -Number.MAX_SAFE_INTEGER : Number.MAX_SAFE_INTEGER) : v;
  }

  float(what = 'float'): number {
    const u = this.uintBig(what);
    const view = new DataView(new ArrayBuffer(8));
    view.setBigUint64(0, u, true); // little-endian store = byte reversal
    return view.getFloat64(0, false);
  }
}

const SCRATCH = new DataView(new ArrayBuffer(8));

/** A growable output buffer with gob's integer encodings. */
export class Writer {
  private buf = new Uint8Array(64);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.length++] = b;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  uint(v: number | bigint): void {
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v) || v < 0) throw gobErrors.encode(`${v} as an unsigned integer`);
      if (v < 0x80) {
        this.byte(v);
        return;
      }
      v = BigInt(v);
    }
    if (v < 0n || v >= 1n << 64n) throw gobErrors.encode(`${v} as an unsigned integer`);
    if (v < 0x80n) {
      this.byte(Number(v));
      return;
    }
    const out: number[] = [];
    for (let x = v; x > 0n; x >>= 8n) out.unshift(Number(x & 0xffn));
    this.byte(256 - out.length);
    for (const b of out) this.byte(b);
  }

  int(v: number | bigint): void {
    const i = BigInt(v);
    if (i < -(1n << 63n) || i >= 1n << 63n) throw gobErrors.encode(`${v} as a signed integer`);
    this.uint(i < 0n ? ((~i) << 1n) | 1n : i << 1n);
  }

  float(f: number): void {
    SCRATCH.setFloat64(0, f, false);
    this.uint(SCRATCH.getBigUint64(0, true));
  }

  string(s: string): void {
    this.byteString(new TextEncoder().encode(s));
  }

  byteString(b: Uint8Array): void {
    this.uint(b.length);
    this.bytes(b);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}


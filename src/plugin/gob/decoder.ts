import { GobError, gobErrors } from './errors.js';
import type { KnownGobTypes, KnownType } from './known-types.js';
import { goTimeToRfc3339 } from './time.js';
import {
  BUILTIN_BY_ID,
  FIRST_USER_ID,
  GO_FIELD_TYPES,
  GO_TYPE,
  GobInterface,
  type ExternalKind,
  type StructField,
  type WireType,
} from './types.js';
import { Reader } from './wire.js';

// Decodes a gob byte stream into plain JS values without Go types on this side: the
// stream's own type definitions drive decoding. Mapping:
//   struct      → object keyed by Go field names (absent = zero value); non-enumerable:
//                 its wire name under GO_TYPE, its fields' wire type names under GO_FIELD_TYPES
//   slice/array → Array ([]byte → Uint8Array)        map → Map
//   int/uint    → number, or bigint beyond 2^53      float → number, complex → { re, im }
//   interface   → GobInterface (nil → null)
//   GobEncoder / BinaryMarshaler → Uint8Array, TextMarshaler → string, unless an external
//   decoder is registered for the wire name ("Time" → RFC 3339 string by default)
// The decoding logic (message framing, type sequences, interface framing) follows Go's
// encoding/gob/decoder.go so that what Go's decoder accepts, this one accepts too, with
// one deliberate difference: a struct must end with its 0 terminator (Go's encoder always
// writes it), which lets every element count be bounded by the bytes left.

export interface GobDecoderOptions {
  /** Largest accepted message (length prefix), default 64 MiB. */
  maxMessageBytes?: number;
  /** Deepest accepted nesting of values, default 100. */
  maxDepth?: number;
  /** Most type definitions per stream, default 10,000. */
  maxTypes?: number;
  /** Most decoded elements (fields, slice/map entries) per top-level value, default 4,000,000. */
  maxValues?: number;
  /** Decoders for self-marshalling types by wire name; merged over the default { Time }. */
  externalDecoders?: Record<string, (bytes: Uint8Array, kind: ExternalKind) => unknown>;
  /** Type definitions taken as they are when their bytes match (known-types.ts). */
  knownTypes?: KnownGobTypes;
  /** Where to add every definition this decoder parses (recording them for knownTypes). */
  recordTypes?: Map<string, KnownType>;
}

export interface GobDecoded {
  value: unknown;
  /** Wire name of the top-level type ("" for unnamed types, the builtin name for basic ones). */
  typeName: string;
}

/** How many fields each wireType kind's struct has (ArrayT, SliceT, StructT, MapT, then the three marshaler kinds). */
const WIRE_KIND_FIELDS = [3, 2, 2, 3, 1, 1, 1];

const DEFAULTS = { maxMessageBytes: 64 << 20, maxDepth: 100, maxTypes: 10_000, maxValues: 4_000_000 };

/** Thrown inside a decode attempt when a message it needs has not fully arrived. */
const NEED_MORE = Symbol('need more input');

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Strings from this size on are remembered (see largeString). */
const LARGE_STRING_BYTES = 16 << 10;
/** How many bytes of large strings are remembered, most recent first. */
const LARGE_STRINGS_KEPT_BYTES = 4 << 20;

/** Buffer's own decoders: UTF-8 (invalid sequences become U+FFFD, as with TextDecoder) and latin1. */
interface Slices {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
}

export class GobDecoder {
  private readonly limits: typeof DEFAULTS;
  private readonly external: Record<string, (bytes: Uint8Array, kind: ExternalKind) => unknown>;
  private readonly knownTypes: KnownGobTypes | undefined;
  private readonly recordTypes: Map<string, KnownType> | undefined;
  private readonly types = new Map<number, WireType>();
  private readonly prototypes = new WeakMap<WireType, object>();

  private buf: Uint8Array = new Uint8Array(0);
  // A Buffer over the same memory as buf: strings are decoded straight from it, without a
  // view or a TextDecoder call per string.
  private text = Buffer.alloc(0) as Buffer & Slices;
  private largeStrings: { bytes: Buffer; text: string }[] = [];
  private start = 0; // first byte not yet consumed by a complete value
  private end = 0;
  private cursor = 0; // next message during a decode attempt
  private waitFor = -1; // offset of the message the last attempt lacked
  private failed: GobError | undefined;

  private r = new Reader(new Uint8Array(0));
  private defined: number[] = [];
  private budget = 0;

  constructor(options: GobDecoderOptions = {}) {
    this.limits = {
      maxMessageBytes: options.maxMessageBytes ?? DEFAULTS.maxMessageBytes,
      maxDepth: options.maxDepth ?? DEFAULTS.maxDepth,
      maxTypes: options.maxTypes ?? DEFAULTS.maxTypes,
      maxValues: options.maxValues ?? DEFAULTS.maxValues,
    };
    this.external = { Time: (b) => goTimeToRfc3339(b), ...options.externalDecoders };
    this.knownTypes = options.knownTypes;
    this.recordTypes = options.recordTypes;
  }

  /** Bytes received but not yet part of a returned value. */
  get pendingBytes(): number {
    return this.end - this.start;
  }

  feed(chunk: Uint8Array): void {
    if (this.failed || chunk.length === 0) return;
    if (this.end + chunk.length > this.buf.length) {
      const live = this.end - this.start;
      if (live + chunk.length <= this.buf.length) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        // A message whose length is known is given its whole size at once: a 1 MB Rollout
        // is then copied once, not once per doubling.
        const awaited = this.waitFor >= 0 ? this.messageEnd(this.waitFor) - this.start : 0;
        const next = new Uint8Array(Math.max(this.buf.length * 2, live + chunk.length, awaited, 4096));
        next.set(this.buf.subarray(this.start, this.end));
        this.setBuffer(next);
      }
      if (this.waitFor >= 0) this.waitFor -= this.start;
      this.start = 0;
      this.end = live;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  /** The next complete top-level value, or undefined until more input arrives. Throws GobError on bad input. */
  next(): GobDecoded | undefined {
    if (this.failed) throw this.failed;
    this.defined = [];
    try {
      // Retry only once the message the last attempt lacked is complete.
      if (this.waitFor >= 0 && this.messageAt(this.waitFor) === undefined) return undefined;
      this.waitFor = -1;
      this.cursor = this.start;
      this.budget = this.limits.maxValues;
      this.r = new Reader(this.buf, this.start, this.start);
      const id = this.typeSequence(false);
      const value = this.topValue(id, 0);
      this.start = this.cursor; // bytes left in the last message are dropped, as Go does
      if (this.start === this.end) {
        this.start = this.end = 0;
        if (this.buf.length > 1 << 20) this.setBuffer(new Uint8Array(0)); // values hold copies, not views
      }
      return { value, typeName: this.typeName(id) };
    } catch (e) {
      for (const id of this.defined) this.types.delete(id);
      if (e === NEED_MORE) return undefined;
      this.failed = e instanceof GobError ? e : new GobError('gob: decoder failed', { cause: e });
      throw e;
    }
  }

  private setBuffer(buf: Uint8Array): void {
    this.buf = buf;
    this.text = Buffer.from(buf.buffer, buf.byteOffset, buf.length) as Buffer & Slices;
  }

  // Where the message at `at` ends, as far as its length prefix says (0 if not yet known).
  private messageEnd(at: number): number {
    const r = new Reader(this.buf, at, this.end);
    if (r.left === 0) return 0;
    const first = this.buf[at]!;
    if (first >= 0x80 && (256 - first > 8 || r.left < 1 + 256 - first)) return 0;
    const n = r.uint('message length');
    return n <= this.limits.maxMessageBytes ? r.pos + n : 0;
  }

  /** Asserts the stream ended between values (call at end of input). */
  finish(): void {
    if (this.failed) throw this.failed;
    if (this.pendingBytes > 0) throw gobErrors.unexpectedEnd();
  }

  // The bounds [from, to) of the message at `at`, or undefined if it has not fully arrived.
  private messageAt(at: number): { from: number; to: number } | undefined {
    const r = new Reader(this.buf, at, this.end);
    if (r.left === 0) return undefined;
    const first = this.buf[at]!;
    if (first >= 0x80 && 256 - first > 8) throw gobErrors.badUint();
    if (first >= 0x80 && r.left < 1 + 256 - first) return undefined;
    const n = r.uint('message length');
    if (n > this.limits.maxMessageBytes) throw gobErrors.messageTooBig(n, this.limits.maxMessageBytes);
    if (n === 0) throw gobErrors.emptyMessage();
    if (r.left < n) return undefined;
    return { from: r.pos, to: r.pos + n };
  }

  private pullMessage(): void {
    const m = this.messageAt(this.cursor);
    if (!m) {
      this.waitFor = this.cursor;
      throw NEED_MORE;
    }
    this.r = new Reader(this.buf, m.from, m.to);
    this.cursor = m.to;
  }

  // gob's decodeTypeSequence: type definitions up to the id of the next value.
  private typeSequence(isInterface: boolean): number {
    for (;;) {
      if (this.r.left === 0) this.pullMessage();
      const at = this.r.pos;
      const id = this.r.intSmall('type id');
      if (id >= 0) return id;
      this.recvType(-id, at);
      if (this.r.left > 0) {
        if (!isInterface) throw gobErrors.extraData();
        this.r.uint('delimited value count');
      } else if (!isInterface) {
        // A whole definition message is consumed, as Go's decoder consumes it: a value still
        // arriving in pieces does not decode the Rollout's ~250 definitions again per piece.
        this.start = this.cursor;
        this.defined = [];
      }
    }
  }

  // `at` is where the definition's message starts (its type id).
  private recvType(id: number, at: number): void {
    if (id < FIRST_USER_ID || this.types.has(id)) throw gobErrors.duplicateType(id);
    if (this.types.size >= this.limits.maxTypes) throw gobErrors.tooManyTypes(this.limits.maxTypes);
    this.types.set(id, this.knownTypes || this.recordTypes ? this.knownWireType(at) : this.wireType());
    this.defined.push(id);
  }

  private knownWireType(at: number): WireType {
    const key = this.text.latin1Slice(at, this.r.end);
    const known = this.knownTypes?.get(key);
    if (known) {
      this.r.skip(known.length, 'type definition');
      return known.type;
    }
    const from = this.r.pos;
    const type = this.wireType();
    this.recordTypes?.set(key, { type, length: this.r.pos - from });
    return type;
  }

  // Reads a wireType struct: exactly one of ArrayT, SliceT, StructT, MapT, GobEncoderT,
  // BinaryMarshalerT, TextMarshalerT. The type definitions are read field by field in plain
  // loops: a first SetWeight brings ~250 of them while V8 still interprets this code.
  private wireType(): WireType {
    const kind = this.nextField(7, -1);
    if (kind < 0) throw gobErrors.badWireType('no kind');
    const t = this.wireKind(kind);
    if (this.nextField(7, kind) >= 0) throw gobErrors.badWireType('more than one kind');
    return t;
  }

  private wireKind(i: number): WireType {
    let name = '';
    const ids = [0, 0];
    let len = 0;
    let fields: StructField[] = [];
    const n = WIRE_KIND_FIELDS[i]!;
    for (let f = this.nextField(n, -1); f >= 0; f = this.nextField(n, f)) {
      if (f === 0) name = this.commonTypeName();
      else if (i === 0 && f === 2) len = this.r.intSmall('array length');
      else if (i === 2) fields = this.fieldTypes();
      else ids[f - 1] = this.typeIdField();
    }
    switch (i) {
      case 0:
        if (len < 0 || len > this.limits.maxMessageBytes) throw gobErrors.badWireType(`array length ${len}`);
        return { kind: 'array', name, elem: ids[0]!, len };
      case 1:
        return { kind: 'slice', name, elem: ids[0]! };
      case 2:
        return { kind: 'struct', name, fields };
      case 3:
        return { kind: 'map', name, key: ids[0]!, elem: ids[1]! };
      default:
        return { kind: (['gobEncoder', 'binaryMarshaler', 'textMarshaler'] as const)[i - 4]!, name };
    }
  }

  // CommonType { Name string; Id typeId }: the name (the id repeats the definition's).
  private commonTypeName(): string {
    let name = '';
    for (let f = this.nextField(2, -1); f >= 0; f = this.nextField(2, f)) {
      if (f === 0) name = this.string();
      else this.typeIdField();
    }
    return name;
  }

  private fieldTypes(): StructField[] {
    const n = this.count('struct field');
    const out: StructField[] = [];
    for (let k = 0; k < n; k++) {
      let name = '';
      let id = 0;
      for (let f = this.nextField(2, -1); f >= 0; f = this.nextField(2, f)) {
        if (f === 0) name = this.string();
        else id = this.typeIdField();
      }
      out.push({ name, id });
    }
    return out;
  }

  private typeIdField(): number {
    const id = this.r.intSmall('type id');
    if (id <= 0) throw gobErrors.badTypeId(id);
    return id;
  }

  // The next field of a struct with `n` fields after field `f`, or -1 at its 0 terminator.
  private nextField(n: number, f: number): number {
    const delta = this.r.uint('field delta');
    if (delta === 0) return -1;
    if (delta > n - 1 - f) throw gobErrors.badWireType('field number out of range');
    return f + delta;
  }

  private typeName(id: number): string {
    return BUILTIN_BY_ID.get(id) ?? this.types.get(id)?.name ?? '';
  }

  // A complete value as Decode or an interface sends it: a struct as-is, anything else as
  // a singleton behind a 0 field delta.
  private topValue(id: number, depth: number): unknown {
    const t = this.types.get(id);
    if (t?.kind === 'struct') return this.struct(t, depth);
    if (!t && !BUILTIN_BY_ID.has(id)) throw gobErrors.undefinedType(id);
    if (this.r.uint('singleton delta') !== 0) throw gobErrors.nonZeroSingletonDelta();
    return this.value(id, depth);
  }

  private value(id: number, depth: number): unknown {
    if (depth > this.limits.maxDepth) throw gobErrors.tooDeep(this.limits.maxDepth);
    if (--this.budget < 0) throw gobErrors.tooManyValues(this.limits.maxValues);
    const r = this.r;
    switch (id) {
      case 1:
        return r.uint('bool') !== 0;
      case 2:
        return r.int('int');
      case 3:
        return r.uintGo('uint');
      case 4:
        return r.float();
      case 5:
        return r.bytes(this.count('byte'), 'bytes').slice();
      case 6:
        return this.string();
      case 7:
        return { re: r.float('complex'), im: r.float('complex') };
      case 8:
        return this.interface(depth);
    }
    const t = this.types.get(id);
    if (!t) throw gobErrors.undefinedType(id);
    switch (t.kind) {
      case 'struct':
        return this.struct(t, depth);
      case 'slice':
        return this.elements(this.count('slice element'), t.elem, depth);
      case 'array': {
        const n = this.count('array element');
        if (n !== t.len) throw gobErrors.arrayLength(t.len, n);
        return this.elements(n, t.elem, depth);
      }
      case 'map': {
        const n = this.count('map entry', 2);
        const m = new Map<unknown, unknown>();
        for (let i = 0; i < n; i++) m.set(this.value(t.key, depth + 1), this.value(t.elem, depth + 1));
        return m;
      }
      default: {
        const bytes = r.bytes(this.count('byte'), t.name).slice();
        const custom = this.external[t.name];
        if (custom) return custom(bytes, t.kind);
        return t.kind === 'textMarshaler' ? utf8.decode(bytes) : bytes;
      }
    }
  }

  private struct(t: Extract<WireType, { kind: 'struct' }>, depth: number): Record<string, unknown> {
    // GO_TYPE and GO_FIELD_TYPES live on a prototype shared by every value of the type:
    // two property definitions per struct were a third of the decoding time.
    const obj = Object.create(this.prototypeOf(t)) as Record<string, unknown>;
    const fields = t.fields;
    for (let f = -1; ; ) {
      const delta = this.r.uint('field delta');
      if (delta === 0) return obj;
      if (delta > fields.length - 1 - f) throw gobErrors.badFieldDelta(t.name);
      f += delta;
      const field = fields[f]!;
      const value = this.value(field.id, depth + 1);
      // Assigning "__proto__" would set the prototype: define it, so it stays a field.
      if (field.name === '__proto__') Object.defineProperty(obj, field.name, { value, enumerable: true, writable: true, configurable: true });
      else obj[field.name] = value;
    }
  }

  private prototypeOf(t: Extract<WireType, { kind: 'struct' }>): object {
    let proto = this.prototypes.get(t);
    if (!proto) {
      proto = Object.defineProperties(
        {},
        {
          [GO_TYPE]: { value: t.name },
          [GO_FIELD_TYPES]: { value: Object.freeze(Object.fromEntries(t.fields.map((f) => [f.name, this.typeName(f.id)]))) },
        },
      );
      this.prototypes.set(t, proto);
    }
    return proto;
  }

  private elements(n: number, elem: number, depth: number): unknown[] {
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) out.push(this.value(elem, depth + 1));
    return out;
  }

  // gob's decodeInterface: name, then (in-line type definitions and) the concrete type
  // id, a byte count Go ignores, and the value as if sent at top level.
  private interface(depth: number): GobInterface | null {
    const name = this.string();
    if (name === '') return null;
    const id = this.typeSequence(true);
    this.r.uint('interface value length');
    const value = this.topValue(id, depth + 1);
    return new GobInterface(name, value, this.typeName(id));
  }

  private string(): string {
    const n = this.count('byte');
    const at = this.r.skip(n, 'string');
    if (n >= LARGE_STRING_BYTES) return this.largeString(at, n);
    // utf8Slice is what toString('utf8', …) ends in; its argument handling was a tenth of
    // the decoding time of a Rollout (most strings are short).
    return this.text.utf8Slice(at, at + n);
  }

  // The controller sends the same Rollout on every reconcile, and a large string in it (a
  // last-applied-configuration annotation) is the same bytes each time: comparing them with
  // the last ones is far cheaper than allocating the string again.
  private largeString(at: number, n: number): string {
    const bytes = this.text.subarray(at, at + n);
    const hit = this.largeStrings.find((e) => e.bytes.length === n && e.bytes.equals(bytes));
    if (hit) return hit.text;
    const text = this.text.utf8Slice(at, at + n);
    this.largeStrings.push({ bytes: Buffer.from(bytes), text });
    let kept = this.largeStrings.reduce((sum, e) => sum + e.bytes.length, 0);
    while (kept > LARGE_STRINGS_KEPT_BYTES) kept -= this.largeStrings.shift()!.bytes.length;
    return text;
  }

  // A count that cannot exceed the bytes left (every element takes at least `minBytes`).
  private count(what: string, minBytes = 1): number {
    const n = this.r.uint(countLabel(what));
    if (n * minBytes > this.r.left) throw gobErrors.badCount(what, n, this.r.left);
    return n;
  }
}

const countLabels = new Map<string, string>();
/** "byte count" for "byte", built once: strings are counted per field. */
function countLabel(what: string): string {
  let label = countLabels.get(what);
  if (label === undefined) countLabels.set(what, (label = `${what} count`));
  return label;
}

/** Decodes every value of a complete stream. */
export function decodeGobStream(bytes: Uint8Array, options?: GobDecoderOptions): GobDecoded[] {
  const dec = new GobDecoder(options);
  dec.feed(bytes);
  const out: GobDecoded[] = [];
  for (let v = dec.next(); v; v = dec.next()) out.push(v);
  dec.finish();
  return out;
}

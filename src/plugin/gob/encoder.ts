import { gobErrors } from './errors.js';
import { BuiltinId, FIRST_USER_ID, GobInterface, type BuiltinKind, type GobTypeDescriptor } from './types.js';
import { Writer } from './wire.js';

// Encodes values of described Go types the way Go's gob.Encoder does, for one stream:
// a type is defined (a negative-id wireType message) the first time the stream uses it,
// then only its id is sent. Values:
//   bool → boolean, int/uint → number | bigint, float → number, complex → { re, im },
//   string → string, bytes → Uint8Array, struct → object keyed by Go field names,
//   slice/array → array, map → Map or plain object, interface → GobInterface (with
//   `type`) or null, GobEncoder/BinaryMarshaler → Uint8Array, TextMarshaler → string.
// As in Go, zero scalars, empty slices/maps and nil (undefined/null) fields are left out
// of structs; nested structs are always sent.
// One difference in framing: the definitions of an interface's concrete type are sent
// as messages ahead of the value instead of inside it; Go's decoder accepts both.

type Complex = { re: number; im: number };

export class GobEncoder {
  private readonly ids = new Map<GobTypeDescriptor, number>();
  private readonly sent = new Set<GobTypeDescriptor>();
  // A Go process hands out FIRST_USER_ID itself (to gob's own gobEncoderType), so the
  // first id on any Go stream is 65; starting there keeps our bytes identical to Go's.
  private nextId = FIRST_USER_ID + 1;

  /** The bytes to write for one value: any new type definitions, then the value message. */
  encode(type: GobTypeDescriptor, value: unknown): Uint8Array {
    return this.encodeAll([[type, value]]);
  }

  /** Several values back to back, all or nothing: if one cannot be encoded, the stream state is as before. */
  encodeAll(values: readonly (readonly [GobTypeDescriptor, unknown])[]): Uint8Array {
    const ids = new Map(this.ids);
    const sent = new Set(this.sent);
    const nextId = this.nextId;
    try {
      const out = new Writer();
      for (const [type, value] of values) {
        this.sendType(out, type);
        this.sendInterfaceTypes(out, type, value, 0);
        const msg = new Writer();
        msg.int(this.idOf(type));
        this.topValue(msg, type, value);
        frame(out, msg);
      }
      return out.finish();
    } catch (e) {
      // Nothing was written: forget the types this value would have defined.
      this.ids.clear();
      for (const [k, v] of ids) this.ids.set(k, v);
      this.sent.clear();
      for (const t of sent) this.sent.add(t);
      this.nextId = nextId;
      throw e;
    }
  }

  private idOf(t: GobTypeDescriptor): number {
    if (t.kind in BuiltinId) return BuiltinId[t.kind as BuiltinKind];
    let id = this.ids.get(t);
    if (id === undefined) {
      // Go numbers a type, then its component types depth-first: do the same, so the
      // bytes match Go's for the same sequence of values.
      id = this.nextId++;
      this.ids.set(t, id);
      if (t.kind === 'struct') for (const f of t.fields) this.idOf(f.type);
      else if (t.kind === 'slice' || t.kind === 'array') this.idOf(t.elem);
      else if (t.kind === 'map') {
        this.idOf(t.key);
        this.idOf(t.elem);
      }
    }
    return id;
  }

  // Go's sendType: a definition message for each composite type not yet sent, parent first.
  private sendType(out: Writer, t: GobTypeDescriptor): void {
    if (t.kind in BuiltinId || this.sent.has(t)) return;
    const msg = new Writer();
    msg.int(-this.idOf(t));
    this.wireType(msg, t);
    frame(out, msg);
    this.sent.add(t);
    switch (t.kind) {
      case 'struct':
        for (const f of t.fields) this.sendType(out, f.type);
        break;
      case 'slice':
      case 'array':
        this.sendType(out, t.elem);
        break;
      case 'map':
        this.sendType(out, t.key);
        this.sendType(out, t.elem);
        break;
    }
  }

  // wireType{ArrayT, SliceT, StructT, MapT, GobEncoderT, BinaryMarshalerT, TextMarshalerT},
  // each holding CommonType{Name, Id} as field 0.
  private wireType(w: Writer, t: GobTypeDescriptor): void {
    const slot = ['array', 'slice', 'struct', 'map', 'gobEncoder', 'binaryMarshaler', 'textMarshaler'].indexOf(t.kind);
    if (slot < 0 || !('name' in t)) throw gobErrors.encode(`a definition of builtin type ${t.kind}`);
    w.uint(slot + 1);
    w.uint(1); // CommonType
    if (t.name) {
      w.uint(1);
      w.string(t.name);
      w.uint(1);
    } else {
      w.uint(2);
    }
    w.int(this.idOf(t));
    w.uint(0);
    switch (t.kind) {
      case 'array':
        w.uint(1);
        w.int(this.idOf(t.elem));
        w.uint(1);
        w.int(t.len);
        break;
      case 'slice':
        w.uint(1);
        w.int(this.idOf(t.elem));
        break;
      case 'struct':
        if (t.fields.length > 0) {
          w.uint(1);
          w.uint(t.fields.length);
          for (const f of t.fields) {
            w.uint(1);
            w.string(f.name);
            w.uint(1);
            w.int(this.idOf(f.type));
            w.uint(0);
          }
        }
        break;
      case 'map':
        w.uint(1);
        w.int(this.idOf(t.key));
        w.uint(1);
        w.int(this.idOf(t.elem));
        break;
    }
    w.uint(0); // end of the kind's struct
    w.uint(0); // end of wireType
  }

  // Defines the concrete types of interface values ahead of the value message.
  private sendInterfaceTypes(out: Writer, t: GobTypeDescriptor, v: unknown, depth: number): void {
    if (v === undefined || v === null || depth > 100) return;
    switch (t.kind) {
      case 'interface':
        if (v instanceof GobInterface && v.type) {
          this.sendType(out, v.type);
          this.sendInterfaceTypes(out, v.type, v.value, depth + 1);
        }
        break;
      case 'struct':
        for (const f of t.fields) this.sendInterfaceTypes(out, f.type, (v as Record<string, unknown>)[f.name], depth + 1);
        break;
      case 'slice':
      case 'array':
        if (Array.isArray(v)) for (const e of v) this.sendInterfaceTypes(out, t.elem, e, depth + 1);
        break;
      case 'map':
        for (const [k, e] of entries(v)) {
          this.sendInterfaceTypes(out, t.key, k, depth + 1);
          this.sendInterfaceTypes(out, t.elem, e, depth + 1);
        }
        break;
    }
  }

  // A value as Encode sends it: a struct as-is, anything else as a singleton (0 delta).
  private topValue(w: Writer, t: GobTypeDescriptor, v: unknown): void {
    if (t.kind === 'struct') {
      this.struct(w, t, v);
      return;
    }
    w.uint(0);
    this.value(w, t, v);
  }

  private struct(w: Writer, t: Extract<GobTypeDescriptor, { kind: 'struct' }>, v: unknown): void {
    if (typeof v !== 'object' || v === null) throw gobErrors.encode(`${typeof v} as struct ${t.name}`);
    let last = -1;
    t.fields.forEach((f, i) => {
      const fv = (v as Record<string, unknown>)[f.name];
      if (fv === undefined || fv === null || (f.type.kind !== 'struct' && isZero(f.type, fv))) return;
      w.uint(i - last);
      last = i;
      this.value(w, f.type, fv);
    });
    w.uint(0);
  }

  private value(w: Writer, t: GobTypeDescriptor, v: unknown): void {
    switch (t.kind) {
      case 'bool':
        w.uint(v ? 1 : 0);
        return;
      case 'int':
        w.int(integer(v));
        return;
      case 'uint':
        w.uint(integer(v));
        return;
      case 'float':
        w.float(Number(v));
        return;
      case 'complex':
        w.float((v as Complex).re);
        w.float((v as Complex).im);
        return;
      case 'string':
        w.string(String(v ?? ''));
        return;
      case 'bytes':
      case 'gobEncoder':
      case 'binaryMarshaler':
        w.byteString(v instanceof Uint8Array ? v : new Uint8Array());
        return;
      case 'textMarshaler':
        w.string(String(v ?? ''));
        return;
      case 'interface':
        this.interface(w, v);
        return;
      case 'struct':
        this.struct(w, t, v ?? {});
        return;
      case 'slice':
      case 'array': {
        const a = Array.isArray(v) ? v : [];
        if (t.kind === 'array' && a.length !== t.len) throw gobErrors.arrayLength(t.len, a.length);
        w.uint(a.length);
        for (const e of a) this.value(w, t.elem, e);
        return;
      }
      case 'map': {
        const es = entries(v);
        w.uint(es.length);
        for (const [k, e] of es) {
          this.value(w, t.key, k);
          this.value(w, t.elem, e);
        }
        return;
      }
    }
  }

  private interface(w: Writer, v: unknown): void {
    if (v === null || v === undefined) {
      w.uint(0);
      return;
    }
    if (!(v instanceof GobInterface) || !v.type || !v.name) throw gobErrors.encode('an interface value without name and type');
    w.string(v.name);
    w.int(this.idOf(v.type));
    const inner = new Writer();
    this.topValue(inner, v.type, v.value);
    frame(w, inner);
  }
}

function frame(out: Writer, msg: Writer): void {
  out.uint(msg.length);
  out.bytes(msg.finish());
}

function integer(v: unknown): number | bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (v === undefined || v === null || v === false) return 0;
  if (v === true) return 1;
  throw gobErrors.encode(`${String(v)} as an integer`);
}

function entries(v: unknown): [unknown, unknown][] {
  if (v instanceof Map) return [...v.entries()];
  if (typeof v === 'object' && v !== null) return Object.entries(v);
  return [];
}

function isZero(t: GobTypeDescriptor, v: unknown): boolean {
  switch (t.kind) {
    case 'bool':
      return !v;
    case 'int':
    case 'uint':
    case 'float':
      return v === 0 || v === 0n;
    case 'complex':
      return (v as Complex).re === 0 && (v as Complex).im === 0;
    case 'string':
    case 'textMarshaler':
      return v === '';
    case 'bytes':
    case 'gobEncoder':
    case 'binaryMarshaler':
      return v instanceof Uint8Array && v.length === 0;
    case 'slice':
    case 'array':
      return Array.isArray(v) && v.length === 0;
    case 'map':
      return entries(v).length === 0;
    default:
      return false;
  }
}

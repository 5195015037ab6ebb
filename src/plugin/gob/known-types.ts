import type { WireType } from './types.js';

// Type definitions parsed before, looked up by the bytes of their message. The controller
// starts every plugin connection with the same ~250 definitions of its Rollout type (the
// same bytes for the same controller version), and parsing them was nine tenths of a
// plugin's first decode: V8 still interprets the decoder then. A definition whose bytes match
// one recorded here is taken as recorded; any other is parsed as usual. The plugin bundle
// records them from the controller's own first reconcile (scripts/code-cache/record.ts).

export interface KnownType {
  readonly type: WireType;
  /** Bytes of the definition after its type id. */
  readonly length: number;
}

/** Keyed by the definition's message from its type id to its end, one latin1 char per byte. */
export interface KnownGobTypes {
  get(key: string): KnownType | undefined;
}

export const knownTypesErrors = {
  malformed: (why: string) => `known gob types: malformed file: ${why}`,
} as const;

const EXTERNAL_KINDS = new Set(['gobEncoder', 'binaryMarshaler', 'textMarshaler']);

/** The file format: one [message as base64, length, type] per definition. */
export function serializeKnownTypes(known: Map<string, KnownType>): string {
  return JSON.stringify([...known].map(([key, { type, length }]) => [Buffer.from(key, 'latin1').toString('base64'), length, type]));
}

/** Reads what serializeKnownTypes wrote; throws on anything else. */
export function parseKnownTypes(json: string): Map<string, KnownType> {
  const entries: unknown = JSON.parse(json);
  if (!Array.isArray(entries)) throw new Error(knownTypesErrors.malformed('not a list'));
  const known = new Map<string, KnownType>();
  for (const entry of entries) {
    const [key, length, type] = Array.isArray(entry) ? entry : [];
    if (typeof key !== 'string' || !Number.isInteger(length) || length <= 0 || !isWireType(type)) {
      throw new Error(knownTypesErrors.malformed(`bad entry ${JSON.stringify(entry)}`));
    }
    known.set(Buffer.from(key, 'base64').toString('latin1'), { type, length });
  }
  return known;
}

const isId = (v: unknown) => Number.isInteger(v) && (v as number) > 0;

function isWireType(t: unknown): t is WireType {
  if (typeof t !== 'object' || t === null || typeof (t as { name?: unknown }).name !== 'string') return false;
  const w = t as Record<string, unknown>;
  switch (w.kind) {
    case 'struct':
      return Array.isArray(w.fields) && w.fields.every((f: { name?: unknown; id?: unknown }) => typeof f?.name === 'string' && isId(f.id));
    case 'map':
      return isId(w.key) && isId(w.elem);
    case 'slice':
      return isId(w.elem);
    case 'array':
      return isId(w.elem) && Number.isInteger(w.len) && (w.len as number) >= 0;
    default:
      return EXTERNAL_KINDS.has(w.kind as string);
  }
}

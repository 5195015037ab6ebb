// Every way a gob stream can be rejected. Callers catch GobError only: anything else
// escaping the codec is a bug.

export class GobError extends Error {
  override readonly name = 'GobError';
}

export const gobErrors = {
  truncated: (what: string) => new GobError(`gob: truncated input reading ${what}`),
  badUint: () => new GobError('gob: encoded unsigned integer out of range'),
  messageTooBig: (n: number | bigint, limit: number) =>
    new GobError(`gob: message of ${n} bytes exceeds the limit of ${limit} bytes`),
  emptyMessage: () => new GobError('gob: empty message'),
  badTypeId: (id: number | bigint) => new GobError(`gob: bad type id ${id}`),
  duplicateType: (id: number) => new GobError(`gob: duplicate type received (id ${id})`),
  undefinedType: (id: number) => new GobError(`gob: undefined type id ${id}`),
  tooManyTypes: (limit: number) => new GobError(`gob: more than ${limit} type definitions`),
  badWireType: (why: string) => new GobError(`gob: bad type definition: ${why}`),
  extraData: () => new GobError('gob: extra data in buffer after a type definition'),
  unexpectedEnd: () => new GobError('gob: stream ended inside a message or before the value of a type definition'),
  tooDeep: (limit: number) => new GobError(`gob: value nested deeper than ${limit} levels`),
  tooManyValues: (limit: number) => new GobError(`gob: value has more than ${limit} elements`),
  badCount: (what: string, n: number | bigint, left: number) =>
    new GobError(`gob: ${what} count ${n} exceeds the ${left} bytes left in the message`),
  badFieldDelta: (type: string) => new GobError(`gob: field number out of range in struct ${type}`),
  nonZeroSingletonDelta: () => new GobError('gob: corrupted data: non-zero delta for singleton'),
  arrayLength: (want: number, got: number | bigint) =>
    new GobError(`gob: array length mismatch: type says ${want}, data says ${got}`),
  badTime: (why: string) => new GobError(`gob: invalid time.Time binary encoding: ${why}`),
  encode: (why: string) => new GobError(`gob: cannot encode ${why}`),
} as const;

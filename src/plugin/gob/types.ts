// Type model on both sides of the wire.
//
// Decoding: a stream defines its own types (wireType messages, negative ids); the
// decoder keeps them in a per-stream table of WireType. Encoding: callers describe the
// Go type of a value with a GobTypeDescriptor; the encoder turns descriptors into
// wireType messages the first time a stream uses them.

/** Ids gob reserves for its predeclared types. User types start at FIRST_USER_ID. */
export const BuiltinId = {
  bool: 1,
  int: 2,
  uint: 3,
  float: 4,
  bytes: 5,
  string: 6,
  complex: 7,
  interface: 8,
} as const;
export type BuiltinKind = keyof typeof BuiltinId;
export const FIRST_USER_ID = 64;

export const BUILTIN_BY_ID: ReadonlyMap<number, BuiltinKind> = new Map(
  Object.entries(BuiltinId).map(([k, v]) => [v, k as BuiltinKind]),
);

/** How a type that marshals itself said it did (gob's GobEncoderT, BinaryMarshalerT, TextMarshalerT). */
export type ExternalKind = 'gobEncoder' | 'binaryMarshaler' | 'textMarshaler';

export interface StructField {
  readonly name: string;
  readonly id: number;
}

/** A type definition received on a stream (gob's wireType). */
export type WireType =
  | { readonly kind: 'array'; readonly name: string; readonly elem: number; readonly len: number }
  | { readonly kind: 'slice'; readonly name: string; readonly elem: number }
  | { readonly kind: 'struct'; readonly name: string; readonly fields: readonly StructField[] }
  | { readonly kind: 'map'; readonly name: string; readonly key: number; readonly elem: number }
  | { readonly kind: ExternalKind; readonly name: string };

/** The Go type of a value to encode. Named kinds carry the name gob puts on the wire. */
export type GobTypeDescriptor =
  | { readonly kind: BuiltinKind }
  | {
      readonly kind: 'struct';
      readonly name: string;
      readonly fields: readonly { readonly name: string; readonly type: GobTypeDescriptor }[];
    }
  | { readonly kind: 'slice'; readonly name: string; readonly elem: GobTypeDescriptor }
  | { readonly kind: 'array'; readonly name: string; readonly elem: GobTypeDescriptor; readonly len: number }
  | { readonly kind: 'map'; readonly name: string; readonly key: GobTypeDescriptor; readonly elem: GobTypeDescriptor }
  | { readonly kind: ExternalKind; readonly name: string };

/**
 * An interface value: `name` is the gob.Register name of the concrete type, `typeName`
 * the concrete type's wire name. A nil interface decodes to null instead.
 * To encode one, also give `type`, the descriptor of the concrete value.
 */
export class GobInterface {
  constructor(
    readonly name: string,
    readonly value: unknown,
    readonly typeName = '',
    readonly type?: GobTypeDescriptor,
  ) {}
}

/** The wire name of a decoded struct, as a non-enumerable property of the object. */
export const GO_TYPE: unique symbol = Symbol('gob.type');

/** The wire names of a decoded struct's field types (e.g. { CreationTimestamp: 'Time' }), non-enumerable. */
export const GO_FIELD_TYPES: unique symbol = Symbol('gob.fieldTypes');

export function goTypeName(value: unknown): string | undefined {
  return typeof value === 'object' && value !== null ? (value as { [GO_TYPE]?: string })[GO_TYPE] : undefined;
}

export const BoolType = { kind: 'bool' } as const satisfies GobTypeDescriptor;
export const IntType = { kind: 'int' } as const satisfies GobTypeDescriptor;
export const UintType = { kind: 'uint' } as const satisfies GobTypeDescriptor;
/** Go's uint32 (Dispenser.Dispense's reply): a plain gob uint. */
export const Uint32Type = UintType;
export const StringType = { kind: 'string' } as const satisfies GobTypeDescriptor;
export const BytesType = { kind: 'bytes' } as const satisfies GobTypeDescriptor;
export const InterfaceType = { kind: 'interface' } as const satisfies GobTypeDescriptor;

/** `struct{}`: go-plugin's Control.Ping/Quit reply and net/rpc's body for error replies. */
export const EmptyStructType: GobTypeDescriptor = { kind: 'struct', name: '', fields: [] };

/** net/rpc's request header. */
export const RequestType: GobTypeDescriptor = {
  kind: 'struct',
  name: 'Request',
  fields: [
    { name: 'ServiceMethod', type: StringType },
    { name: 'Seq', type: UintType },
  ],
};

/** net/rpc's response header. */
export const ResponseType: GobTypeDescriptor = {
  kind: 'struct',
  name: 'Response',
  fields: [
    { name: 'ServiceMethod', type: StringType },
    { name: 'Seq', type: UintType },
    { name: 'Error', type: StringType },
  ],
};

/** Argo Rollouts' RpcError: the reply of every traffic-router method but Type and VerifyWeight. */
export const RpcErrorType: GobTypeDescriptor = {
  kind: 'struct',
  name: 'RpcError',
  fields: [{ name: 'ErrorString', type: StringType }],
};

/** Plugin.VerifyWeight's reply; Verified is an RpcVerified (int32). */
export const VerifyWeightResponseType: GobTypeDescriptor = {
  kind: 'struct',
  name: 'VerifyWeightResponse',
  fields: [
    { name: 'Verified', type: IntType },
    { name: 'Err', type: RpcErrorType },
  ],
};

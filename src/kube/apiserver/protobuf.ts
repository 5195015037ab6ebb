import type { OpenApiV2Document } from './discovery.js';
import { badRequest } from './status.js';

/**
 * Just enough of the Kubernetes protobuf encoding to read what kubectl's imperative
 * `create namespace` / `create configmap` send (kubectl sends built-in types as protobuf).
 * Other kinds, and fields not listed here, are not understood: the caller answers 415.
 * Also writes the OpenAPI v2 document as gnostic's `openapi.v2.Document`, which is what
 * older kubectl (1.20) reads (it cannot read the JSON form).
 */
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"

type Field = Buffer | bigint;

function readVarint(buf: Buffer, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (pos >= buf.length) throw badRequest('protobuf: truncated varint');
    const byte = buf[pos++]!;
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [result, pos];
    shift += 7n;
  }
}

/** Field number → values in order; varints as bigint, length-delimited as Buffer. */
function fields(buf: Buffer): Map<number, Field[]> {
  const out = new Map<number, Field[]>();
  let pos = 0;
  while (pos < buf.length) {
    const [key, afterKey] = readVarint(buf, pos);
    const field = Number(key >> 3n);
    let value: Field;
    switch (Number(key & 7n)) {
      case 0:
        [value, pos] = readVarint(buf, afterKey);
        break;
      case 1:
        value = buf.subarray(afterKey, afterKey + 8);
        pos = afterKey + 8;
        break;
      case 2: {
        const [len, start] = readVarint(buf, afterKey);
        pos = start + Number(len);
        if (pos > buf.length) throw badRequest('protobuf: truncated field');
        value = buf.subarray(start, pos);
        break;
      }
      case 5:
        value = buf.subarray(afterKey, afterKey + 4);
        pos = afterKey + 4;
        break;
      default:
        throw badRequest('protobuf: unsupported wire type');
    }
    const list = out.get(field) ?? [];
    list.push(value);
    out.set(field, list);
  }
  return out;
}

function str(f: Map<number, Field[]>, n: number): string | undefined {
  const v = f.get(n)?.at(-1);
  return v instanceof Buffer ? v.toString('utf8') : undefined;
}

function message(f: Map<number, Field[]>, n: number): Map<number, Field[]> {
  const v = f.get(n)?.at(-1);
  return v instanceof Buffer ? fields(v) : new Map();
}

function stringMap(f: Map<number, Field[]>, n: number, value: (b: Buffer) => string): Record<string, string> | undefined {
  const entries = f.get(n);
  if (!entries) return undefined;
  const out: Record<string, string> = {};
  for (const e of entries) {
    if (!(e instanceof Buffer)) continue;
    const entry = fields(e);
    const v = entry.get(2)?.at(-1);
    out[str(entry, 1) ?? ''] = v instanceof Buffer ? value(v) : '';
  }
  return out;
}

function objectMeta(f: Map<number, Field[]>): Record<string, unknown> {
  const meta: Record<string, unknown> = {};
  const put = (key: string, v: unknown) => {
    if (v !== undefined && v !== '') meta[key] = v;
  };
  put('name', str(f, 1));
  put('generateName', str(f, 2));
  put('namespace', str(f, 3));
  put('labels', stringMap(f, 11, (b) => b.toString('utf8')));
  put('annotations', stringMap(f, 12, (b) => b.toString('utf8')));
  return meta;
}

const DECODERS: Readonly<Record<string, (f: Map<number, Field[]>) => Record<string, unknown>>> = {
  'v1/Namespace': (f) => ({ metadata: objectMeta(message(f, 1)) }),
  'v1/ConfigMap': (f) => {
    const obj: Record<string, unknown> = { metadata: objectMeta(message(f, 1)) };
    const data = stringMap(f, 2, (b) => b.toString('utf8'));
    const binaryData = stringMap(f, 3, (b) => b.toString('base64'));
    if (data) obj['data'] = data;
    if (binaryData) obj['binaryData'] = binaryData;
    if (f.has(4)) obj['immutable'] = f.get(4)!.at(-1) === 1n;
    return obj;
  },
};

/** The JSON form of a protobuf body, or undefined when its kind is not one this module reads. */
export function decodeProtobuf(body: Buffer): Record<string, unknown> | undefined {
  if (!body.subarray(0, 4).equals(MAGIC)) throw badRequest('protobuf: missing the k8s envelope');
  const unknown = fields(body.subarray(4));
  const typeMeta = message(unknown, 1);
  const apiVersion = str(typeMeta, 1) ?? '';
  const kind = str(typeMeta, 2) ?? '';
  const decode = DECODERS[`${apiVersion}/${kind}`];
  const raw = unknown.get(2)?.at(-1);
  if (!decode || !(raw instanceof Buffer)) return undefined;
  return { apiVersion, kind, ...decode(fields(raw)) };
}

function writeVarint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}

/** A length-delimited field: a string or an embedded message (all the document below needs). */
function lengthDelimited(field: number, value: Buffer | string): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return Buffer.concat([writeVarint((field << 3) | 2), writeVarint(bytes.length), bytes]);
}

/**
 * gnostic `openapi.v2.Document` (OpenAPIv2.proto): swagger = 1, info = 2 (title = 1,
 * version = 2), paths = 8, definitions = 9; empty `paths`/`definitions` are still written, as
 * the document has them.
 */
export function openApiV2Protobuf(doc: OpenApiV2Document): Buffer {
  return Buffer.concat([
    lengthDelimited(1, doc.swagger),
    lengthDelimited(2, Buffer.concat([lengthDelimited(1, doc.info.title), lengthDelimited(2, doc.info.version)])),
    lengthDelimited(8, Buffer.alloc(0)),
    lengthDelimited(9, Buffer.alloc(0)),
  ]);
}

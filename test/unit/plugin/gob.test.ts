import { expect } from 'chai';
import {
  EmptyStructType,
  GO_FIELD_TYPES,
  GO_TYPE,
  GobDecoder,
  GobEncoder,
  GobError,
  GobInterface,
  ResponseType,
  RpcErrorType,
  StringType,
  Uint32Type,
  VerifyWeightResponseType,
  decodeGobStream,
  goTypeName,
  type GobTypeDescriptor,
} from '../../../src/plugin/gob/index.js';
import { Reader, Writer } from '../../../src/plugin/gob/wire.js';
import { fixture, fixtureJson } from '../../fixtures/gob/fixtures.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

describe('gob wire integers', () => {
  it('encodes unsigned, signed and float values as Go does', () => {
    const cases: [(w: Writer) => void, string][] = [
      [(w) => w.uint(0), '00'],
      [(w) => w.uint(127), '7f'],
      [(w) => w.uint(128), 'ff80'],
      [(w) => w.uint(256), 'fe0100'],
      [(w) => w.uint(2n ** 64n - 1n), 'f8ffffffffffffffff'],
      [(w) => w.int(-1), '01'],
      [(w) => w.int(1), '02'],
      [(w) => w.int(-129), 'fe0101'],
      [(w) => w.float(17), 'fe3140'], // Go's doc example
    ];
    for (const [write, want] of cases) {
      const w = new Writer();
      write(w);
      expect(Buffer.from(w.finish()).toString('hex')).to.equal(want);
    }
  });

  it('reads them back, including 64-bit extremes', () => {
    expect(new Reader(hex('f8ffffffffffffffff')).uintBig()).to.equal(2n ** 64n - 1n);
    expect(new Reader(hex('f8ffffffffffffffff')).int()).to.equal(-(2n ** 63n));
    expect(new Reader(hex('fe3140')).float()).to.equal(17);
    expect(new Reader(hex('fe0101')).int()).to.equal(-129);
  });

  it('rejects a length byte of more than 8 and a cut-off integer', () => {
    expect(() => new Reader(hex('f7000000000000000000')).uint()).to.throw(GobError, /out of range/);
    expect(() => new Reader(hex('fe01')).uint()).to.throw(GobError, /truncated/);
  });
});

describe('gob decoder against Go-written streams', () => {
  const values = decodeGobStream(fixture('basics.gob'));
  const times = fixtureJson<Record<string, string>>('basics-times.json');

  it('decodes every basic kind of a struct', () => {
    const b = values[0]!.value as Record<string, unknown>;
    expect(values[0]!.typeName).to.equal('Basics');
    expect(goTypeName(b)).to.equal('Basics');
    expect(b).to.include({ B: true, I: 7, I8: -3, Neg: -1000, U: 65535, F: 1.5, NegF: -2.25, Inf: Infinity, S: 'hello' });
    expect(b['Big']).to.equal(2n ** 60n + 1n);
    expect(b['MinI']).to.equal(-(2n ** 63n));
    expect(b['MaxU']).to.equal(2n ** 64n - 1n);
    expect(b['F32']).to.equal(Math.fround(0.1));
    expect(b['C']).to.deep.equal({ re: 1, im: -2 });
    expect(b['Uni']).to.equal('grüße ✓');
    expect(b['Bytes']).to.deep.equal(Uint8Array.of(0, 1, 254, 255));
  });

  it('leaves zero fields absent and keeps empty structs', () => {
    const b = values[0]!.value as Record<string, unknown>;
    for (const absent of ['Empty', 'PNil', 'AnyNil', 'unexp']) expect(b).not.to.have.property(absent);
    expect(b['Zero']).to.deep.equal({});
    expect(b['EmptyS']).to.deep.equal({});
    expect(b['PNested']).to.deep.equal({ A: 2 });
  });

  it('decodes slices, arrays, maps and recursive types', () => {
    const b = values[0]!.value as Record<string, unknown>;
    expect(b['Ints']).to.deep.equal([1, -1, 300]);
    expect(b['Arr']).to.deep.equal([0, 2, 0]);
    expect(b['Strs']).to.deep.equal(['', 'a']);
    expect(b['M']).to.deep.equal(new Map([['one', 1]]));
    expect(b['MI']).to.deep.equal(new Map([[-5, 'minus five']]));
    expect(b['Matrix']).to.deep.equal([[1, 2], [], [3]]);
    expect(b['Tree']).to.deep.equal({ Val: 1, Kids: [{ Val: 2 }, { Val: 3, Kids: [{ Val: 4 }] }] });
  });

  it('decodes interface values, also an interface inside an interface', () => {
    const b = values[0]!.value as Record<string, unknown>;
    expect(b['Any']).to.deep.include({ name: 'main.Named', typeName: 'Named', value: { X: 5 } });
    expect(b['AnyStr']).to.deep.include({ name: 'string', value: 'str' });
    const wrap = b['AnyWrap'] as GobInterface;
    expect(wrap.typeName).to.equal('Wrapper');
    expect(wrap.value).to.deep.include({ Label: 'w', After: 3 });
    expect((wrap.value as { Inner: GobInterface }).Inner).to.deep.include({ name: 'main.Named', value: { X: 9 } });
    const top = values[1]!.value as GobInterface;
    expect(values[1]!.typeName).to.equal('interface');
    expect(top.name).to.equal('main.Wrapper');
    expect((top.value as { Inner: GobInterface }).Inner.value).to.deep.equal({ X: 1 });
  });

  it('formats time.Time as Go formats RFC 3339, in the sender zone (UTC, +05:30, offsets with seconds, nanoseconds)', () => {
    const b = values[0]!.value as Record<string, unknown>;
    for (const k of ['T', 'TK', 'TSec', 'TNano']) expect(b[k], k).to.equal(times[k]);
    expect(b['TK']).to.equal('2025-03-02T15:45:00+05:30');
    expect((b as { [GO_FIELD_TYPES]: Record<string, string> })[GO_FIELD_TYPES]['TK']).to.equal('Time');
  });

  it('gives TextMarshaler values as text and BinaryMarshaler values as bytes', () => {
    const b = values[0]!.value as Record<string, unknown>;
    expect(b['IP']).to.be.instanceOf(Uint8Array); // net.IP is a []byte before it is a TextMarshaler
    expect(Buffer.from(b['URL'] as Uint8Array).toString()).to.equal('https://example.com/x');
  });

  it('decodes top-level singletons after the struct', () => {
    expect(values.slice(2).map((v) => v.value)).to.deep.equal([
      42,
      'x',
      ['p', 'q'],
      new Map([
        ['t', true],
        ['f', false],
      ]),
      '2025-03-02T15:45:00+05:30',
      {},
    ]);
    expect(values.slice(2).map((v) => v.typeName)).to.deep.equal(['int', 'string', '[]string', '', 'Time', 'Empty']);
  });

  it('decodes the same values whatever the chunking, a byte at a time included', () => {
    const stream = fixture('session-requests.gob');
    const whole = decodeGobStream(stream).map((v) => v.value);
    for (const size of [1, 7, 4096]) {
      const dec = new GobDecoder();
      const got: unknown[] = [];
      for (let i = 0; i < stream.length; i += size) {
        dec.feed(stream.subarray(i, i + size));
        for (let v = dec.next(); v; v = dec.next()) got.push(v.value);
      }
      dec.finish();
      expect(got, `chunks of ${size}`).to.deep.equal(whole);
    }
  });

  it('keeps each type definition as soon as its message is whole, while the value is still arriving', () => {
    // Given a value whose stream starts with its type definitions (a first SetWeight's Rollout)
    const encoder = new GobEncoder();
    const first = encoder.encode(RpcErrorType, { ErrorString: 'x'.repeat(300) });
    const valueOnly = encoder.encode(RpcErrorType, { ErrorString: 'x'.repeat(300) });
    const definitions = first.length - valueOnly.length;
    expect(definitions).to.be.greaterThan(0);
    // When all but the value's last byte has arrived
    const dec = new GobDecoder();
    dec.feed(first.subarray(0, first.length - 1));
    expect(dec.next()).to.equal(undefined);
    // Then only the value's bytes wait: the definitions are not decoded again with the next piece
    expect(dec.pendingBytes).to.equal(valueOnly.length - 1);
    dec.feed(first.subarray(first.length - 1));
    expect(dec.next()?.value).to.deep.include({ ErrorString: 'x'.repeat(300) });
  });
});

describe('gob encoder', () => {
  const descriptors: Record<string, GobTypeDescriptor> = {
    Response: ResponseType,
    EmptyStruct: EmptyStructType,
    Uint32: Uint32Type,
    RpcError: RpcErrorType,
    String: StringType,
    VerifyWeightResponse: VerifyWeightResponseType,
  };

  it("writes net/rpc replies byte for byte as Go's encoder does on one stream", () => {
    const list = fixtureJson<[string, unknown][]>('replies.json');
    const enc = new GobEncoder();
    const ours = Buffer.concat(list.map(([name, value]) => enc.encode(descriptors[name]!, value)));
    expect(ours.toString('hex')).to.equal(Buffer.from(fixture('replies.gob')).toString('hex'));
  });

  it('defines each type once per stream', () => {
    const enc = new GobEncoder();
    const first = enc.encode(RpcErrorType, { ErrorString: 'a' });
    const second = enc.encode(RpcErrorType, { ErrorString: 'a' });
    expect(second.length).to.be.lessThan(first.length);
    expect(Buffer.from(first).toString('latin1')).to.contain('ErrorString');
    expect(Buffer.from(second).toString('latin1')).not.to.contain('ErrorString');
  });

  it('round-trips composite values through the decoder', () => {
    const Inner: GobTypeDescriptor = { kind: 'struct', name: 'Inner', fields: [{ name: 'N', type: { kind: 'int' } }] };
    const T: GobTypeDescriptor = {
      kind: 'struct',
      name: 'T',
      fields: [
        { name: 'S', type: StringType },
        { name: 'L', type: { kind: 'slice', name: '[]Inner', elem: Inner } },
        { name: 'M', type: { kind: 'map', name: 'map[string]uint', key: StringType, elem: Uint32Type } },
        { name: 'A', type: { kind: 'array', name: '[2]float64', elem: { kind: 'float' }, len: 2 } },
        { name: 'I', type: { kind: 'interface' } },
        { name: 'B', type: { kind: 'bytes' } },
        { name: 'Z', type: { kind: 'int' } },
      ],
    };
    const value = {
      S: 'ß',
      L: [{ N: -4 }, {}],
      M: new Map([['k', 9]]),
      A: [0.5, -0],
      I: new GobInterface('Inner', { N: 3 }, '', Inner),
      B: Uint8Array.of(1, 2),
      Z: 0,
    };
    const [back] = decodeGobStream(new GobEncoder().encode(T, value));
    const got = back!.value as Record<string, unknown>;
    expect(got).to.deep.include({ S: 'ß', L: [{ N: -4 }, {}], M: new Map([['k', 9]]), A: [0.5, -0], B: Uint8Array.of(1, 2) });
    expect(got).not.to.have.property('Z');
    expect(got['I']).to.deep.include({ name: 'Inner', typeName: 'Inner', value: { N: 3 } });
    expect((got as { [GO_TYPE]: string })[GO_TYPE]).to.equal('T');
  });

  it('decodes large strings right when the same and other bytes of the same length follow', () => {
    const T: GobTypeDescriptor = { kind: 'struct', name: 'T', fields: [{ name: 'S', type: StringType }] };
    const enc = new GobEncoder();
    const sent = ['a'.repeat(40_000), 'b'.repeat(40_000), 'a'.repeat(40_000), `${'a'.repeat(39_999)}c`, 'a'.repeat(40_000)];
    const stream = Buffer.concat(sent.map((S) => enc.encode(T, { S })));
    expect(decodeGobStream(stream).map((v) => (v.value as { S: string }).S)).to.deep.equal(sent);
  });

  it('keeps a field named __proto__ as a field, never as the prototype', () => {
    const T: GobTypeDescriptor = { kind: 'struct', name: 'T', fields: [{ name: '__proto__', type: StringType }, { name: 'X', type: StringType }] };
    const enc = new GobEncoder().encode(T, Object.defineProperty({ X: 'x' }, '__proto__', { value: 'polluted', enumerable: true }));
    const got = decodeGobStream(enc)[0]!.value as Record<string, unknown>;
    expect(Object.keys(got)).to.deep.equal(['__proto__', 'X']);
    expect(Object.getOwnPropertyDescriptor(got, '__proto__')!.value).to.equal('polluted');
    expect(({} as Record<string, unknown>)['polluted']).to.equal(undefined);
    expect((got as { [GO_TYPE]: string })[GO_TYPE]).to.equal('T');
  });

  it('refuses values that do not fit their type, and forgets the types of a failed value', () => {
    const enc = new GobEncoder();
    expect(() => enc.encode(RpcErrorType, 'not a struct')).to.throw(GobError);
    expect(() => enc.encode(Uint32Type, -1)).to.throw(GobError);
    const [v] = decodeGobStream(enc.encode(RpcErrorType, { ErrorString: 'ok' }));
    expect(v!.value).to.deep.equal({ ErrorString: 'ok' });
  });
});

describe('gob decoder limits and bad input', () => {
  const goodStruct = fixture('rpc-Plugin-SetWeight.gob');

  const decodeAll = (bytes: Uint8Array, options = {}) => decodeGobStream(bytes, options);

  it('rejects a message longer than the limit before it arrives', () => {
    const dec = new GobDecoder({ maxMessageBytes: 1024 });
    dec.feed(hex('fd 10 00 00')); // 1 MiB announced
    expect(() => dec.next()).to.throw(GobError, /exceeds the limit/);
    expect(() => dec.next(), 'stays failed').to.throw(GobError);
  });

  it('rejects values nested deeper than the limit', () => {
    expect(() => decodeAll(goodStruct, { maxDepth: 5 })).to.throw(GobError, /nested deeper/);
  });

  it('rejects values with more elements than the limit', () => {
    expect(() => decodeAll(goodStruct, { maxValues: 50 })).to.throw(GobError, /more than 50 elements/);
  });

  it('rejects more type definitions than the limit', () => {
    expect(() => decodeAll(goodStruct, { maxTypes: 3 })).to.throw(GobError, /type definitions/);
  });

  it('rejects counts larger than the bytes left', () => {
    // []string type id 6 inline: message [id 12 (string)] [0 delta] [len 100] 'ab'
    expect(() => decodeAll(hex('05 0c 00 64 61 62'))).to.throw(GobError, /exceeds the 2 bytes left/);
  });

  it('rejects a duplicate or reserved type id, an undefined type, and a non-zero singleton delta', () => {
    expect(() => decodeAll(hex('03 01 0000'))).to.throw(GobError, /duplicate type/);
    expect(() => decodeAll(hex('02 ff82 00'))).to.throw(GobError, /undefined type id 65/);
    expect(() => decodeAll(hex('03 0c 01 00'))).to.throw(GobError, /non-zero delta/);
  });

  it('reports a stream cut inside a message or between type definitions and their value', () => {
    expect(() => decodeAll(goodStruct.subarray(0, goodStruct.length - 3))).to.throw(GobError, /stream ended/);
    const dec = new GobDecoder();
    dec.feed(goodStruct.subarray(0, 80));
    expect(dec.next()).to.deep.equal({ value: { ServiceMethod: 'Plugin.SetWeight' }, typeName: 'Request' });
    expect(dec.next(), 'the args are incomplete').to.equal(undefined);
    expect(() => dec.finish()).to.throw(GobError, /stream ended/);
  });
});

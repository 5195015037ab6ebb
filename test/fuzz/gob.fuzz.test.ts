import { expect } from 'chai';
import fc from 'fast-check';
import { GobDecoder, GobError } from '../../src/plugin/gob/index.js';
import { fixture } from '../fixtures/gob/fixtures.js';

// Random and mutated gob streams (bit flips, byte overwrites, truncations, deletions and
// splices of the golden streams Go wrote) must decode or fail with a GobError: no other
// exception, no endless loop, no allocation out of proportion to the input. FUZZ_RUNS
// sets the number of inputs (default 100,000).

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 100_000);

const SEEDS = [
  'basics.gob',
  'replies.gob',
  'session-responses.gob',
  'session-requests.gob',
  'rpc-Control-Ping.gob',
  'rpc-Dispenser-Dispense.gob',
  'rpc-Plugin-InitPlugin.gob',
  'rpc-Plugin-SetMirrorRoute.gob',
].map(fixture);

type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; byte: number }
  | { op: 'truncate'; at: number }
  | { op: 'delete'; at: number; len: number }
  | { op: 'splice'; at: number; from: number; start: number; len: number };

const position = fc.nat({ max: 0xffff });
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: position, bit: fc.nat({ max: 7 }) }),
  fc.record({ op: fc.constant('set' as const), at: position, byte: fc.constantFrom(0x00, 0x01, 0x7f, 0x80, 0xf8, 0xfe, 0xff) }),
  fc.record({ op: fc.constant('truncate' as const), at: position }),
  fc.record({ op: fc.constant('delete' as const), at: position, len: fc.integer({ min: 1, max: 64 }) }),
  fc.record({
    op: fc.constant('splice' as const),
    at: position,
    from: fc.nat({ max: SEEDS.length - 1 }),
    start: position,
    len: fc.integer({ min: 1, max: 256 }),
  }),
);

function mutate(seed: Uint8Array, mutations: Mutation[]): Uint8Array {
  let b = Buffer.from(seed);
  for (const m of mutations) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    switch (m.op) {
      case 'flip':
        b[at] = b[at]! ^ (1 << m.bit);
        break;
      case 'set':
        b[at] = m.byte;
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.len)]);
        break;
      case 'splice': {
        const src = SEEDS[m.from]!;
        const start = m.start % src.length;
        b = Buffer.concat([b.subarray(0, at), src.subarray(start, start + m.len), b.subarray(at)]);
        break;
      }
    }
  }
  return b;
}

const input = fc.record({
  bytes: fc.oneof(
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 512 }) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(fc.nat({ max: SEEDS.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }))
        .map(([seed, ms]) => mutate(SEEDS[seed]!, ms)),
    },
  ),
  chunk: fc.oneof(fc.constant(1 << 20), fc.integer({ min: 1, max: 97 })),
});

// Every decoded element consumes at least one input byte, so a budget of one element per
// byte must never run out: running out would mean output out of proportion to input.
function decodeBounded(bytes: Uint8Array, chunk: number): void {
  const dec = new GobDecoder({ maxMessageBytes: 1 << 20, maxValues: bytes.length + 1 });
  let values = 0;
  try {
    for (let i = 0; i < bytes.length; i += chunk) {
      dec.feed(bytes.subarray(i, i + chunk));
      for (let v = dec.next(); v; v = dec.next()) {
        values++;
        if (values > bytes.length) expect.fail('more values than input bytes: the decoder is not making progress');
      }
    }
    dec.finish();
  } catch (e) {
    if (!(e instanceof GobError)) throw e;
    expect(e.message).not.to.match(/elements$/);
  }
}

describe('gob decoder fuzz', function () {
  this.timeout(0); // bounded by FUZZ_RUNS

  it(`decodes or rejects with GobError ${RUNS} random and mutated streams`, () => {
    const heapBefore = process.memoryUsage().heapUsed;
    fc.assert(
      fc.property(input, ({ bytes, chunk }) => decodeBounded(bytes, chunk)),
      { numRuns: RUNS },
    );
    expect(process.memoryUsage().heapUsed - heapBefore).to.be.lessThan(512 << 20);
  });

  it('decodes the unmutated seeds, in any chunking', () => {
    fc.assert(
      fc.property(fc.nat({ max: SEEDS.length - 1 }), fc.integer({ min: 1, max: 4096 }), (seed, chunk) => {
        const bytes = SEEDS[seed]!;
        const dec = new GobDecoder();
        let values = 0;
        for (let i = 0; i < bytes.length; i += chunk) {
          dec.feed(bytes.subarray(i, i + chunk));
          for (let v = dec.next(); v; v = dec.next()) values++;
        }
        dec.finish();
        expect(values).to.be.greaterThan(0);
      }),
      { numRuns: Math.min(RUNS, 500) },
    );
  });
});

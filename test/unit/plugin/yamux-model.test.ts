import { expect } from 'chai';
import fc from 'fast-check';
import { YamuxSession, type YamuxStream } from '../../../src/plugin/yamux/index.js';
import { chaosPair, pattern, prng, sameBytes } from './yamux-chaos.js';

// Two of our sessions over a transport that splits and delays bytes at random: whatever the
// window, frame size, write sizes and reader speed, each stream delivers exactly the bytes
// written, in order, and ends only after the last of them.

interface StreamPlan {
  /** Which session opens the stream. */
  fromA: boolean;
  /** Bytes the opener sends, and bytes the acceptor sends back. */
  up: number;
  down: number;
  /** Sizes the writer cuts its payload into (cycled). */
  writes: number[];
  /** How often (1 in n chunks) the reader stalls for a turn of the event loop. */
  stallEvery: number;
}

const size = fc.oneof(
  fc.integer({ min: 0, max: 2000 }),
  fc.integer({ min: 200_000, max: 330_000 }), // around the 256 KiB initial window
  fc.integer({ min: 500_000, max: 1_100_000 }),
);

const plan: fc.Arbitrary<StreamPlan> = fc.record({
  fromA: fc.boolean(),
  up: size,
  down: size,
  writes: fc.array(fc.oneof(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 300_000 }), fc.constant(1 << 20)), { minLength: 1, maxLength: 4 }),
  stallEvery: fc.integer({ min: 1, max: 8 }),
});

async function writeAll(stream: YamuxStream, data: Buffer, sizes: number[]): Promise<void> {
  let offset = 0;
  // At most ~2000 writes per payload keeps a shrunk case (1-byte writes of 1 MB) fast.
  const least = Math.ceil(data.length / 2000);
  for (let i = 0; offset < data.length; i++) {
    const n = Math.max(least, sizes[i % sizes.length]!);
    if (!stream.write(data.subarray(offset, offset + n))) await new Promise((r) => stream.once('drain', r));
    offset += n;
  }
  stream.end();
}

/** Reads to the end, now and then slowly, so window updates wait on the reader. */
function readToEnd(stream: YamuxStream, stallEvery: number, rand: () => number): Promise<Buffer> {
  // Not `for await`: ending the iteration would destroy the stream while its write side works.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (Math.floor(rand() * stallEvery) === 0) {
        stream.pause();
        setImmediate(() => stream.resume());
      }
    });
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
    stream.on('close', () => reject(new Error(`stream ${stream.id} closed before its end`)));
  });
}

describe('yamux sessions over a splitting, delaying transport (model)', function () {
  this.timeout(120_000);

  it('deliver every stream intact and in order, both ways', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          seed: fc.integer(),
          maxStreamWindow: fc.constantFrom(256 * 1024, 300_000, 1 << 20),
          maxFrameSize: fc.oneof(fc.integer({ min: 1024, max: 64 * 1024 }), fc.constant(64 * 1024)),
          highWaterMark: fc.integer({ min: 1, max: 128 * 1024 }),
          maxPieces: fc.integer({ min: 1, max: 6 }),
          streams: fc.array(plan, { minLength: 1, maxLength: 4 }),
        }),
        async ({ seed, maxStreamWindow, maxFrameSize, highWaterMark, maxPieces, streams }) => {
          const [x, y] = chaosPair(seed, { highWaterMark, maxPieces });
          const a = new YamuxSession(x, { client: true, maxStreamWindow, maxFrameSize });
          const b = new YamuxSession(y, { maxStreamWindow, maxFrameSize });
          const rand = prng(seed ^ 0x5bd1e995);
          const plans = streams.map((p, i) => ({ ...p, upData: pattern(seed + 2 * i, p.up), downData: pattern(seed + 2 * i + 1, p.down) }));
          // Accepted streams come in opening order per side; match them to their plans.
          const acceptedPlans = { a: plans.filter((p) => !p.fromA), b: plans.filter((p) => p.fromA) };
          const accepted: Array<Promise<string[]>> = [];
          const serve = (side: 'a' | 'b') => (stream: YamuxStream) => {
            const p = acceptedPlans[side].shift()!;
            accepted.push(
              Promise.all([readToEnd(stream, p.stallEvery, rand), writeAll(stream, p.downData, p.writes)]).then(([got]) =>
                check(`stream ${stream.id} up`, got, p.upData),
              ),
            );
          };
          a.on('stream', serve('a'));
          b.on('stream', serve('b'));
          const opened = plans.map(async (p) => {
            const stream = (p.fromA ? a : b).open();
            const [got] = await Promise.all([readToEnd(stream, p.stallEvery, rand), writeAll(stream, p.upData, p.writes)]);
            return check(`stream ${stream.id} down`, got, p.downData);
          });
          const failures = (await Promise.all(opened)).flat();
          failures.push(...(await Promise.all(accepted)).flat());
          a.close();
          b.close();
          expect(failures, failures.join('; ')).to.have.length(0);
        },
      ),
      { numRuns: Number(process.env.YAMUX_MODEL_RUNS ?? 30) },
    );
  });
});

function check(label: string, got: Buffer, want: Buffer): string[] {
  const problem = sameBytes(got, want);
  return problem ? [`${label}: ${problem}`] : [];
}

import { expect } from 'chai';
import fc from 'fast-check';
import { once } from 'node:events';
import { connect, createServer, type Server } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { encodeHeader, Flag, FrameType, YamuxSession, type YamuxStream } from '../../src/plugin/yamux/index.js';

// Random and mutated yamux frames thrown at a live session over a real socket: the session
// must never throw, must close once the peer hangs up (no hang), and must not keep memory.
// FUZZ_RUNS is the number of frames (default 100000).

const FRAMES = Number(process.env.FUZZ_RUNS ?? 100_000);
const FRAMES_PER_CONNECTION = 10;

const streamId = fc.oneof(fc.constantFrom(0, 1, 2, 3, 5, 7), fc.integer({ min: 0, max: 0xffffffff }));
const length = fc.oneof(fc.integer({ min: 0, max: 64 }), fc.constantFrom(256 * 1024, 256 * 1024 + 1, 0xffffffff), fc.integer({ min: 0, max: 0xffffffff }));

/** Any header, any short payload. */
const randomFrame = fc
  .record({
    version: fc.oneof({ weight: 9, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }),
    type: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: 3 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }),
    flags: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 15 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) }),
    id: streamId,
    length,
    payload: fc.uint8Array({ maxLength: 64 }),
  })
  .map(({ version, type, flags, id, length, payload }) => {
    const header = encodeHeader(Math.min(type, 3) as FrameType, flags, id, length);
    header.writeUInt8(version, 0);
    header.writeUInt8(type, 1);
    return Buffer.concat([header, payload]);
  });

/** A well-formed exchange on one stream, then bytes flipped. */
const mutatedExchange = fc
  .record({
    id: fc.constantFrom(1, 3, 5),
    data: fc.uint8Array({ minLength: 1, maxLength: 200 }),
    flips: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 3 }),
  })
  .map(({ id, data, flips }) => {
    const frame = Buffer.concat([
      encodeHeader(FrameType.WindowUpdate, Flag.SYN, id, 0),
      encodeHeader(FrameType.Data, 0, id, data.length),
      Buffer.from(data),
      encodeHeader(FrameType.Ping, Flag.SYN, 0, 7),
      encodeHeader(FrameType.WindowUpdate, 0, id, 1024),
      encodeHeader(FrameType.WindowUpdate, Flag.FIN, id, 0),
    ]);
    for (const { at, value } of flips) frame[at % frame.length] = value;
    return frame;
  });

const frame = fc.oneof({ arbitrary: randomFrame, weight: 1 }, { arbitrary: mutatedExchange, weight: 1 });

describe('yamux session under random frames', function () {
  this.timeout(120_000);
  let server: Server;
  let path: string;
  let live = 0;
  let sessions = 0;
  const closes: Array<() => void> = [];

  before(async () => {
    path = join(mkdtempSync(join(tmpdir(), 'yamux-fuzz-')), 'fuzz.sock');
    server = createServer((conn) => {
      live++;
      sessions++;
      const session = new YamuxSession(conn);
      // Echo: the session also has to write while it is being abused.
      session.on('stream', (s: YamuxStream) => s.pipe(s));
      session.on('close', () => {
        live--;
        closes.shift()?.();
      });
    });
    server.listen(path);
    await once(server, 'listening');
  });
  after(() => server.close());

  it(`survives ${FRAMES} frames without crashing, hanging or growing`, async () => {
    // Live heap only: without a collection first, garbage not yet collected decided the result.
    expect(global.gc, 'run node with --expose-gc (.mocharc.json sets it)').to.be.a('function');
    const heapBefore = await liveHeap();
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: FRAMES_PER_CONNECTION, maxLength: FRAMES_PER_CONNECTION }), async (frames) => {
        const closed = new Promise<void>((resolve) => closes.push(resolve));
        const conn = connect(path);
        conn.on('error', () => {});
        conn.resume();
        await once(conn, 'connect');
        conn.end(Buffer.concat(frames));
        sent += frames.length;
        let timer: NodeJS.Timeout | undefined;
        const hung = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('session did not close after the peer hung up')), 5000);
        });
        try {
          await Promise.race([closed, hung]);
        } finally {
          clearTimeout(timer);
          conn.destroy();
        }
      }),
      { numRuns: Math.ceil(FRAMES / FRAMES_PER_CONNECTION) },
    );
    const grownMiB = ((await liveHeap()) - heapBefore) / 2 ** 20;
    expect(sent).to.be.at.least(FRAMES);
    expect(live).to.equal(0);
    expect(sessions).to.equal(Math.ceil(FRAMES / FRAMES_PER_CONNECTION));
    // What stays is about 1.5 MiB of compiled code and caches; keeping each of the 10 000
    // sessions reachable (with its socket) adds about 40 MiB.
    expect(grownMiB).to.be.below(8);
  });
});

/** Heap in use after full collections (closed sockets free their handles a turn later). */
async function liveHeap(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    global.gc!();
    await turn();
  }
  return process.memoryUsage().heapUsed;
}

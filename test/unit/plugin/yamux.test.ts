import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { once } from 'node:events';
import { YamuxSession, type YamuxStream } from '../../../src/plugin/yamux/index.js';
import { lateWrites, sameBytes } from './yamux-chaos.js';
import { buildYamuxPeer, runPeer, socketPath } from './yamux-peer.js';
import { requireTool } from '../../support/tooling.js';

// Interop with hashicorp/yamux, the session layer of every go-plugin host.

function echo(stream: YamuxStream): void {
  stream.pipe(stream);
}

function readAll(stream: YamuxStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('close', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/** Reads n bytes; rejects, saying how far it got, when the stream ends or closes first. */
function readExactly(stream: YamuxStream, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const short = (how: string) => () => {
      if (got < n) reject(new Error(`stream ${stream.id} ${how} after ${got} of ${n} bytes (reset by peer: ${stream.resetByPeer})`));
    };
    stream.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      got += chunk.length;
      if (got >= n) resolve(Buffer.concat(chunks));
    });
    stream.on('end', short('ended'));
    stream.on('close', short('closed'));
    stream.on('error', reject);
  });
}

/** Like comparing digests, but a mismatch names the lengths and the first differing byte. */
function expectSameBytes(actual: Buffer[], expected: Buffer[]): void {
  const problems = expected.flatMap((want, i) => {
    const problem = sameBytes(actual[i] ?? Buffer.alloc(0), want);
    return problem ? [`echo ${i} (sha256 ${sha(actual[i] ?? Buffer.alloc(0)).slice(0, 12)} vs ${sha(want).slice(0, 12)}): ${problem}`] : [];
  });
  expect(problems, problems.join('; ')).to.have.length(0);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('yamux session against hashicorp/yamux', function () {
  this.timeout(60_000);
  let server: Server | undefined;

  before(async function () {
    requireTool(this, await buildYamuxPeer(), 'go is missing: the hashicorp/yamux peer cannot be built');
  });

  afterEach(() => {
    server?.close();
    server = undefined;
  });

  /** Listens on a fresh socket; every connection becomes a server session echoing its streams. */
  async function echoServer(onSession?: (s: YamuxSession) => void): Promise<string> {
    const path = socketPath('echo.sock');
    server = createServer((conn) => {
      const session = new YamuxSession(conn);
      session.on('stream', echo);
      onSession?.(session);
    });
    server.listen(path);
    await once(server, 'listening');
    return path;
  }

  it('echoes a 1 MiB stream opened by a Go client (four times the initial window)', async () => {
    // Given our server session echoing streams
    const path = await echoServer();
    // When a Go yamux client writes 1 MiB and reads it back
    const result = await runPeer(['-mode', 'client', '-addr', path, '-streams', '1', '-size', String(1 << 20)]).result;
    // Then every byte came back and the Go ping was answered
    expect(result).to.deep.equal({ ok: true, streams: 1, bytes: 1 << 20, pingOk: true });
  });

  it('echoes 50 concurrent 300 KB streams from a Go client', async () => {
    const path = await echoServer();
    const result = await runPeer(['-mode', 'client', '-addr', path, '-streams', '50', '-size', '300000']).result;
    expect(result).to.deep.equal({ ok: true, streams: 50, bytes: 50 * 300_000, pingOk: true });
  });

  it('answers keepalive pings so a Go client with a short keepalive keeps the session', async () => {
    const path = await echoServer();
    const result = await runPeer(['-mode', 'client', '-addr', path, '-keepalive-ms', '50', '-hold-ms', '500']).result;
    expect(result.ok).to.equal(true);
  });

  /** Against a Go server that echoes our 3 streams of 1 MiB and opens 5 of 400 KB that we echo. */
  async function exchangeWithGoServer(wrap: (conn: Socket) => Duplex = (conn) => conn): Promise<void> {
    const path = socketPath('go.sock');
    const peer = runPeer(['-mode', 'server', '-addr', path, '-streams', '5', '-size', '400000']);
    await peer.ready;
    peer.result.catch(() => {}); // awaited below unless an assertion fails first
    const conn = connect(path);
    await once(conn, 'connect');
    const session = new YamuxSession(wrap(conn), { client: true });
    try {
      session.on('stream', echo);
      // When we send 1 MiB on each of 3 streams and ping
      const payloads = [0, 1, 2].map(() => randomBytes(1 << 20));
      const echoes = await Promise.all(
        payloads.map(async (p) => {
          const stream = session.open();
          const back = readExactly(stream, p.length);
          stream.end(p);
          return back;
        }),
      );
      const rtt = await session.ping();
      // Then each echo is intact
      expectSameBytes(echoes, payloads);
      expect(rtt).to.be.a('number');
      // And the Go server's own five streams were echoed by us
      await waitFor(() => session.streamCount === 0);
      session.close();
      const result = await peer.result;
      expect(result).to.include({ ok: true, opened: 5 * 400_000, echoed: 3 * (1 << 20) });
    } finally {
      // A failed exchange must not leave the Go server (and mocha) waiting.
      session.close();
      peer.child.kill();
    }
  }

  it('opens streams to a Go server and accepts the streams it opens', async () => {
    // Given a Go yamux server that echoes our streams and opens 5 of its own
    await exchangeWithGoServer();
  });

  it('ends each stream after its last data frame when writes reach the Go server late', async () => {
    // Given a connection on which every write reaches the Go server separately, after a timer
    // (a busy host), so a FIN sent ahead of a data frame would end the Go reader early
    // Then the same exchange loses no byte in either direction
    await exchangeWithGoServer((conn) => lateWrites(conn));
  });

  it('holds writes back while the Go reader is slow, then delivers everything', async () => {
    // Given a Go server that reads an accepted stream only after 700 ms
    const path = socketPath('slow.sock');
    const peer = runPeer(['-mode', 'server', '-addr', path, '-streams', '0', '-delay-ms', '700']);
    await peer.ready;
    const conn = connect(path);
    await once(conn, 'connect');
    let dataOnWire = 0;
    const write = conn.write.bind(conn);
    conn.write = ((chunk: Buffer, ...rest: never[]) => {
      if (chunk.length > 12) dataOnWire += chunk.length;
      return write(chunk, ...rest);
    }) as typeof conn.write;
    const session = new YamuxSession(conn, { client: true });
    // When we write 2 MiB at once
    const payload = randomBytes(2 << 20);
    const stream = session.open();
    const back = readExactly(stream, payload.length);
    stream.end(payload);
    await new Promise((r) => setTimeout(r, 300));
    // Then only one window went out before the peer read anything
    expect(dataOnWire).to.be.at.most(256 * 1024);
    expect(stream.writableLength).to.be.greaterThan(0);
    // And everything arrives once it reads
    expect(sha(await back)).to.equal(sha(payload));
    session.close();
    await peer.result;
  });
});

describe('yamux session between two of ours', () => {
  function pair(): Promise<{ a: YamuxSession; b: YamuxSession; sockets: Socket[] }> {
    return new Promise((resolve) => {
      const path = socketPath('pair.sock');
      const srv = createServer((conn) => {
        const b = new YamuxSession(conn);
        srv.close();
        resolve({ a, b, sockets: [client, conn] });
      });
      srv.listen(path);
      const client = connect(path);
      const a = new YamuxSession(client, { client: true });
    });
  }

  it('delivers a half-closed stream and its FIN both ways', async () => {
    const { a, b } = await pair();
    b.on('stream', (s: YamuxStream) => {
      void readAll(s).then((data) => s.end(Buffer.concat([Buffer.from('got:'), data])));
    });
    const stream = a.open();
    const reply = readAll(stream);
    stream.end('hello');
    expect((await reply).toString()).to.equal('got:hello');
    await waitFor(() => a.streamCount === 0 && b.streamCount === 0);
    a.close();
  });

  it('reports a reset stream as closed on the other side', async () => {
    const { a, b } = await pair();
    const accepted = once(b, 'stream') as Promise<[YamuxStream]>;
    const stream = a.open();
    stream.write('x');
    const [remote] = await accepted;
    remote.resume();
    stream.destroy();
    await once(remote, 'close');
    expect(remote.resetByPeer).to.equal(true);
    a.close();
  });

  it('refuses new streams after the peer sent go-away', async () => {
    const { a, b } = await pair();
    b.goAway();
    await waitFor(() => {
      try {
        a.open().destroy();
        return false;
      } catch (e) {
        return /go away/.test((e as Error).message);
      }
    });
    a.close();
  });

  it('closes both sessions when one side closes', async () => {
    const { a, b } = await pair();
    const closed = once(b, 'close');
    a.close();
    await closed;
    expect(b.closed).to.equal(true);
  });
});

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}

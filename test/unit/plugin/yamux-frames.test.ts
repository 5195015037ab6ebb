import { expect } from 'chai';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import {
  decodeHeader,
  encodeHeader,
  Flag,
  FrameType,
  GoAwayCode,
  HEADER_SIZE,
  YamuxSession,
  type YamuxStream,
} from '../../../src/plugin/yamux/index.js';
import { socketPath } from './yamux-peer.js';

// The session answering hand-made frames: what a peer sees on the wire.

interface Frame {
  type: number;
  flags: number;
  streamId: number;
  length: number;
  payload?: Buffer;
}

/** A raw socket to a server session, and the frames it receives. */
async function rawPeer(options: ConstructorParameters<typeof YamuxSession>[1] = {}, onStream?: (s: YamuxStream) => void) {
  const path = socketPath('raw.sock');
  let session!: YamuxSession;
  const server: Server = createServer((conn) => {
    session = new YamuxSession(conn, options);
    session.on('stream', onStream ?? ((s: YamuxStream) => s.resume()));
  });
  server.listen(path);
  await once(server, 'listening');
  const sock: Socket = connect(path);
  await once(sock, 'connect');
  const frames: Frame[] = [];
  let buf = Buffer.alloc(0);
  sock.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= HEADER_SIZE) {
      const h = decodeHeader(buf);
      const size = h.type === FrameType.Data ? h.length : 0;
      if (buf.length < HEADER_SIZE + size) break;
      frames.push({ ...h, payload: size ? buf.subarray(HEADER_SIZE, HEADER_SIZE + size) : undefined });
      buf = buf.subarray(HEADER_SIZE + size);
    }
  });
  const closed = new Promise<void>((resolve) => sock.on('close', () => resolve()));
  await new Promise((r) => setImmediate(r));
  return {
    sock,
    frames,
    closed,
    session: () => session,
    send: (...bufs: Buffer[]) => sock.write(Buffer.concat(bufs)),
    until: async (pred: (f: Frame[]) => boolean) => {
      for (let i = 0; i < 500 && !pred(frames); i++) await new Promise((r) => setTimeout(r, 5));
      expect(pred(frames), JSON.stringify(frames)).to.equal(true);
    },
    close: () => {
      sock.destroy();
      server.close();
    },
  };
}

describe('yamux session on the wire', () => {
  it('answers a ping with the same opaque value', async () => {
    const peer = await rawPeer();
    peer.send(encodeHeader(FrameType.Ping, Flag.SYN, 0, 0xdeadbeef));
    await peer.until((f) => f.some((x) => x.type === FrameType.Ping));
    expect(peer.frames).to.deep.include({ version: 0, type: FrameType.Ping, flags: Flag.ACK, streamId: 0, length: 0xdeadbeef, payload: undefined });
    peer.close();
  });

  it('acknowledges a new stream at once and grants more window as data is read', async () => {
    const peer = await rawPeer();
    // Given a stream opened with 200 KiB of data (within the 256 KiB window)
    const data = Buffer.alloc(200 * 1024, 7);
    peer.send(encodeHeader(FrameType.WindowUpdate, Flag.SYN, 1, 0), encodeHeader(FrameType.Data, 0, 1, data.length), data);
    // Then the session ACKs it and, once the reader consumed it, grants the window back
    // (as hashicorp's yamux: an update once at least half the window is free again; the payload
    // reaches the reader in the socket's chunks, so the last few KiB may wait for the next update)
    const granted = (f: typeof peer.frames) => f.filter((x) => x.type === FrameType.WindowUpdate && x.flags === 0).reduce((n, x) => n + x.length, 0);
    await peer.until((f) => granted(f) > 0);
    expect(peer.frames[0]).to.include({ type: FrameType.WindowUpdate, flags: Flag.ACK, streamId: 1 });
    expect(granted(peer.frames)).to.be.within(128 * 1024, data.length);
    peer.close();
  });

  it('goes away with a protocol error when a peer overruns the receive window', async () => {
    // Given a reader that never reads
    const peer = await rawPeer({}, () => {});
    const data = Buffer.alloc(256 * 1024 + 1);
    peer.send(encodeHeader(FrameType.WindowUpdate, Flag.SYN, 1, 0), encodeHeader(FrameType.Data, 0, 1, data.length), data);
    await peer.closed;
    expect(peer.frames.at(-1)).to.include({ type: FrameType.GoAway, length: GoAwayCode.ProtocolError });
    expect(peer.session().closed).to.equal(true);
    peer.close();
  });

  it('skips data for streams it does not know and keeps going', async () => {
    const peer = await rawPeer();
    peer.send(encodeHeader(FrameType.Data, 0, 99, 5), Buffer.from('hello'), encodeHeader(FrameType.Ping, Flag.SYN, 0, 1));
    await peer.until((f) => f.some((x) => x.type === FrameType.Ping));
    expect(peer.session().closed).to.equal(false);
    peer.close();
  });

  it('resets streams beyond its limit instead of accepting them', async () => {
    const peer = await rawPeer({ maxStreams: 2 });
    peer.send(
      encodeHeader(FrameType.WindowUpdate, Flag.SYN, 1, 0),
      encodeHeader(FrameType.WindowUpdate, Flag.SYN, 3, 0),
      encodeHeader(FrameType.WindowUpdate, Flag.SYN, 5, 0),
    );
    await peer.until((f) => f.length >= 3);
    expect(peer.frames.map((f) => [f.streamId, f.flags])).to.deep.equal([
      [1, Flag.ACK],
      [3, Flag.ACK],
      [5, Flag.RST],
    ]);
    peer.close();
  });

  it('skips the payload of a data frame whose SYN it refuses, as hashicorp/yamux does', async () => {
    const peer = await rawPeer({ maxStreams: 1 });
    const payload = Buffer.from('hello world!');
    peer.send(
      encodeHeader(FrameType.WindowUpdate, Flag.SYN, 1, 0),
      encodeHeader(FrameType.Data, Flag.SYN, 3, payload.length),
      payload,
      encodeHeader(FrameType.Ping, Flag.SYN, 0, 42),
    );
    await peer.until((f) => f.some((x) => x.type === FrameType.Ping));
    expect(peer.frames.map((f) => [f.type, f.streamId, f.flags, f.length])).to.deep.equal([
      [FrameType.WindowUpdate, 1, Flag.ACK, 0],
      [FrameType.WindowUpdate, 3, Flag.RST, 0],
      [FrameType.Ping, 0, Flag.ACK, 42],
    ]);
    expect(peer.session().closed).to.equal(false);
    peer.close();
  });

  it('closes on a frame with an unknown version', async () => {
    const peer = await rawPeer();
    const bad = encodeHeader(FrameType.Ping, Flag.SYN, 0, 1);
    bad.writeUInt8(1, 0);
    peer.send(bad);
    await peer.closed;
    expect(peer.session().closed).to.equal(true);
    peer.close();
  });

  it('does not send more than the peer\'s window until it grants more', async () => {
    // Given a stream the peer opened, never granting beyond the initial 256 KiB
    let accepted!: YamuxStream;
    const peer = await rawPeer({}, (s) => (accepted = s));
    peer.send(encodeHeader(FrameType.WindowUpdate, Flag.SYN, 1, 0));
    await peer.until((f) => f.length >= 1);
    // When we write 600 KiB
    accepted.write(Buffer.alloc(600 * 1024, 1));
    const dataBytes = () => peer.frames.filter((f) => f.type === FrameType.Data).reduce((n, f) => n + f.length, 0);
    await peer.until(() => dataBytes() === 256 * 1024);
    await new Promise((r) => setTimeout(r, 50));
    // Then exactly one window went out; a grant releases the rest
    expect(dataBytes()).to.equal(256 * 1024);
    peer.send(encodeHeader(FrameType.WindowUpdate, 0, 1, 1024 * 1024));
    await peer.until(() => dataBytes() === 600 * 1024);
    peer.close();
  });
});

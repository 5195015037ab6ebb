import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import * as errors from './errors.js';
import {
  decodeHeader,
  encodeHeader,
  Flag,
  FrameType,
  GoAwayCode,
  HEADER_SIZE,
  INITIAL_STREAM_WINDOW,
  MAX_UINT32,
  PROTOCOL_VERSION,
  type FrameHeader,
} from './frame.js';
import { YamuxStream, type StreamHost } from './stream.js';

export interface YamuxSessionOptions {
  /** Client sessions open odd stream ids, servers even ones (go-plugin's plugin side is the server). */
  client?: boolean;
  /** Per-stream receive window we grow to; at least 256 KiB. */
  maxStreamWindow?: number;
  /** Streams open at once; SYNs beyond it are answered with RST (hashicorp's accept backlog is 256). */
  maxStreams?: number;
  /** Ping the peer this often and close the session when a reply does not come; 0 disables. */
  keepAliveIntervalMs?: number;
  /** How long a ping (and a keepalive ping) waits for its reply. */
  pingTimeoutMs?: number;
  /** Largest data frame we send. */
  maxFrameSize?: number;
  /** Outgoing bytes the peer may leave unread (control frames) before we give up on it. */
  maxBufferedOutput?: number;
}

const DEFAULTS = {
  client: false,
  maxStreamWindow: INITIAL_STREAM_WINDOW,
  maxStreams: 1024,
  keepAliveIntervalMs: 0,
  pingTimeoutMs: 10_000,
  maxFrameSize: 64 * 1024,
  maxBufferedOutput: 8 * 1024 * 1024,
};

interface PendingPing {
  resolve: (rttMs: number) => void;
  reject: (error: Error) => void;
  started: bigint;
  timer: NodeJS.Timeout;
}

export interface YamuxSession {
  on(event: 'stream', listener: (stream: YamuxStream) => void): this;
  on(event: 'close', listener: (error?: Error) => void): this;
  once(event: 'stream', listener: (stream: YamuxStream) => void): this;
  once(event: 'close', listener: (error?: Error) => void): this;
}

/**
 * A hashicorp/yamux session over one connection: streams opened by either side, per-stream
 * flow control, pings, go-away. Incoming streams are announced with the 'stream' event;
 * 'close' fires once, with the error that ended the session if it did not end cleanly.
 */
export class YamuxSession extends EventEmitter {
  readonly #conn: Duplex;
  readonly #options: typeof DEFAULTS;
  readonly #streams = new Map<number, YamuxStream>();
  readonly #ready = new Set<YamuxStream>();
  readonly #pings = new Map<number, PendingPing>();
  readonly #host: StreamHost;
  #nextStreamId: number;
  #nextPingId = 0;
  #closed = false;
  #localGoAway = false;
  #remoteGoAway = false;
  #pumping = false;
  #keepAlive: NodeJS.Timeout | undefined;

  // Input parsing: buffered chunks, the header of a data frame awaiting its payload,
  // and how many payload bytes still to skip (frames for streams we no longer know).
  #input: Buffer[] = [];
  #inputLength = 0;
  #dataHeader: FrameHeader | null = null;
  #dataStream: YamuxStream | null = null;
  /** Payload bytes of the current data frame not yet handed to its stream. */
  #dataLeft = 0;
  #discard = 0;

  constructor(conn: Duplex, options: YamuxSessionOptions = {}) {
    super();
    this.#conn = conn;
    this.#options = { ...DEFAULTS, ...stripUndefined(options) };
    this.#options.maxStreamWindow = Math.min(MAX_UINT32, Math.max(INITIAL_STREAM_WINDOW, this.#options.maxStreamWindow));
    this.#nextStreamId = this.#options.client ? 1 : 2;
    const session = this;
    this.#host = {
      get maxStreamWindow() {
        return session.#options.maxStreamWindow;
      },
      get closed() {
        return session.#closed;
      },
      sendControl: (type, flags, id, length) => this.#sendControl(type, flags, id, length),
      scheduleSend: (stream) => {
        this.#ready.add(stream);
        this.#pump();
      },
      forget: (stream) => {
        if (this.#streams.get(stream.id) === stream) this.#streams.delete(stream.id);
        this.#ready.delete(stream);
      },
    };
    conn.on('data', (chunk: Buffer) => this.#onInput(chunk));
    conn.on('drain', () => this.#pump());
    conn.on('end', () => this.close());
    conn.on('close', () => this.close());
    // A peer that hung up while we were still writing is an ordinary end, not a failure.
    conn.on('error', (error: NodeJS.ErrnoException) => this.close(PEER_GONE.has(error.code ?? '') ? undefined : error));
    if (this.#options.keepAliveIntervalMs > 0) {
      this.#keepAlive = setInterval(() => {
        this.ping().catch(() => this.close(new Error(errors.KEEPALIVE_TIMEOUT)));
      }, this.#options.keepAliveIntervalMs);
      this.#keepAlive.unref();
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Streams currently known to the session (open in at least one direction). */
  get streamCount(): number {
    return this.#streams.size;
  }

  /** Opens a stream; the peer learns of it at once (SYN), before any data. */
  open(): YamuxStream {
    if (this.#closed) throw new Error(errors.SESSION_CLOSED);
    if (this.#remoteGoAway) throw new Error(errors.REMOTE_GO_AWAY);
    const id = this.#nextStreamId;
    if (id >= MAX_UINT32 - 1) throw new Error(errors.STREAMS_EXHAUSTED);
    this.#nextStreamId += 2;
    const stream = new YamuxStream(this.#host, id);
    this.#streams.set(id, stream);
    stream._announce(Flag.SYN);
    return stream;
  }

  /** Round-trip time of one ping, in milliseconds. */
  ping(timeoutMs = this.#options.pingTimeoutMs): Promise<number> {
    if (this.#closed) return Promise.reject(new Error(errors.SESSION_CLOSED));
    const id = this.#nextPingId;
    this.#nextPingId = (this.#nextPingId + 1) >>> 0;
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pings.delete(id);
        reject(new Error(errors.pingTimeout(timeoutMs)));
      }, timeoutMs);
      timer.unref();
      this.#pings.set(id, { resolve, reject, started: process.hrtime.bigint(), timer });
      this.#sendControl(FrameType.Ping, Flag.SYN, 0, id);
    });
  }

  /** Tells the peer we accept no more streams; existing ones go on. */
  goAway(code: GoAwayCode = GoAwayCode.Normal): void {
    this.#localGoAway = true;
    this.#sendControl(FrameType.GoAway, 0, 0, code);
  }

  /** Ends the session and every stream; `error` is what 'close' reports. */
  close(error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#keepAlive);
    for (const ping of this.#pings.values()) {
      clearTimeout(ping.timer);
      ping.reject(new Error(errors.SESSION_CLOSED));
    }
    this.#pings.clear();
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    this.#ready.clear();
    this.#input = [];
    this.#inputLength = 0;
    for (const stream of streams) stream._sessionClosed();
    this.#conn.end();
    // A peer that never closes its side must not keep the socket (and the process) alive.
    const timer = setTimeout(() => this.#conn.destroy(), 2000);
    timer.unref();
    this.#conn.once('close', () => clearTimeout(timer));
    this.emit('close', error);
  }

  // ---- output ----------------------------------------------------------------------------

  #sendControl(type: FrameType, flags: number, streamId: number, length: number): void {
    if (this.#closed || this.#conn.destroyed || this.#conn.writableEnded) return;
    this.#conn.write(encodeHeader(type, flags, streamId, length));
    if (this.#conn.writableLength > this.#options.maxBufferedOutput) {
      this.#conn.destroy();
      this.close(new Error(errors.PEER_NOT_READING));
    }
  }

  /** Writes data frames, round robin over ready streams, while the connection takes them. */
  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (!this.#closed && this.#ready.size > 0 && !this.#conn.writableNeedDrain) {
        const stream = this.#ready.values().next().value as YamuxStream;
        this.#ready.delete(stream);
        const sent = stream._sendFrame(this.#options.maxFrameSize, (payload) => {
          this.#conn.write(encodeHeader(FrameType.Data, 0, stream.id, payload.length));
          this.#conn.write(payload);
        });
        if (sent && stream._sendable) this.#ready.add(stream);
      }
    } finally {
      this.#pumping = false;
    }
  }

  // ---- input -----------------------------------------------------------------------------

  #onInput(chunk: Buffer): void {
    if (this.#closed) return;
    this.#input.push(chunk);
    this.#inputLength += chunk.length;
    while (!this.#closed) {
      if (this.#discard > 0) {
        if (this.#inputLength === 0) return;
        const n = Math.min(this.#discard, this.#inputLength);
        this.#take(n);
        this.#discard -= n;
        continue;
      }
      if (this.#dataHeader) {
        const stream = this.#dataStream!;
        // The payload goes to the stream as it arrives, in the socket's own chunks: assembling
        // a frame first would copy every byte of a large Rollout once more.
        if (this.#dataLeft > 0) {
          if (this.#inputLength === 0) return;
          const piece = this.#takeSome(this.#dataLeft);
          this.#dataLeft -= piece.length;
          stream._onData(piece);
          continue;
        }
        const { flags } = this.#dataHeader;
        this.#dataHeader = null;
        this.#dataStream = null;
        stream._onFlags(flags);
        continue;
      }
      if (this.#inputLength < HEADER_SIZE) return;
      this.#onHeader(decodeHeader(this.#take(HEADER_SIZE)));
    }
  }

  /** Up to n bytes from the first input chunk, without copying. */
  #takeSome(n: number): Buffer {
    const first = this.#input[0]!;
    if (first.length <= n) {
      this.#input.shift();
      this.#inputLength -= first.length;
      return first;
    }
    this.#input[0] = first.subarray(n);
    this.#inputLength -= n;
    return first.subarray(0, n);
  }

  #take(n: number): Buffer {
    if (n === 0) return EMPTY;
    this.#inputLength -= n;
    const first = this.#input[0]!;
    if (first.length === n) {
      this.#input.shift();
      return first;
    }
    if (first.length > n) {
      this.#input[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const head = this.#input[0]!;
      const count = Math.min(head.length, n - filled);
      head.copy(out, filled, 0, count);
      filled += count;
      if (count === head.length) this.#input.shift();
      else this.#input[0] = head.subarray(count);
    }
    return out;
  }

  #onHeader(header: FrameHeader): void {
    if (header.version !== PROTOCOL_VERSION) return this.#protocolError(errors.invalidVersion(header.version));
    switch (header.type) {
      case FrameType.Data:
      case FrameType.WindowUpdate:
        return this.#onStreamFrame(header);
      case FrameType.Ping:
        if (header.flags & Flag.SYN) return this.#sendControl(FrameType.Ping, Flag.ACK, 0, header.length);
        return this.#onPingReply(header.length);
      case FrameType.GoAway:
        if (header.length === GoAwayCode.Normal) {
          this.#remoteGoAway = true;
          return;
        }
        return this.close(new Error(errors.remoteGoAwayError(header.length)));
      default:
        return this.#protocolError(errors.invalidType(header.type));
    }
  }

  #onStreamFrame(header: FrameHeader): void {
    const { streamId: id, flags, type } = header;
    const refused = flags & Flag.SYN && !this.#acceptStream(id);
    const stream = refused ? undefined : this.#streams.get(id);
    if (!stream) {
      // A refused SYN, or usually a stream we reset or fully closed: skip its payload.
      if (type === FrameType.Data && !this.#closed) this.#discard = header.length;
      return;
    }
    if (type === FrameType.WindowUpdate) {
      if (!stream._onWindowUpdate(header.length)) return this.#protocolError(errors.windowOverflow(id));
      stream._onFlags(flags);
      return;
    }
    if (header.length > stream._recvWindow) {
      return this.#protocolError(errors.windowExceeded(id, header.length, stream._recvWindow));
    }
    this.#dataHeader = header;
    this.#dataStream = stream;
    this.#dataLeft = header.length;
  }

  /** False when the SYN was refused (or broke the session) and the frame must be dropped. */
  #acceptStream(id: number): boolean {
    if (id === 0) {
      this.#protocolError(errors.invalidStreamId(id));
      return false;
    }
    if (this.#streams.has(id)) {
      this.#protocolError(errors.duplicateStream(id));
      return false;
    }
    if (this.#localGoAway || this.#streams.size >= this.#options.maxStreams || this.listenerCount('stream') === 0) {
      this.#sendControl(FrameType.WindowUpdate, Flag.RST, id, 0);
      return false;
    }
    const stream = new YamuxStream(this.#host, id);
    this.#streams.set(id, stream);
    stream._announce(Flag.ACK);
    this.emit('stream', stream);
    return true;
  }

  #onPingReply(id: number): void {
    const ping = this.#pings.get(id);
    if (!ping) return;
    this.#pings.delete(id);
    clearTimeout(ping.timer);
    ping.resolve(Number(process.hrtime.bigint() - ping.started) / 1e6);
  }

  #protocolError(message: string): void {
    if (this.#closed) return;
    this.#sendControl(FrameType.GoAway, 0, 0, GoAwayCode.ProtocolError);
    this.close(new Error(message));
  }
}

const EMPTY = Buffer.alloc(0);
const PEER_GONE = new Set(['EPIPE', 'ECONNRESET']);

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

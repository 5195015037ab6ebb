import { Duplex } from 'node:stream';
import { STREAM_RESET } from './errors.js';
import { Flag, FrameType, INITIAL_STREAM_WINDOW, MAX_UINT32 } from './frame.js';

/** What a stream needs from its session; implemented by YamuxSession, not public API. */
export interface StreamHost {
  readonly maxStreamWindow: number;
  readonly closed: boolean;
  sendControl(type: FrameType, flags: number, streamId: number, length: number): void;
  /** The stream has data and window: the session writes it when the connection can take it. */
  scheduleSend(stream: YamuxStream): void;
  /** Both sides closed, or reset: the session stops routing frames to it. */
  forget(stream: YamuxStream): void;
}

interface PendingWrite {
  chunk: Buffer;
  offset: number;
  callback: (error?: Error | null) => void;
}

/**
 * One yamux stream as a Node Duplex. Received data counts as consumed once it is handed
 * to the readable side below its high-water mark, so the peer can never have more than
 * the window plus one high-water mark of our memory per stream; writes wait for the
 * peer's window and for the connection to drain.
 */
export class YamuxStream extends Duplex {
  readonly id: number;
  readonly #host: StreamHost;
  /** Bytes the peer may still send before our next window update. */
  #recvWindow = INITIAL_STREAM_WINDOW;
  /** Bytes we may still send before the peer's next window update. */
  #sendWindow = INITIAL_STREAM_WINDOW;
  #queue: Buffer[] = [];
  #queued = 0;
  #wantRead = false;
  #pending: PendingWrite | null = null;
  #localFin = false;
  #remoteFin = false;
  #readEnded = false;
  #reset = false;
  #forgotten = false;

  constructor(host: StreamHost, id: number) {
    super({ allowHalfOpen: true });
    this.#host = host;
    this.id = id;
  }

  /** True once the peer sent RST (or the session ended under the stream). */
  get resetByPeer(): boolean {
    return this.#reset;
  }

  // ---- called by the session -------------------------------------------------------------

  /** Announces a window above the initial one right away (SYN when we open, ACK when we accept). */
  _announce(flags: number): void {
    const delta = this.#host.maxStreamWindow - this.#recvWindow;
    this.#recvWindow += delta;
    this.#host.sendControl(FrameType.WindowUpdate, flags, this.id, delta);
  }

  get _recvWindow(): number {
    return this.#recvWindow;
  }

  /** A data payload the session already checked against the receive window. */
  _onData(payload: Buffer): void {
    if (payload.length === 0 || this.#remoteFin || this.#reset) return;
    this.#recvWindow -= payload.length;
    this.#queue.push(payload);
    this.#queued += payload.length;
    this.#deliver();
  }

  /** Returns false when the update would overflow the 32-bit window (a protocol error). */
  _onWindowUpdate(delta: number): boolean {
    if (this.#sendWindow + delta > MAX_UINT32) return false;
    this.#sendWindow += delta;
    if (delta > 0 && this.#pending) this.#host.scheduleSend(this);
    return true;
  }

  _onFlags(flags: number): void {
    if (flags & Flag.RST) {
      this.#reset = true;
      this.#forget();
      this.destroy();
      return;
    }
    if (flags & Flag.FIN && !this.#remoteFin) {
      this.#remoteFin = true;
      this.#deliver();
      if (this.#localFin) this.#forget();
    }
  }

  /**
   * Sends the next data frame, at most `max` bytes, through `send`; false without data or
   * window. A finished write is acknowledged only after its last frame went to `send`: the
   * acknowledgement may run `_final` at once, and its FIN must not overtake that frame.
   */
  _sendFrame(max: number, send: (payload: Buffer) => void): boolean {
    const pending = this.#pending;
    if (!pending || this.#sendWindow === 0) return false;
    const n = Math.min(max, this.#sendWindow, pending.chunk.length - pending.offset);
    const payload = pending.chunk.subarray(pending.offset, pending.offset + n);
    pending.offset += n;
    this.#sendWindow -= n;
    send(payload);
    if (pending.offset === pending.chunk.length) {
      this.#pending = null;
      pending.callback();
    }
    return true;
  }

  get _sendable(): boolean {
    return this.#pending !== null && this.#sendWindow > 0;
  }

  /** The session is gone: no frames can be sent any more. */
  _sessionClosed(): void {
    if (!this.#localFin || !this.#remoteFin) this.#reset = true;
    this.#forgotten = true;
    this.destroy();
  }

  // ---- Duplex ----------------------------------------------------------------------------

  override _read(): void {
    this.#wantRead = true;
    this.#deliver();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.#reset || this.#host.closed) {
      callback(new Error(STREAM_RESET));
      return;
    }
    if (chunk.length === 0) {
      callback();
      return;
    }
    this.#pending = { chunk, offset: 0, callback };
    this.#host.scheduleSend(this);
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.#reset && !this.#host.closed) {
      this.#localFin = true;
      this.#host.sendControl(FrameType.WindowUpdate, Flag.FIN, this.id, 0);
      if (this.#remoteFin) this.#forget();
    }
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.#reset && !(this.#localFin && this.#remoteFin) && !this.#host.closed && !this.#forgotten) {
      this.#host.sendControl(FrameType.WindowUpdate, Flag.RST, this.id, 0);
    }
    this.#queue = [];
    this.#queued = 0;
    const pending = this.#pending;
    this.#pending = null;
    this.#forget();
    pending?.callback(new Error(STREAM_RESET));
    callback(error);
  }

  // ---- internals -------------------------------------------------------------------------

  #deliver(): void {
    while (this.#wantRead && this.#queue.length > 0) {
      const chunk = this.#queue.shift()!;
      this.#queued -= chunk.length;
      this.#wantRead = this.push(chunk);
    }
    if (this.#queue.length === 0 && this.#remoteFin && !this.#readEnded) {
      this.#readEnded = true;
      this.push(null);
      return;
    }
    this.#maybeGrantWindow();
  }

  #maybeGrantWindow(): void {
    if (this.#remoteFin || this.#reset || this.#forgotten || this.#host.closed) return;
    const max = this.#host.maxStreamWindow;
    const delta = max - this.#queued - this.#recvWindow;
    // Like hashicorp/yamux: batch updates until half the window is free again.
    if (delta < max / 2) return;
    this.#recvWindow += delta;
    this.#host.sendControl(FrameType.WindowUpdate, 0, this.id, delta);
  }

  #forget(): void {
    if (this.#forgotten) return;
    this.#forgotten = true;
    this.#host.forget(this);
  }
}

// User-facing messages of the yamux session layer.

export const SESSION_CLOSED = 'yamux: session closed';
export const REMOTE_GO_AWAY = 'yamux: remote end is not accepting streams (go away)';
export const STREAMS_EXHAUSTED = 'yamux: stream ids exhausted';
export const STREAM_RESET = 'yamux: stream reset by peer';
export const KEEPALIVE_TIMEOUT = 'yamux: keepalive timeout (no ping reply)';
export const PEER_NOT_READING = 'yamux: peer stopped reading; outgoing buffer limit exceeded';

export const invalidVersion = (version: number) => `yamux: invalid protocol version ${version} (want 0)`;
export const invalidType = (type: number) => `yamux: invalid frame type ${type}`;
export const duplicateStream = (id: number) => `yamux: duplicate stream ${id} opened by peer`;
export const invalidStreamId = (id: number) => `yamux: invalid stream id ${id} in a SYN frame`;
export const windowExceeded = (id: number, length: number, window: number) =>
  `yamux: receive window exceeded on stream ${id} (frame ${length} bytes, window ${window})`;
export const windowOverflow = (id: number) => `yamux: send window overflow on stream ${id}`;
export const remoteGoAwayError = (code: number) =>
  code === 1 ? 'yamux: remote reported a protocol error (go away)' :
  code === 2 ? 'yamux: remote reported an internal error (go away)' :
  `yamux: unexpected go away code ${code}`;
export const pingTimeout = (ms: number) => `yamux: no ping reply within ${ms} ms`;

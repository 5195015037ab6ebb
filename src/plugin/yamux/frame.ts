// The yamux wire format (hashicorp/yamux spec.md): a 12-byte big-endian header
// [version u8][type u8][flags u16][stream id u32][length u32], then `length` payload
// bytes for Data frames only. For WindowUpdate, length is the window delta; for Ping
// the opaque ping id; for GoAway the reason code.

export const PROTOCOL_VERSION = 0;
export const HEADER_SIZE = 12;
/** Every stream starts with this receive window in both directions. */
export const INITIAL_STREAM_WINDOW = 256 * 1024;
export const MAX_UINT32 = 0xffffffff;

export const FrameType = {
  Data: 0,
  WindowUpdate: 1,
  Ping: 2,
  GoAway: 3,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

export const Flag = {
  SYN: 1,
  ACK: 2,
  FIN: 4,
  RST: 8,
} as const;
export type Flag = (typeof Flag)[keyof typeof Flag];

export const GoAwayCode = {
  Normal: 0,
  ProtocolError: 1,
  InternalError: 2,
} as const;
export type GoAwayCode = (typeof GoAwayCode)[keyof typeof GoAwayCode];

export interface FrameHeader {
  version: number;
  type: number;
  flags: number;
  streamId: number;
  length: number;
}

export function encodeHeader(type: FrameType, flags: number, streamId: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_SIZE);
  buf.writeUInt8(PROTOCOL_VERSION, 0);
  buf.writeUInt8(type, 1);
  buf.writeUInt16BE(flags, 2);
  buf.writeUInt32BE(streamId, 4);
  buf.writeUInt32BE(length, 8);
  return buf;
}

export function decodeHeader(buf: Buffer, offset = 0): FrameHeader {
  return {
    version: buf.readUInt8(offset),
    type: buf.readUInt8(offset + 1),
    flags: buf.readUInt16BE(offset + 2),
    streamId: buf.readUInt32BE(offset + 4),
    length: buf.readUInt32BE(offset + 8),
  };
}

import { GobDecoder } from '../../src/plugin/gob/index.js';

// Reading a `wiretap -raw` capture (../shared/goplugin-host's transparent proxy between a
// go-plugin host and a plugin): raw socket bytes, yamux frames carrying net/rpc streams.

export interface Frame {
  dir: 0 | 1; // 0 host → plugin
  stream: number;
  data: Uint8Array;
}

// wiretap -raw records: dir byte, u32 BE length, bytes. yamux header: version, type,
// flags (2), stream id (4), length (4); only Data frames (type 0) carry a payload.
export function yamuxFrames(raw: Uint8Array): Frame[] {
  const bytes: Uint8Array[][] = [[], []];
  for (let i = 0; i < raw.length; ) {
    const dir = raw[i]!;
    const len = Buffer.from(raw.subarray(i + 1, i + 5)).readUInt32BE(0);
    bytes[dir]!.push(raw.subarray(i + 5, i + 5 + len));
    i += 5 + len;
  }
  const frames: Frame[] = [];
  ([0, 1] as const).forEach((dir) => {
    const all = Buffer.concat(bytes[dir]!);
    for (let i = 0; i < all.length; ) {
      const type = all[i + 1]!;
      const stream = all.readUInt32BE(i + 4);
      const len = all.readUInt32BE(i + 8);
      i += 12;
      if (type === 0) {
        frames.push({ dir, stream, data: all.subarray(i, i + len) });
        i += len;
      }
    }
  });
  return frames;
}

export interface Message {
  header: { ServiceMethod?: string; Seq?: number; Error?: string };
  body: unknown;
}

/** The net/rpc messages (header, body) sent in one direction of one stream, decoded frame by frame as they arrived. */
export function netRpcMessages(frames: Frame[], dir: 0 | 1, stream: number): Message[] {
  const dec = new GobDecoder();
  const values: unknown[] = [];
  let skip = stream >= 7 ? 4 : 0; // broker streams start with the 4-byte broker id
  for (const f of frames.filter((x) => x.dir === dir && x.stream === stream)) {
    const data = f.data.subarray(Math.min(skip, f.data.length));
    skip -= f.data.length - data.length;
    dec.feed(data);
    for (let v = dec.next(); v; v = dec.next()) values.push(v.value);
  }
  dec.finish();
  const out: Message[] = [];
  for (let i = 0; i < values.length; i += 2) out.push({ header: values[i] as Message['header'], body: values[i + 1] });
  return out;
}

/** The Plugin.* calls the host made: the broker stream (the highest id) from host to plugin. */
export function pluginCalls(raw: Uint8Array): Message[] {
  const frames = yamuxFrames(raw);
  return netRpcMessages(frames, 0, Math.max(...frames.map((f) => f.stream)));
}

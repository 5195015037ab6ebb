import type { Duplex } from 'node:stream';
import { GobDecoder, type GobDecoderOptions } from './gob/decoder.js';
import { GobEncoder } from './gob/encoder.js';
import { GobError } from './gob/errors.js';
import { EmptyStructType, RequestType, ResponseType, type GobTypeDescriptor } from './gob/types.js';

// Go's net/rpc over gob (net/rpc/server.go, client.go) on a Node Duplex, as go-plugin
// uses it on each yamux stream: a call is Request{ServiceMethod, Seq} then the args
// value; a reply is Response{ServiceMethod, Seq, Error} then the reply value.
//
// Server (what the plugin side needs):
//
//   serveNetRpc(stream, async (serviceMethod, args) => {
//     if (serviceMethod === 'Control.Ping') return { type: EmptyStructType, value: {} };
//     if (serviceMethod === 'Dispenser.Dispense') return { type: Uint32Type, value: 1 };
//     throw new Error(`rpc: can't find method ${serviceMethod}`);   // → Response.Error
//   });
//
// `args` is the decoded gob value (see gob/decoder.ts): Control.Ping/Quit get `true`,
// Dispenser.Dispense a string, Plugin.InitPlugin/Type `null` (a nil interface), the
// other Plugin.* calls a GobInterface for decodeTrafficRouterArgs (go-to-kube.ts).
// Like Go's server, calls run concurrently and each reply is written when its handler
// settles, with the request's Seq; a handler that throws answers with Response.Error =
// the message and an empty struct body, as a Go method returning an error does. When
// the input ends (or is not valid gob) the server stops reading, writes the replies
// still due, and ends the stream; the returned promise then resolves (it never rejects:
// protocol errors go to options.onError).
//
// Client (tests, tools): new NetRpcClient(stream).call('Control.Ping', BoolType, true).

export {
  BoolType,
  EmptyStructType,
  InterfaceType,
  RpcErrorType,
  StringType,
  Uint32Type,
  VerifyWeightResponseType,
  type GobTypeDescriptor,
} from './gob/types.js';

/** A reply value and its Go type. */
export interface RpcReply {
  type: GobTypeDescriptor;
  value: unknown;
}

export type NetRpcHandler = (serviceMethod: string, args: unknown) => Promise<RpcReply>;

export interface NetRpcOptions {
  decoder?: GobDecoderOptions;
  /** Told why the server stopped early: bad gob, a bad request header, a stream error. */
  onError?: (error: Error) => void;
}

/** net/rpc's error texts, for handlers that route by service and method. */
export const netRpcErrors = {
  illFormed: (serviceMethod: string) => `rpc: service/method request ill-formed: ${serviceMethod}`,
  cantFindService: (serviceMethod: string) => `rpc: can't find service ${serviceMethod}`,
  cantFindMethod: (serviceMethod: string) => `rpc: can't find method ${serviceMethod}`,
  badHeader: () => 'rpc: server cannot decode request: the header is not a net/rpc Request',
  cannotEncodeReply: (serviceMethod: string, why: string) => `rpc: cannot encode the reply of ${serviceMethod}: ${why}`,
  connectionClosed: () => 'rpc: connection closed',
} as const;

/** The error Go's server answers for serviceMethod, given the methods it has by service. */
export function lookupError(serviceMethod: string, services: Record<string, readonly string[]>): string | undefined {
  const dot = serviceMethod.lastIndexOf('.');
  if (dot < 0) return netRpcErrors.illFormed(serviceMethod);
  const methods = Object.hasOwn(services, serviceMethod.slice(0, dot)) ? services[serviceMethod.slice(0, dot)] : undefined;
  if (!methods) return netRpcErrors.cantFindService(serviceMethod);
  if (!methods.includes(serviceMethod.slice(dot + 1))) return netRpcErrors.cantFindMethod(serviceMethod);
  return undefined;
}

export function serveNetRpc(stream: Duplex, handler: NetRpcHandler, options: NetRpcOptions = {}): Promise<void> {
  const decoder = new GobDecoder(options.decoder);
  const encoder = new GobEncoder();
  let header: { serviceMethod: string; seq: number | bigint } | undefined;
  let inFlight = 0;
  let reading = true;

  return new Promise<void>((resolve) => {
    const finish = () => {
      if (inFlight > 0) return;
      if (!stream.writableEnded && !stream.destroyed) stream.end();
      resolve();
    };
    const stop = (error?: Error) => {
      if (!reading) return;
      reading = false;
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onStreamError);
      if (error) options.onError?.(error);
      finish();
    };

    const reply = (serviceMethod: string, seq: number | bigint, result: RpcReply | { error: string }) => {
      if (stream.destroyed || stream.writableEnded) return;
      const response = (error: string, body: RpcReply) =>
        encoder.encodeAll([
          [ResponseType, { ServiceMethod: serviceMethod, Seq: seq, Error: error }],
          [body.type, body.value],
        ]);
      const empty = { type: EmptyStructType, value: {} };
      let bytes: Uint8Array;
      try {
        bytes = 'error' in result ? response(result.error, empty) : response('', result);
      } catch (e) {
        // Go would drop the connection; answering the call with the reason is kinder.
        bytes = response(netRpcErrors.cannotEncodeReply(serviceMethod, e instanceof Error ? e.message : String(e)), empty);
      }
      stream.write(bytes);
    };

    const dispatch = (serviceMethod: string, seq: number | bigint, args: unknown) => {
      inFlight++;
      let call: Promise<RpcReply>;
      try {
        call = Promise.resolve(handler(serviceMethod, args));
      } catch (e) {
        call = Promise.reject(e);
      }
      call
        .then(
          (result) => reply(serviceMethod, seq, result),
          (e: unknown) => reply(serviceMethod, seq, { error: e instanceof Error ? e.message : String(e) }),
        )
        .finally(() => {
          inFlight--;
          if (!reading) finish();
        });
    };

    const onData = (chunk: Buffer) => {
      try {
        decoder.feed(chunk);
        for (let v = decoder.next(); v; v = decoder.next()) {
          if (!header) {
            header = requestHeader(v.value);
            continue;
          }
          const { serviceMethod, seq } = header;
          header = undefined;
          dispatch(serviceMethod, seq, v.value);
        }
      } catch (e) {
        stop(e instanceof Error ? e : new Error(String(e)));
      }
    };
    // A stream that ends inside a message lost a call: said, as Go's server logs unexpected EOF.
    const onEnd = () => {
      try {
        decoder.finish();
        stop();
      } catch (e) {
        stop(e instanceof Error ? e : new Error(String(e)));
      }
    };
    const onStreamError = (e: Error) => stop(e);

    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onStreamError);
  });
}

function requestHeader(v: unknown): { serviceMethod: string; seq: number | bigint } {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Map) {
    throw new GobError(netRpcErrors.badHeader());
  }
  const { ServiceMethod = '', Seq = 0 } = v as { ServiceMethod?: unknown; Seq?: unknown };
  // Seq is a uint64 in Go: anything else (a header typed as int or float by a foreign peer)
  // could not be echoed in the reply.
  const seqOk = typeof Seq === 'bigint' ? Seq >= 0n && Seq < 1n << 64n : Number.isSafeInteger(Seq) && (Seq as number) >= 0;
  if (typeof ServiceMethod !== 'string' || !seqOk) {
    throw new GobError(netRpcErrors.badHeader());
  }
  return { serviceMethod: ServiceMethod, seq: Seq as number | bigint };
}

/** The error of a call the server answered with Response.Error. */
export class NetRpcError extends Error {
  override readonly name = 'NetRpcError';
}

/** A minimal net/rpc client (Go's rpc.Client): pipelined calls, replies matched by Seq. */
export class NetRpcClient {
  private readonly encoder = new GobEncoder();
  private readonly decoder: GobDecoder;
  private readonly pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private seq = 0;
  private header: { seq: string; error: string } | undefined;
  private closed: Error | undefined;

  constructor(
    private readonly stream: Duplex,
    options: GobDecoderOptions = {},
  ) {
    this.decoder = new GobDecoder(options);
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('end', () => this.fail(new Error(netRpcErrors.connectionClosed())));
    stream.on('error', (e: Error) => this.fail(e));
  }

  call(serviceMethod: string, argType: GobTypeDescriptor, args: unknown): Promise<unknown> {
    if (this.closed) return Promise.reject(this.closed);
    const seq = this.seq++;
    let bytes: Uint8Array;
    try {
      bytes = this.encoder.encodeAll([
        [RequestType, { ServiceMethod: serviceMethod, Seq: seq }],
        [argType, args],
      ]);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    return new Promise((resolve, reject) => {
      this.pending.set(String(seq), { resolve, reject });
      this.stream.write(bytes);
    });
  }

  close(): void {
    this.stream.end();
  }

  private onData(chunk: Buffer): void {
    try {
      this.decoder.feed(chunk);
      for (let v = this.decoder.next(); v; v = this.decoder.next()) {
        if (!this.header) {
          const h = v.value as { Seq?: number | bigint; Error?: string };
          this.header = { seq: String(h.Seq ?? 0), error: h.Error ?? '' };
          continue;
        }
        const { seq, error } = this.header;
        this.header = undefined;
        const call = this.pending.get(seq);
        this.pending.delete(seq);
        if (error) call?.reject(new NetRpcError(error));
        else call?.resolve(v.value);
      }
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e)));
      this.stream.destroy();
    }
  }

  private fail(e: Error): void {
    this.closed ??= e;
    for (const call of this.pending.values()) call.reject(e);
    this.pending.clear();
  }
}

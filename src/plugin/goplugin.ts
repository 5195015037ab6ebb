import { EventEmitter, setMaxListeners } from 'node:events';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { KnownGobTypes } from './gob/known-types.js';
import { unknownMethod, unknownPluginType, unknownSocketGroup } from './errors.js';
import { serveNetRpc, EmptyStructType, Uint32Type, type RpcReply } from './netrpc.js';
import { YamuxSession, type YamuxStream } from './yamux/index.js';

// The plugin side of hashicorp/go-plugin's net/rpc protocol (go-plugin server.go,
// rpc_server.go, mux_broker.go), as the Argo Rollouts controller drives it:
// - handshake: one stdout line `CORE|APP|unix|ADDR|netrpc|` once the socket listens;
// - per connection one yamux session; the host opens, in this order, the control stream
//   (net/rpc: Control.Ping, Control.Quit, Dispenser.Dispense), the plugin's stdout and
//   stderr streams, then one broker stream per dispensed plugin, which starts with the
//   4-byte little-endian broker id that we echo back before net/rpc begins on it.

export const MAGIC_COOKIE_KEY = 'ARGO_ROLLOUTS_RPC_PLUGIN';
/** The plugin kinds the controller loads through go-plugin: the cookie value names the kind. */
export const PluginKind = {
  TrafficRouter: 'trafficrouter',
  Step: 'step',
} as const;
export type PluginKind = (typeof PluginKind)[keyof typeof PluginKind];
export const PLUGIN_KINDS: readonly PluginKind[] = Object.values(PluginKind);
/** What the controller asks Dispenser.Dispense for, per kind. */
export const DISPENSE_NAMES: Readonly<Record<PluginKind, string>> = {
  trafficrouter: 'RpcTrafficRouterPlugin',
  step: 'RpcStepPlugin',
};
export const CORE_PROTOCOL_VERSION = 1;
export const APP_PROTOCOL_VERSION = 1;

/** Serves the `Plugin.*` calls of a dispensed plugin; `session` aborts when its connection ends. */
export type PluginCallHandler = (serviceMethod: string, args: unknown, session: AbortSignal) => Promise<RpcReply>;

export interface GoPluginServerOptions {
  kind: PluginKind;
  handler: PluginCallHandler;
  logger: Logger;
  /** Where the socket goes (go-plugin honours PLUGIN_UNIX_SOCKET_DIR); default os.tmpdir(). */
  socketDir?: string;
  /** A group (name or gid) that may also connect, as go-plugin ≥ 1.5 does for PLUGIN_UNIX_SOCKET_GROUP. */
  socketGroup?: string;
  /** Type definitions the host is known to send, for the plugin streams' decoders. */
  knownTypes?: KnownGobTypes;
}

export interface GoPluginServer {
  on(event: 'quit', listener: () => void): this;
  on(event: 'disconnect', listener: (error?: Error) => void): this;
  once(event: 'quit', listener: () => void): this;
  once(event: 'disconnect', listener: (error?: Error) => void): this;
}

/**
 * Listens on a fresh unix socket (mode 0600 inside a 0700 directory) and serves the plugin
 * of options.kind on every connection. Emits 'quit' after answering Control.Quit and
 * 'disconnect' when the host's connection ends: the first connection that had a plugin
 * dispensed. Other connections (a stray client, random bytes, a broken frame) come and go
 * without ending anything, as with go-plugin's own server.
 */
export class GoPluginServer extends EventEmitter {
  readonly socketPath: string;
  readonly #dir: string;
  readonly #server: Server;
  readonly #options: GoPluginServerOptions;
  readonly #sessions = new Set<YamuxSession>();
  #hostSession: YamuxSession | undefined;
  #closed = false;

  private constructor(options: GoPluginServerOptions, dir: string, server: Server) {
    super();
    this.#options = options;
    this.#dir = dir;
    this.socketPath = join(dir, 'plugin.sock');
    this.#server = server;
    server.on('connection', (conn: Socket) => this.#onConnection(conn));
  }

  static async listen(options: GoPluginServerOptions): Promise<GoPluginServer> {
    const dir = mkdtempSync(join(options.socketDir ?? tmpdir(), 'plugin'));
    chmodSync(dir, 0o700);
    const server = createServer();
    const plugin = new GoPluginServer(options, dir, server);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(plugin.socketPath, () => {
          server.off('error', reject);
          resolve();
        });
      });
      if (options.socketGroup) {
        const gid = groupId(options.socketGroup);
        chownSync(dir, -1, gid);
        chownSync(plugin.socketPath, -1, gid);
        chmodSync(dir, 0o750);
        chmodSync(plugin.socketPath, 0o660);
      } else {
        chmodSync(plugin.socketPath, 0o600);
      }
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    return plugin;
  }

  /** The single line go-plugin's host reads from stdout. */
  get handshakeLine(): string {
    return `${CORE_PROTOCOL_VERSION}|${APP_PROTOCOL_VERSION}|unix|${this.socketPath}|netrpc|`;
  }

  /** Stops listening, ends every session and removes the socket. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#server.close();
    for (const session of this.#sessions) session.close();
    this.removeSocket();
  }

  /** Synchronous, for process 'exit' handlers. */
  removeSocket(): void {
    rmSync(this.#dir, { recursive: true, force: true });
  }

  #onConnection(conn: Socket): void {
    const { logger } = this.#options;
    // go-plugin hosts ping every 30 s by default; we answer theirs and need none of our own.
    // A 4 MiB receive window lets a 1 MB Rollout arrive without waiting for window updates
    // (yamux's 256 KiB default costs several round trips per large call).
    const session = new YamuxSession(conn, { maxStreamWindow: 4 << 20 });
    this.#sessions.add(session);
    // Calls still running when their session closes are abandoned: nobody can read the reply.
    const sessionOpen = new AbortController();
    // Every call of the session listens to it: hundreds at once are normal, not a leak.
    setMaxListeners(0, sessionOpen.signal);
    session.once('close', () => sessionOpen.abort(new Error('plugin session closed')));
    let accepted = 0;
    const dispensed = new Set<number>();
    let nextBrokerId = 0;
    session.on('stream', (stream: YamuxStream) => {
      stream.on('error', (error: Error) => logger.debug({ err: error, stream: stream.id }, 'plugin stream error'));
      const index = accepted++;
      if (index === 0) {
        this.#serveControl(stream, () => {
          this.#hostSession ??= session;
          nextBrokerId = (nextBrokerId + 1) >>> 0;
          dispensed.add(nextBrokerId);
          return nextBrokerId;
        });
      } else if (index <= 2) {
        // The host copies whatever the plugin writes here to its own stdout/stderr (or
        // discards it); our logs go to the real stderr instead, so keep these idle and open.
        stream.resume();
      } else {
        void this.#serveBroker(stream, dispensed, sessionOpen.signal);
      }
    });
    session.on('close', (error?: Error) => {
      this.#sessions.delete(session);
      if (session !== this.#hostSession) {
        logger.debug({ err: error }, 'a connection that never dispensed a plugin closed; still serving');
        return;
      }
      if (error) logger.warn({ err: error }, 'plugin connection closed with an error');
      else logger.debug('plugin connection closed');
      this.emit('disconnect', error);
    });
  }

  #serveControl(stream: Duplex, dispense: () => number): void {
    const { logger } = this.#options;
    const onError = (error: Error) => logger.warn({ err: error }, 'control stream: net/rpc stopped');
    serveNetRpc(stream, async (method: string, args: unknown): Promise<RpcReply> => {
      switch (method) {
        case 'Control.Ping':
          return { type: EmptyStructType, value: {} };
        case 'Control.Quit':
          logger.debug('plugin asked to quit');
          // After the reply is on its way: the host closes the connection, then waits 2 s.
          setImmediate(() => this.emit('quit'));
          return { type: EmptyStructType, value: {} };
        case 'Dispenser.Dispense': {
          if (args !== DISPENSE_NAMES[this.#options.kind]) throw new Error(unknownPluginType(String(args)));
          const id = dispense();
          logger.debug({ id, kind: this.#options.kind }, 'dispensed plugin');
          return { type: Uint32Type, value: id };
        }
        default:
          throw new Error(unknownMethod(method));
      }
    }, { onError });
  }

  async #serveBroker(stream: YamuxStream, dispensed: Set<number>, sessionOpen: AbortSignal): Promise<void> {
    const { logger, handler } = this.#options;
    let prefix: Buffer;
    try {
      prefix = await readPrefix(stream, 4);
    } catch {
      return;
    }
    const id = prefix.readUInt32LE(0);
    if (!dispensed.delete(id)) {
      logger.warn({ id }, 'broker stream for an id never dispensed; closing it');
      stream.destroy();
      return;
    }
    stream.write(prefix);
    serveNetRpc(stream, (method: string, args: unknown) => handler(method, args, sessionOpen), {
      decoder: { knownTypes: this.#options.knownTypes },
      onError: (error: Error) => logger.warn({ err: error, id }, 'plugin stream: net/rpc stopped'),
    });
  }
}

/** A numeric gid, or a group name looked up in /etc/group. */
function groupId(group: string): number {
  if (/^\d+$/.test(group)) return Number(group);
  const line = readFileSync('/etc/group', 'utf8')
    .split('\n')
    .find((l) => l.split(':')[0] === group);
  const gid = line ? Number(line.split(':')[2]) : NaN;
  if (!Number.isInteger(gid)) throw new Error(unknownSocketGroup(group));
  return gid;
}

/** Reads exactly n bytes and leaves the rest of the stream unread. */
function readPrefix(stream: Duplex, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const onReadable = () => {
      const chunk = stream.read(n) as Buffer | null;
      if (chunk === null) return;
      cleanup();
      // After its end a stream hands out what is left, however short.
      if (chunk.length < n) reject(new Error('stream ended before its broker id'));
      else resolve(chunk);
    };
    const onEnd = () => {
      cleanup();
      reject(new Error('stream ended before its broker id'));
    };
    const cleanup = () => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('close', onEnd);
    };
    stream.on('readable', onReadable);
    stream.on('end', onEnd);
    stream.on('close', onEnd);
  });
}

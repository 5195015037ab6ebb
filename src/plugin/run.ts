import { readFileSync } from 'node:fs';
import { format } from 'node:util';
import type { Logger } from 'pino';
import type { KnownGobTypes } from './gob/known-types.js';
import { PLUGIN_TYPE, Verified, type RpcResult, type TrafficRouterApi, type VerifyResult } from '../routing/api.js';
import { STEP_PLUGIN_TYPE, StepPhase, type StepPluginApi, type StepResult } from '../step/api.js';
import { dispatchTrafficRouterCall } from './dispatch.js';
import { AUTO_MTLS_UNSUPPORTED, magicCookieMissing, protocolVersionUnsupported, routerUnavailable, stepUnavailable } from './errors.js';
import { APP_PROTOCOL_VERSION, GoPluginServer, MAGIC_COOKIE_KEY, PLUGIN_KINDS, PluginKind, type PluginCallHandler } from './goplugin.js';
import { dispatchStepCall } from './step-dispatch.js';

// The plugin process: check the magic cookie (its value says which kind of plugin the host
// loads), listen, print the handshake, serve until the host says Control.Quit, closes the
// connection, sends SIGTERM, or goes away.

/** An implementation, or a factory run after the handshake so the controller's start timeout is not spent on it. */
type Lazy<T> = T | (() => T | Promise<T>);

export interface RunPluginOptions {
  /** What a traffic-router host (ARGO_ROLLOUTS_RPC_PLUGIN=trafficrouter) talks to. */
  router: Lazy<TrafficRouterApi>;
  /** What a step-plugin host (ARGO_ROLLOUTS_RPC_PLUGIN=step) talks to. */
  step?: Lazy<StepPluginApi>;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
  /** Where the handshake line goes; the real stdout unless testing. */
  stdout?: NodeJS.WritableStream;
  /** How often to check whether the host process is still our parent. */
  parentCheckIntervalMs?: number;
  /** Type definitions the controller is known to send (src/plugin/gob/known-types.ts). */
  knownTypes?: KnownGobTypes;
  /** Runs once the socket listens, right before the handshake line (the plugin settles its heap here). */
  beforeHandshake?: () => void;
  /** Runs as each call starts and once it is answered (the plugin releases its heap when idle). */
  onCall?: () => void;
}

export async function runPlugin(options: RunPluginOptions): Promise<number> {
  const env = options.env ?? process.env;
  const { logger } = options;
  const kind = PLUGIN_KINDS.find((k) => k === env[MAGIC_COOKIE_KEY] && (k !== PluginKind.Step || options.step));
  if (!kind) {
    process.stderr.write(`${magicCookieMissing(MAGIC_COOKIE_KEY, PLUGIN_KINDS)}\n`);
    return 1;
  }
  const unsupported = unsupportedHostRequest(env);
  if (unsupported) {
    process.stderr.write(`${unsupported}\n`);
    return 1;
  }
  keepStdoutForHandshake();

  // Signals are handled before the handshake goes out: a host may signal as soon as it reads it.
  let server: GoPluginServer | undefined;
  let stopWatching = () => {};
  let done = false;
  let resolveExit!: (code: number) => void;
  const exited = new Promise<number>((resolve) => (resolveExit = resolve));
  // Like go-plugin's own servers: an interrupt meant for the host's terminal is not ours to act on.
  const onInterrupt = () => logger.debug('plugin received an interrupt signal, ignoring');
  const onTerminate = () => finish(0, 'SIGTERM');
  const removeSocket = () => server?.removeSocket();
  process.on('SIGINT', onInterrupt);
  process.once('SIGTERM', onTerminate);
  process.once('exit', removeSocket);
  function finish(code: number, reason: string): void {
    if (done) return;
    done = true;
    stopWatching();
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onTerminate);
    process.off('exit', removeSocket);
    logger.debug({ reason }, 'plugin exiting');
    server?.close();
    resolveExit(code);
  }

  try {
    server = await GoPluginServer.listen({
      kind,
      handler: handlerFor(kind, options),
      logger,
      socketDir: env.PLUGIN_UNIX_SOCKET_DIR || undefined,
      socketGroup: env.PLUGIN_UNIX_SOCKET_GROUP || undefined,
      knownTypes: options.knownTypes,
    });
  } catch (error) {
    logger.error({ err: error }, 'plugin could not listen on a unix socket');
    finish(1, 'no socket');
    return exited;
  }
  if (done) {
    server.close();
    return exited;
  }
  stopWatching = watchParent(options.parentCheckIntervalMs ?? 1000, () => finish(0, 'parent process went away'));
  // After Control.Quit the host closes the connection itself; leaving first could cut off the reply.
  server.once('quit', () => setTimeout(() => finish(0, 'Control.Quit'), 1000).unref());
  // The controller keeps one connection per plugin process; once it is gone nobody calls us again.
  server.once('disconnect', () => finish(0, 'the host closed the connection'));

  options.beforeHandshake?.();
  (options.stdout ?? process.stdout).write(`${server.handshakeLine}\n`);
  logger.debug({ address: server.socketPath }, 'plugin listening');
  return exited;
}

/**
 * What a go-plugin host may ask for that this plugin does not do: another app protocol
 * version (PLUGIN_PROTOCOL_VERSIONS, go-plugin ≥ 1.3) or automatic mTLS (PLUGIN_CLIENT_CERT).
 * The Argo Rollouts controller asks for neither.
 */
function unsupportedHostRequest(env: NodeJS.ProcessEnv): string | undefined {
  const versions = env.PLUGIN_PROTOCOL_VERSIONS;
  if (versions && !versions.split(',').map((v) => v.trim()).includes(String(APP_PROTOCOL_VERSION))) {
    return protocolVersionUnsupported(APP_PROTOCOL_VERSION, versions);
  }
  if (env.PLUGIN_CLIENT_CERT) return AUTO_MTLS_UNSUPPORTED;
  return undefined;
}

/** Console output from any dependency must not reach stdout: go-plugin reads it as protocol. */
function keepStdoutForHandshake(): void {
  const toStderr = (...args: unknown[]) => {
    process.stderr.write(`${format(...args)}\n`);
  };
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
}

function handlerFor(kind: PluginKind, options: RunPluginOptions): PluginCallHandler {
  const handle = dispatcherFor(kind, options);
  const { onCall } = options;
  if (!onCall) return handle;
  return async (method, args, session) => {
    onCall();
    try {
      return await handle(method, args, session);
    } finally {
      onCall();
    }
  };
}

function dispatcherFor(kind: PluginKind, options: RunPluginOptions): PluginCallHandler {
  const { logger } = options;
  if (kind === PluginKind.Step) {
    const step = lazy(options.step!, logger, (message) => failingStep(message), stepUnavailable);
    return (method, args, session) => dispatchStepCall(step, logger, method, args, session);
  }
  const router = lazyRouter(options.router, logger);
  return (method, args, session) => dispatchTrafficRouterCall(router, logger, method, args, session);
}

/**
 * Calls wait for the implementation; one that cannot be built answers every call with why.
 * The proxy forwards every method, whatever the interface.
 */
function lazy<T extends object>(source: Lazy<T>, logger: Logger, failing: (message: string) => T, unavailable: (reason: string) => string): T {
  if (typeof source !== 'function') return source;
  const ready: Promise<T> = Promise.resolve()
    .then(source as () => T | Promise<T>)
    .catch((error: unknown) => {
      const message = unavailable(error instanceof Error ? error.message : String(error));
      logger.error({ err: error }, message);
      return failing(message);
    });
  return new Proxy({} as T, {
    // Not a thenable: awaiting the proxy itself must not wait for the implementation.
    get: (_target, method) =>
      method === 'then'
        ? undefined
        : async (...args: unknown[]) => {
            const impl = await ready;
            return (impl[method as keyof T] as (...a: unknown[]) => unknown).apply(impl, args);
          },
  });
}

/**
 * Calls wait for the router; a router that cannot be built answers every call with why.
 * Building it loads the routing code, node's HTTP and TLS modules and the credentials (or the
 * gRPC client), which holds the event loop for most of the start-up time. Type and InitPlugin, the controller's first calls right after the
 * handshake, need no router: they are answered at once and the load starts after them (or
 * LOAD_AFTER_MS after start if they do not come), so the controller's first call
 * never waits for the client. InitPlugin reports a router that failed to build once that
 * is known; every later call does too.
 */
function lazyRouter(source: RunPluginOptions['router'], logger: Logger): TrafficRouterApi {
  if (typeof source !== 'function') return source;
  let built: TrafficRouterApi | undefined;
  let building: Promise<TrafficRouterApi> | undefined;
  const router = (): Promise<TrafficRouterApi> =>
    (building ??= Promise.resolve()
      .then(source)
      .catch((error: unknown) => {
        const message = routerUnavailable(error instanceof Error ? error.message : String(error));
        logger.error({ err: error }, message);
        return failingRouter(message);
      })
      .then((r) => (built = r)));
  // After the reply in hand is written, not before: the load would delay it.
  const loadSoon = () => void setImmediate(router);
  setTimeout(router, LOAD_AFTER_MS).unref();
  return {
    initPlugin: async (rollout, ctx) => {
      if (built || rollout) return (await router()).initPlugin(rollout, ctx);
      loadSoon();
      return { error: '' };
    },
    updateHash: async (r, c, s, a, ctx) => (await router()).updateHash(r, c, s, a, ctx),
    setWeight: async (r, w, a, ctx) => (await router()).setWeight(r, w, a, ctx),
    setHeaderRoute: async (r, h, ctx) => (await router()).setHeaderRoute(r, h, ctx),
    setMirrorRoute: async (r, m, ctx) => (await router()).setMirrorRoute(r, m, ctx),
    verifyWeight: async (r, w, a, ctx) => (await router()).verifyWeight(r, w, a, ctx),
    removeManagedRoutes: async (r, ctx) => (await router()).removeManagedRoutes(r, ctx),
    type: async (ctx) => {
      if (built) return built.type(ctx);
      loadSoon();
      return PLUGIN_TYPE;
    },
  };
}

/** How long after start the router loads when no Type or InitPlugin comes first. */
const LOAD_AFTER_MS = 50;

function failingRouter(message: string): TrafficRouterApi {
  const fail = async (): Promise<RpcResult> => ({ error: message });
  const failVerify = async (): Promise<VerifyResult> => ({ error: message, verified: Verified.NotVerified });
  return {
    initPlugin: fail,
    updateHash: fail,
    setWeight: fail,
    setHeaderRoute: fail,
    setMirrorRoute: fail,
    verifyWeight: failVerify,
    removeManagedRoutes: fail,
    type: async () => PLUGIN_TYPE,
  };
}

function failingStep(message: string): StepPluginApi {
  const fail = async (): Promise<StepResult> => ({ phase: StepPhase.Error, message, requeueAfterMs: 0, error: message });
  return {
    initPlugin: async () => ({ error: message }),
    run: fail,
    terminate: fail,
    abort: fail,
    type: async () => STEP_PLUGIN_TYPE,
  };
}

/**
 * go-plugin passes the host's own stdin to the plugin, so stdin closing says nothing about
 * the host; a dead parent shows as a new parent pid (we are re-parented to init or a
 * subreaper). Node's process.ppid is fixed at start, so read the live value from /proc.
 */
function watchParent(intervalMs: number, onGone: () => void): () => void {
  const initial = currentParentPid() ?? process.ppid;
  if (initial <= 1) return () => {};
  const timer = setInterval(() => {
    const now = currentParentPid();
    if (now !== undefined && now !== initial) onGone();
    else if (now === undefined && !isAlive(initial)) onGone();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

function currentParentPid(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // "pid (comm) state ppid ...": comm may contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

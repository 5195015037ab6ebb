import { setMaxListeners } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { ReflectionService } from '@grpc/reflection';
import type { Logger } from 'pino';
import { OverloadedError, Verified, type CallContext, type RpcResult, type TrafficRouterApi, type VerifyResult } from '../routing/api.js';
import type { Rollout } from '../routing/rollout.js';
import {
  SERVICE_NAME,
  fromDestinations,
  fromHeaderRoute,
  fromMirrorRoute,
  fromTarget,
  packageDefinition,
  trafficRouterService,
  type SetHeaderRouteMsg,
  type SetMirrorRouteMsg,
  type TargetMsg,
  type WeightDestinationMsg,
} from './contract.js';
import { addVersionService } from './version.js';
import type { StepPluginApi } from '../step/api.js';
import { addStepService } from './step-server.js';
import { STEP_SERVICE_NAME } from './step-contract.js';

// The companion's gRPC server: TrafficRouter, the standard health service and server
// reflection (so grpcurl works without the proto file).

/** Returns the router for a `trafficRouting.plugins` key ('' = the default one). */
export type RouterFor = (pluginName: string) => TrafficRouterApi;

export interface CompanionServerOptions {
  routerFor: RouterFor;
  logger: Logger;
  /** Called after every RPC; result is 'ok', 'error' (an error string), 'not_verified', 'invalid' or 'overloaded'. */
  observe?: (method: string, result: string, seconds: number) => void;
  /** The StepPlugin service (the lockstep gate); absent: not served. */
  step?: StepPluginApi;
  /** Runs each call (a tracing span continuing the caller's trace from its metadata). */
  around?: <T>(method: string, metadata: Record<string, string | undefined>, run: () => Promise<T>) => Promise<T>;
  /** grpc-js options (message size, keepalive) and interceptors (callerGuard in auth.ts). */
  grpcOptions?: grpc.ServerOptions;
  /** Serve gRPC reflection; default true. */
  reflection?: boolean;
}

interface Req {
  target?: TargetMsg | null;
  desiredWeight?: number;
  canaryHash?: string;
  stableHash?: string;
  additionalDestinations?: WeightDestinationMsg[];
  headerRoute?: SetHeaderRouteMsg | null;
  mirrorRoute?: SetMirrorRouteMsg | null;
}

type Handler = (req: Req, ctx: CallContext) => Promise<{ reply: object; result: string; rollout?: Rollout }>;

export function createCompanionServer(options: CompanionServerOptions): { server: grpc.Server; health: HealthImplementation } {
  const { routerFor, logger } = options;
  const server = new grpc.Server(options.grpcOptions);

  const withRollout =
    (call: (router: TrafficRouterApi, rollout: Rollout, req: Req, ctx: CallContext) => Promise<RpcResult>): Handler =>
    async (req, ctx) => {
      const { rollout, pluginName } = fromTarget(req.target);
      const r = await call(routerFor(pluginName), rollout, req, ctx);
      return { reply: { error: r.error }, result: r.error ? 'error' : 'ok', rollout };
    };

  const handlers: Record<string, Handler> = {
    InitPlugin: async (req, ctx) => {
      if (!req.target?.rolloutJson) {
        const r = await routerFor(req.target?.pluginName ?? '').initPlugin(undefined, ctx);
        return { reply: { error: r.error }, result: r.error ? 'error' : 'ok' };
      }
      return withRollout((router, rollout, _req, c) => router.initPlugin(rollout, c))(req, ctx);
    },
    UpdateHash: withRollout((router, rollout, req, ctx) =>
      router.updateHash(rollout, req.canaryHash ?? '', req.stableHash ?? '', fromDestinations(req.additionalDestinations), ctx),
    ),
    SetWeight: withRollout((router, rollout, req, ctx) =>
      router.setWeight(rollout, req.desiredWeight ?? 0, fromDestinations(req.additionalDestinations), ctx),
    ),
    SetHeaderRoute: withRollout((router, rollout, req, ctx) => router.setHeaderRoute(rollout, fromHeaderRoute(req.headerRoute), ctx)),
    SetMirrorRoute: withRollout((router, rollout, req, ctx) => router.setMirrorRoute(rollout, fromMirrorRoute(req.mirrorRoute), ctx)),
    RemoveManagedRoutes: withRollout((router, rollout, _req, ctx) => router.removeManagedRoutes(rollout, ctx)),
    VerifyWeight: async (req, ctx) => {
      const { rollout, pluginName } = fromTarget(req.target);
      const r: VerifyResult = await routerFor(pluginName).verifyWeight(
        rollout,
        req.desiredWeight ?? 0,
        fromDestinations(req.additionalDestinations),
        ctx,
      );
      const result = r.error ? 'error' : r.verified === Verified.NotVerified ? 'not_verified' : 'ok';
      return { reply: { verified: r.verified, error: r.error, reason: r.reason ?? '' }, result, rollout };
    },
    Type: async (_req, ctx) => ({ reply: { type: await routerFor('').type(ctx) }, result: 'ok' }),
  };

  const implementation: grpc.UntypedServiceImplementation = {};
  for (const [method, handle] of Object.entries(handlers)) {
    implementation[method] = (call: grpc.ServerUnaryCall<Req, object>, callback: grpc.sendUnaryData<object>) => {
      const started = process.hrtime.bigint();
      const finish = (result: string, fields: Record<string, unknown>) => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        options.observe?.(method, result, seconds);
        const level = result === 'ok' || result === 'not_verified' ? 'debug' : 'warn';
        logger[level]({ method, result, durationMs: Math.round(seconds * 1e4) / 10, ...fields }, `${method} ${result}`);
      };
      // The caller's cancellation and deadline reach every API request this call makes.
      const cancelled = new AbortController();
      // Each API request of the call listens to it; a call may make many at once.
      setMaxListeners(0, cancelled.signal);
      call.once('cancelled', () => cancelled.abort(new Error('the gRPC call was cancelled')));
      const deadline = call.getDeadline();
      const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
      const ctx: CallContext = { signal: cancelled.signal, ...(Number.isFinite(deadlineMs) ? { deadline: deadlineMs } : {}) };
      const run = () => handle(call.request, ctx);
      const headers = () => Object.fromEntries(Object.entries(call.metadata.getMap()).map(([k, v]) => [k, typeof v === 'string' ? v : undefined]));
      (options.around ? options.around(method, headers(), run) : run()).then(
        ({ reply, result, rollout }) => {
          finish(result, { rollout: rolloutName(rollout), ...reply });
          callback(null, reply);
        },
        (err: Error) => {
          if (err instanceof OverloadedError) {
            finish('overloaded', { err: err.message });
            callback({ code: grpc.status.RESOURCE_EXHAUSTED, details: err.message });
            return;
          }
          // Malformed requests are the caller's fault: INVALID_ARGUMENT with the reason.
          finish('invalid', { err: err.message });
          callback({ code: grpc.status.INVALID_ARGUMENT, details: err.message });
        },
      );
    };
  }
  server.addService(trafficRouterService(), implementation);
  addVersionService(server);
  if (options.step) addStepService(server, { step: options.step, logger, observe: options.observe });

  const health = new HealthImplementation({ '': 'SERVING', [SERVICE_NAME]: 'SERVING', ...(options.step ? { [STEP_SERVICE_NAME]: 'SERVING' } : {}) });
  health.addToServer(server);
  if (options.reflection !== false) new ReflectionService(packageDefinition()).addToServer(server);
  return { server, health };
}

function rolloutName(rollout: Rollout | undefined): string | undefined {
  return rollout ? `${rollout.metadata.namespace ?? ''}/${rollout.metadata.name ?? ''}` : undefined;
}

/** grpc-js writes its own diagnostics to stderr; send them through our logger instead. */
export function routeGrpcLogs(logger: Logger): void {
  grpc.setLogger({
    error: (...args: unknown[]) => logger.debug({ component: 'grpc-js' }, args.map(String).join(' ')),
    info: (...args: unknown[]) => logger.debug({ component: 'grpc-js' }, args.map(String).join(' ')),
    debug: (...args: unknown[]) => logger.trace({ component: 'grpc-js' }, args.map(String).join(' ')),
  } as Partial<Console>);
}

/** Binds and starts; resolves to the bound port. */
export function listen(server: grpc.Server, address: string, credentials = grpc.ServerCredentials.createInsecure()): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (err, port) => {
      if (!err) return resolve(port);
      const inUse = /EADDRINUSE/.test(err.message);
      reject(new Error(`cannot listen for gRPC on ${address}: ${inUse ? 'address already in use (pick another with --listen)' : err.message}`, { cause: err }));
    });
  });
}

import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { StepContext, StepPluginApi, StepResult } from '../step/api.js';
import type { Rollout } from '../routing/rollout.js';
import { fromStepRequest, stepPluginService, toStepResponse, type StepRequestMsg } from './step-contract.js';

// The StepPlugin service on the companion's gRPC server: the lockstep gate for plugins in
// remote mode (`plugin --companion`) and for `call Run|Terminate|Abort`.

export interface StepServiceOptions {
  step: StepPluginApi;
  logger: Logger;
  /** Called after every RPC with the phase (or 'error' / 'invalid'), like the TrafficRouter's observe. */
  observe?: (method: string, result: string, seconds: number) => void;
}

type Handler = (req: StepRequestMsg) => Promise<{ reply: object; result: string; fields?: Record<string, unknown> }>;

export function addStepService(server: grpc.Server, options: StepServiceOptions): void {
  const { step, logger } = options;
  const stepCall =
    (call: (rollout: Rollout, context: StepContext, signal: AbortSignal) => Promise<StepResult>): ((req: StepRequestMsg, signal: AbortSignal) => ReturnType<Handler>) =>
    async (req, signal) => {
      const { rollout, context } = fromStepRequest(req);
      const r = await call(rollout, context, signal);
      return {
        reply: toStepResponse(r),
        result: r.error ? 'error' : r.phase,
        fields: { rollout: `${rollout.metadata.namespace ?? ''}/${rollout.metadata.name ?? ''}`, phase: r.phase, message: r.message },
      };
    };
  const handlers: Record<string, (req: StepRequestMsg, signal: AbortSignal) => ReturnType<Handler>> = {
    InitPlugin: async () => {
      const r = await step.initPlugin();
      return { reply: { error: r.error }, result: r.error ? 'error' : 'ok' };
    },
    Run: stepCall((rollout, context, signal) => step.run(rollout, context, { signal })),
    Terminate: stepCall((rollout, context, signal) => step.terminate(rollout, context, { signal })),
    Abort: stepCall((rollout, context, signal) => step.abort(rollout, context, { signal })),
    Type: async () => ({ reply: { type: await step.type() }, result: 'ok' }),
  };

  const implementation: grpc.UntypedServiceImplementation = {};
  for (const [method, handle] of Object.entries(handlers)) {
    implementation[method] = (call: grpc.ServerUnaryCall<StepRequestMsg, object>, callback: grpc.sendUnaryData<object>) => {
      const started = process.hrtime.bigint();
      const cancelled = new AbortController();
      call.on('cancelled', () => cancelled.abort());
      const finish = (result: string, fields: Record<string, unknown>) => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        options.observe?.(`Step.${method}`, result, seconds);
        const level = result === 'error' || result === 'invalid' ? 'warn' : 'debug';
        logger[level]({ method: `Step.${method}`, result, durationMs: Math.round(seconds * 1e4) / 10, ...fields }, `Step.${method} ${result}`);
      };
      handle(call.request, cancelled.signal).then(
        ({ reply, result, fields }) => {
          finish(result, fields ?? {});
          callback(null, reply);
        },
        (err: Error) => {
          finish('invalid', { err: err.message });
          callback({ code: grpc.status.INVALID_ARGUMENT, details: err.message });
        },
      );
    };
  }
  server.addService(stepPluginService(), implementation);
}

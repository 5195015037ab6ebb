import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { Rollout } from '../routing/rollout.js';
import { STEP_PLUGIN_TYPE, StepPhase, type StepContext, type StepPluginApi, type StepResult } from '../step/api.js';
import { callMetadata, DEFAULT_DEADLINE_MS } from './client.js';
import { fromStepResponse, stepPluginClientConstructor, toStepRequest, type StepResponseMsg } from './step-contract.js';

// StepPluginApi over gRPC: the plugin's remote mode and the `call` verb. A companion that is
// down or slow becomes an Error phase (the controller retries in 30 s), never a hang.

export interface RemoteStepOptions {
  address: string;
  tls?: { caFile?: string } | boolean;
  /** Per-call deadline; default 10 s. */
  deadlineMs?: number;
  /** A ServiceAccount token file sent with every call (see createRemoteRouter). */
  tokenFile?: string;
}

export interface RemoteStep extends StepPluginApi {
  close(): void;
}

export function createRemoteStep(options: RemoteStepOptions): RemoteStep {
  const credentials = options.tls
    ? grpc.credentials.createSsl(typeof options.tls === 'object' && options.tls.caFile ? readFileSync(options.tls.caFile) : undefined)
    : grpc.credentials.createInsecure();
  const Client = stepPluginClientConstructor();
  const client = new Client(options.address, credentials);
  const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const metadata = callMetadata(options.tokenFile);

  const unary = <T>(method: string, request: object): Promise<T> =>
    new Promise((resolve, reject) => {
      const fn = (client as unknown as Record<string, Function>)[method]!;
      fn.call(client, request, metadata(), { deadline: Date.now() + deadlineMs }, (err: grpc.ServiceError | null, reply: T) =>
        err ? reject(err) : resolve(reply),
      );
    });

  const describe = (method: string, err: unknown): string => {
    const e = err as grpc.ServiceError;
    if (e.code === undefined) return (err as Error).message;
    if (e.code === grpc.status.DEADLINE_EXCEEDED) return `companion ${options.address} did not answer Step.${method} within ${deadlineMs} ms`;
    if (e.code === grpc.status.UNAVAILABLE) return `companion ${options.address} is unavailable: ${e.details.replace(/\s*Resolution note:\s*$/, '')}`;
    return `companion ${options.address} rejected Step.${method}: ${e.details ?? String(err)}`;
  };

  const stepCall = async (method: string, rollout: Rollout, context: StepContext): Promise<StepResult> => {
    try {
      return fromStepResponse(await unary<StepResponseMsg>(method, toStepRequest(rollout, context)));
    } catch (err) {
      const message = describe(method, err);
      return { phase: StepPhase.Error, message, requeueAfterMs: 0, error: message };
    }
  };

  return {
    initPlugin: async () => {
      try {
        return { error: (await unary<{ error: string }>('InitPlugin', {})).error };
      } catch (err) {
        return { error: describe('InitPlugin', err) };
      }
    },
    run: (rollout, context) => stepCall('Run', rollout, context),
    terminate: (rollout, context) => stepCall('Terminate', rollout, context),
    abort: (rollout, context) => stepCall('Abort', rollout, context),
    // Type must answer even when the companion is down: the controller only logs it.
    type: async () => {
      try {
        return (await unary<{ type: string }>('Type', {})).type;
      } catch {
        return STEP_PLUGIN_TYPE;
      }
    },
    close: () => client.close(),
  };
}

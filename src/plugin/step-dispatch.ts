import type { Logger } from 'pino';
import { STEP_PLUGIN_METHODS, StepPhase, type StepContext, type StepPluginApi, type StepResult } from '../step/api.js';
import { beginPluginCall } from './dispatch.js';
import { routerFailed } from './errors.js';
import { goRolloutToKube, goToKubeErrors, toKube } from './go-to-kube.js';
import { BytesType, GobInterface, IntType, RpcErrorType, StringType, type GobTypeDescriptor } from './gob/index.js';
import type { RpcReply } from './netrpc.js';

// net/rpc `Plugin.*` calls of Argo Rollouts' RpcStepPlugin (rollout/steps/plugin/rpc),
// forwarded to a StepPluginApi. As for the traffic router, a failure of ours is an RpcError
// in the reply, never a net/rpc error.

/** The gob names the controller registers the step arguments under (the bare names belong to metric plugins). */
export const STEP_ARGS_TYPE_BY_METHOD: Readonly<Record<string, string>> = {
  Run: 'step.RunArgs',
  Terminate: 'step.TerminateArgs',
  Abort: 'step.AbortArgs',
};

/** utils/plugin/types.RpcStepResult; Phase is a StepPhase string, RequeueAfter a time.Duration (int64 ns). */
export const RpcStepResultType: GobTypeDescriptor = {
  kind: 'struct',
  name: 'RpcStepResult',
  fields: [
    { name: 'Phase', type: StringType },
    { name: 'Message', type: StringType },
    { name: 'RequeueAfter', type: IntType },
    { name: 'Status', type: BytesType },
  ],
};

/** rollout/steps/plugin/rpc.Response: the reply of Run, Terminate and Abort. */
export const StepResponseType: GobTypeDescriptor = {
  kind: 'struct',
  name: 'Response',
  fields: [
    { name: 'Result', type: RpcStepResultType },
    { name: 'Error', type: RpcErrorType },
  ],
};

const utf8 = new TextEncoder();

export function stepReply(result: StepResult): RpcReply {
  const status = result.status === undefined ? undefined : utf8.encode(JSON.stringify(result.status));
  return {
    type: StepResponseType,
    value: {
      Result: {
        Phase: result.error ? '' : result.phase,
        Message: result.message,
        RequeueAfter: BigInt(Math.round(result.requeueAfterMs)) * 1_000_000n,
        ...(status ? { Status: status } : {}),
      },
      Error: { ErrorString: result.error },
    },
  };
}

export interface StepArgs {
  rollout: ReturnType<typeof goRolloutToKube>;
  context: StepContext;
}

/** The arguments of Plugin.Run / Terminate / Abort; throws like Argo Rollouts' server when they are not. */
export function decodeStepArgs(method: string, value: unknown): StepArgs {
  const want = Object.hasOwn(STEP_ARGS_TYPE_BY_METHOD, method) ? STEP_ARGS_TYPE_BY_METHOD[method]! : '';
  const got = value instanceof GobInterface ? value.name : value === null ? '' : typeof value;
  const args = value instanceof GobInterface ? value.value : undefined;
  if (!want || got !== want || typeof args !== 'object' || args === null) {
    throw new Error(goToKubeErrors.invalidArgs(method, got, want || 'no arguments'));
  }
  const a = args as Record<string, unknown>;
  const ctx = (a['Context'] ?? {}) as Record<string, unknown>;
  return {
    rollout: goRolloutToKube(a['Rollout'] ?? {}),
    context: {
      pluginName: typeof ctx['PluginName'] === 'string' ? ctx['PluginName'] : '',
      config: toKube(ctx['Config']),
      status: toKube(ctx['Status']),
    },
  };
}

export async function dispatchStepCall(
  step: StepPluginApi,
  logger: Logger,
  serviceMethod: string,
  args: unknown,
  /** Aborts when the plugin session closes: nobody is left to hear the answer. */
  session?: AbortSignal,
): Promise<RpcReply> {
  const { method, ctx, log } = beginPluginCall(serviceMethod, STEP_PLUGIN_METHODS, logger, session);
  try {
    switch (method) {
      case 'Type': {
        const type = await step.type();
        log({});
        return { type: StringType, value: type };
      }
      case 'InitPlugin': {
        const result = await step.initPlugin();
        log({ error: result.error || undefined });
        return { type: RpcErrorType, value: { ErrorString: result.error } };
      }
      default:
        break;
    }
    const { rollout, context } = decodeStepArgs(method, args);
    const call = method === 'Run' ? step.run : method === 'Terminate' ? step.terminate : step.abort;
    const result = await call.call(step, rollout, context, ctx);
    log({
      rollout: `${rollout.metadata.namespace ?? ''}/${rollout.metadata.name ?? ''}`,
      phase: result.phase,
      message: result.message,
      error: result.error || undefined,
    });
    return stepReply(result);
  } catch (error) {
    const message = routerFailed(method, error);
    logger.warn({ method, err: error }, 'plugin call failed');
    if (method === 'Type') throw new Error(message, { cause: error });
    if (method === 'InitPlugin') return { type: RpcErrorType, value: { ErrorString: message } };
    return stepReply({ phase: StepPhase.Error, message, requeueAfterMs: 0, error: message });
  }
}

import * as grpc from '@grpc/grpc-js';
import type { Rollout } from '../routing/rollout.js';
import { StepPhase, type StepContext, type StepResult } from '../step/api.js';
import { fromTarget, packageDefinition, toTarget, type TargetMsg } from './contract.js';

// The StepPlugin service of the contract (proto/rollouts/companion/v1/step_plugin.proto) and
// the mapping between its messages and the StepPluginApi arguments: JSON values travel as text.

export const STEP_SERVICE_NAME = 'rollouts.companion.v1.StepPlugin';

export function stepPluginService(): grpc.ServiceDefinition {
  return packageDefinition()[STEP_SERVICE_NAME] as grpc.ServiceDefinition;
}

export function stepPluginClientConstructor(): grpc.ServiceClientConstructor {
  return grpc.makeClientConstructor(stepPluginService(), 'StepPlugin');
}

export interface StepRequestMsg {
  target: TargetMsg | null;
  configJson: string;
  statusJson: string;
}

export interface StepResponseMsg {
  result: { phase: string; message: string; requeueAfterMs: number; statusJson: string } | null;
  error: string;
}

const PHASES: readonly string[] = Object.values(StepPhase);

export function toStepRequest(rollout: Rollout, context: StepContext): StepRequestMsg {
  return {
    target: toTarget(rollout, context.pluginName),
    configJson: context.config === undefined ? '' : JSON.stringify(context.config),
    statusJson: context.status === undefined ? '' : JSON.stringify(context.status),
  };
}

function parseJson(text: string, field: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${field} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** The request's arguments; throws (INVALID_ARGUMENT) naming the field at fault. */
export function fromStepRequest(req: StepRequestMsg): { rollout: Rollout; context: StepContext } {
  const { rollout, pluginName } = fromTarget(req.target);
  return {
    rollout,
    context: { pluginName, config: parseJson(req.configJson, 'config_json'), status: parseJson(req.statusJson, 'status_json') },
  };
}

export function toStepResponse(r: StepResult): StepResponseMsg {
  return {
    result: {
      phase: r.phase,
      message: r.message,
      requeueAfterMs: Math.round(r.requeueAfterMs),
      statusJson: r.status === undefined ? '' : JSON.stringify(r.status),
    },
    error: r.error,
  };
}

export function fromStepResponse(msg: StepResponseMsg): StepResult {
  const r = msg.result;
  const phase = r && PHASES.includes(r.phase) ? (r.phase as StepPhase) : StepPhase.Error;
  return {
    phase,
    message: r?.message ?? '',
    requeueAfterMs: Number(r?.requeueAfterMs ?? 0),
    ...(r?.statusJson ? { status: parseJson(r.statusJson, 'status_json') } : {}),
    error: msg.error,
  };
}

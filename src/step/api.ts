import type { CallContext, RpcResult } from '../routing/api.js';
import type { Rollout } from '../routing/rollout.js';

// The step-plugin contract, shaped like Argo Rollouts' step plugin RPC (rollout/steps/plugin/rpc):
// the go-plugin entry, the gRPC StepPlugin service and its client all speak it. JSON values
// (config, status) are parsed JSON here; on the wire they are json.RawMessage bytes.

/** The plugin RPC's methods, in the controller's order. */
export const STEP_PLUGIN_METHODS = ['InitPlugin', 'Run', 'Terminate', 'Abort', 'Type'] as const;
export type StepPluginMethod = (typeof STEP_PLUGIN_METHODS)[number];

/** Phases a step may report; the controller rejects anything else. */
export const StepPhase = {
  Running: 'Running',
  Successful: 'Successful',
  Failed: 'Failed',
  Error: 'Error',
} as const;
export type StepPhase = (typeof StepPhase)[keyof typeof StepPhase];

/** What the controller hands over with every call (RpcStepContext). */
export interface StepContext {
  /** The step's `plugin.name`, the `stepPlugins` entry it runs. */
  pluginName: string;
  /** The step's `plugin.config`; undefined when the step has none. */
  config: unknown;
  /** What the last Run returned as `status`; undefined on the first Run. */
  status: unknown;
}

/** A step's answer (RpcStepResult); `error` set = RpcError (the controller retries after 30 s). */
export interface StepResult {
  phase: StepPhase;
  message: string;
  /** When the controller should call Run again (Running only); 0 = its default. */
  requeueAfterMs: number;
  /** Saved by the controller in status.canary.stepPluginStatuses and handed back on the next call. */
  status?: unknown;
  error: string;
}

export interface StepPluginApi {
  initPlugin(): Promise<RpcResult>;
  run(rollout: Rollout, context: StepContext, ctx?: CallContext): Promise<StepResult>;
  terminate(rollout: Rollout, context: StepContext, ctx?: CallContext): Promise<StepResult>;
  abort(rollout: Rollout, context: StepContext, ctx?: CallContext): Promise<StepResult>;
  type(): Promise<string>;
}

/** The name `Type` answers. */
export const STEP_PLUGIN_TYPE = 'rollouts-companion/lockstep';
/** The `stepPlugins` name the examples register; any name works, the gate matches members by the caller's. */
export const DEFAULT_STEP_PLUGIN_NAME = 'rollouts-companion/lockstep';

import type { CallContext, RpcResult } from '../routing/api.js';
import type { Rollout } from '../routing/rollout.js';
import type { KubeClient } from '../kube/client.js';
import { readRollout } from '../kube/rollouts.js';
import { STEP_PLUGIN_TYPE, StepPhase, type StepContext, type StepPluginApi, type StepResult } from './api.js';
import { gateErrors } from './errors.js';
import { decideLeave, decideRun, memberKey, parseGateConfig, selfRef, type GateDecision } from './gate.js';

// The gate step on a KubeClient: reads the other members (Rollout spec and status) and lets
// the pure logic in gate.ts decide. It keeps nothing between calls: a restarted plugin or
// controller carries on from the step status and the Rollouts.

/** Told about every decision: metrics and logs of the application. */
export interface GateObserver {
  run?(rollout: string, gate: string, decision: GateDecision, now: number): void;
  left?(rollout: string, gate: string | undefined, how: 'Terminate' | 'Abort'): void;
}

export interface GateStepOptions {
  kube: KubeClient;
  observer?: GateObserver;
  /** The clock; tests of the pure logic use their own, everything else the wall clock. */
  now?: () => number;
}

const errorResult = (message: string): StepResult => ({ phase: StepPhase.Error, message, requeueAfterMs: 0, error: '' });

export class GateStep implements StepPluginApi {
  readonly #kube: KubeClient;
  readonly #observer: GateObserver | undefined;
  readonly #now: () => number;

  constructor(options: GateStepOptions) {
    this.#kube = options.kube;
    this.#observer = options.observer;
    this.#now = options.now ?? Date.now;
  }

  async initPlugin(): Promise<RpcResult> {
    return { error: '' };
  }

  async type(): Promise<string> {
    return STEP_PLUGIN_TYPE;
  }

  async run(rollout: Rollout, context: StepContext, ctx?: CallContext): Promise<StepResult> {
    if (!rollout.metadata?.name) return errorResult(gateErrors.notARollout('Run'));
    const self = selfRef(rollout);
    const parsed = parseGateConfig(context.config, self);
    if ('error' in parsed) return errorResult(parsed.error);
    const { config } = parsed;
    const others = config.members.filter((m) => memberKey(m) !== memberKey(self));
    let members: Map<string, Rollout | undefined>;
    try {
      const read = await Promise.all(others.map((m) => readRollout(this.#kube, m.namespace, m.name, ctx)));
      members = new Map(others.map((m, i) => [memberKey(m), read[i]]));
    } catch (err) {
      return errorResult(gateErrors.readFailed(config.gate, err instanceof Error ? err.message : String(err)));
    }
    const now = this.#now();
    const decision = decideRun({ self: rollout, config, pluginName: context.pluginName, status: context.status, members, now });
    this.#observer?.run?.(memberKey(self), config.gate, decision, now);
    const { phase, message, requeueAfterMs, status, error } = decision;
    return { phase, message, requeueAfterMs, status, error };
  }

  async terminate(rollout: Rollout, context: StepContext): Promise<StepResult> {
    return this.#leave(rollout, context, 'Terminate');
  }

  async abort(rollout: Rollout, context: StepContext): Promise<StepResult> {
    return this.#leave(rollout, context, 'Abort');
  }

  #leave(rollout: Rollout, context: StepContext, how: 'Terminate' | 'Abort'): StepResult {
    const gate = gateName(context.config);
    this.#observer?.left?.(memberKey(selfRef(rollout)), gate, how);
    return decideLeave(gate, how);
  }
}

function gateName(config: unknown): string | undefined {
  const gate = (config as { gate?: unknown } | null)?.gate;
  return typeof gate === 'string' && gate.trim() ? gate.trim() : undefined;
}

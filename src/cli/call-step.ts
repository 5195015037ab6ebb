import { existsSync } from 'node:fs';
import { createRemoteStep } from '../grpc/step-client.js';
import { apiError } from '../kube/api-error.js';
import { KubeClient } from '../kube/client.js';
import { resourcePath } from '../kube/paths.js';
import { ROLLOUT_RESOURCE, readRollout as readStoredRollout, rolloutTarget } from '../kube/rollouts.js';
import type { Rollout } from '../routing/rollout.js';
import { StepPhase, type StepContext, type StepResult } from '../step/api.js';
import { readRollout as readManifestRollout } from './manifests.js';

// `rollouts-companion call Run|Terminate|Abort --rollout NAME|FILE`: a step call as the
// controller makes it. The context comes from the Rollout like the controller builds it (the
// plugin step at status.currentStepIndex, the status its last Run returned); --record stores
// the reply in the Rollout's status the way the controller does, so a walk-through can play
// the controller against dev mode's API server.

export const STEP_CALL_METHODS = ['Run', 'Terminate', 'Abort'] as const;
export type StepCallMethod = (typeof STEP_CALL_METHODS)[number];

export interface StepCallOptions {
  address: string;
  rollout: string;
  namespace: string;
  kubeconfig?: string;
  config?: unknown;
  status?: unknown;
  pluginName?: string;
  record: boolean;
  deadline: number;
  tokenFile?: string;
}

interface Entry {
  index: number;
  name: string;
  operation: string;
  phase: string;
  message?: string;
  status?: unknown;
  startedAt?: string;
  updatedAt?: string;
  finishedAt?: string;
  executions?: number;
}

type Status = Record<string, unknown> & { canary?: { stepPluginStatuses?: Entry[] } };

export const callStepErrors = {
  recordNeedsCluster: '--record stores the reply in the Rollout in the cluster: pass the Rollout by name, not a file',
  notAPluginStep: (rollout: string, index: number) =>
    `${rollout}: spec.strategy.canary.steps[${index}] (status.currentStepIndex) is not a plugin step; pass --config`,
  nothingToEnd: (rollout: string, method: string) => `${rollout}: no step plugin Run to ${method === 'Abort' ? 'abort' : 'terminate'} in status.canary.stepPluginStatuses`,
} as const;

const metaNow = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

export async function callStep(method: StepCallMethod, opts: StepCallOptions): Promise<StepResult> {
  const fromFile = existsSync(opts.rollout);
  if (opts.record && fromFile) throw new Error(callStepErrors.recordNeedsCluster);
  const kube = fromFile ? undefined : new KubeClient({ kubeconfig: opts.kubeconfig });
  const rollout = fromFile ? await readManifestRollout(opts.rollout, opts.namespace) : await fetchRollout(kube!, opts.namespace, opts.rollout);
  const name = `${rollout.metadata.namespace}/${rollout.metadata.name}`;
  const status = (rollout.status ?? {}) as Status;
  const entries = status.canary?.stepPluginStatuses ?? [];
  const index =
    method === 'Run'
      ? ((status['currentStepIndex'] as number | undefined) ?? 0)
      : entries.filter((e) => e.operation === 'Run' && (e.phase === 'Running' || (method === 'Abort' && e.phase === 'Successful'))).at(-1)?.index;
  if (index === undefined) throw new Error(callStepErrors.nothingToEnd(name, method));
  const plugin = rollout.spec?.strategy?.canary?.steps?.[index]?.['plugin'] as { name?: string; config?: unknown } | undefined;
  if (!plugin && opts.config === undefined) throw new Error(callStepErrors.notAPluginStep(name, index));
  const run = entries.find((e) => e.index === index && e.operation === 'Run');
  const context: StepContext = {
    pluginName: opts.pluginName || plugin?.name || '',
    config: opts.config ?? plugin?.config,
    status: opts.status ?? run?.status,
  };
  const step = createRemoteStep({ address: opts.address, deadlineMs: opts.deadline, tokenFile: opts.tokenFile });
  let result: StepResult;
  try {
    result = method === 'Run' ? await step.run(rollout, context) : method === 'Terminate' ? await step.terminate(rollout, context) : await step.abort(rollout, context);
  } finally {
    step.close();
  }
  if (opts.record) await record(kube!, rollout, method, index, context.pluginName, result);
  return result;
}

async function fetchRollout(kube: KubeClient, namespace: string, name: string): Promise<Rollout> {
  const rollout = await readStoredRollout(kube, namespace, name);
  if (!rollout) throw new Error(`Rollout ${namespace}/${name} not found (pass a manifest file to --rollout, or the right --namespace)`);
  return rollout;
}

/** The controller's bookkeeping for a step reply (rollout/steps/plugin/plugin.go, rollout/stepplugin.go). */
async function record(kube: KubeClient, rollout: Rollout, method: StepCallMethod, index: number, pluginName: string, result: StepResult): Promise<void> {
  const status = structuredClone(rollout.status ?? {}) as Status;
  const canary = (status.canary ??= {});
  const entries = (canary.stepPluginStatuses ??= []);
  const now = metaNow();
  const phase = result.error ? StepPhase.Error : result.phase;
  const message = result.error || result.message;
  if (method === 'Run') {
    let entry = entries.find((e) => e.index === index && e.operation === 'Run');
    if (!entry) {
      entry = { index, name: pluginName, operation: 'Run', phase: StepPhase.Running, startedAt: now };
      entries.push(entry);
    }
    Object.assign(entry, { phase, message, updatedAt: now, executions: (entry.executions ?? 0) + 1 });
    // An Error's status is not kept: the next Run gets the previous one again.
    if (phase !== StepPhase.Error) entry.status = result.status;
    if (phase === StepPhase.Successful) {
      entry.finishedAt = now;
      status['currentStepIndex'] = index + 1;
    } else if (phase === StepPhase.Failed) {
      entry.finishedAt = now;
      status['abort'] = true;
      status['phase'] = 'Degraded';
      status['message'] = `RolloutAborted: Step Plugin ${index + 1} (${pluginName}) failed: ${message}`;
    }
  } else {
    // Terminate and Abort cannot stay Running, and their status is not kept.
    entries.push({ index, name: pluginName, operation: method, phase: phase === StepPhase.Running ? StepPhase.Failed : phase, message, startedAt: now, finishedAt: now });
  }
  const body = { ...rollout, status };
  const { namespace = 'default', name = '' } = rollout.metadata;
  try {
    await kube.request({ method: 'PUT', path: resourcePath(ROLLOUT_RESOURCE, namespace, name, 'status'), body });
  } catch (err) {
    throw apiError(rolloutTarget(namespace, name, 'update'), err, { server: kube.server });
  }
}

import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Context } from 'mocha';
import type { ApiServer } from '../../../src/kube/apiserver/index.js';
import type { Rollout } from '../../../src/routing/rollout.js';
import { requireTool } from '../../support/tooling.js';
import { HOST, ROOT, describeRun, runHost, type HostLine, type HostRun } from '../plugin/support.js';

// The Argo Rollouts controller's part around a step plugin, played against the in-process API
// server: each reconcile round starts the plugin under a real host (the controller's own
// client in ../shared/realhost, or the go-plugin host), calls Run / Terminate / Abort as the
// controller would for the Rollouts as stored, and stores the results the way the controller
// does (status.canary.stepPluginStatuses, currentStepIndex, abort). A new plugin process per
// round: the gate keeps nothing in memory, so nothing may be lost between rounds.

export const PLUGIN = 'rollouts-companion/lockstep';
export const REALHOST = resolve(ROOT, process.env.REALHOST ?? '../shared/realhost/realhost');
export const GATE_STEP = 1;

export interface Host {
  name: string;
  binary: string;
  require(ctx: Context): void;
}

export const HOSTS: Host[] = [
  {
    name: 'realhost (the controller\'s own step client)',
    binary: REALHOST,
    require: (ctx) => requireTool(ctx, existsSync(REALHOST), `${REALHOST} is missing (../shared/realhost)`),
  },
  {
    name: 'go-plugin host',
    binary: HOST,
    require: (ctx) => requireTool(ctx, existsSync(HOST), `${HOST} is missing: run scripts/ensure-gphost.sh`),
  },
];

export interface GateConfigInput {
  gate?: unknown;
  members?: unknown;
  timeout?: unknown;
  abortWithMembers?: unknown;
  align?: unknown;
  [key: string]: unknown;
}

/** A member Rollout: setWeight 25, the gate, setWeight 75; progressing on revision 2 at step 0. */
export function memberRollout(name: string, config: GateConfigInput, namespace = 'default'): Rollout {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name, namespace, generation: 2, annotations: { 'rollout.argoproj.io/revision': '2' } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: `example/${name}:v2` }] } },
      strategy: { canary: { steps: [{ setWeight: 25 }, { plugin: { name: PLUGIN, config } }, { setWeight: 75 }] } },
    },
    status: { phase: 'Progressing', observedGeneration: '2', currentStepIndex: 0, currentPodHash: `${name}-new`, stableRS: `${name}-old` },
  } as Rollout;
}

interface Entry {
  index: number;
  name: string;
  operation: 'Run' | 'Terminate' | 'Abort';
  phase: string;
  message?: string;
  status?: unknown;
  startedAt?: string;
  updatedAt?: string;
  finishedAt?: string;
  executions?: number;
}

/** What the controller records once a Rollout is fully promoted. */
function fullyPromoted(r: Rollout & { status: Record<string, unknown> }): void {
  const status = r.status;
  status['currentStepIndex'] = r.spec!.strategy!.canary!.steps!.length;
  status['promoteFull'] = false;
  status['stableRS'] = status['currentPodHash'];
  status['phase'] = 'Healthy';
  status['conditions'] = [{ type: 'Completed', status: 'True', reason: 'RolloutCompleted', lastTransitionTime: metaNow() }];
}

/** metav1.Time as stored: whole seconds. */
const metaNow = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

export interface RoundResult {
  run: HostRun;
  /** The reply line of each Rollout's call this round. */
  by: Record<string, HostLine>;
}

export class ControllerPlay {
  constructor(
    readonly api: ApiServer,
    readonly host: Host,
    /** How the plugin is started: in-process mode on the API server's kubeconfig, or --companion. */
    readonly pluginArgs: string[],
  ) {}

  static async start(api: ApiServer, host: Host, pluginArgs?: string[]): Promise<ControllerPlay> {
    if (pluginArgs) return new ControllerPlay(api, host, pluginArgs);
    const kubeconfig = join(mkdtempSync(join(tmpdir(), 'step-kube-')), 'kubeconfig');
    await api.writeKubeconfig(kubeconfig);
    return new ControllerPlay(api, host, ['--kubeconfig', kubeconfig, '--log-level', 'debug']);
  }

  create(...rollouts: Rollout[]): void {
    for (const r of rollouts) {
      this.api.create(r as never);
      this.edit(r.metadata.name!, () => {}, r.metadata.namespace);
    }
  }

  get(name: string, namespace = 'default'): Rollout {
    const r = this.api.get('argoproj.io/v1alpha1', 'Rollout', namespace, name) as unknown as Rollout | undefined;
    if (!r) throw new Error(`Rollout ${namespace}/${name} is missing`);
    return r;
  }

  /** Changes a stored Rollout the way a user or the controller's other parts would. */
  edit(name: string, change: (r: Rollout & { status: Record<string, unknown> }) => void, namespace = 'default'): void {
    const r = structuredClone(this.get(name, namespace)) as Rollout & { status: Record<string, unknown> };
    change(r);
    // The controller has seen this spec: the gate waits for members whose controller has not.
    r.status.observedGeneration = String(r.metadata.generation);
    this.api.update(r as never);
  }

  /** The earlier steps are done: the Rollout is now on its gate step. */
  arrive(...names: string[]): void {
    for (const name of names) this.edit(name, (r) => (r.status.currentStepIndex = GATE_STEP));
  }

  /** `kubectl argo rollouts abort NAME` (or a failed analysis): the controller aborts it. */
  abort(name: string, message = 'RolloutAborted: metric "error-rate" assessed Failed'): void {
    this.edit(name, (r) => {
      r.status.abort = true;
      r.status.phase = 'Degraded';
      r.status.message = message;
      r.status.currentStepIndex = 0;
    });
  }

  /**
   * `kubectl argo rollouts promote --full NAME`: with a step plugin still Running the
   * controller calls Terminate first (next reconcile), otherwise it promotes right away.
   */
  promoteFull(name: string): void {
    const running = this.entries(name).some((e) => e.operation === 'Run' && e.phase === 'Running');
    this.edit(name, (r) => (running ? (r.status.promoteFull = true) : fullyPromoted(r)));
  }

  entries(name: string): Entry[] {
    return (((this.get(name).status as Record<string, unknown>)['canary'] as { stepPluginStatuses?: Entry[] } | undefined)?.stepPluginStatuses ?? []);
  }

  /** The call the controller makes for this Rollout now, if any. */
  callFor(name: string): Record<string, unknown> | undefined {
    const r = this.get(name);
    const status = r.status as Record<string, unknown>;
    const steps = r.spec!.strategy!.canary!.steps!;
    const entries = this.entries(name);
    const contextOf = (index: number) => {
      const plugin = steps[index]!['plugin'] as { name: string; config?: unknown };
      const run = entries.find((e) => e.index === index && e.operation === 'Run');
      return { pluginName: plugin.name, config: plugin.config ?? null, status: run?.status ?? null };
    };
    if (status['abort'] === true) {
      // Abort, in reverse step order, for Runs that were Running or Successful and not aborted yet.
      const due = entries
        .filter((e) => e.operation === 'Run' && (e.phase === 'Running' || e.phase === 'Successful'))
        .filter((e) => !entries.some((a) => a.operation === 'Abort' && a.index === e.index))
        .sort((a, b) => b.index - a.index)[0];
      return due ? { method: 'Abort', rollout: r, context: contextOf(due.index) } : undefined;
    }
    if (status['promoteFull'] === true) {
      const running = entries.find((e) => e.operation === 'Run' && e.phase === 'Running');
      if (!running || entries.some((e) => e.operation === 'Terminate' && e.index === running.index)) return undefined;
      return { method: 'Terminate', rollout: r, context: contextOf(running.index) };
    }
    const index = (status['currentStepIndex'] as number | undefined) ?? 0;
    if (status['phase'] !== 'Progressing' || index >= steps.length || !steps[index]!['plugin']) return undefined;
    const run = entries.find((e) => e.index === index && e.operation === 'Run');
    if (run && (run.phase === 'Successful' || run.phase === 'Failed')) return undefined;
    return { method: 'Run', rollout: r, context: contextOf(index) };
  }

  /**
   * The controller reconciling the named Rollouts one after the other: for each, a plugin
   * process (InitPlugin, then the call the controller makes for it now), its result stored
   * before the next one looks. `before` calls go first in the first process.
   */
  async reconcile(names: string[], options: { before?: Record<string, unknown>[] } = {}): Promise<RoundResult> {
    const by: Record<string, HostLine> = {};
    let last: HostRun | undefined;
    let before = options.before ?? [];
    for (const name of names.length > 0 ? names : [undefined]) {
      const call = name === undefined ? undefined : this.callFor(name);
      if (!call && before.length === 0) continue;
      const calls: Record<string, unknown>[] = [{ method: 'InitPlugin' }, ...before, ...(call ? [call] : [])];
      before = [];
      const rollout = calls.find((c) => c['rollout'])?.['rollout'];
      const run = await runHost({ rollout, calls }, this.pluginArgs, {
        kind: 'step',
        host: this.host.binary,
      });
      last = run;
      if (!call || !name) continue;
      const line = run.lines.find((l) => l.i === calls.length - 1 && l.sub === undefined);
      if (!line) throw new Error(`no reply for ${name}'s ${String(call['method'])}\n${describeRun(run)}`);
      by[name] = line;
      this.store(name, call, line);
    }
    if (!last) throw new Error(`the controller has nothing to call for ${names.join(', ')}`);
    return { run: last, by };
  }

  /** What the controller does with a reply. */
  private store(name: string, call: Record<string, unknown>, line: HostLine): void {
    const method = call['method'] as 'Run' | 'Terminate' | 'Abort';
    const result = (line.result ?? {}) as { phase?: string; message?: string; status?: unknown };
    this.edit(name, (r) => {
      const status = r.status;
      const canary = ((status['canary'] ??= {}) as { stepPluginStatuses?: Entry[] });
      const entries = (canary.stepPluginStatuses ??= []);
      const index = method === 'Run' ? ((status['currentStepIndex'] as number | undefined) ?? 0) : entries.find((e) => e.operation === 'Run' && (method === 'Abort' ? !entries.some((a) => a.operation === 'Abort' && a.index === e.index) && (e.phase === 'Running' || e.phase === 'Successful') : e.phase === 'Running'))!.index;
      const now = metaNow();
      const failedCall = !line.ok;
      const phase = failedCall ? 'Error' : (result.phase ?? '');
      const message = failedCall ? (line.rpcError ?? line.transportError ?? '') : (result.message ?? '');
      if (method !== 'Run') {
        // Terminate and Abort cannot stay Running; their status is not kept.
        entries.push({ index, name: PLUGIN, operation: method, phase: phase === 'Running' ? 'Failed' : phase, message, startedAt: now, finishedAt: now });
        if (method === 'Terminate') fullyPromoted(r);
        return;
      }
      let entry = entries.find((e) => e.index === index && e.operation === 'Run');
      if (!entry) {
        entry = { index, name: PLUGIN, operation: 'Run', phase: 'Running', startedAt: now };
        entries.push(entry);
      }
      entry.phase = phase;
      entry.message = message;
      entry.updatedAt = now;
      entry.executions = (entry.executions ?? 0) + 1;
      // An Error's status is not kept: the next Run gets the previous one again.
      if (phase !== 'Error') entry.status = result.status;
      if (phase === 'Successful') {
        entry.finishedAt = now;
        status['currentStepIndex'] = index + 1;
      }
      if (phase === 'Failed') {
        entry.finishedAt = now;
        status['abort'] = true;
        status['phase'] = 'Degraded';
        status['message'] = `RolloutAborted: Step Plugin ${index + 1} (${PLUGIN}) failed: ${message}`;
        status['currentStepIndex'] = 0;
      }
    });
  }

  step(name: string): number {
    return ((this.get(name).status as Record<string, unknown>)['currentStepIndex'] as number | undefined) ?? 0;
  }
}

/** The Run/Terminate/Abort result of a reply line. */
export function resultOf(line: HostLine | undefined): { phase?: string; message?: string; requeueAfterNs?: number; status?: Record<string, unknown> } {
  return (line?.result ?? {}) as never;
}

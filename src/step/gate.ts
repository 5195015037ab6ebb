import type { Rollout } from '../routing/rollout.js';
import { StepPhase, type StepResult } from './api.js';
import { formatDuration, parseGoDuration } from './duration.js';
import { KNOWN_CONFIG_KEYS, gateErrors, memberFailure } from './errors.js';
import { LEAD_MS, MIN_REQUEUE_MS, RELEASE_WINDOW_MS, gridPointAtOrAfter, requeueFor } from './timing.js';

// The lockstep gate, as pure logic over Kubernetes JSON: a member Rollout's gate step answers
// Running until every member has reached its own step of the same gate, then Successful.
// Everything it knows comes from its arguments: the calling Rollout, the step's config and
// status (handed back by the controller) and the other members as the API server has them.
// What a member records lives in its step status (GateStatus), which the controller keeps in
// the member's status.canary.stepPluginStatuses, where the other members read it.

export const DEFAULT_TIMEOUT_MS = 30 * 60_000;

export interface MemberRef {
  namespace: string;
  name: string;
}

export const memberKey = (m: MemberRef) => `${m.namespace}/${m.name}`;

export interface GateConfig {
  gate: string;
  /** Every member, the caller included, in config order. */
  members: MemberRef[];
  timeoutMs: number;
  abortWithMembers: boolean;
  /** Leave on the shared grid (small spread) rather than as soon as the last member looks. */
  align: boolean;
}

/** What a member's gate step records (its step status JSON). */
export interface GateStatus {
  gate: string;
  /** The member's rollout.argoproj.io/revision when it arrived: a new revision arrives anew. */
  revision: string;
  /** RFC 3339 with milliseconds. */
  arrivedAt: string;
  releasedAt?: string;
  /** Members this member has seen exist: one missing later was deleted, not misnamed. */
  seen?: string[];
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const REVISION_ANNOTATION = 'rollout.argoproj.io/revision';

export function selfRef(rollout: Rollout): MemberRef {
  return { namespace: rollout.metadata.namespace || 'default', name: rollout.metadata.name ?? '' };
}

function parseMember(value: unknown, defaultNamespace: string): MemberRef | undefined {
  if (typeof value !== 'string') return undefined;
  const parts = value.split('/');
  if (parts.length > 2) return undefined;
  const [namespace, name] = parts.length === 2 ? [parts[0]!, parts[1]!] : [defaultNamespace, parts[0]!];
  if (!DNS_LABEL.test(namespace) || namespace.length > 63 || !DNS_SUBDOMAIN.test(name) || name.length > 253) return undefined;
  return { namespace, name };
}

/** The gate's config, or the Error message that says what is wrong with it. */
export function parseGateConfig(config: unknown, self: MemberRef): { config: GateConfig } | { error: string } {
  const me = memberKey(self);
  if (typeof config !== 'object' || config === null || Array.isArray(config)) return { error: gateErrors.noConfig(me) };
  const c = config as Record<string, unknown>;
  const unknown = Object.keys(c).find((k) => !(KNOWN_CONFIG_KEYS as readonly string[]).includes(k));
  if (unknown !== undefined) return { error: gateErrors.unknownKey(me, unknown) };
  if (typeof c['gate'] !== 'string' || c['gate'].trim() === '') return { error: gateErrors.noGateName(me) };
  if (!Array.isArray(c['members'])) return { error: gateErrors.membersNotList(me) };
  const members: MemberRef[] = [];
  for (const raw of c['members'] as unknown[]) {
    const m = parseMember(raw, self.namespace);
    if (!m) return { error: gateErrors.badMember(me, raw) };
    if (members.some((x) => memberKey(x) === memberKey(m))) return { error: gateErrors.duplicateMember(me, memberKey(m)) };
    members.push(m);
  }
  if (!members.some((m) => memberKey(m) === me)) members.unshift(self);
  if (members.length < 2) return { error: gateErrors.noOtherMember(me) };
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  if (c['timeout'] !== undefined) {
    const parsed = typeof c['timeout'] === 'string' ? parseGoDuration(c['timeout']) : undefined;
    if (parsed === undefined || parsed <= 0) return { error: gateErrors.badTimeout(me, c['timeout']) };
    timeoutMs = parsed;
  }
  for (const key of ['abortWithMembers', 'align'] as const) {
    if (c[key] !== undefined && typeof c[key] !== 'boolean') return { error: gateErrors.notBoolean(me, key, c[key]) };
  }
  return {
    config: {
      gate: c['gate'].trim(),
      members,
      timeoutMs,
      abortWithMembers: c['abortWithMembers'] !== false,
      align: c['align'] !== false,
    },
  };
}

// --- reading a member Rollout ---------------------------------------------------------

interface StepPluginStatusEntry {
  index?: number;
  name?: string;
  operation?: string;
  phase?: string;
  startedAt?: string;
  finishedAt?: string;
  status?: unknown;
}

interface MemberView {
  steps: Record<string, unknown>[];
  currentStepIndex: number;
  revision: string;
  aborted: boolean;
  phase: string;
  message: string;
  stale: boolean;
  entries: StepPluginStatusEntry[];
  /** When the Completed condition last became True (the Rollout was fully promoted). */
  completedAt?: number;
}

function view(r: Rollout): MemberView {
  const status = (r.status ?? {}) as Record<string, unknown>;
  const canary = (status['canary'] ?? {}) as { stepPluginStatuses?: StepPluginStatusEntry[] };
  const generation = r.metadata.generation;
  const observed = status['observedGeneration'];
  const conditions = Array.isArray(status['conditions']) ? (status['conditions'] as { type?: string; status?: string; lastTransitionTime?: string }[]) : [];
  const completed = conditions.find((c) => c.type === 'Completed' && c.status === 'True');
  const completedAt = Date.parse(completed?.lastTransitionTime ?? '');
  return {
    ...(Number.isNaN(completedAt) ? {} : { completedAt }),
    steps: r.spec?.strategy?.canary?.steps ?? [],
    currentStepIndex: typeof status['currentStepIndex'] === 'number' ? status['currentStepIndex'] : 0,
    revision: r.metadata.annotations?.[REVISION_ANNOTATION] ?? '',
    aborted: status['abort'] === true,
    phase: typeof status['phase'] === 'string' ? status['phase'] : '',
    message: typeof status['message'] === 'string' ? status['message'] : '',
    stale: generation !== undefined && observed !== undefined && String(generation) !== String(observed),
    entries: Array.isArray(canary.stepPluginStatuses) ? canary.stepPluginStatuses : [],
  };
}

/** Indexes of the steps of `gate` run by plugin `pluginName`. */
export function gateStepIndexes(r: Rollout, pluginName: string, gate: string): number[] {
  const out: number[] = [];
  (r.spec?.strategy?.canary?.steps ?? []).forEach((step, i) => {
    const plugin = step['plugin'] as { name?: unknown; config?: { gate?: unknown } } | undefined;
    if (plugin?.name === pluginName && typeof plugin.config?.gate === 'string' && plugin.config.gate.trim() === gate) out.push(i);
  });
  return out;
}

function asGateStatus(v: unknown, gate: string, revision: string): GateStatus | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const s = v as Partial<GateStatus>;
  if (s.gate !== gate || s.revision !== revision || typeof s.arrivedAt !== 'string' || Number.isNaN(Date.parse(s.arrivedAt))) return undefined;
  return s as GateStatus;
}

/** Where a member stands, seen from one member's gate step. */
export type MemberState =
  | { kind: 'here'; step: number; steps: number; arrivedAt?: number }
  | { kind: 'left'; how: 'released' | 'promoted'; at: number; arrivedAt?: number }
  | { kind: 'away'; step: number; steps: number; why: string }
  | { kind: 'failed'; why: string }
  | { kind: 'error'; message: string };

export function memberState(
  member: Rollout | undefined,
  ref: MemberRef,
  gate: string,
  pluginName: string,
  seen: readonly string[],
): MemberState {
  const key = memberKey(ref);
  if (!member) return seen.includes(key) ? { kind: 'failed', why: memberFailure.deleted } : { kind: 'error', message: gateErrors.memberMissing(gate, key) };
  const indexes = gateStepIndexes(member, pluginName, gate);
  if (indexes.length === 0) return { kind: 'error', message: gateErrors.memberWithoutGate(gate, key, pluginName) };
  if (indexes.length > 1) return { kind: 'error', message: gateErrors.memberWithTwoGates(gate, key) };
  const g = indexes[0]!;
  const v = view(member);
  if (v.aborted) return { kind: 'failed', why: memberFailure.aborted(v.message) };
  if (v.phase === 'Degraded') return { kind: 'failed', why: memberFailure.degraded(v.message) };
  const steps = v.steps.length;
  const run = v.entries.find((e) => e.index === g && e.operation === 'Run');
  const recorded = asGateStatus(run?.status, gate, v.revision);
  const arrivedAt = recorded ? Date.parse(recorded.arrivedAt) : undefined;
  if (recorded?.releasedAt) return { kind: 'left', how: 'released', at: Date.parse(recorded.releasedAt), arrivedAt: arrivedAt! };
  if (v.stale) return { kind: 'away', step: v.currentStepIndex, steps, why: 'the controller has not caught up with its latest spec yet' };
  if (v.currentStepIndex === g) return { kind: 'here', step: g, steps, ...(arrivedAt !== undefined ? { arrivedAt } : {}) };
  if (v.currentStepIndex >= steps && v.completedAt !== undefined) {
    // Fully promoted (by hand, past the gate): when tells this release from the previous one.
    return { kind: 'left', how: 'promoted', at: v.completedAt, ...(arrivedAt !== undefined ? { arrivedAt } : {}) };
  }
  const why =
    v.currentStepIndex >= steps
      ? 'fully promoted, not rolling out a new revision'
      : v.currentStepIndex > g
        ? `past its gate step (${g + 1}) without passing this gate`
        : `at step ${v.currentStepIndex + 1} of ${steps}, gate is step ${g + 1}`;
  return { kind: 'away', step: v.currentStepIndex, steps, why };
}

// --- deciding a Run -------------------------------------------------------------------

export interface RunInput {
  /** The Rollout the controller runs the step for. */
  self: Rollout;
  config: GateConfig;
  pluginName: string;
  /** The step status the controller handed back (undefined on the first Run). */
  status: unknown;
  /** The other members as read from the API server (undefined: not found). */
  members: ReadonlyMap<string, Rollout | undefined>;
  now: number;
}

export interface GateDecision extends StepResult {
  /** For metrics and `status`: the caller's arrival and how many members are waiting at the gate now. */
  arrivedAt: number;
  waiting: number;
  states: ReadonlyMap<string, MemberState>;
}

const iso = (t: number) => new Date(t).toISOString();

function describe(key: string, s: MemberState): string {
  switch (s.kind) {
    case 'here':
      return `${key} (here${s.arrivedAt === undefined ? ', arriving' : ''})`;
    case 'left':
      return `${key} (${s.how === 'promoted' ? 'fully promoted' : 'left'} at ${iso(s.at)}, before this member arrived)`;
    case 'away':
      return `${key} (${s.why})`;
    case 'failed':
      return `${key} (${s.why})`;
    case 'error':
      return key;
  }
}

export function decideRun(input: RunInput): GateDecision {
  const { self, config, pluginName } = input;
  // Whole milliseconds, as recorded: every member must compute the same release point from the same arrivals.
  const now = Math.floor(input.now);
  const me = memberKey(selfRef(self));
  const revision = self.metadata.annotations?.[REVISION_ANNOTATION] ?? '';
  const previous = asGateStatus(input.status, config.gate, revision);
  const arrivedAt = previous ? Date.parse(previous.arrivedAt) : now;
  const seen = new Set(previous?.seen ?? []);

  const states = new Map<string, MemberState>();
  for (const ref of config.members) {
    const key = memberKey(ref);
    if (key === me) continue;
    const member = input.members.get(key);
    if (member) seen.add(key);
    states.set(key, memberState(member, ref, config.gate, pluginName, previous?.seen ?? []));
  }
  const status: GateStatus = { gate: config.gate, revision, arrivedAt: iso(arrivedAt), seen: [...seen].sort() };
  const here = [...states.values()].filter((s) => s.kind === 'here').length + 1;
  const answer = (phase: StepPhase, message: string, requeueAfterMs = 0, extra: Partial<GateStatus> = {}): GateDecision => ({
    phase,
    message,
    requeueAfterMs,
    status: { ...status, ...extra },
    error: '',
    arrivedAt,
    waiting: phase === StepPhase.Running ? here : here - 1,
    states,
  });

  const broken = [...states.values()].find((s): s is Extract<MemberState, { kind: 'error' }> => s.kind === 'error');
  if (broken) return { ...answer(StepPhase.Error, broken.message), status: undefined };

  const failed = [...states.entries()].filter(([, s]) => s.kind === 'failed');
  if (failed.length > 0 && config.abortWithMembers) {
    const [key, s] = failed[0]!;
    return answer(StepPhase.Failed, `gate ${config.gate}: member ${key} ${(s as { why: string }).why}; leaving with it (abortWithMembers)`);
  }

  const met = (s: MemberState) =>
    (s.kind === 'here' && s.arrivedAt !== undefined) || (s.kind === 'left' && s.at >= arrivedAt - 1000);
  const missing = [...states.entries()].filter(([, s]) => !met(s));
  const waitedMs = now - arrivedAt;

  if (missing.length > 0 && waitedMs >= config.timeoutMs) {
    return answer(
      StepPhase.Failed,
      `gate ${config.gate}: timed out after ${formatDuration(config.timeoutMs)} waiting for ${missing.map(([k, s]) => describe(k, s)).join(', ')}`,
    );
  }
  const ignoring = failed.length > 0 ? `; not leaving with ${failed.map(([k, s]) => describe(k, s)).join(', ')} (abortWithMembers: false)` : '';

  if (missing.length === 0) {
    const someoneLeft = [...states.values()].some((s) => s.kind === 'left');
    if (!config.align || someoneLeft) {
      return answer(StepPhase.Successful, `gate ${config.gate}: all ${config.members.length} members met; leaving`, 0, { releasedAt: iso(now) });
    }
    const lastArrival = Math.max(arrivedAt, ...[...states.values()].map((s) => (s.kind === 'here' ? s.arrivedAt! : arrivedAt)));
    const releaseAt = gridPointAtOrAfter(lastArrival + LEAD_MS);
    if (now >= releaseAt - RELEASE_WINDOW_MS) {
      return answer(StepPhase.Successful, `gate ${config.gate}: all ${config.members.length} members met; leaving together`, 0, { releasedAt: iso(now) });
    }
    return answer(
      StepPhase.Running,
      `gate ${config.gate}: all ${config.members.length} members here; leaving together at ${iso(releaseAt)}${ignoring}`,
      requeueFor(releaseAt, now),
    );
  }

  const requeue = config.align ? requeueFor(gridPointAtOrAfter(now + LEAD_MS), now) : MIN_REQUEUE_MS;
  return answer(
    StepPhase.Running,
    `gate ${config.gate}: waiting for ${missing.map(([k, s]) => describe(k, s)).join(', ')}; ${here} of ${config.members.length} here, ${me} since ${iso(arrivedAt)}${ignoring}`,
    requeue,
  );
}

/** Terminate (promoted past the gate) and Abort: the gate keeps nothing once a member leaves this way. */
export function decideLeave(gate: string | undefined, how: 'Terminate' | 'Abort'): StepResult {
  const what = how === 'Terminate' ? 'promoted past the gate' : 'aborted';
  return { phase: StepPhase.Successful, message: `gate ${gate ?? '(unnamed)'}: ${what}; nothing kept`, requeueAfterMs: 0, error: '' };
}

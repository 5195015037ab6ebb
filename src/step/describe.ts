import type { Rollout } from '../routing/rollout.js';
import { formatDuration } from './duration.js';
import { memberKey, memberState, parseGateConfig, selfRef, type MemberState } from './gate.js';

// What `status` shows for the lockstep gates of a Rollout: every member, where it is, who is
// being waited for and since when. Read-only: the same view the members' gate steps compute.

export interface GateMemberRow {
  member: string;
  state: MemberState['kind'] | 'unknown';
  /** Human words: "at the gate since …", "at step 1 of 3, gate is step 2", "was aborted (…)". */
  detail: string;
  waitedFor: boolean;
}

export interface GateView {
  gate: string;
  plugin: string;
  /** 1-based, as `kubectl argo rollouts get` numbers steps. */
  step: number;
  members: GateMemberRow[];
  /** Earliest arrival of a member still at the gate (RFC 3339), if anyone waits. */
  waitingSince?: string;
  error?: string;
}

/** The gates among `rollout`'s steps, with every member read through `read` (undefined: not found). */
export async function describeGates(rollout: Rollout, read: (namespace: string, name: string) => Promise<Rollout | undefined>, now = Date.now()): Promise<GateView[]> {
  const views: GateView[] = [];
  const steps = rollout.spec?.strategy?.canary?.steps ?? [];
  for (const [index, step] of steps.entries()) {
    const plugin = step['plugin'] as { name?: string; config?: { gate?: unknown } } | undefined;
    if (!plugin?.name || typeof plugin.config?.gate !== 'string') continue;
    const parsed = parseGateConfig(plugin.config, selfRef(rollout));
    const view: GateView = { gate: plugin.config.gate, plugin: plugin.name, step: index + 1, members: [] };
    views.push(view);
    if ('error' in parsed) {
      view.error = parsed.error;
      continue;
    }
    const states = await Promise.all(
      parsed.config.members.map(async (m) => {
        const member = memberKey(m) === memberKey(selfRef(rollout)) ? rollout : await read(m.namespace, m.name);
        return [memberKey(m), memberState(member, m, parsed.config.gate, plugin.name!, [])] as const;
      }),
    );
    const arrivals = states.flatMap(([, s]) => (s.kind === 'here' && s.arrivedAt !== undefined ? [s.arrivedAt] : []));
    const someoneWaits = states.some(([, s]) => s.kind === 'here');
    if (arrivals.length > 0) view.waitingSince = new Date(Math.min(...arrivals)).toISOString();
    for (const [member, s] of states) {
      const arrived = s.kind === 'here' && s.arrivedAt !== undefined;
      view.members.push({
        member,
        state: s.kind,
        detail: detail(s, now),
        waitedFor: someoneWaits && !arrived && s.kind !== 'left',
      });
    }
  }
  return views;
}

function detail(s: MemberState, now: number): string {
  switch (s.kind) {
    case 'here':
      return s.arrivedAt === undefined
        ? `at the gate (step ${s.step + 1} of ${s.steps}), its step has not run yet`
        : `at the gate since ${new Date(s.arrivedAt).toISOString()} (${formatDuration(now - s.arrivedAt)})`;
    case 'left':
      return `${s.how === 'promoted' ? 'fully promoted' : 'left the gate'} at ${new Date(s.at).toISOString()}`;
    case 'away':
      return s.why;
    case 'failed':
      return s.why;
    case 'error':
      return s.message;
  }
}

export function renderGates(views: GateView[]): string {
  const lines: string[] = [];
  for (const v of views) {
    lines.push(`gate ${v.gate}  (step ${v.step}, plugin ${v.plugin})${v.waitingSince ? `  waiting since ${v.waitingSince}` : ''}`);
    if (v.error) lines.push(`  [CONFIG ERROR] ${v.error}`);
    const width = Math.max(0, ...v.members.map((m) => m.member.length));
    for (const m of v.members) lines.push(`  ${m.member.padEnd(width)}  ${m.detail}${m.waitedFor ? '  ← waited for' : ''}`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

import { expect } from 'chai';
import type { Rollout } from '../../../src/routing/rollout.js';
import { StepPhase } from '../../../src/step/api.js';
import { decideRun, parseGateConfig, selfRef } from '../../../src/step/gate.js';

// How far apart the members leave the gate, with the controller's timing modelled on its
// step-plugin code (rollout/steps/plugin/plugin.go, rollout/stepplugin.go): a Running answer's
// RequeueAfter counts only above 10 s (else 30 s); the Rollout is re-queued for
// updatedAt + backoff + 5 s, and the stored updatedAt is truncated to the second (the status
// write wakes the Rollout up once more, and the work queue keeps the earliest time); Run is
// skipped while updatedAt + backoff is ahead; unrelated events wake a Rollout up at random.
// Members arrive at random times; the simulated clock makes 400 meetings take milliseconds.

const PLUGIN = 'rollouts-companion/lockstep';
const MIN_REQUEUE = 10_000;
const DEFAULT_REQUEUE = 30_000;
const REQUEUE_DELAY = 5_000;

function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Member {
  rollout: Rollout;
  status: unknown;
  /** When the controller next looks at the gate step (Run unless still backing off). */
  wake: number;
  updatedAt: number;
  backoff: number;
  executions: number;
  leftAt?: number;
}

/** One meeting; returns when each member left the gate. */
function meeting(random: () => number, count: number, align: boolean, eventsPerMinute: number): number[] {
  const names = Array.from({ length: count }, (_, i) => `m${i}`);
  const config = { gate: 'g', members: names, timeout: '1h', align };
  const start = 1_700_000_000_000 + Math.floor(random() * 86_400_000);
  const members = new Map<string, Member>();
  for (const name of names) {
    const rollout = {
      metadata: { name, namespace: 'default', annotations: { 'rollout.argoproj.io/revision': '2' } },
      spec: { strategy: { canary: { steps: [{ setWeight: 10 }, { plugin: { name: PLUGIN, config } }, { setWeight: 50 }] } } },
      status: { phase: 'Progressing', currentStepIndex: 0 },
    } as Rollout;
    // Arrivals spread over two minutes; the first Run follows the step change within 0.2 s.
    members.set(name, { rollout, status: undefined, wake: start + random() * 120_000, updatedAt: 0, backoff: 0, executions: 0 });
  }
  const arrive = (m: Member) => (m.rollout.status!.currentStepIndex = 1);
  const stored = (m: Member): Rollout => {
    const entries = m.executions > 0 ? [{ index: 1, operation: 'Run', phase: m.leftAt ? 'Successful' : 'Running', status: m.status }] : [];
    return { ...m.rollout, status: { ...m.rollout.status, canary: { stepPluginStatuses: entries } } };
  };
  for (let guard = 0; guard < 10_000 && [...members.values()].some((m) => m.leftAt === undefined); guard++) {
    const [name, m] = [...members.entries()].filter(([, x]) => x.leftAt === undefined).sort((a, b) => a[1].wake - b[1].wake)[0]!;
    const now = m.wake;
    if (m.rollout.status!.currentStepIndex === 0) {
      arrive(m);
      m.wake = now + random() * 200;
      continue;
    }
    const truncated = Math.floor(m.updatedAt / 1000) * 1000;
    if (m.executions > 0 && truncated + m.backoff > now) {
      // Woken early (an event): Run skipped, re-queued from the stored (truncated) updatedAt.
      m.wake = truncated + m.backoff + REQUEUE_DELAY;
      continue;
    }
    const others = new Map([...members.entries()].filter(([k]) => k !== name).map(([k, x]) => [`default/${k}`, stored(x)]));
    const parsed = parseGateConfig(config, selfRef(m.rollout));
    if ('error' in parsed) throw new Error(parsed.error);
    const d = decideRun({ self: stored(m), config: parsed.config, pluginName: PLUGIN, status: m.status, members: others, now });
    const finished = now + 2 + random() * 20;
    m.executions++;
    m.status = d.status;
    m.updatedAt = finished;
    if (d.phase === StepPhase.Successful) {
      m.leftAt = finished;
      m.rollout.status!.currentStepIndex = 2;
      continue;
    }
    expect(d.phase, d.message).to.equal(StepPhase.Running);
    m.backoff = d.requeueAfterMs > MIN_REQUEUE ? d.requeueAfterMs : DEFAULT_REQUEUE;
    const requeued = Math.floor(finished / 1000) * 1000 + m.backoff + REQUEUE_DELAY + random() * 150;
    // Unrelated events (pods becoming ready, analysis runs) wake the Rollout up in between.
    const event = eventsPerMinute > 0 ? finished - Math.log(1 - random()) * (60_000 / eventsPerMinute) : Infinity;
    m.wake = Math.min(requeued, event);
  }
  return [...members.values()].map((m) => m.leftAt!);
}

function spreads(seed: number, count: number, align: boolean, eventsPerMinute: number, trials = 200): number[] {
  const random = prng(seed);
  return Array.from({ length: trials }, () => {
    const left = meeting(random, count, align, eventsPerMinute);
    return (Math.max(...left) - Math.min(...left)) / 1000;
  }).sort((a, b) => a - b);
}

const p = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const summary = (s: number[]) => `median ${p(s, 0.5).toFixed(2)} s, p95 ${p(s, 0.95).toFixed(2)} s, max ${s[s.length - 1]!.toFixed(2)} s`;

describe('lockstep gate: how far apart members leave (simulated controller timing)', () => {
  it('aligned (the default): members leave within about a second of each other', () => {
    for (const count of [2, 3]) {
      const s = spreads(42 + count, count, true, 0);
      expect(p(s, 0.5), `${count} members: ${summary(s)}`).to.be.at.most(1.2);
      expect(s[s.length - 1], `${count} members: ${summary(s)}`).to.be.at.most(1.5);
    }
  });

  it('aligned, with unrelated reconciles waking members early: still within the controller\'s 5 s margin', () => {
    const s = spreads(7, 3, true, 6);
    expect(p(s, 0.5), summary(s)).to.be.at.most(1.5);
    expect(s[s.length - 1], summary(s)).to.be.at.most(7);
  });

  it('without alignment the members leave up to a whole requeue (~16 s) apart', () => {
    const s = spreads(11, 2, false, 0);
    expect(p(s, 0.5), summary(s)).to.be.above(4);
    expect(s[s.length - 1], summary(s)).to.be.above(12);
  });
});

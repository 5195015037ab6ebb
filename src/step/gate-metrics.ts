import type { Metrics } from '../observability/metrics.js';
import { StepPhase } from './api.js';
import type { GateObserver } from './gate-step.js';

// Gate decisions → the companion's gate metrics.

export function gateMetricsObserver(metrics: Pick<Metrics, 'gateMembersWaiting' | 'gateWaitSeconds' | 'gateWaitDuration'>): GateObserver {
  return {
    run: (rollout, gate, decision, now) => {
      const labels = { namespace: rollout.split('/')[0]!, gate };
      metrics.gateMembersWaiting.set(labels, decision.waiting);
      const arrivals = [...decision.states.values()].flatMap((s) => (s.kind === 'here' && s.arrivedAt !== undefined ? [s.arrivedAt] : []));
      if (decision.phase === StepPhase.Running) arrivals.push(decision.arrivedAt);
      metrics.gateWaitSeconds.set(labels, arrivals.length > 0 ? (now - Math.min(...arrivals)) / 1000 : 0);
      if (decision.phase === StepPhase.Successful || decision.phase === StepPhase.Failed) {
        metrics.gateWaitDuration.observe({ outcome: decision.phase }, (now - decision.arrivedAt) / 1000);
      }
    },
    left: (rollout, gate) => {
      if (gate) {
        const labels = { namespace: rollout.split('/')[0]!, gate };
        metrics.gateMembersWaiting.remove(labels);
        metrics.gateWaitSeconds.remove(labels);
      }
    },
  };
}
